package activation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/awsx"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/tenants"
)

// workflowActor attributes the workflow's changes in the audit trail.
var workflowActor = audit.Actor{Type: audit.System, ID: "bulk-activation"}

// Handle is the workflow's task function: it dispatches on the batch's action. Every error it returns is one of
// the named types the workflow's Retry and Catch match (errors.go).
func (s *Service) Handle(ctx context.Context, b Batch) (Batch, error) {
	ctx = audit.WithActor(ctx, workflowActor)
	var err error
	switch b.Action {
	case "activate":
		err = s.activate(ctx, b)
	case "expire":
		err = s.close(ctx, b, expired)
	case "abandon":
		err = s.close(ctx, b, abandoned)
	case "finish":
		err = s.finish(ctx, b)
	default:
		err = fmt.Errorf("unknown action %q", b.Action)
	}
	if err != nil {
		slog.WarnContext(ctx, "bulk activation task failed", "action", b.Action, "activationId", b.ActivationID, "batch", b.Index, "error", err.Error())
	}
	b.TaskToken = ""
	return b, named(b.Action, err)
}

const (
	// startParallelism is how many accounts of a batch are started at once (AssumeRole, then CreateStack).
	startParallelism = 10
	// clientAttempts bounds each STS and CloudFormation call's attempts; past them, a throttled account is left
	// for the task's next attempt (RetryLaterError), never failed.
	clientAttempts = 8
	// timeReserve is kept free before the invocation's deadline: no account starts later than this.
	timeReserve = 45 * time.Second
)

func (s *Service) maxBackoff() time.Duration {
	if s.MaxBackoff > 0 {
		return s.MaxBackoff
	}
	return 20 * time.Second
}

// batchRun is one attempt of one batch's task.
type batchRun struct {
	s          *Service
	b          Batch
	mgmt       crossaccount.Session
	tenant     tenants.Tenant
	memberRole string
	// sts is the adaptive retryer of every AssumeRole the batch makes: they share the management account's quota.
	sts aws.Retryer

	mu      sync.Mutex
	release []string // accounts the batch need not wait for
	left    []string // accounts left for the next attempt (throttled, out of time)
	leftWhy string
	errs    []error // failures of the platform's own (store) writes: the attempt fails and is retried
}

// starting is an account on its way to a stack.
type starting struct {
	id     string
	item   Item
	before accounts.Account
	member aws.Config
	ins    onboarding.Instructions
}

// activate creates the onboarding stack in each account of the batch that awaits one, then leaves the batch's
// task waiting on its token: each account's callback (or stack notification) counts the batch down, and the last
// one resumes the workflow. An attempt delivered again (Step Functions retries, at-least-once delivery) starts
// what is pending, re-drives what an earlier attempt started without recording a stack, and settles what finished
// meanwhile; it never resets what callbacks have counted down.
func (s *Service) activate(ctx context.Context, b Batch) error {
	if s.CloudFormation == nil {
		return ErrCloudFormationNotWired
	}
	sess, err := s.Door.Enter(ctx, b.TenantID, b.ManagementAccountID, "activation")
	if err != nil {
		var notUsable *crossaccount.NotUsableError
		var refused *crossaccount.AccessError
		if errors.As(err, &notUsable) || errors.As(err, &refused) || errors.Is(err, accounts.ErrNotFound) {
			return &ManagementAccessError{AccountID: b.ManagementAccountID, Cause: err}
		}
		return err
	}
	tenant, err := s.Tenants.Get(ctx, b.TenantID)
	if err != nil {
		return err
	}
	items, accts, err := s.Store.LoadBatch(ctx, b.TenantID, b.ActivationID, b.AccountIDs)
	if err != nil {
		return err
	}
	var open []string
	for _, id := range b.AccountIDs {
		if it, ok := items[id]; ok && !it.settled() {
			open = append(open, id)
		}
	}
	// The token and the awaited accounts are recorded before any stack exists, so no callback can come before them.
	if err := s.Store.OpenBatch(ctx, b.TenantID, b.ActivationID, b.Index, b.TaskToken, open); err != nil {
		return err
	}
	r := &batchRun{s: s, b: b, mgmt: sess, tenant: tenant, memberRole: accounts.DefaultMemberRoleName,
		sts: awsx.AdaptiveRetryer(clientAttempts, s.maxBackoff())}
	if d := sess.Account.Discovery; d != nil && d.MemberRoleName != "" {
		r.memberRole = d.MemberRoleName
	}
	var toStart []starting
	for _, id := range b.AccountIDs {
		it, ok := items[id]
		if !ok {
			continue // not an account of this activation
		}
		acct, exists := accts[id]
		switch {
		case it.settled():
			r.addRelease(id)
		case !exists:
			r.settleAtOnce(ctx, id, Failed, "The account was removed from Gangplank before its stack was created.", "")
		case acct.Status == accounts.Active:
			r.settleAtOnce(ctx, id, Succeeded, "", acct.StackID)
		case acct.Status == accounts.Failed && acct.Activation != nil && acct.Activation.ActivationID == b.ActivationID && it.Status == InProgress:
			r.settleAtOnce(ctx, id, Failed, acct.StatusReason, "") // reported while the count-down was lost
		case it.Status == InProgress && it.StackID != "":
			// Awaiting its callback.
		default:
			toStart = append(toStart, starting{id: id, item: it, before: acct})
		}
	}
	ready := r.sessions(ctx, toStart)
	started := r.startAll(ctx, ready)
	r.createStacks(ctx, started)
	if err := errors.Join(r.errs...); err != nil {
		return err
	}
	c, err := s.Store.Release(ctx, b.TenantID, b.ActivationID, b.Index, r.release)
	if err != nil {
		return err
	}
	if c.Done {
		if err := s.resume(ctx, c.Token); err != nil {
			return err
		}
	}
	if len(r.left) > 0 {
		return &RetryLaterError{Left: len(r.left), Reason: r.leftWhy}
	}
	return nil
}

func (r *batchRun) addRelease(id string) {
	r.mu.Lock()
	r.release = append(r.release, id)
	r.mu.Unlock()
}

func (r *batchRun) leave(id, why string) {
	r.mu.Lock()
	r.left, r.leftWhy = append(r.left, id), why
	r.mu.Unlock()
}

func (r *batchRun) fail(err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
}

// settleAtOnce records an outcome the task knows without a callback, taking the account off the batch's awaited set.
func (r *batchRun) settleAtOnce(ctx context.Context, id, status, reason, stackID string) {
	_, err := r.s.Store.Settle(ctx, r.b.TenantID, r.b.ActivationID, r.b.Index, Settlement{AccountID: id, Status: status, Reason: reason,
		StackID: stackID, At: r.s.Now().UTC(), From: []string{Pending, InProgress}})
	if err != nil {
		r.fail(fmt.Errorf("settle %s: %w", id, err))
	}
}

// failAccount fails the account (if the activation may: an active one never) and its item.
func (r *batchRun) failAccount(ctx context.Context, id, reason string, waitedFor bool) {
	if err := r.s.failAccount(ctx, r.b.TenantID, r.b.ActivationID, id, reason, waitedFor); err != nil {
		r.fail(err)
		return
	}
	r.settleAtOnce(ctx, id, Failed, reason, "")
}

// failAccount records why the activation could not activate the account, on the account.
func (s *Service) failAccount(ctx context.Context, tenantID, activationID, id, reason string, waitedFor bool) error {
	_, err := s.Accounts.Mutate(ctx, tenantID, id, "account.bulk_activation_failed", func(a *accounts.Account) error {
		if !a.FailBulkActivation(activationID, reason, waitedFor, s.Now().UTC()) {
			return accounts.ErrNoChange
		}
		return nil
	})
	if errors.Is(err, accounts.ErrNotFound) {
		return nil
	}
	return err
}

// parallel runs f for each of n elements, startParallelism at a time.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, startParallelism)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
}

// outOfTime reports whether the invocation is too close to its deadline to start another account.
func outOfTime(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ctx.Err() != nil || (ok && time.Until(d) < timeReserve)
}

// sessions enters each member account through its access role, from the management account's session. An account
// an earlier attempt started without recording its stack is looked up first: if its stack exists, it is recorded
// and awaited, not created twice.
func (r *batchRun) sessions(ctx context.Context, accts []starting) []starting {
	ready := make([]*starting, len(accts))
	var stacks []StackRecord
	var mu sync.Mutex
	parallel(len(accts), func(i int) {
		a := accts[i]
		if outOfTime(ctx) {
			r.leave(a.id, "the invocation ran out of time")
			return
		}
		roleARN := fmt.Sprintf("arn:aws:iam::%s:role/%s", a.id, r.memberRole)
		member, err := r.mgmt.Chain(ctx, roleARN, "activation", func(o *sts.Options) { o.Retryer, o.RetryMaxAttempts = r.sts, clientAttempts })
		switch {
		case err == nil:
		case isThrottled(err) || ctx.Err() != nil:
			r.leave(a.id, "STS kept throttling AssumeRole")
			return
		case isAccessDenied(err):
			r.failAccount(ctx, a.id, fmt.Sprintf("Gangplank could not assume %s from the management account: accounts invited into an "+
				"organization (rather than created by it) have no such role. Create the role, or connect this account with its own link "+
				"(GET /v1/accounts/%s/onboarding)", roleARN, a.id), a.item.Status == InProgress)
			return
		default:
			r.failAccount(ctx, a.id, "STS refused the member access role: "+err.Error(), a.item.Status == InProgress)
			return
		}
		a.member = member
		if a.item.Status == InProgress && a.item.StackName != "" && a.before.AwaitedBy(r.b.ActivationID) {
			stackID, failure, err := r.existingStack(ctx, a)
			switch {
			case err != nil && (isThrottled(err) || ctx.Err() != nil):
				r.leave(a.id, "CloudFormation kept throttling DescribeStacks")
				return
			case err != nil:
				r.fail(fmt.Errorf("look up the stack of %s: %w", a.id, err))
				return
			case stackID != "" && failure != "":
				r.failAccount(ctx, a.id, "The onboarding stack failed: "+failure, true)
				return
			case stackID != "":
				mu.Lock()
				stacks = append(stacks, r.stackRecord(ctx, a.id, stackID))
				mu.Unlock()
				return
			}
		}
		ready[i] = &a
	})
	r.record(ctx, stacks)
	var out []starting
	for _, a := range ready {
		if a != nil {
			out = append(out, *a)
		}
	}
	return out
}

// existingStack finds the stack an earlier attempt created in the account under the item's stack name, and the
// reason it failed if it did (it is past reporting back).
func (r *batchRun) existingStack(ctx context.Context, a starting) (stackID, failure string, err error) {
	stacks, err := r.cloudFormation(a.member, a.before.Region).Stacks(ctx, a.item.StackName)
	if err != nil {
		return "", "", err
	}
	for _, st := range stacks {
		switch st.Status {
		case "DELETE_COMPLETE":
			continue
		case "CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "ROLLBACK_IN_PROGRESS", "DELETE_IN_PROGRESS", "DELETE_FAILED":
			return st.ID, fmt.Sprintf("%s %s", st.Status, st.StatusReason), nil
		}
		return st.ID, "", nil
	}
	return "", "", nil
}

// cloudFormation is CloudFormation acting in a member account's region, with its own adaptive retryer: each member
// account has its own CloudFormation quota. The retry bounds are the batch's (clientAttempts: past them the account
// is left for the next attempt), so they travel in the configuration the adapter builds its client from.
func (r *batchRun) cloudFormation(member aws.Config, region string) CloudFormation {
	cfg := member.Copy()
	maxBackoff := r.s.maxBackoff()
	cfg.Region, cfg.RetryMaxAttempts = region, clientAttempts
	cfg.Retryer = func() aws.Retryer { return awsx.AdaptiveRetryer(clientAttempts, maxBackoff) }
	return r.s.CloudFormation(cfg)
}

// startAll issues each account's new link and marks it activating (with the batch that awaits it) and its item in
// progress: one conditional write per account, a few transactions for the batch. An account that changed since it
// was read is read again and tried again.
func (r *batchRun) startAll(ctx context.Context, ready []starting) []starting {
	var started []starting
	for round := 0; len(ready) > 0; round++ {
		byID := map[string]*starting{}
		var starts []Start
		now := r.s.Now().UTC()
		for i := range ready {
			a := &ready[i]
			start, ok := r.prepare(ctx, a, now)
			if !ok {
				continue
			}
			byID[a.id] = a
			starts = append(starts, start)
		}
		if len(starts) == 0 {
			break
		}
		refused, err := r.s.Store.StartAccounts(ctx, r.b.TenantID, r.b.ActivationID, starts)
		if err != nil {
			r.fail(fmt.Errorf("start accounts: %w", err))
			return started
		}
		var again []string
		for _, st := range starts {
			a := byID[st.After.AccountID]
			switch err := refused[a.id]; {
			case err == nil:
				a.item = st.Item
				started = append(started, *a)
			case errors.Is(err, ErrItemChanged):
				r.addRelease(a.id) // cancelled, or settled meanwhile
			case errors.Is(err, accounts.ErrVersionMismatch) && round < 3:
				again = append(again, a.id)
			default:
				r.fail(fmt.Errorf("start %s: %w", a.id, err))
			}
		}
		ready = r.reload(ctx, ready, again)
	}
	return started
}

// prepare builds an account's start, or settles the account when it needs none.
func (r *batchRun) prepare(ctx context.Context, a *starting, now time.Time) (Start, bool) {
	before := a.before
	switch {
	case before.Status == accounts.Active:
		r.settleAtOnce(ctx, a.id, Succeeded, "", before.StackID)
		return Start{}, false
	case before.Status == accounts.Activating && before.Activation != nil && before.Activation.ActivationID != r.b.ActivationID:
		other, ok, err := r.s.Store.Get(ctx, r.b.TenantID, before.Activation.ActivationID)
		if err != nil {
			r.fail(err)
			return Start{}, false
		}
		if ok && other.Status == Running {
			r.settleAtOnce(ctx, a.id, Failed, fmt.Sprintf("Activation %s is activating this account already.", other.ID), "")
			return Start{}, false
		}
	}
	after := before
	ins, err := r.s.Links.NewLink(r.tenant, &after)
	if err != nil {
		r.fail(fmt.Errorf("link for %s: %w", a.id, err))
		return Start{}, false
	}
	after.AwaitBulkActivation(accounts.ActivationRef{ActivationID: r.b.ActivationID, Batch: r.b.Index})
	stamped, entry, _ := accounts.Stamp(ctx, before, after, "account.bulk_activation_started", now)
	a.ins = ins
	item := Item{AccountID: a.id, Status: InProgress, StartedAt: &now, StackName: ins.StackName}
	return Start{Before: before, After: stamped, Entry: entry, Item: item, ItemFrom: a.item.Status}, true
}

// reload reads the accounts named in again afresh and returns them to start again.
func (r *batchRun) reload(ctx context.Context, ready []starting, again []string) []starting {
	if len(again) == 0 {
		return nil
	}
	items, accts, err := r.s.Store.LoadBatch(ctx, r.b.TenantID, r.b.ActivationID, again)
	if err != nil {
		r.fail(err)
		return nil
	}
	var out []starting
	for _, a := range ready {
		it, inBatch := items[a.id]
		if !inBatch || !slices.Contains(again, a.id) {
			continue
		}
		acct, ok := accts[a.id]
		if !ok {
			r.settleAtOnce(ctx, a.id, Failed, "The account was removed from Gangplank before its stack was created.", "")
			continue
		}
		if it.settled() {
			r.addRelease(a.id)
			continue
		}
		a.before, a.item = acct, it
		out = append(out, a)
	}
	return out
}

// createStacks creates each started account's onboarding stack, notifying the callback topic, and records the
// StackIds as they come (so that the stacks' notifications can be told apart from anyone else's).
func (r *batchRun) createStacks(ctx context.Context, started []starting) {
	created := make(chan StackRecord)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		r.recordAsTheyCome(ctx, created)
	}()
	parallel(len(started), func(i int) {
		a := started[i]
		if outOfTime(ctx) {
			r.leave(a.id, "the invocation ran out of time")
			return
		}
		stackID, err := r.cloudFormation(a.member, a.ins.Region).CreateStack(ctx, NewStack{
			Name: a.ins.StackName, TemplateURL: a.ins.TemplateURL, Parameters: a.ins.Parameters,
			Capabilities:       []string{CapabilityNamedIAM},
			NotificationARNs:   []string{a.ins.Parameters["CallbackTopicArn"]},
			ClientRequestToken: r.b.ActivationID,
		})
		switch {
		case err == nil:
			created <- r.stackRecord(ctx, a.id, stackID)
		case isThrottled(err) || ctx.Err() != nil:
			r.leave(a.id, "CloudFormation kept throttling CreateStack") // the item stays in progress without a stack: re-driven
		default:
			r.failAccount(ctx, a.id, fmt.Sprintf("CloudFormation refused the onboarding stack in %s: %v", a.id, err), true)
		}
	})
	close(created)
	<-recorded
}

// recordFlush is how long a created stack may wait for others to share its write.
const recordFlush = 200 * time.Millisecond

// recordAsTheyCome records created stacks in groups: a group is written when it is full or recordFlush after its
// first stack, so a StackId is on the account within a fraction of a second at the cost of a few transactions.
func (r *batchRun) recordAsTheyCome(ctx context.Context, created <-chan StackRecord) {
	var group []StackRecord
	var flush <-chan time.Time
	for {
		select {
		case st, ok := <-created:
			if !ok {
				r.record(ctx, group)
				return
			}
			group = append(group, st)
			if len(group) >= recordGroup {
				r.record(ctx, group)
				group, flush = nil, nil
			} else if flush == nil {
				flush = time.After(recordFlush)
			}
		case <-flush:
			r.record(ctx, group)
			group, flush = nil, nil
		}
	}
}

// recordGroup fills one transaction (four items an account: the account, the item, the audit entry, the claim).
const recordGroup = 25

func (r *batchRun) stackRecord(ctx context.Context, id, stackID string) StackRecord {
	changes := []audit.Change{{Field: "activationStackId", To: []byte(`"` + stackID + `"`)}}
	return StackRecord{AccountID: id, StackID: stackID, Entry: audit.New(ctx, r.b.TenantID, r.s.Now().UTC(),
		"account.bulk_activation_stack_created", accounts.Target(id), changes)}
}

func (r *batchRun) record(ctx context.Context, stacks []StackRecord) {
	if len(stacks) == 0 {
		return
	}
	refused, err := r.s.Store.RecordStacks(ctx, r.b.TenantID, r.b.ActivationID, stacks)
	if err != nil {
		r.fail(fmt.Errorf("record stacks: %w", err))
		return
	}
	for id, err := range refused {
		// The activation no longer awaits the account (its callback failed it already, or another activation took
		// it over): there is nothing to record it on.
		slog.InfoContext(ctx, "stack not recorded on the account", "accountId", id, "error", err.Error())
	}
}

func isAccessDenied(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode() == "AccessDenied" || apiErr.ErrorCode() == "AccessDeniedException")
}

// isThrottled reports a call that was still throttled after its retries.
func isThrottled(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode() {
	case "Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded":
		return true
	}
	return false
}

// resume ends a batch's wait. A batch resumed (or timed out) already refuses the token; that is no failure.
func (s *Service) resume(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	_, err := s.StepFunctions.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String("{}")})
	if err == nil || tokenGone(err) {
		if err != nil {
			slog.InfoContext(ctx, "batch already resumed or over", "error", err.Error())
		}
		return nil
	}
	return fmt.Errorf("resume the batch: %w", err)
}

// tokenGone reports Step Functions' answers for a task that is no longer waiting.
func tokenGone(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode() {
	case "TaskTimedOut", "InvalidToken", "TaskDoesNotExist", "ExecutionDoesNotExist":
		return true
	}
	return false
}

// closing says why a batch is closed before every account reported back, and what to tell each account.
type closing struct {
	// awaited is the reason of an account whose stack exists but never reported back; notStarted of one the batch
	// never created a stack for.
	awaited, notStarted func(b Batch) string
}

var (
	expired = closing{
		awaited: func(Batch) string {
			return "The onboarding stack did not report back in time: no callback arrived from its custom resource. " +
				"Check the stack in the account's CloudFormation console, then activate the account again."
		},
		notStarted: func(Batch) string {
			return "The batch ran out of time before this account's stack was created; activate the account again."
		},
	}
	abandoned = closing{
		awaited: func(b Batch) string {
			return "Bulk activation stopped waiting for this account's stack: " + describe(b.Error) +
				". Check the stack in the account's CloudFormation console, then activate the account again."
		},
		notStarted: func(b Batch) string {
			return "Bulk activation could not start this account: " + describe(b.Error) + ". Activate the account again."
		},
	}
)

// close settles every account of the batch that has no outcome yet, after its wait timed out (expire) or its task
// failed for good (abandon): an account that became active succeeded, one that failed keeps its reason, one still
// awaited fails with why.
func (s *Service) close(ctx context.Context, b Batch, why closing) error {
	items, accts, err := s.Store.LoadBatch(ctx, b.TenantID, b.ActivationID, b.AccountIDs)
	if err != nil {
		return err
	}
	now := s.Now().UTC()
	var errs []error
	settle := func(id, status, reason, stackID string) {
		if _, err := s.Store.Settle(ctx, b.TenantID, b.ActivationID, b.Index, Settlement{AccountID: id, Status: status, Reason: reason,
			StackID: stackID, At: now, From: []string{Pending, InProgress}}); err != nil && !errors.Is(err, ErrItemChanged) {
			errs = append(errs, err)
		}
	}
	for _, id := range b.AccountIDs {
		it, ok := items[id]
		if !ok || it.settled() {
			continue
		}
		acct, exists := accts[id]
		switch {
		case !exists:
			settle(id, Failed, "The account was removed from Gangplank during its activation.", "")
		case acct.Status == accounts.Active:
			settle(id, Succeeded, "", acct.StackID)
		case it.Status == InProgress && acct.AwaitedBy(b.ActivationID):
			reason := why.notStarted(b)
			if it.StackID != "" || acct.AwaitedStackID != "" {
				reason = why.awaited(b)
			}
			if err := s.failAccount(ctx, b.TenantID, b.ActivationID, id, reason, true); err != nil {
				errs = append(errs, err)
				continue
			}
			settle(id, Failed, reason, "")
		case it.Status == InProgress && acct.Status == accounts.Failed:
			settle(id, Failed, acct.StatusReason, "")
		case it.Status == InProgress:
			settle(id, Failed, fmt.Sprintf("Bulk activation stopped waiting for this account, which is now %s.", acct.Status), "")
		default:
			settle(id, Failed, why.notStarted(b), "")
		}
	}
	return errors.Join(errs...)
}

// finish closes the activation. Accounts still without an outcome (a batch whose closing task failed too, or the
// Map itself failing) are closed first, so that each has its reason. The activation completes, or, when the
// workflow broke down (b.Error: what the Map caught), ends failed with the reason.
func (s *Service) finish(ctx context.Context, b Batch) error {
	a, ok, err := s.Store.Get(ctx, b.TenantID, b.ActivationID)
	if err != nil || !ok || a.Status != Running {
		return err
	}
	items, err := s.Store.Items(ctx, b.TenantID, b.ActivationID)
	if err != nil {
		return err
	}
	var left []string
	for _, it := range items {
		if !it.settled() {
			left = append(left, it.AccountID)
		}
	}
	leftover := b
	leftover.Index = -1 // the batches are over: nothing awaits these accounts any more
	if leftover.Error == nil {
		leftover.Error = &CaughtError{Error: "Unfinished", Cause: "the workflow ended before this account had an outcome"}
	}
	for start := 0; start < len(left); start += MaxBatchSize {
		leftover.AccountIDs = left[start:min(start+MaxBatchSize, len(left))]
		if err := s.close(ctx, leftover, abandoned); err != nil {
			return err
		}
	}
	status, reason := Completed, ""
	if b.Error != nil {
		status, reason = Broken, "The workflow broke down: "+describe(b.Error)
	}
	return s.Store.Finish(ctx, b.TenantID, b.ActivationID, status, reason, s.Now().UTC())
}
