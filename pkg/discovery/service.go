package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/awsx"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/validation"
)

// Accounts is what discovery reads and writes of accounts.
type Accounts interface {
	Get(ctx context.Context, tenantID, accountID string) (accounts.Account, error)
	Create(ctx context.Context, tenantID string, in accounts.CreateInput) (accounts.Account, error)
	CreateMany(ctx context.Context, tenantID string, ins []accounts.CreateInput) ([]error, error)
	SetMembership(ctx context.Context, tenantID string, listed accounts.Listed, want accounts.Membership) (bool, error)
	Mutate(ctx context.Context, tenantID, accountID, action string, fn func(a *accounts.Account) error) (accounts.Account, error)
}

// Snapshots keeps each organization's OU tree, as its latest discovery read it.
type Snapshots interface {
	Get(ctx context.Context, tenantID, managementID string) (Snapshot, int64, bool, error)
	Put(ctx context.Context, tenantID, managementID string, snap Snapshot, readVersion int64) error
}

// Members lists a management account's linked accounts as they are stored: one request per page of the listing,
// whatever their number.
type Members interface {
	Members(ctx context.Context, tenantID, managementID string) ([]accounts.Listed, error)
}

// Jobs keeps discovery jobs, each account's running job, and what unfinished jobs read so far.
type Jobs interface {
	// StartJob stores a new job unless the account has one that is unfinished and within its lease; then it
	// returns that one (started false). A job past its lease is failed as stalled in the same write.
	StartJob(ctx context.Context, j Job, now time.Time) (got Job, started bool, err error)
	// GetJob returns ErrJobNotFound for an ID the tenant has no job with.
	GetJob(ctx context.Context, tenantID, id string) (Job, error)
	// LatestJob returns the account's latest job, finished or not (ErrJobNotFound if it never had one).
	LatestJob(ctx context.Context, tenantID, accountID string) (Job, error)
	// SaveJob writes the chunks a step read since the job's last checkpoint (under set's writer), then the job, if
	// the stored job is still at j.Version (else ErrJobMoved). The stored version becomes j.Version+1.
	SaveJob(ctx context.Context, j Job, set ChunkSet, chunks []Chunk) error
	// MarkSent records that the message of the job's next step (j.Cursor.Step) is on the queue, if the job still
	// expects that step (ErrJobMoved otherwise); it leaves the version alone.
	MarkSent(ctx context.Context, j Job) error
	// SaveProgress writes only the job's status, progress and lease (a step's progress between checkpoints), on the
	// same condition.
	SaveProgress(ctx context.Context, j Job) error
	// FinishJob saves a finished job (on the same condition); its account may then start another.
	FinishJob(ctx context.Context, j Job) error
	// Chunks returns the chunks of the sets, in order.
	Chunks(ctx context.Context, tenantID, id string, sets []ChunkSet) ([]Chunk, error)
}

// Chunk is part of what an unfinished job read, stored at a checkpoint for its next steps.
type Chunk struct {
	OUs     []OU     `json:"o,omitempty"`
	Members []Member `json:"m,omitempty"`
}

// Queue carries a job's steps to the worker (the continuation of a job is a message it sends itself).
type Queue interface {
	Send(ctx context.Context, m Message) error
}

// Door enters a customer's account (crossaccount.Door): the one way in.
type Door interface {
	Enter(ctx context.Context, tenantID, accountID, purpose string, require ...func(accounts.Account) error) (crossaccount.Session, error)
}

// Managements lists every active management account, across tenants.
type Managements interface {
	ActiveManagementAccounts(ctx context.Context) ([]accounts.Ref, error)
}

// Enroller activates new accounts (bulk activation), for auto-enrolment.
type Enroller interface {
	Enroll(ctx context.Context, tenantID, managementID string, accountIDs []string) error
}

// Snapshot is an organization's OU tree as stored.
type Snapshot struct {
	RootID       string    `json:"rootId" dynamodbav:"rootId"`
	OUs          []OU      `json:"ous" dynamodbav:"-"`
	DiscoveredAt time.Time `json:"discoveredAt" dynamodbav:"discoveredAt"`
}

// ErrConcurrentRun: another discovery of the same organization finished first.
var ErrConcurrentRun = errors.New("another discovery of this organization ran at the same time; try again")

// ErrNotManagement: discovery reads an organization through its management account (or finds the management
// account of a linked account added first).
var ErrNotManagement = errors.New("discovery reads an organization through its management account; this account is not one " +
	"(a linked account is discovered through its management account, or, while it has none, to find it)")

// Defaults of the step limits.
const (
	// DefaultLease: an unfinished job with no progress for this long counts as stopped. It covers a whole redelivery
	// cycle: the worker's 15 minutes and the queue's visibility timeout of six times that.
	DefaultLease = 2 * time.Hour
	// defaultStepTime bounds a step run without an invocation deadline (tests, the local server).
	defaultStepTime = 10 * time.Minute
	// defaultProgressEvery is how often a long step saves its progress for GET (never its checkpoint).
	defaultProgressEvery = 15 * time.Second
	// MaxDeliveries is how often the queue delivers a step before its dead-letter queue takes it (the queue's
	// redrive maxReceiveCount, here and in the CDK stack): the last delivery fails the job with the reason, so a job
	// never ends without saying why.
	MaxDeliveries = 5
	// maxEnroll is how many accounts one bulk activation takes (activation.MaxAccounts).
	maxEnroll = 5000
	// chunkMembers bounds one stored chunk (compressed, far under DynamoDB's 400 KB item).
	chunkMembers = 2000
	// createFlush is how many new accounts are written together (CreateMany writes them 24 to a transaction).
	createFlush = 240
)

// Service is discovery. Build one per cold start.
type Service struct {
	Accounts  Accounts
	Snapshots Snapshots
	Members   Members
	Jobs      Jobs
	Queue     Queue
	Door      Door
	Enroller  Enroller
	// Managements is needed by StartAll only.
	Managements Managements
	Now         func() time.Time
	// MaxBackoff bounds the wait between retries of throttled calls (default 5 s).
	MaxBackoff time.Duration
	// Organizations builds the Organizations reader over an account's configuration (awsorganizations.New), which
	// waits out throttling with backoff up to maxBackoff. Nil in a function that never reads an organization.
	Organizations func(cfg aws.Config, maxBackoff time.Duration) Organizations

	// Lease is DefaultLease unless set.
	Lease time.Duration
	// StepCalls and StepAccounts bound one step's Organizations requests and members compared (0: only the
	// invocation's deadline bounds it); the tests make steps small to see jobs continue.
	StepCalls, StepAccounts int
	// StepMargin is kept free before the invocation's deadline for the checkpoint (default: a tenth of the time
	// left at the start, at least 20 s).
	StepMargin time.Duration
	// ProgressEvery is how often a long step saves its progress (default 15 s).
	ProgressEvery time.Duration
}

func (s *Service) organizations(cfg aws.Config) (Organizations, error) {
	if s.Organizations == nil {
		return nil, ErrOrganizationsNotWired
	}
	maxBackoff := s.MaxBackoff
	if maxBackoff == 0 {
		maxBackoff = 5 * time.Second
	}
	return s.Organizations(cfg, maxBackoff), nil
}

func (s *Service) lease() time.Duration {
	if s.Lease > 0 {
		return s.Lease
	}
	return DefaultLease
}

// Message is one step of a job on the queue.
type Message struct {
	TenantID  string `json:"tenantId"`
	AccountID string `json:"accountId"`
	JobID     string `json:"jobId"`
	Step      int    `json:"step"`
}

func (m Message) check() error {
	switch _, err := awsid.ParseAccountID(m.AccountID); {
	case m.TenantID == "" || len(m.TenantID) > 128:
		return errors.New("no tenant")
	case err != nil:
		return err
	case !ValidJobID(m.JobID):
		return errors.New("not a job id")
	case m.Step < 0:
		return errors.New("negative step")
	}
	return nil
}

// kindOf is the job an account's discovery is: its organization for a management account, its management account
// for a linked account added without one.
func kindOf(a accounts.Account) (Kind, error) {
	switch {
	case a.Type == accounts.Management:
		return KindOrganization, nil
	case a.Type == accounts.Linked && a.ManagementAccountID == "":
		return KindManagementAccount, nil
	}
	return "", ErrNotManagement
}

// Start starts a discovery of the account (its organization, or its management account) and returns at once with
// the job: the new one, or the one already running for the account. The account must be connected.
func (s *Service) Start(ctx context.Context, tenantID, accountID string, trigger Trigger) (Job, error) {
	a, err := s.Accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return Job{}, err
	}
	kind, err := kindOf(a)
	if err != nil {
		return Job{}, err
	}
	if err := crossaccount.Usable(a); err != nil {
		return Job{}, err
	}
	now := s.Now().UTC()
	j := Job{ID: NewJobID(now), TenantID: tenantID, AccountID: accountID, Kind: kind, Trigger: trigger, Status: Queued,
		CreatedAt: now, UpdatedAt: now, LeaseUntil: now.Add(s.lease()), Cursor: Cursor{Phase: PhaseRead}, Version: 1}
	got, started, err := s.Jobs.StartJob(ctx, j, now)
	if err != nil || !started {
		return got.AsSeen(now), err
	}
	if err := s.Queue.Send(ctx, Message{TenantID: tenantID, AccountID: accountID, JobID: got.ID}); err != nil {
		got.Fail("Gangplank could not queue the discovery; start it again.", now)
		if ferr := s.Jobs.FinishJob(ctx, got); ferr != nil {
			slog.WarnContext(ctx, "could not end a discovery job that was never queued", "jobId", got.ID, "error", ferr.Error())
		}
		return Job{}, fmt.Errorf("queue the discovery: %w", err)
	}
	slog.InfoContext(ctx, "discovery started", "tenantId", tenantID, "accountId", accountID, "jobId", got.ID, "kind", kind, "trigger", trigger)
	return got, nil
}

// Job returns one of the tenant's discovery jobs, with its progress and result.
func (s *Service) Job(ctx context.Context, tenantID, id string) (Job, error) {
	if !ValidJobID(id) {
		return Job{}, ErrJobNotFound
	}
	j, err := s.Jobs.GetJob(ctx, tenantID, id)
	if err != nil {
		return Job{}, err
	}
	return j.AsSeen(s.Now().UTC()), nil
}

// Latest returns the account's latest job, finished or not (ErrJobNotFound if it never had one).
func (s *Service) Latest(ctx context.Context, tenantID, accountID string) (Job, error) {
	j, err := s.Jobs.LatestJob(ctx, tenantID, accountID)
	if err != nil {
		return Job{}, err
	}
	return j.AsSeen(s.Now().UTC()), nil
}

// StartAll is the daily discovery: a job for every active management account, across tenants, each returning at
// once (a job already running is left to finish). One that cannot start is logged and does not stop the others.
func (s *Service) StartAll(ctx context.Context) (started, failed int, err error) {
	refs, err := s.Managements.ActiveManagementAccounts(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, r := range refs {
		if ctx.Err() != nil {
			return started, failed, ctx.Err()
		}
		if _, err := s.Start(ctx, r.TenantID, r.AccountID, TriggerSchedule); err != nil {
			failed++
			slog.WarnContext(ctx, "daily discovery could not start", "tenantId", r.TenantID, "managementAccountId", r.AccountID, "error", err.Error())
			continue
		}
		started++
	}
	return started, failed, nil
}

// Step runs one step of a job: as much as its budget allows, then a checkpoint and the next step queued, or the
// job's end. A duplicate delivery changes nothing. An error that another delivery may not meet (throttling beyond
// the retries, an outage) is returned, so the queue delivers the step again, resuming from the last checkpoint; on
// the last delivery, or for an error no retry fixes, the job fails with the reason.
func (s *Service) Step(ctx context.Context, m Message, lastDelivery bool) error {
	if err := m.check(); err != nil {
		slog.WarnContext(ctx, "discovery step dropped: malformed", "error", err.Error())
		return nil
	}
	j, err := s.Jobs.GetJob(ctx, m.TenantID, m.JobID)
	switch {
	case errors.Is(err, ErrJobNotFound):
		slog.WarnContext(ctx, "discovery step dropped: no such job", "tenantId", m.TenantID, "jobId", m.JobID)
		return nil
	case err != nil:
		return err
	case j.AccountID != m.AccountID || j.Finished():
		return nil
	case m.Step == j.Cursor.Step-1 && j.Cursor.Sent < j.Cursor.Step:
		// This step checkpointed, but its continuation may never have been queued (the send failed, or the Lambda
		// stopped in between): queue it. Once it is known to be queued, a duplicate of this step is dropped, so
		// duplicates never multiply.
		return s.sendNext(ctx, j)
	case m.Step != j.Cursor.Step:
		return nil
	}
	now := s.Now().UTC()
	j.Begin(now)
	j.LeaseUntil = now.Add(s.lease())
	if err := s.Jobs.SaveProgress(ctx, j); errors.Is(err, ErrJobMoved) {
		return nil
	} else if err != nil {
		return err
	}
	j.Version++
	b := s.newBudget(ctx, &j)
	var done bool
	var chunks []Chunk
	set := ChunkSet{Writer: NewWriter()}
	switch j.Kind {
	case KindOrganization:
		done, chunks, err = s.stepOrganization(ctx, &j, b)
	case KindManagementAccount:
		done, err = true, s.findManagement(ctx, &j)
	default:
		err = fmt.Errorf("%w: unknown kind %q", errPermanent, j.Kind)
	}
	now = s.Now().UTC()
	if err != nil {
		if !isPermanent(err) && !lastDelivery {
			slog.WarnContext(ctx, "discovery step failed; the queue delivers it again", "jobId", j.ID, "step", m.Step, "error", err.Error())
			return err
		}
		j.Fail(failureReason(err), now)
		s.recordRun(ctx, j)
		return s.end(ctx, j)
	}
	if done {
		j.Succeed(now)
		return s.end(ctx, j)
	}
	if len(chunks) > 0 {
		set.Count = len(chunks)
		j.Cursor.Chunks = append(j.Cursor.Chunks, set)
	}
	j.Continue(now, s.lease())
	if err := s.Jobs.SaveJob(ctx, j, set, chunks); errors.Is(err, ErrJobMoved) {
		return nil
	} else if err != nil {
		return err
	}
	j.Version++
	return s.sendNext(ctx, j)
}

// sendNext queues the job's next step and records that it is queued. An error sending is returned (the queue
// delivers this step again, which sends it then); an error recording only costs a possible duplicate.
func (s *Service) sendNext(ctx context.Context, j Job) error {
	if err := s.Queue.Send(ctx, Message{TenantID: j.TenantID, AccountID: j.AccountID, JobID: j.ID, Step: j.Cursor.Step}); err != nil {
		return err
	}
	if err := s.Jobs.MarkSent(ctx, j); err != nil && !errors.Is(err, ErrJobMoved) {
		slog.WarnContext(ctx, "could not record a discovery step as queued", "jobId", j.ID, "step", j.Cursor.Step, "error", err.Error())
	}
	return nil
}

func (s *Service) end(ctx context.Context, j Job) error {
	if err := s.Jobs.FinishJob(ctx, j); err != nil && !errors.Is(err, ErrJobMoved) {
		return err
	}
	slog.InfoContext(ctx, "discovery ended", "tenantId", j.TenantID, "accountId", j.AccountID, "jobId", j.ID, "status", j.Status,
		"steps", j.Progress.Steps, "calls", j.Progress.Calls, "error", j.Error)
	return nil
}

// errPermanent marks failures no retry fixes.
var errPermanent = errors.New("permanent")

// isPermanent reports whether another delivery of the step would fail the same way.
func isPermanent(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "AccessDeniedException", "AccessDenied":
			return true
		}
	}
	return errors.Is(err, errPermanent) || errors.Is(err, ErrNotInOrganization) || errors.Is(err, ErrOrganizationsNotWired) || errors.Is(err, crossaccount.ErrNotConnected) || errors.Is(err, crossaccount.ErrAccessDenied) ||
		errors.Is(err, ErrNotManagement) || errors.Is(err, accounts.ErrNotFound) || errors.Is(err, ErrNoRoot)
}

// failureReason is what the tenant reads of a failed job.
func failureReason(err error) string {
	if errors.Is(err, ErrNotInOrganization) {
		return "Gangplank could not read the organization: this account is not in an AWS organization. If it is a standalone " +
			"account, add it as one."
	}
	if errors.Is(err, crossaccount.ErrNotConnected) || errors.Is(err, crossaccount.ErrAccessDenied) || errors.Is(err, ErrNotManagement) {
		return err.Error()
	}
	return "Gangplank could not read the organization: " + err.Error()
}

// budget bounds one step: its Organizations requests, the members it compares, and the invocation's deadline less a
// margin for the checkpoint. Between checks it saves the job's progress every so often.
type budget struct {
	s        *Service
	job      *Job
	deadline time.Time
	counter  *awsx.CallCounter
	compared int
	lastSave time.Time
	// before are the job's counts when the step began.
	before Progress
}

func (s *Service) newBudget(ctx context.Context, j *Job) *budget {
	now := s.Now()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = now.Add(defaultStepTime)
	}
	margin := s.StepMargin
	if margin == 0 {
		margin = max(20*time.Second, deadline.Sub(now)/10)
	}
	return &budget{s: s, job: j, deadline: deadline.Add(-margin), counter: awsx.NewCallCounter(), lastSave: now, before: j.Progress}
}

// calls is the Organizations requests of this step so far.
func (b *budget) calls() int { return int(b.counter.ServiceCalls("Organizations")) }

// tally brings the job's progress up to date with this step's counts.
func (b *budget) tally(t *Tree) {
	p := &b.job.Progress
	p.Calls = b.before.Calls + b.calls()
	p.Retries = b.before.Retries + int(b.counter.ServiceAttempts("Organizations")) - b.calls()
	if t != nil {
		p.OUsRead, p.AccountsRead = max(len(t.OUs)-1, 0), len(t.Members)
	}
}

// more reports whether the step may make another request (or compare more members), saving progress on the way.
func (b *budget) more(ctx context.Context, t *Tree) bool {
	now := b.s.Now()
	every := b.s.ProgressEvery
	if every == 0 {
		every = defaultProgressEvery
	}
	if now.Sub(b.lastSave) >= every {
		b.tally(t)
		b.job.UpdatedAt, b.job.LeaseUntil = now.UTC(), now.UTC().Add(b.s.lease())
		if err := b.s.Jobs.SaveProgress(ctx, *b.job); err == nil {
			b.job.Version++
		} else {
			slog.WarnContext(ctx, "could not save a discovery job's progress", "jobId", b.job.ID, "error", err.Error())
		}
		b.lastSave = now
	}
	switch {
	case !now.Before(b.deadline):
		return false
	case b.s.StepCalls > 0 && b.calls() >= b.s.StepCalls:
		return false
	case b.s.StepAccounts > 0 && b.compared >= b.s.StepAccounts:
		return false
	}
	return true
}

func requireManagement(a accounts.Account) error {
	if a.Type != accounts.Management {
		return ErrNotManagement
	}
	return nil
}

func settingsOf(a accounts.Account) accounts.Discovery {
	if a.Discovery == nil {
		return accounts.Discovery{MemberRoleName: accounts.DefaultMemberRoleName}
	}
	return *a.Discovery
}

// stepOrganization reads on, then brings the tenant's accounts in step with what was read. It returns the chunks
// to checkpoint when the step ends before the job.
func (s *Service) stepOrganization(ctx context.Context, j *Job, b *budget) (bool, []Chunk, error) {
	sess, err := s.Door.Enter(ctx, j.TenantID, j.AccountID, "discovery", requireManagement)
	if err != nil {
		return false, nil, err
	}
	cfg := sess.Config
	b.counter.Instrument(&cfg)
	org, err := s.organizations(cfg)
	if err != nil {
		return false, nil, err
	}
	tree := Tree{OUs: map[string]OU{}}
	if len(j.Cursor.Chunks) > 0 {
		stored, err := s.Jobs.Chunks(ctx, j.TenantID, j.ID, j.Cursor.Chunks)
		if err != nil {
			return false, nil, err
		}
		for _, c := range stored {
			for _, ou := range c.OUs {
				tree.OUs[ou.ID] = ou
				if ou.ParentID == "" {
					tree.RootID = ou.ID
				}
			}
			tree.Members = append(tree.Members, c.Members...)
		}
	}
	storedOUs, storedMembers := map[string]bool{}, len(tree.Members)
	for id := range tree.OUs {
		storedOUs[id] = true
	}
	unsaved := func() []Chunk {
		var fresh Chunk
		for id, ou := range tree.OUs {
			if !storedOUs[id] {
				fresh.OUs = append(fresh.OUs, ou)
			}
		}
		sort.Slice(fresh.OUs, func(i, k int) bool { return fresh.OUs[i].Depth < fresh.OUs[k].Depth })
		chunks := []Chunk{{OUs: fresh.OUs}}
		for rest := tree.Members[storedMembers:]; len(rest) > 0; {
			n := min(len(rest), chunkMembers)
			if last := &chunks[len(chunks)-1]; len(last.Members) == 0 {
				last.Members = rest[:n]
			} else {
				chunks = append(chunks, Chunk{Members: rest[:n]})
			}
			rest = rest[n:]
		}
		if len(chunks[0].OUs) == 0 && len(chunks[0].Members) == 0 {
			return nil
		}
		return chunks
	}
	if j.Cursor.Phase == PhaseRead {
		err := Advance(ctx, org, &tree, &j.Cursor.Walk, func() bool { return b.more(ctx, &tree) })
		b.tally(&tree)
		if err != nil {
			return false, nil, err
		}
		if !j.Cursor.Walk.Done() {
			return false, unsaved(), nil
		}
		j.Cursor.Phase = PhaseApply
	}
	b.tally(&tree)
	done, err := s.apply(ctx, j, sess.Account, tree, settingsOf(sess.Account), b, org)
	if err != nil || !done {
		if err != nil {
			return false, nil, err
		}
		return false, unsaved(), nil
	}
	run := j.Cursor.Run
	run.At, run.Status, run.JobID = s.Now().UTC(), "ok", j.ID
	run.Calls, run.Retries, run.OUs = j.Progress.Calls, j.Progress.Retries, len(tree.OUs)-1
	j.Run = &run
	if err := s.saveSnapshot(ctx, j, tree); err != nil {
		return false, nil, err
	}
	s.recordRun(ctx, *j)
	return true, nil, nil
}

func (s *Service) saveSnapshot(ctx context.Context, j *Job, tree Tree) error {
	_, version, _, err := s.Snapshots.Get(ctx, j.TenantID, j.AccountID)
	if err != nil {
		return err
	}
	snap := Snapshot{RootID: tree.RootID, DiscoveredAt: s.Now().UTC()}
	for _, ou := range tree.OUs {
		snap.OUs = append(snap.OUs, ou)
	}
	sort.Slice(snap.OUs, func(i, k int) bool { return snap.OUs[i].Path < snap.OUs[k].Path })
	return s.Snapshots.Put(ctx, j.TenantID, j.AccountID, snap, version)
}

// recordRun stores an organization job's outcome on its management account (discovery.lastRun).
func (s *Service) recordRun(ctx context.Context, j Job) {
	if j.Kind != KindOrganization || j.Run == nil {
		return
	}
	run := *j.Run
	if run.At.IsZero() {
		run.At = s.Now().UTC()
	}
	run.JobID = j.ID
	_, err := s.Accounts.Mutate(ctx, j.TenantID, j.AccountID, "account.discovered", func(a *accounts.Account) error {
		d := settingsOf(*a)
		d.LastRun = &run
		a.Discovery = &d
		return nil
	})
	if err != nil {
		slog.WarnContext(ctx, "could not record the discovery run", "managementAccountId", j.AccountID, "error", err.Error())
	}
}

// inScope applies the tenant's filters: included OUs (nested ones too), excluded OUs and accounts.
func inScope(t Tree, m Member, d accounts.Discovery) bool {
	if slices.Contains(d.ExcludeAccounts, m.ID) {
		return false
	}
	up := t.ancestors(m.ParentID)
	for _, id := range up {
		if slices.Contains(d.ExcludeOUs, id) {
			return false
		}
	}
	if len(d.IncludeOUs) == 0 {
		return true
	}
	for _, id := range up {
		if slices.Contains(d.IncludeOUs, id) {
			return true
		}
	}
	return false
}

func membership(t Tree, m Member) accounts.Membership {
	up := t.ancestors(m.ParentID)
	slices.Reverse(up)
	return accounts.Membership{Name: m.Name, Email: m.Email, Status: m.Status, JoinedMethod: m.JoinedMethod,
		JoinedAt: m.JoinedAt, ParentID: m.ParentID, Path: t.OUs[m.ParentID].Path, AncestorIDs: strings.Join(up, "/")}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Settings are a management account's discovery settings as the tenant sets them.
type Settings struct {
	IncludeOUs      []string `json:"includeOuIds"`
	ExcludeOUs      []string `json:"excludeOuIds"`
	ExcludeAccounts []string `json:"excludeAccountIds"`
	MemberRoleName  string   `json:"memberRoleName"`
	AutoEnroll      bool     `json:"autoEnroll"`
}

// UpdateSettings replaces the management account's discovery settings.
func (s *Service) UpdateSettings(ctx context.Context, tenantID, managementID string, in Settings) (accounts.Account, error) {
	if err := in.validate(); err != nil {
		return accounts.Account{}, err
	}
	if in.MemberRoleName == "" {
		in.MemberRoleName = accounts.DefaultMemberRoleName
	}
	return s.Accounts.Mutate(ctx, tenantID, managementID, "account.discovery_settings", func(a *accounts.Account) error {
		if a.Type != accounts.Management {
			return ErrNotManagement
		}
		d := settingsOf(*a)
		d.IncludeOUs, d.ExcludeOUs, d.ExcludeAccounts = nonNil(in.IncludeOUs), nonNil(in.ExcludeOUs), nonNil(in.ExcludeAccounts)
		d.MemberRoleName, d.AutoEnroll = in.MemberRoleName, in.AutoEnroll
		a.Discovery = &d
		return nil
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// MaxExcludedAccounts bounds excludeAccountIds: the settings live in the management account's item, and a
// thousand accounts is more than any tenant excludes by id (excluding an OU excludes all of its accounts).
const MaxExcludedAccounts = 1000

// validate checks the settings by AWS's own rules, each list under its own name: OU and root ids by
// Organizations' patterns, account ids of 12 digits, each list bounded and without repeats, no OU both included and
// excluded, and the member role by IAM's role-name rules (the role name goes into the management account's
// sts:AssumeRole policy, where "*" or a path would widen it).
func (in Settings) validate() error {
	var c validation.Collector
	c.List("includeOuIds", in.IncludeOUs, awsid.MaxOUs, awsid.CheckOUID)
	c.List("excludeOuIds", in.ExcludeOUs, awsid.MaxOUs, awsid.CheckOUID)
	for _, id := range in.ExcludeOUs {
		if slices.Contains(in.IncludeOUs, id) {
			c.Add("excludeOuIds", "%q is also in includeOuIds: an OU is either included or excluded", id)
		}
	}
	c.List("excludeAccountIds", in.ExcludeAccounts, MaxExcludedAccounts, awsid.CheckAccountID)
	if in.MemberRoleName != "" {
		c.Check("memberRoleName", awsid.CheckRoleName(in.MemberRoleName))
	}
	return c.Err()
}

// View is an organization as the tenant sees it: its OUs and every member with its Gangplank status.
type View struct {
	ManagementAccountID string                 `json:"managementAccountId"`
	RootID              string                 `json:"rootId"`
	DiscoveredAt        time.Time              `json:"discoveredAt"`
	OUs                 []OU                   `json:"ous"`
	Accounts            []ViewAccount          `json:"accounts"`
	LastRun             *accounts.DiscoveryRun `json:"lastRun,omitempty"`
}

// ViewAccount is a member account in the view.
type ViewAccount struct {
	AccountID string              `json:"accountId"`
	Name      string              `json:"name"`
	Status    accounts.Status     `json:"status"`
	Member    accounts.Membership `json:"organization"`
}

// ErrNeverDiscovered: the organization has not been read yet.
var ErrNeverDiscovered = errors.New("this organization has not been discovered yet: POST .../discovery first")

// Organization returns the stored tree with each member's Gangplank status.
func (s *Service) Organization(ctx context.Context, tenantID, managementID string) (View, error) {
	mgmt, err := s.Accounts.Get(ctx, tenantID, managementID)
	if err != nil {
		return View{}, err
	}
	if mgmt.Type != accounts.Management {
		return View{}, ErrNotManagement
	}
	snap, _, ok, err := s.Snapshots.Get(ctx, tenantID, managementID)
	if err != nil {
		return View{}, err
	}
	if !ok {
		return View{}, ErrNeverDiscovered
	}
	known, err := s.Members.Members(ctx, tenantID, managementID)
	if err != nil {
		return View{}, err
	}
	v := View{ManagementAccountID: managementID, RootID: snap.RootID, DiscoveredAt: snap.DiscoveredAt, OUs: snap.OUs, Accounts: []ViewAccount{}}
	if mgmt.Discovery != nil {
		v.LastRun = mgmt.Discovery.LastRun
	}
	for _, a := range known {
		if a.Organization == nil {
			continue
		}
		v.Accounts = append(v.Accounts, ViewAccount{AccountID: a.AccountID, Name: a.Name, Status: a.Status, Member: *a.Organization})
	}
	sort.Slice(v.Accounts, func(i, k int) bool { return v.Accounts[i].AccountID < v.Accounts[k].AccountID })
	return v, nil
}
