// Package activation activates many member accounts of an organization at once: a Step Functions workflow
// (statemachines/bulk-activation.asl.json) maps over batches of accounts; for each batch a task enters the
// management account (crossaccount.Door), chains to each member's access role and creates the onboarding stack
// there (notifying the callback topic), then leaves the batch waiting on its task token, which the accounts'
// callbacks count down. Each account is isolated from the others' failures, every failure path of the workflow ends
// the activation with each account's reason, and docs/bulk-activation.md gives the design and its numbers.
package activation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/tenants"
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

// Activation statuses. An activation whose workflow broke down (every task of it kept failing) ends Broken, with
// the reason; its accounts carry their own.
const (
	Running   = "running"
	Completed = "completed"
	Stopped   = "cancelled"
	Broken    = "failed"
)

// Activation is one bulk activation request.
type Activation struct {
	ID                  string     `json:"activationId" dynamodbav:"activationId"`
	ManagementAccountID string     `json:"managementAccountId" dynamodbav:"managementAccountId"`
	Status              string     `json:"status" dynamodbav:"status"`
	Reason              string     `json:"reason,omitempty" dynamodbav:"reason,omitempty"`
	Total               int        `json:"total" dynamodbav:"total"`
	StacksInFlight      int        `json:"stacksInFlight" dynamodbav:"stacksInFlight"`
	CreatedAt           time.Time  `json:"createdAt" dynamodbav:"createdAt"`
	FinishedAt          *time.Time `json:"finishedAt,omitempty" dynamodbav:"finishedAt,omitempty"`
}

// Item is one account of an activation.
type Item struct {
	AccountID string `json:"accountId" dynamodbav:"accountId"`
	Status    string `json:"status" dynamodbav:"status"`
	Reason    string `json:"reason,omitempty" dynamodbav:"reason,omitempty"`
	// StackID is the StackId CreateStack returned for the account's onboarding stack.
	StackID    string     `json:"stackId,omitempty" dynamodbav:"stackId,omitempty"`
	StartedAt  *time.Time `json:"startedAt,omitempty" dynamodbav:"startedAt,omitempty"`
	FinishedAt *time.Time `json:"finishedAt,omitempty" dynamodbav:"finishedAt,omitempty"`
	// StackName is the name the stack was (or is being) created with: a task delivered again looks it up by name
	// when the previous attempt died before recording its StackId.
	StackName string `json:"-" dynamodbav:"stackName,omitempty"`
}

// settled reports whether the item has its outcome.
func (it Item) settled() bool {
	return it.Status == Succeeded || it.Status == Failed || it.Status == Cancelled
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

// Start is one account's start, written in one transaction with the others of its batch: the account as read and
// as it becomes (its new link, activating, the batch that awaits it) with its audit entry, and its item, moved from
// ItemFrom to in progress.
type Start struct {
	Before, After accounts.Account
	Entry         audit.Entry
	Item          Item
	ItemFrom      string
}

// StackRecord records the StackId CreateStack returned, on the item and on the account's ActivationRef.
type StackRecord struct {
	AccountID, StackID string
	Entry              audit.Entry
}

// Settlement is an account's outcome in an activation. From lists the item statuses it may settle from: a
// delivery that finds the item in another status changes nothing (a duplicate), but still takes the account off
// its batch's awaited set.
type Settlement struct {
	AccountID, Status, Reason, StackID string
	At                                 time.Time
	From                               []string
}

// Countdown is what a batch still awaits after a settlement: Done when nothing, with the task token to resume.
type Countdown struct {
	Done  bool
	Token string
	// Changed reports whether the settlement changed the item (false for a duplicate).
	Changed bool
}

// Store keeps activations, their items and their batches.
type Store interface {
	// Create writes a new activation with its items, and makes it the activation of its request key unless that
	// key names another activation than replaces (ErrRequestRaced: a concurrent identical request won).
	Create(ctx context.Context, tenantID string, a Activation, items []Item, requestKey, replaces string) error
	// ByRequest returns the activation a request key names.
	ByRequest(ctx context.Context, tenantID, requestKey string) (string, bool, error)
	Get(ctx context.Context, tenantID, id string) (Activation, bool, error)
	List(ctx context.Context, tenantID string) ([]Activation, error)
	// Finish moves a running activation to status (a no-op if it is not running any more).
	Finish(ctx context.Context, tenantID, id, status, reason string, at time.Time) error
	Items(ctx context.Context, tenantID, id string) ([]Item, error)
	PutItem(ctx context.Context, tenantID, id string, it Item, from ...string) error

	// LoadBatch reads the items and the accounts of a batch (a few BatchGetItem requests).
	LoadBatch(ctx context.Context, tenantID, id string, accountIDs []string) (map[string]Item, map[string]accounts.Account, error)
	// OpenBatch records the batch's task token, and the accounts it awaits unless an earlier attempt of the same
	// task recorded them (a retry must not undo what callbacks have counted down).
	OpenBatch(ctx context.Context, tenantID, id string, index int, token string, awaited []string) error
	// StartAccounts writes the starts in as few transactions as DynamoDB allows; each account's write stays
	// conditional on its version and its item's status, and those that lose are returned with their error
	// (accounts.ErrVersionMismatch, ErrItemChanged) without stopping the others.
	StartAccounts(ctx context.Context, tenantID, id string, starts []Start) (map[string]error, error)
	// RecordStacks records StackIds on the items and the accounts (while the activation still awaits them).
	RecordStacks(ctx context.Context, tenantID, id string, stacks []StackRecord) (map[string]error, error)
	// Settle records an account's outcome and takes it off its batch's awaited set, atomically.
	Settle(ctx context.Context, tenantID, id string, index int, s Settlement) (Countdown, error)
	// Release takes accounts the batch need not wait for off its awaited set.
	Release(ctx context.Context, tenantID, id string, index int, accountIDs []string) (Countdown, error)
}

// Accounts is what activation reads and changes of accounts.
type Accounts interface {
	Get(ctx context.Context, tenantID, accountID string) (accounts.Account, error)
	List(ctx context.Context, tenantID string, q accounts.ListQuery) (accounts.Page, error)
	Mutate(ctx context.Context, tenantID, accountID, action string, fn func(a *accounts.Account) error) (accounts.Account, error)
}

// Tenants reads the tenant: its External ID for new stacks, its settings.
type Tenants interface {
	Get(ctx context.Context, tenantID string) (tenants.Tenant, error)
}

// Links prepares an activation link (and its launch parameters) for an account, in memory: the caller stores it.
type Links interface {
	NewLink(t tenants.Tenant, a *accounts.Account) (onboarding.Instructions, error)
}

// Door enters a customer's account (crossaccount.Door): the one way in.
type Door interface {
	Enter(ctx context.Context, tenantID, accountID, purpose string, require ...func(accounts.Account) error) (crossaccount.Session, error)
}

// StepFunctions starts and stops executions and resumes batches.
type StepFunctions interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	StopExecution(ctx context.Context, in *sfn.StopExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, optFns ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
}

// CloudFormation is the part of CloudFormation a batch uses in a member account: it looks up and creates the
// account's onboarding stack.
type CloudFormation interface {
	// Stacks describes the stacks of that name (none: no stack has it).
	Stacks(ctx context.Context, name string) ([]Stack, error)
	// CreateStack creates a stack and returns its id.
	CreateStack(ctx context.Context, in NewStack) (stackID string, err error)
}

// Stack is a stack as CloudFormation describes it.
type Stack struct {
	ID string
	// Status is CloudFormation's (CREATE_COMPLETE, ROLLBACK_COMPLETE...); StatusReason explains a failure.
	Status, StatusReason string
}

// NewStack is a stack to create.
type NewStack struct {
	Name, TemplateURL string
	Parameters        map[string]string
	// Capabilities acknowledges what the template creates (CapabilityNamedIAM).
	Capabilities []string
	// NotificationARNs are the topics the stack's events are published to.
	NotificationARNs []string
	// ClientRequestToken makes a retried creation the same creation.
	ClientRequestToken string
}

// CapabilityNamedIAM acknowledges a template that creates IAM resources with custom names.
const CapabilityNamedIAM = "CAPABILITY_NAMED_IAM"

// ErrCloudFormationNotWired: a function without CloudFormation in its wiring ran a batch's activate task.
var ErrCloudFormationNotWired = errors.New("this function is not wired to create onboarding stacks with CloudFormation (activation.Service.CloudFormation)")

// Service is bulk activation. Build one per cold start.
type Service struct {
	Store           Store
	Accounts        Accounts
	Tenants         Tenants
	Links           Links
	Door            Door
	StepFunctions   StepFunctions
	StateMachineARN string
	Now             func() time.Time
	// CloudFormation builds the CloudFormation client of a member account's configuration (over AWS:
	// activation/awscloudformation.New). The configuration it is given already names the stack's region and
	// carries the batch's retry bounds.
	CloudFormation func(aws.Config) CloudFormation
	// BatchSize caps the accounts of one batch (default and most 50: one task, one BatchGetItem and two
	// transactions of starts each); smaller stacks-in-flight settings make smaller batches (plan).
	BatchSize int
	// Deadline is how long a batch waits for its callbacks (default 10 minutes, twice the custom resource's
	// 5-minute ServiceTimeout): the task's timeout, after which the accounts still awaited fail.
	Deadline time.Duration
	// MaxBackoff bounds each wait between retries of throttled STS and CloudFormation calls (default 20 s).
	MaxBackoff time.Duration
}

// Request selects the accounts to activate; without any selector, nothing is selected (all must be explicit).
// StacksInFlight, when set, overrides the tenant's setting for this activation.
type Request struct {
	AccountIDs        []string `json:"accountIds"`
	OUIDs             []string `json:"ouIds"`
	All               bool     `json:"all"`
	ExcludeAccountIDs []string `json:"excludeAccountIds"`
	ExcludeOUIDs      []string `json:"excludeOuIds"`
	StacksInFlight    int      `json:"stacksInFlight,omitempty"`
}

// MaxAccounts bounds one request.
const MaxAccounts = 5000

// maxOUs bounds the OU lists of a request (an organization has at most a few thousand OUs).
const maxOUs = 1000

var (
	// ErrNotFound: no such activation in the tenant.
	ErrNotFound = errors.New("no such activation in your tenant")
	// ErrNothingSelected: the request selects no account that can be activated.
	ErrNothingSelected = errors.New("the request selects no account that is not active yet: name accountIds, ouIds or all")
	// ErrNotManagement: bulk activation goes through a management account.
	ErrNotManagement = errors.New("bulk activation goes through an organization's management account; this account is not one")
	// ErrNotConfigured: no state machine is configured.
	ErrNotConfigured = errors.New("bulk activation is not configured (BULK_ACTIVATION_STATE_MACHINE_ARN)")
	// ErrItemChanged: an item moved on since it was read (another worker, a cancel, a callback).
	ErrItemChanged = errors.New("the activation item changed concurrently")
	// ErrRequestRaced: a concurrent identical request created its activation first.
	ErrRequestRaced = errors.New("a concurrent identical request started its activation first")
)

// RequestKey names a request for idempotency: the tenant, the management account, and the Idempotency-Key or else
// the request itself. While the activation it names runs, the same request finds it; an explicit Idempotency-Key
// finds it for good.
func RequestKey(tenantID, managementID, idempotencyKey string, req Request) string {
	h := sha256.New()
	body, _ := json.Marshal(req)
	if idempotencyKey != "" {
		body = []byte("key:" + idempotencyKey)
	}
	fmt.Fprintf(h, "%s|%s|%s", tenantID, managementID, body)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// NewID returns a fresh activation id: each run of a request is its own activation (and execution).
func NewID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms.
	return "act-" + hex.EncodeToString(b[:])
}

// Start selects the accounts and starts the workflow, returning the activation's id. A request repeated while its
// activation runs (or with the same Idempotency-Key, ever) returns that activation and starts nothing twice; the
// same request after its activation ended is a new run, for the accounts that are not active.
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
	if err := checkRequest(req); err != nil {
		return "", err
	}
	key := RequestKey(tenantID, managementID, idempotencyKey, req)
	for attempt := 0; ; attempt++ {
		previous, found, err := s.Store.ByRequest(ctx, tenantID, key)
		if err != nil {
			return "", err
		}
		if found {
			existing, ok, err := s.Store.Get(ctx, tenantID, previous)
			if err != nil {
				return "", err
			}
			if ok && (idempotencyKey != "" || existing.Status == Running) {
				return existing.ID, s.startExecution(ctx, tenantID, existing, nil)
			}
		}
		id, err := s.create(ctx, tenantID, mgmt, key, previous, req)
		if errors.Is(err, ErrRequestRaced) && attempt == 0 {
			continue // the concurrent request's activation is the one to return
		}
		return id, err
	}
}

func (s *Service) create(ctx context.Context, tenantID string, mgmt accounts.Account, key, replaces string, req Request) (string, error) {
	inFlight, err := s.stacksInFlight(ctx, tenantID, req)
	if err != nil {
		return "", err
	}
	selected, err := s.selectAccounts(ctx, tenantID, mgmt.AccountID, req)
	if err != nil {
		return "", err
	}
	a := Activation{ID: NewID(), ManagementAccountID: mgmt.AccountID, Status: Running, Total: len(selected),
		StacksInFlight: inFlight, CreatedAt: s.Now().UTC()}
	items := make([]Item, len(selected))
	for i, acct := range selected {
		items[i] = Item{AccountID: acct, Status: Pending}
	}
	if err := s.Store.Create(ctx, tenantID, a, items, key, replaces); err != nil {
		return "", err
	}
	return a.ID, s.startExecution(ctx, tenantID, a, selected)
}

// stacksInFlight is the request's setting, else the tenant's, else the default.
func (s *Service) stacksInFlight(ctx context.Context, tenantID string, req Request) (int, error) {
	if req.StacksInFlight != 0 {
		return req.StacksInFlight, nil
	}
	t, err := s.Tenants.Get(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	if n := t.Settings.ActivationStacksInFlight; n != 0 {
		return n, nil
	}
	return tenants.DefaultActivationStacksInFlight, nil
}

// Batch is the unit of work of the workflow's Map, and the input of every task.
type Batch struct {
	Action              string   `json:"action,omitempty"`
	TenantID            string   `json:"tenantId"`
	ActivationID        string   `json:"activationId"`
	ManagementAccountID string   `json:"managementAccountId"`
	AccountIDs          []string `json:"accountIds"`
	// Index is the batch's position in the Map; TaskToken the token its task waits on.
	Index     int    `json:"batch"`
	TaskToken string `json:"taskToken,omitempty"`
	// Error is what the workflow caught (States.Timeout, a task's error type and message), for the tasks that
	// finish a batch or the activation after a failure.
	Error *CaughtError `json:"error,omitempty"`
}

// CaughtError is a Step Functions Catch's result: the error's name and its cause.
type CaughtError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// startExecution starts the activation's workflow, named by its id so that a repeated start starts nothing twice.
func (s *Service) startExecution(ctx context.Context, tenantID string, a Activation, selected []string) error {
	if a.Status != Running {
		return nil
	}
	if selected == nil {
		items, err := s.Store.Items(ctx, tenantID, a.ID)
		if err != nil {
			return err
		}
		for _, it := range items {
			selected = append(selected, it.AccountID)
		}
	}
	p := plan(len(selected), a.StacksInFlight, s.BatchSize)
	var batches [][]string
	for start := 0; start < len(selected); start += p.BatchSize {
		batches = append(batches, selected[start:min(start+p.BatchSize, len(selected))])
	}
	input, err := json.Marshal(map[string]any{"tenantId": tenantID, "activationId": a.ID, "managementAccountId": a.ManagementAccountID,
		"batches": batches, "concurrency": p.Concurrency, "timeoutSeconds": int(s.deadline().Seconds()), "error": nil})
	if err != nil {
		return err
	}
	_, err = s.StepFunctions.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(s.StateMachineARN),
		Name: aws.String(a.ID), Input: aws.String(string(input))})
	var exists *sfntypes.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		return nil // a repeated request: the execution is already running (or ran)
	}
	return err
}

func (s *Service) deadline() time.Duration {
	if s.Deadline > 0 {
		return s.Deadline
	}
	return 10 * time.Minute
}

// checkRequest checks the request's shape before anything is read.
func checkRequest(req Request) error {
	var c validation.Collector
	c.List("accountIds", req.AccountIDs, MaxAccounts, awsid.CheckAccountID)
	c.List("ouIds", req.OUIDs, awsid.MaxOUs, awsid.CheckOUID)
	c.List("excludeAccountIds", req.ExcludeAccountIDs, MaxAccounts, awsid.CheckAccountID)
	c.List("excludeOuIds", req.ExcludeOUIDs, awsid.MaxOUs, awsid.CheckOUID)
	if len(req.AccountIDs)+len(req.OUIDs) == 0 && !req.All {
		c.Add("all", "name accountIds, ouIds, or set all: true")
	}
	if n := req.StacksInFlight; n != 0 && (n < tenants.MinActivationStacksInFlight || n > tenants.MaxActivationStacksInFlight) {
		c.Add("stacksInFlight", "must be between %d and %d (got %d)", tenants.MinActivationStacksInFlight, tenants.MaxActivationStacksInFlight, n)
	}
	return c.Err()
}

// selectAccounts picks the management account's linked accounts the request names that are not active yet.
func (s *Service) selectAccounts(ctx context.Context, tenantID, managementID string, req Request) ([]string, error) {
	var out []string
	q := accounts.ListQuery{ManagementAccountID: managementID, Limit: accounts.MaxPageSize}
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
		if err := s.Store.Finish(ctx, tenantID, id, Stopped, "", now); err != nil {
			return Progress{}, err
		}
	}
	p, _, err := s.Get(ctx, tenantID, id, 0, 0)
	return p, err
}

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
