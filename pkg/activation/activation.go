// Package activation activates many member accounts of an organization at once: a Step Functions workflow
// (statemachines/bulk-activation.asl.json) maps over batches of accounts; for each batch a task creates the
// onboarding stack in every member account (platform → management account's role with the External ID → the
// member access role → CreateStack, notifying the callback topic), then polls until each account's callback has
// settled it or the deadline passed. Each account is isolated from the others' failures.
package activation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/awsx"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/validation"
)

// Item statuses.
const (
	Pending    = "pending"
	InProgress = "in_progress"
	Succeeded  = "succeeded"
	Failed     = "failed"
	Cancelled  = "cancelled"
)

// Activation statuses.
const (
	Running   = "running"
	Completed = "completed"
	Stopped   = "cancelled"
)

// Activation is one bulk activation request.
type Activation struct {
	ID                  string     `json:"activationId" dynamodbav:"activationId"`
	ManagementAccountID string     `json:"managementAccountId" dynamodbav:"managementAccountId"`
	Status              string     `json:"status" dynamodbav:"status"`
	Total               int        `json:"total" dynamodbav:"total"`
	CreatedAt           time.Time  `json:"createdAt" dynamodbav:"createdAt"`
	FinishedAt          *time.Time `json:"finishedAt,omitempty" dynamodbav:"finishedAt,omitempty"`
	ExecutionARN        string     `json:"-" dynamodbav:"executionArn"`
}

// Item is one account of an activation.
type Item struct {
	AccountID  string     `json:"accountId" dynamodbav:"accountId"`
	Status     string     `json:"status" dynamodbav:"status"`
	Reason     string     `json:"reason,omitempty" dynamodbav:"reason,omitempty"`
	StackID    string     `json:"stackId,omitempty" dynamodbav:"stackId,omitempty"`
	StartedAt  *time.Time `json:"startedAt,omitempty" dynamodbav:"startedAt,omitempty"`
	FinishedAt *time.Time `json:"finishedAt,omitempty" dynamodbav:"finishedAt,omitempty"`
}

// Progress is an activation with its counts: what a web client shows as a progress bar.
type Progress struct {
	Activation
	Succeeded  int    `json:"succeeded"`
	Failed     int    `json:"failed"`
	InProgress int    `json:"inProgress"`
	Pending    int    `json:"pending"`
	Cancelled  int    `json:"cancelled"`
	Items      []Item `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

// Store keeps activations and their items.
type Store interface {
	Create(ctx context.Context, tenantID string, a Activation, items []Item) error
	Get(ctx context.Context, tenantID, id string) (Activation, bool, error)
	List(ctx context.Context, tenantID string) ([]Activation, error)
	SetStatus(ctx context.Context, tenantID, id, status string, finishedAt *time.Time) error
	Items(ctx context.Context, tenantID, id string) ([]Item, error)
	PutItem(ctx context.Context, tenantID, id string, it Item, from ...string) error
	SettleItem(ctx context.Context, tenantID, id, accountID, status, reason string, at time.Time, from string) error
	PutBatch(ctx context.Context, tenantID, id string, index int, token string, pending int) error
	CountDown(ctx context.Context, tenantID, id string, index, n int) (int, string, error)
}

// Accounts is what activation reads and changes of accounts.
type Accounts interface {
	Get(ctx context.Context, tenantID, accountID string) (accounts.Account, error)
	List(ctx context.Context, tenantID string, q accounts.ListQuery) (accounts.Page, error)
	Mutate(ctx context.Context, tenantID, accountID, action string, fn func(a *accounts.Account) error) (accounts.Account, error)
}

// Links issues an activation link (and its launch parameters) for an account.
type Links interface {
	IssueLink(ctx context.Context, tenantID, accountID string) (onboarding.Instructions, error)
}

// Door enters a customer's account (crossaccount.Door): the one way in.
type Door interface {
	Enter(ctx context.Context, tenantID, accountID, purpose string, require ...func(accounts.Account) error) (crossaccount.Session, error)
}

// StepFunctions starts and stops executions.
type StepFunctions interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	StopExecution(ctx context.Context, in *sfn.StopExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, optFns ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
}

// Service is bulk activation. Build one per cold start.
type Service struct {
	Store           Store
	Accounts        Accounts
	Links           Links
	Door            Door
	StepFunctions   StepFunctions
	StateMachineARN string
	Now             func() time.Time
	// BatchSize accounts share one task and one wait loop (default 50): 5,000 accounts stay far under Step
	// Functions' 25,000 history events (docs/bulk-activation.md).
	BatchSize int
	// Deadline is how long a batch waits for its callbacks (default 10 minutes, twice the custom resource's
	// 5-minute ServiceTimeout): the task's timeout, after which the accounts still awaited fail.
	Deadline time.Duration
	// MaxBackoff bounds retries of throttled STS and CloudFormation calls (default 5 s).
	MaxBackoff time.Duration
}

// Request selects the accounts to activate; without any selector, nothing is selected (all must be explicit).
type Request struct {
	AccountIDs        []string `json:"accountIds"`
	OUIDs             []string `json:"ouIds"`
	All               bool     `json:"all"`
	ExcludeAccountIDs []string `json:"excludeAccountIds"`
	ExcludeOUIDs      []string `json:"excludeOuIds"`
}

// MaxAccounts bounds one request.
const MaxAccounts = 5000

var (
	// ErrNotFound: no such activation in the tenant.
	ErrNotFound = errors.New("no such activation in your tenant")
	// ErrNothingSelected: the request selects no account that can be activated.
	ErrNothingSelected = errors.New("the request selects no account that is not active yet: name accountIds, ouIds or all")
	// ErrNotManagement: bulk activation goes through a management account.
	ErrNotManagement = errors.New("bulk activation goes through an organization's management account; this account is not one")
	// ErrNotConfigured: no state machine is configured.
	ErrNotConfigured = errors.New("bulk activation is not configured (BULK_ACTIVATION_STATE_MACHINE_ARN)")
)

// ID derives an activation's id from the request, so a retried request (same Idempotency-Key, or the same body)
// names the same activation and starts nothing twice.
func ID(tenantID, managementID, idempotencyKey string, req Request) string {
	h := sha256.New()
	body, _ := json.Marshal(req)
	if idempotencyKey != "" {
		body = []byte("key:" + idempotencyKey)
	}
	fmt.Fprintf(h, "%s|%s|%s", tenantID, managementID, body)
	return "act-" + hex.EncodeToString(h.Sum(nil))[:24]
}

// Start selects the accounts and starts the workflow (idempotently), returning the activation's id.
func (s *Service) Start(ctx context.Context, tenantID, managementID, idempotencyKey string, req Request) (string, error) {
	if s.StepFunctions == nil || s.StateMachineARN == "" {
		return "", ErrNotConfigured
	}
	mgmt, err := s.Accounts.Get(ctx, tenantID, managementID)
	if err != nil {
		return "", err
	}
	if mgmt.Type != accounts.Management {
		return "", ErrNotManagement
	}
	if err := crossaccount.Usable(mgmt); err != nil {
		return "", err
	}
	id := ID(tenantID, managementID, idempotencyKey, req)
	if existing, ok, err := s.Store.Get(ctx, tenantID, id); err != nil {
		return "", err
	} else if ok {
		return existing.ID, s.startExecution(ctx, tenantID, existing, nil)
	}
	selected, err := s.selectAccounts(ctx, tenantID, managementID, req)
	if err != nil {
		return "", err
	}
	now := s.Now().UTC()
	a := Activation{ID: id, ManagementAccountID: managementID, Status: Running, Total: len(selected), CreatedAt: now}
	items := make([]Item, len(selected))
	for i, acct := range selected {
		items[i] = Item{AccountID: acct, Status: Pending}
	}
	if err := s.Store.Create(ctx, tenantID, a, items); err != nil {
		return "", err
	}
	return id, s.startExecution(ctx, tenantID, a, selected)
}

// Batch is the unit of work of the workflow's Map.
type Batch struct {
	Action              string   `json:"action,omitempty"`
	TenantID            string   `json:"tenantId"`
	ActivationID        string   `json:"activationId"`
	ManagementAccountID string   `json:"managementAccountId"`
	AccountIDs          []string `json:"accountIds"`
	// Index is the batch's position in the Map; TaskToken the token its task waits on.
	Index     int    `json:"batch"`
	TaskToken string `json:"taskToken,omitempty"`
}

func (s *Service) startExecution(ctx context.Context, tenantID string, a Activation, selected []string) error {
	if selected == nil {
		items, err := s.Store.Items(ctx, tenantID, a.ID)
		if err != nil {
			return err
		}
		for _, it := range items {
			selected = append(selected, it.AccountID)
		}
	}
	size := s.BatchSize
	if size <= 0 {
		size = 50
	}
	deadline := s.Deadline
	if deadline <= 0 {
		deadline = 10 * time.Minute
	}
	var batches [][]string
	for start := 0; start < len(selected); start += size {
		batches = append(batches, selected[start:min(start+size, len(selected))])
	}
	input, _ := json.Marshal(map[string]any{"tenantId": tenantID, "activationId": a.ID, "managementAccountId": a.ManagementAccountID,
		"batches": batches, "timeoutSeconds": int(deadline.Seconds())})
	_, err := s.StepFunctions.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(s.StateMachineARN),
		Name: aws.String(a.ID), Input: aws.String(string(input))})
	var exists *sfntypes.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		return nil // a retried request: the execution is already running (or ran)
	}
	return err
}

// selectAccounts picks the management account's linked accounts the request names that are not active yet.
func (s *Service) selectAccounts(ctx context.Context, tenantID, managementID string, req Request) ([]string, error) {
	var c validation.Collector
	c.List("accountIds", req.AccountIDs, MaxAccounts, awsid.CheckAccountID)
	c.List("ouIds", req.OUIDs, awsid.MaxOUs, awsid.CheckOUID)
	c.List("excludeAccountIds", req.ExcludeAccountIDs, MaxAccounts, awsid.CheckAccountID)
	c.List("excludeOuIds", req.ExcludeOUIDs, awsid.MaxOUs, awsid.CheckOUID)
	if len(req.AccountIDs)+len(req.OUIDs) == 0 && !req.All {
		c.Add("all", "name accountIds, ouIds, or set all: true")
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	var out []string
	q := accounts.ListQuery{ManagementAccountID: managementID, Limit: 100}
	for {
		page, err := s.Accounts.List(ctx, tenantID, q)
		if err != nil {
			return nil, err
		}
		for _, a := range page.Items {
			if a.Status == accounts.Active || slices.Contains(req.ExcludeAccountIDs, a.AccountID) {
				continue
			}
			if a.Organization != nil && a.Organization.Status == accounts.MembershipLeft {
				continue
			}
			if underAny(a, req.ExcludeOUIDs) {
				continue
			}
			if req.All || slices.Contains(req.AccountIDs, a.AccountID) || underAny(a, req.OUIDs) {
				out = append(out, a.AccountID)
			}
		}
		if q.Cursor = page.NextCursor; q.Cursor == "" {
			break
		}
	}
	if len(out) == 0 {
		return nil, ErrNothingSelected
	}
	if len(out) > MaxAccounts {
		return nil, validation.Field("accountIds", "one request activates at most %d accounts (%d selected)", MaxAccounts, len(out))
	}
	sort.Strings(out)
	return out, nil
}

// underAny reports whether the account sits in one of the OUs (directly, or under it: the OU ids of the account's
// ancestors are recorded by discovery in its path of ids).
func underAny(a accounts.Account, ous []string) bool {
	if a.Organization == nil || len(ous) == 0 {
		return false
	}
	for _, ou := range ous {
		if a.Organization.ParentID == ou || strings.Contains("/"+a.Organization.AncestorIDs+"/", "/"+ou+"/") {
			return true
		}
	}
	return false
}

// Handle is the workflow's task function: it dispatches on the batch's action.
func (s *Service) Handle(ctx context.Context, b Batch) (Batch, error) {
	switch b.Action {
	case "activate":
		return s.activate(ctx, b)
	case "expire":
		return b, s.expire(ctx, b)
	case "finish":
		return b, s.finish(ctx, b)
	}
	return b, fmt.Errorf("unknown action %q", b.Action)
}

func (s *Service) backoff() time.Duration {
	if s.MaxBackoff > 0 {
		return s.MaxBackoff
	}
	return 5 * time.Second
}

// activate creates the onboarding stack in each account of the batch, then leaves the batch's task waiting on its
// token: each account's callback (or stack notification) counts the batch down, and the last one resumes the
// workflow. A failure to start is that account's alone.
func (s *Service) activate(ctx context.Context, b Batch) (Batch, error) {
	sess, err := s.Door.Enter(ctx, b.TenantID, b.ManagementAccountID, "activation")
	if err != nil {
		return b, err
	}
	mgmt := sess.Account
	memberRole := accounts.DefaultMemberRoleName
	if mgmt.Discovery != nil && mgmt.Discovery.MemberRoleName != "" {
		memberRole = mgmt.Discovery.MemberRoleName
	}
	items, err := s.itemsByID(ctx, b)
	if err != nil {
		return b, err
	}
	awaited := 0
	for _, id := range b.AccountIDs {
		if items[id].Status == Pending {
			awaited++
		}
	}
	// The token and the count are recorded before any stack exists, so no callback can come before them.
	if err := s.Store.PutBatch(ctx, b.TenantID, b.ActivationID, b.Index, b.TaskToken, awaited); err != nil {
		return b, err
	}
	settledHere := 0
	for _, id := range b.AccountIDs {
		it := items[id]
		if it.Status != Pending {
			continue // cancelled, or started by an earlier attempt of this task
		}
		now := s.Now().UTC()
		it.Status, it.StartedAt = InProgress, &now
		if err := s.Store.PutItem(ctx, b.TenantID, b.ActivationID, it, Pending); err != nil {
			if errors.Is(err, ErrItemChanged) {
				continue // cancelled meanwhile
			}
			return b, err
		}
		outcome, reason := s.activateOne(ctx, b, sess, memberRole, &it)
		if outcome == "" {
			continue // awaiting its callback
		}
		if err := s.Store.SettleItem(ctx, b.TenantID, b.ActivationID, id, outcome, reason, s.Now(), InProgress); err == nil {
			settledHere++
		}
	}
	remaining, token, err := s.Store.CountDown(ctx, b.TenantID, b.ActivationID, b.Index, settledHere)
	if err != nil {
		return b, err
	}
	if remaining <= 0 {
		s.resume(ctx, token)
	}
	return b, nil
}

// resume ends a batch's wait. A second resume of the same task (a duplicate callback) is refused by Step Functions
// and ignored here.
func (s *Service) resume(ctx context.Context, token string) {
	if token == "" {
		return
	}
	if _, err := s.StepFunctions.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String("{}")}); err != nil {
		slog.InfoContext(ctx, "batch already resumed or timed out", "error", err.Error())
	}
}

// Settled hears of every account the callback settles (onboarding.Observer): one awaited by a bulk activation
// settles its item and counts its batch down; the batch's last one resumes the workflow. A duplicate delivery
// finds the item settled and counts nothing.
func (s *Service) Settled(ctx context.Context, a accounts.Account) {
	ref := a.Activation
	if ref == nil || (a.Status != accounts.Active && a.Status != accounts.Failed) {
		return
	}
	status, reason := Succeeded, ""
	if a.Status == accounts.Failed {
		status, reason = Failed, a.StatusReason
	}
	if err := s.Store.SettleItem(ctx, a.TenantID, ref.ActivationID, a.AccountID, status, reason, s.Now(), InProgress); err != nil {
		return // settled already (or cancelled, or not part of it)
	}
	remaining, token, err := s.Store.CountDown(ctx, a.TenantID, ref.ActivationID, ref.Batch, 1)
	if err != nil {
		slog.WarnContext(ctx, "could not count the batch down", "activationId", ref.ActivationID, "error", err.Error())
		return
	}
	if remaining <= 0 {
		s.resume(ctx, token)
	}
}

func (s *Service) retryer() aws.Retryer {
	return awsx.PatientRetryer(8, s.backoff(), "Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded")
}

// activateOne starts one account. It returns "" when the stack is created and the account awaits its callback, or
// the outcome (succeeded, failed) and its reason when it settles at once.
func (s *Service) activateOne(ctx context.Context, b Batch, mgmt crossaccount.Session, memberRole string, it *Item) (string, string) {
	account, err := s.Accounts.Get(ctx, b.TenantID, it.AccountID)
	if err != nil {
		return Failed, err.Error()
	}
	if account.Status == accounts.Active {
		return Succeeded, "already active"
	}
	fail := func(reason string) (string, string) {
		s.markAccount(ctx, b.TenantID, it.AccountID, accounts.Failed, reason, nil)
		return Failed, reason
	}
	roleARN := fmt.Sprintf("arn:aws:iam::%s:role/%s", it.AccountID, memberRole)
	member, err := mgmt.Chain(ctx, roleARN, "activation", func(o *sts.Options) { o.Retryer = s.retryer(); o.RetryMaxAttempts = 8 })
	if err != nil {
		if isAccessDenied(err) {
			return fail(fmt.Sprintf("Gangplank could not assume %s from the management account: accounts invited into an organization "+
				"(rather than created by it) have no such role. Create the role, or connect this account with its own link "+
				"(GET /v1/accounts/%s/onboarding)", roleARN, it.AccountID))
		}
		return fail("STS refused the member access role: " + err.Error())
	}
	ins, err := s.Links.IssueLink(ctx, b.TenantID, it.AccountID)
	if err != nil {
		return fail(err.Error())
	}
	// The account is marked before its stack exists, so its callback always finds which batch waits for it.
	s.markAccount(ctx, b.TenantID, it.AccountID, accounts.Activating, "The onboarding stack is being created by bulk activation.",
		&accounts.ActivationRef{ActivationID: b.ActivationID, Batch: b.Index})
	var params []cfntypes.Parameter
	for k, v := range ins.Parameters {
		params = append(params, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
	}
	cfn := cloudformation.NewFromConfig(member, func(o *cloudformation.Options) {
		o.Region, o.Retryer, o.RetryMaxAttempts = ins.Region, s.retryer(), 8
	})
	if _, err := cfn.CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName: aws.String(ins.StackName), TemplateURL: aws.String(ins.TemplateURL), Parameters: params,
		Capabilities:       []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam},
		NotificationARNs:   []string{ins.Parameters["CallbackTopicArn"]},
		ClientRequestToken: aws.String(b.ActivationID),
	}); err != nil {
		return fail(fmt.Sprintf("CloudFormation refused the onboarding stack in %s: %v", it.AccountID, err))
	}
	return "", ""
}

func isAccessDenied(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode() == "AccessDenied" || apiErr.ErrorCode() == "AccessDeniedException")
}

// markAccount records the account's new status, and which batch awaits it.
func (s *Service) markAccount(ctx context.Context, tenantID, id string, status accounts.Status, reason string, ref *accounts.ActivationRef) {
	_, _ = s.Accounts.Mutate(ctx, tenantID, id, "account.bulk_activation", func(a *accounts.Account) error {
		if a.Status == accounts.Active {
			return accounts.ErrNoChange
		}
		a.Status, a.StatusReason = status, reason
		if ref != nil {
			a.Activation = ref
		}
		return nil
	})
}

func (s *Service) itemsByID(ctx context.Context, b Batch) (map[string]Item, error) {
	items, err := s.Store.Items(ctx, b.TenantID, b.ActivationID)
	if err != nil {
		return nil, err
	}
	out := map[string]Item{}
	for _, it := range items {
		out[it.AccountID] = it
	}
	return out, nil
}

// expire runs when a batch's wait timed out: the accounts still awaited fail with the reason.
func (s *Service) expire(ctx context.Context, b Batch) error {
	items, err := s.itemsByID(ctx, b)
	if err != nil {
		return err
	}
	reason := "The onboarding stack did not report back in time: no callback arrived from its custom resource. " +
		"Check the stack in the account's CloudFormation console, then activate the account again."
	notStarted := "The batch ran out of time before this account's stack was created; activate the account again."
	for _, id := range b.AccountIDs {
		switch items[id].Status {
		case InProgress:
			if err := s.Store.SettleItem(ctx, b.TenantID, b.ActivationID, id, Failed, reason, s.Now(), InProgress); err == nil {
				s.markAccount(ctx, b.TenantID, id, accounts.Failed, reason, nil)
			}
		case Pending:
			// A task still creating stacks past the deadline skips it: it starts only pending items.
			_ = s.Store.SettleItem(ctx, b.TenantID, b.ActivationID, id, Failed, notStarted, s.Now(), Pending)
		}
	}
	return nil
}

func (s *Service) finish(ctx context.Context, b Batch) error {
	a, ok, err := s.Store.Get(ctx, b.TenantID, b.ActivationID)
	if err != nil || !ok || a.Status != Running {
		return err
	}
	now := s.Now().UTC()
	return s.Store.SetStatus(ctx, b.TenantID, b.ActivationID, Completed, &now)
}

// Get returns an activation's progress and one page of its items.
func (s *Service) Get(ctx context.Context, tenantID, id string, offset, limit int) (Progress, int, error) {
	a, ok, err := s.Store.Get(ctx, tenantID, id)
	if err != nil {
		return Progress{}, 0, err
	}
	if !ok {
		return Progress{}, 0, ErrNotFound
	}
	items, err := s.Store.Items(ctx, tenantID, id)
	if err != nil {
		return Progress{}, 0, err
	}
	p := Progress{Activation: a, Items: []Item{}}
	for _, it := range items {
		switch it.Status {
		case Succeeded:
			p.Succeeded++
		case Failed:
			p.Failed++
		case InProgress:
			p.InProgress++
		case Pending:
			p.Pending++
		case Cancelled:
			p.Cancelled++
		}
	}
	next := 0
	if offset < len(items) {
		end := min(offset+limit, len(items))
		p.Items = items[offset:end]
		if end < len(items) {
			next = end
		}
	}
	return p, next, nil
}

// List returns the tenant's activations, newest first.
func (s *Service) List(ctx context.Context, tenantID string) ([]Activation, error) {
	list, err := s.Store.List(ctx, tenantID)
	sort.Slice(list, func(i, j int) bool { return list[i].CreatedAt.After(list[j].CreatedAt) })
	return list, err
}

// Cancel stops the workflow; accounts not started yet are cancelled and stay not_activated.
func (s *Service) Cancel(ctx context.Context, tenantID, id string) (Progress, error) {
	a, ok, err := s.Store.Get(ctx, tenantID, id)
	if err != nil {
		return Progress{}, err
	}
	if !ok {
		return Progress{}, ErrNotFound
	}
	if a.Status == Running && s.StepFunctions != nil {
		arn := strings.Replace(s.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + id
		if _, err := s.StepFunctions.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn),
			Cause: aws.String("cancelled by the tenant")}); err != nil {
			var missing *sfntypes.ExecutionDoesNotExist
			if !errors.As(err, &missing) {
				return Progress{}, err
			}
		}
	}
	items, err := s.Store.Items(ctx, tenantID, id)
	if err != nil {
		return Progress{}, err
	}
	now := s.Now().UTC()
	for _, it := range items {
		if it.Status == Pending {
			it.Status, it.FinishedAt, it.Reason = Cancelled, &now, "cancelled before it started"
			if err := s.Store.PutItem(ctx, tenantID, id, it, Pending); err != nil && !errors.Is(err, ErrItemChanged) {
				return Progress{}, err
			}
		}
	}
	if a.Status == Running {
		if err := s.Store.SetStatus(ctx, tenantID, id, Stopped, &now); err != nil {
			return Progress{}, err
		}
	}
	p, _, err := s.Get(ctx, tenantID, id, 0, 0)
	return p, err
}

// ErrItemChanged: an item moved on since it was read (another worker, or a cancel).
var ErrItemChanged = errors.New("the activation item changed concurrently")

// Enroll activates accounts discovery just found (auto-enrolment); a failure is retried at the next discovery,
// since the accounts stay not_activated.
func (s *Service) Enroll(ctx context.Context, tenantID, managementID string, accountIDs []string) error {
	if s.StepFunctions == nil || s.StateMachineARN == "" {
		return ErrNotConfigured
	}
	// One activation a day for the same accounts: a discovery repeated the same day starts nothing twice, the next
	// day's retries what failed.
	key := "auto-enrol-" + s.Now().UTC().Format("2006-01-02") + "-" + strings.Join(accountIDs, ",")
	_, err := s.Start(ctx, tenantID, managementID, key, Request{AccountIDs: accountIDs})
	if errors.Is(err, ErrNothingSelected) {
		return nil
	}
	return err
}
