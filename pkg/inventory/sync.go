package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/awsx"
	"github.com/gangplank/gangplank/pkg/crossaccount"
)

// Accounts reads the accounts the inventory syncs.
type Accounts interface {
	Get(ctx context.Context, tenantID, accountID string) (accounts.Account, error)
}

// Door enters a customer's account (crossaccount.Door): the one way in.
type Door interface {
	Enter(ctx context.Context, tenantID, accountID, purpose string, require ...func(accounts.Account) error) (crossaccount.Session, error)
}

// Schedules gives a tenant's sync interval (its inventory setting).
type Schedules interface {
	InventoryInterval(ctx context.Context, tenantID string) (time.Duration, error)
}

// Scope is what an account's inventory covers, from its integration settings (resourceTypes, regions); nil lists
// mean everything (every resource type, every enabled region).
type Scope struct {
	Types   []string
	Regions []string
}

// DefaultInterval is how often the schedule syncs an account unless its tenant chose otherwise.
const DefaultInterval = 24 * time.Hour

// Service is the inventory. Build one per cold start.
type Service struct {
	Store     Store
	Accounts  Accounts
	Door      Door
	Schedules Schedules
	Queue     Queue
	Now       func() time.Time
	// DefaultRegions are the regions read in an account whose integration settings name none; nil: every region
	// enabled in the account (the product's default). Test platforms read fewer.
	DefaultRegions []string
	// Clients builds the AWS clients of a customer session (awsresources.New), which wait out throttling with
	// backoff up to maxBackoff. Nil in a function that never enters customers' accounts for the inventory.
	Clients func(cfg aws.Config, maxBackoff time.Duration) Clients
	// MaxBackoff bounds the wait between retries of throttled calls (default 20 s).
	MaxBackoff time.Duration
	// MaxPages bounds the pages one scan invocation lists before it continues in a new message (0: as many as its
	// time allows). Tests use it to exercise continuation.
	MaxPages int
	// Budget is the time a scan invocation lists for, when its context has no deadline (default 10 minutes); with
	// a deadline (Lambda's), it stops a minute before it.
	Budget time.Duration
	// RunTimeout abandons a run whose scans stopped (default 3 hours).
	RunTimeout time.Duration
}

func (s *Service) now() time.Time { return s.Now().UTC() }

func (s *Service) clients(cfg aws.Config) (Clients, error) {
	if s.Clients == nil {
		return nil, ErrClientsNotWired
	}
	backoff := s.MaxBackoff
	if backoff == 0 {
		backoff = 20 * time.Second
	}
	return s.Clients(cfg, backoff), nil
}

// scopeOf is what the account's integration settings ask the inventory to cover.
func (s *Service) scopeOf(a accounts.Account) Scope {
	sc := Scope{Types: a.Integration.ResourceTypes, Regions: a.Integration.Regions}
	if len(sc.Regions) == 0 {
		sc.Regions = s.DefaultRegions
	}
	return sc
}

func (s *Service) interval(ctx context.Context, tenantID string) time.Duration {
	if s.Schedules == nil {
		return DefaultInterval
	}
	d, err := s.Schedules.InventoryInterval(ctx, tenantID)
	if err != nil || d <= 0 {
		return DefaultInterval
	}
	return d
}

func (s *Service) runTimeout() time.Duration {
	if s.RunTimeout > 0 {
		return s.RunTimeout
	}
	return 3 * time.Hour
}

// Handle does one unit of inventory work.
func (s *Service) Handle(ctx context.Context, m Message) error {
	switch m.Kind {
	case KindPlan:
		return s.plan(ctx, m)
	case KindScan:
		return s.scan(ctx, m)
	case KindSummarize:
		return s.summarize(ctx, m.TenantID, m.AccountID)
	case KindWriteBack:
		return s.writeBack(ctx, m.TenantID, m.AccountID)
	}
	return fmt.Errorf("unknown inventory message kind %q", m.Kind)
}

// HandleSQS is the worker: one unit of work per message. A failure that may pass (throttling beyond retries, an
// outage) is reported for that message only, so the queue retries it alone and then dead-letters it.
func (s *Service) HandleSQS(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, r := range e.Records {
		var m Message
		if err := json.Unmarshal([]byte(r.Body), &m); err != nil || m.TenantID == "" || m.AccountID == "" || m.Kind == "" {
			slog.ErrorContext(ctx, "inventory message is not valid; dropped", "messageId", r.MessageId)
			continue
		}
		switch err := s.Handle(ctx, m); {
		case err == nil:
		case errors.Is(err, accounts.ErrNotFound):
			slog.InfoContext(ctx, "inventory work for an account that is gone; dropped", "tenantId", m.TenantID, "accountId", m.AccountID, "kind", m.Kind)
		default:
			slog.WarnContext(ctx, "inventory work failed; will retry", "tenantId", m.TenantID, "accountId", m.AccountID, "kind", m.Kind,
				"scan", m.Scan, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp, nil
}

// FirstSync starts the first sync of an account that just became active (after CloudFormation has its answer, or
// a role was connected by hand): its inventory is initializing until that sync completes. It only sends the plan,
// so the callback needs the queue and nothing of the inventory's table.
func (s *Service) FirstSync(ctx context.Context, a accounts.Account) error {
	if crossaccount.Usable(a) != nil {
		return nil
	}
	return s.Queue.Send(ctx, []Message{{Kind: KindPlan, TenantID: a.TenantID, AccountID: a.AccountID, Trigger: "activation"}}, 0)
}

// ScheduleDue starts the sync of every account whose scheduled sync is due, across tenants (one Query of a sparse
// index): the schedule's job.
func (s *Service) ScheduleDue(ctx context.Context) (int, error) {
	refs, err := s.Store.Due(ctx, s.now())
	if err != nil {
		return 0, err
	}
	msgs := make([]Message, 0, len(refs))
	for _, r := range refs {
		msgs = append(msgs, Message{Kind: KindPlan, TenantID: r.TenantID, AccountID: r.AccountID, Trigger: "schedule"})
	}
	return len(msgs), s.Queue.Send(ctx, msgs, 0)
}

// mutateStatus applies fn to the account's status and saves it, rereading when another writer got there first.
// fn returns false to leave the status as it is.
func (s *Service) mutateStatus(ctx context.Context, tenantID, accountID string, fn func(st *Status) bool) (Status, error) {
	for attempt := 0; ; attempt++ {
		before, err := s.Store.Status(ctx, tenantID, accountID)
		if err != nil {
			return Status{}, err
		}
		after := before
		after.AccountID = accountID
		if !fn(&after) {
			return before, nil
		}
		after.Updated = s.now()
		err = s.Store.SaveStatus(ctx, tenantID, before, after)
		if errors.Is(err, ErrConcurrent) && attempt < 8 {
			continue
		}
		after.Version = before.Version + 1
		return after, err
	}
}

// recordFailure records a sync that could not start (the account is not connected, its role refuses, it cannot
// read its regions): the status says why, and the schedule tries again.
func (s *Service) recordFailure(ctx context.Context, tenantID, accountID, reason string) error {
	next := s.now().Add(s.interval(ctx, tenantID))
	_, err := s.mutateStatus(ctx, tenantID, accountID, func(st *Status) bool {
		st.Status, st.Reason, st.NextDueAt = StatusError, reason, &next
		return true
	})
	return err
}

// plan starts a run: it enters the account, reads its enabled regions and Resource Explorer's setup, and sends one
// scan per region (or one for the view). A run already going absorbs the request.
func (s *Service) plan(ctx context.Context, m Message) error {
	now := s.now()
	st, err := s.Store.Status(ctx, m.TenantID, m.AccountID)
	if err != nil {
		return err
	}
	if st.Live(now) {
		return nil
	}
	sess, err := s.Door.Enter(ctx, m.TenantID, m.AccountID, "inventory")
	var notUsable *crossaccount.NotUsableError
	var refused *crossaccount.AccessError
	switch {
	case errors.Is(err, accounts.ErrNotFound):
		return nil
	case errors.As(err, &notUsable):
		return s.recordFailure(ctx, m.TenantID, m.AccountID, notUsable.Error())
	case errors.As(err, &refused):
		return s.recordFailure(ctx, m.TenantID, m.AccountID, refused.Reason)
	case err != nil:
		return err
	}
	acct := sess.Account
	level := EffectiveLevel(acct)
	scope := s.scopeOf(acct)
	counter := awsx.NewCallCounter()
	cfg := sess.Config.Copy()
	counter.Instrument(&cfg)
	c, err := s.clients(cfg)
	if err != nil {
		return err
	}
	home := acct.Region
	enabled, err := enabledRegions(ctx, c.Regions(home))
	if err != nil {
		code, msg := errorCode(err)
		if code == "UnauthorizedOperation" || code == "AccessDenied" || code == "AccessDeniedException" {
			return s.recordFailure(ctx, m.TenantID, m.AccountID, fmt.Sprintf(
				"the role cannot call ec2:DescribeRegions (AWS said: %s): update the onboarding stack with a new link from Gangplank", msg))
		}
		return err
	}
	selected, notEnabled := chooseRegions(enabled, scope.Regions)
	ex, err := probeExplorer(ctx, c, home)
	if err != nil {
		return err
	}
	run := Run{Seq: st.Seq + 1, StartedAt: now, Trigger: m.Trigger, Level: level, Results: map[string]RegionResult{}, Scans: []string{},
		ScanRegions: map[string][]string{}, Deadline: now.Add(s.runTimeout())}
	var msgs []Message
	scanMsg := func(name string, regions []string) Message {
		run.Scans = append(run.Scans, name)
		run.ScanRegions[name] = regions
		return Message{Kind: KindScan, TenantID: m.TenantID, AccountID: m.AccountID, Seq: run.Seq, Scan: name}
	}
	fail := func(name, reason string) {
		src := SourceTagging
		if name == ExplorerScan || !ReadsTags(level) {
			src = SourceExplorer
		}
		run.Results[name] = RegionResult{Region: name, Source: src, Status: RegionError, Reason: reason}
	}
	switch {
	case ex.usable && (!ReadsTags(level) || ex.withTags):
		run.Source = SourceExplorer
		covered := intersect(selected, ex.indexed)
		msg := scanMsg(ExplorerScan, append(covered, GlobalRegion))
		msg.Regions, msg.ViewARN, msg.ViewRegion, msg.WithTags = append(covered, GlobalRegion), ex.view, ex.region, ReadsTags(level)
		msgs = append(msgs, msg)
		for _, r := range subtract(selected, ex.indexed) {
			if ReadsTags(level) {
				msgs = append(msgs, scanMsg(r, []string{r}))
			} else {
				fail(r, fmt.Sprintf("Resource Explorer has no index in %s, so Gangplank cannot list it at access level resources: "+
					"turn on Resource Explorer there (Quick Setup covers every region)", r))
			}
		}
	case ReadsTags(level):
		run.Source = SourceTagging
		for _, r := range selected {
			msgs = append(msgs, scanMsg(r, []string{r}))
		}
	default:
		run.Source = SourceExplorer
		fail(ExplorerScan, "at access level resources Gangplank reads no tags, so it lists resources through AWS Resource Explorer, which it "+
			"cannot use here: "+ex.reason+". Or choose access level resources_tags.")
	}
	for _, r := range notEnabled {
		fail(r, fmt.Sprintf("the region %s is not enabled in this account: enable it, or leave it out of the account's inventory regions", r))
	}
	run.Pending = len(msgs)
	run.SetupCalls = int(totalCalls(counter))
	saved, err := s.mutateStatus(ctx, m.TenantID, m.AccountID, func(cur *Status) bool {
		if cur.Live(now) || cur.Seq >= run.Seq {
			return false
		}
		cur.Run, cur.Seq = &run, run.Seq
		if cur.Status == "" {
			cur.Status = StatusInitializing
		}
		return true
	})
	if err != nil {
		return err
	}
	if saved.Run == nil || saved.Run.Seq != run.Seq {
		return nil // another plan started a run first
	}
	if len(msgs) == 0 {
		return s.commit(ctx, m.TenantID, m.AccountID, run.Seq)
	}
	if err := s.Queue.Send(ctx, msgs, 0); err != nil {
		// Without its scans the run would wait for its deadline: abandon it now, so the retry starts afresh.
		_, _ = s.mutateStatus(ctx, m.TenantID, m.AccountID, func(cur *Status) bool {
			if cur.Run == nil || cur.Run.Seq != run.Seq {
				return false
			}
			cur.Run.Deadline = now
			return true
		})
		return err
	}
	return nil
}

// ExplorerScan names the scan of a Resource Explorer view (it covers many regions).
const ExplorerScan = "*"

func totalCalls(c *awsx.CallCounter) int64 {
	var n int64
	for _, v := range c.Snapshot() {
		n += v
	}
	return n
}

func totalAttempts(c *awsx.CallCounter, services ...string) (calls, attempts int64) {
	for _, svc := range services {
		calls += c.ServiceCalls(svc)
		attempts += c.ServiceAttempts(svc)
	}
	return calls, attempts
}

// chooseRegions narrows the enabled regions to the scope's; regions of the scope that are not enabled are
// reported.
func chooseRegions(enabled, wanted []string) (selected, notEnabled []string) {
	if len(wanted) == 0 {
		return enabled, nil
	}
	for _, r := range wanted {
		if slices.Contains(enabled, r) {
			selected = append(selected, r)
		} else {
			notEnabled = append(notEnabled, r)
		}
	}
	sort.Strings(selected)
	return selected, notEnabled
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func subtract(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// arnHash is the 64-bit identity of an ARN in a scan's seen set.
func arnHash(arn string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(arn))
	return h.Sum64()
}

func (s *Service) budget(ctx context.Context, start time.Time) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d.Add(-time.Minute)
	}
	b := s.Budget
	if b == 0 {
		b = 10 * time.Minute
	}
	return start.Add(b)
}

// scan lists one region (or the view) a page at a time and writes what changed, continuing itself in a new message
// before its invocation runs out of time; the invocation that finishes the listing marks what AWS no longer lists
// and records the region's result, and the last scan of the run commits it.
func (s *Service) scan(ctx context.Context, m Message) error {
	start := time.Now()
	st, err := s.Store.Status(ctx, m.TenantID, m.AccountID)
	if err != nil {
		return err
	}
	if st.Run == nil || st.Run.Seq != m.Seq {
		return nil // the run finished or was replaced: this message is late
	}
	if _, done := st.Run.Results[m.Scan]; done {
		return nil
	}
	run := *st.Run
	res := m.Progress
	res.Region = m.Scan
	res.Source = SourceTagging
	if m.Scan == ExplorerScan {
		res.Source = SourceExplorer
	}
	if res.PerRegion == nil {
		res.PerRegion = map[string]int{}
	}
	sess, err := s.Door.Enter(ctx, m.TenantID, m.AccountID, "inventory")
	var notUsable *crossaccount.NotUsableError
	var refused *crossaccount.AccessError
	switch {
	case errors.As(err, &notUsable):
		return s.finishScan(ctx, m, res, notUsable.Error())
	case errors.As(err, &refused):
		return s.finishScan(ctx, m, res, refused.Reason)
	case err != nil:
		return err
	}
	scope := s.scopeOf(sess.Account)
	counter := awsx.NewCallCounter()
	cfg := sess.Config.Copy()
	counter.Instrument(&cfg)
	c, err := s.clients(cfg)
	if err != nil {
		return err
	}
	regions := run.ScanRegions[m.Scan]
	var src source
	if m.Scan == ExplorerScan {
		var filterRegions []string
		if len(scope.Regions) > 0 {
			filterRegions = subtract(regions, []string{GlobalRegion})
		}
		src = explorerSource{client: c.Explorer(m.ViewRegion), viewARN: m.ViewARN, filter: explorerFilter(scope.Types, filterRegions), withTags: m.WithTags}
	} else {
		var filters []string
		for _, t := range scope.Types {
			// A type outside the catalogue is filtered by its own name (the Tagging API takes service:type).
			filter := t
			if rt, ok := LookupType(t); ok {
				filter = rt.Filter
			}
			if !slices.Contains(filters, filter) {
				filters = append(filters, filter)
			}
		}
		src = taggingSource{client: c.Tagging(m.Scan), region: m.Scan, filters: filters}
	}
	sc := &scanner{s: s, m: m, now: s.now(), withTags: ReadsTags(run.Level), level: run.Level, committed: st.Committed,
		types: scope.Types, res: res, seen: map[uint64]bool{}, observedEdits: map[string]Tags{}}
	if sc.stubs, err = s.Store.Stubs(ctx, m.TenantID, m.AccountID, regions); err != nil {
		return err
	}
	if m.Chunk == 0 && m.Pass == 0 {
		if err := sc.prune(ctx); err != nil {
			return err
		}
	}
	if sc.edits, err = s.Store.Edits(ctx, m.TenantID, m.AccountID, regions); err != nil {
		return err
	}
	deadline := s.budget(ctx, start)
	token, pages := m.Token, 0
	for {
		p, err := src.page(ctx, token)
		calls, attempts := totalAttempts(counter, "Resource Groups Tagging API", "Resource Explorer 2")
		sc.res.Calls, sc.res.Retries = res.Calls+int(calls), res.Retries+int(attempts-calls)
		if err != nil {
			if tokenExpired(err) {
				return s.restartScan(ctx, m, sc.res)
			}
			if reason, ok := scanRefusal(err, sc.res.Source, m.Scan); ok {
				if err := sc.flush(ctx); err != nil {
					return err
				}
				return s.finishScan(ctx, m, sc.res, reason)
			}
			return err
		}
		if err := sc.add(ctx, p.resources); err != nil {
			return err
		}
		pages++
		token = p.next
		if token == "" {
			break
		}
		if (s.MaxPages > 0 && pages >= s.MaxPages) || time.Now().After(deadline) {
			return sc.continueLater(ctx, token)
		}
	}
	if err := sc.finish(ctx, src.perPage()); err != nil {
		return err
	}
	return s.finishScan(ctx, m, sc.res, "")
}

// restartScan lists the region again from its first page (its pagination token expired).
func (s *Service) restartScan(ctx context.Context, m Message, res RegionResult) error {
	next := m
	next.Token, next.Chunk, next.Pass, next.Progress = "", 0, m.Pass+1, res
	return s.Queue.Send(ctx, []Message{next}, 0)
}

// finishScan records the scan's result (an error when reason is set) and commits the run if it was the last.
func (s *Service) finishScan(ctx context.Context, m Message, res RegionResult, reason string) error {
	res.Status = RegionOK
	if reason != "" {
		res.Status, res.Reason = RegionError, reason
	}
	st, ok, err := s.Store.FinishScan(ctx, m.TenantID, m.AccountID, m.Seq, m.Scan, res)
	if err != nil || !ok {
		return err
	}
	if st.Run != nil && st.Run.Pending <= 0 {
		return s.commit(ctx, m.TenantID, m.AccountID, m.Seq)
	}
	return nil
}

// commit makes a finished run visible at once: each region its scans read completely now shows this run's
// versions (one conditional write of the status); a region that failed keeps showing the last run that read it.
func (s *Service) commit(ctx context.Context, tenantID, accountID string, seq int64) error {
	now := s.now()
	interval := s.interval(ctx, tenantID)
	changed := false
	writeBack := false
	_, err := s.mutateStatus(ctx, tenantID, accountID, func(st *Status) bool {
		run := st.Run
		if run == nil || run.Seq != seq || run.Pending > 0 {
			return false
		}
		committed := map[string]int64{}
		for r, c := range st.Committed {
			committed[r] = c
		}
		counts := map[string]int{}
		for r, n := range st.RegionResources {
			counts[r] = n
		}
		report := SyncReport{Seq: seq, Trigger: run.Trigger, Level: run.Level, Source: run.Source, StartedAt: run.StartedAt, FinishedAt: now,
			SetupCalls: run.SetupCalls, Regions: []RegionResult{}}
		var problems []string
		ok := 0
		names := sortedKeys(run.Results)
		for _, name := range names {
			res := run.Results[name]
			report.Regions = append(report.Regions, res)
			report.ListingCalls += res.Calls
			report.Retries += res.Retries
			report.Bound += res.Bound
			report.Writes += res.Writes
			if res.Status != RegionOK {
				problems = append(problems, regionLabel(name)+": "+res.Reason)
				continue
			}
			ok++
			if res.Added+res.Changed+res.Removed+res.Edits > 0 {
				changed = true
			}
			if res.WriteBack {
				writeBack = true
			}
			for _, r := range run.ScanRegions[name] {
				committed[r] = seq
				counts[r] = res.PerRegion[r]
				if r == GlobalRegion && counts[r] == 0 {
					delete(counts, r)
				}
			}
		}
		// A region the run did not cover at all has left the account's scope (its integration settings, or its
		// enabled regions): it stops being listed. One that failed keeps what its last sync read.
		for r := range committed {
			if !run.covers(r) {
				delete(committed, r)
				delete(counts, r)
			}
		}
		report.Calls = report.SetupCalls + report.ListingCalls
		if report.Bound > 0 {
			report.Ratio = float64(report.ListingCalls) / float64(report.Bound)
		}
		st.Committed, st.RegionResources = committed, counts
		st.Resources = 0
		for _, n := range counts {
			st.Resources += n
		}
		st.Run, st.Last, st.Source = nil, &report, run.Source
		if ok > 0 {
			st.LastSyncedAt = &now
		}
		if len(problems) > 0 {
			st.Status, st.Reason = StatusError, strings.Join(problems, "; ")
		} else {
			st.Status, st.Reason = StatusActive, ""
		}
		next := now.Add(interval)
		st.NextDueAt = &next
		return true
	})
	if err != nil {
		return err
	}
	var msgs []Message
	if changed {
		msgs = append(msgs, Message{Kind: KindSummarize, TenantID: tenantID, AccountID: accountID})
	}
	if writeBack {
		msgs = append(msgs, Message{Kind: KindWriteBack, TenantID: tenantID, AccountID: accountID})
	}
	if len(msgs) > 0 {
		return s.Queue.Send(ctx, msgs, 0)
	}
	return nil
}

func regionLabel(name string) string {
	if name == ExplorerScan {
		return "Resource Explorer"
	}
	return name
}

// scanner is one scan invocation's state.
type scanner struct {
	s         *Service
	m         Message
	now       time.Time
	withTags  bool
	level     accounts.AccessLevel
	committed map[string]int64
	types     []string
	stubs     map[string]Stub
	edits     map[string]Edit
	// observedEdits are AWS's tags of the edited resources this invocation listed (nil tags: at the resources level).
	observedEdits map[string]Tags
	seen          map[uint64]bool
	res           RegionResult
	pending       []observedChange
	writes        Writes
}

type observedChange struct {
	o    observed
	tags Tags
	hash string
}

func (sc *scanner) tenant() string  { return sc.m.TenantID }
func (sc *scanner) account() string { return sc.m.AccountID }

// add compares a page with what is stored and writes the differences.
func (sc *scanner) add(ctx context.Context, resources []observed) error {
	for _, o := range resources {
		if o.AccountID != sc.account() || (len(sc.types) > 0 && !slices.Contains(sc.types, o.Type)) {
			continue
		}
		h := arnHash(o.ARN)
		if sc.seen[h] {
			continue
		}
		sc.seen[h] = true
		sc.res.PerRegion[o.Region]++
		tags := o.Tags
		switch {
		case !sc.withTags:
			tags = nil // never kept at the resources level, whatever the source returned
		case tags == nil:
			tags = Tags{}
		}
		if _, edited := sc.edits[o.ARN]; edited {
			sc.observedEdits[o.ARN] = tags
		}
		hash := hashTags(tags, sc.withTags)
		stub, ok := sc.stubs[o.ARN]
		if !ok {
			sc.res.Added++
			sc.writes.Resources = append(sc.writes.Resources, Stored{ARN: o.ARN, AccountID: sc.account(), Region: o.Region, Type: o.Type,
				FirstSeen: sc.now, New: &Version{Tags: tags, Hash: hash, Since: sc.now}, NewSeq: sc.m.Seq})
			sc.writes.Entries = append(sc.writes.Entries, entries(o, tags, nil)...)
			continue
		}
		c := sc.committed[stub.Region]
		if stub.visibleHash(c) == hash && !stub.dirty(c) {
			continue // unchanged: nothing to write
		}
		if stub.NewSeq == sc.m.Seq && stub.NewHash == hash && !stub.NewGone {
			continue // written by this run already (a listing started again)
		}
		sc.pending = append(sc.pending, observedChange{o: o, tags: tags, hash: hash})
	}
	return sc.flush(ctx)
}

// flush reads the changed resources in full, builds their new versions and writes everything gathered.
func (sc *scanner) flush(ctx context.Context) error {
	if len(sc.pending) > 0 {
		keys := make([]ResourceKey, len(sc.pending))
		for i, p := range sc.pending {
			keys[i] = ResourceKey{Region: sc.stubs[p.o.ARN].Region, ARN: p.o.ARN}
		}
		full, err := sc.s.Store.Resources(ctx, sc.tenant(), sc.account(), keys)
		if err != nil {
			return err
		}
		for _, p := range sc.pending {
			f, ok := full[p.o.ARN]
			if !ok {
				continue // pruned meanwhile: the next sync adds it
			}
			sc.change(f, p)
		}
		sc.pending = sc.pending[:0]
	}
	if sc.writes.Len() == 0 {
		return nil
	}
	sc.res.Writes += sc.writes.Len()
	err := sc.s.Store.Apply(ctx, sc.tenant(), sc.writes)
	sc.writes = Writes{}
	return err
}

// change writes a resource's new version beside the visible one (or reverts a version a sync left behind).
func (sc *scanner) change(f Stored, p observedChange) {
	c := sc.committed[f.Region]
	vis, visible := f.Visible(c)
	var aborted *Version
	if f.New != nil && f.NewSeq > c {
		aborted = f.New
	}
	var visTags Tags
	if visible {
		visTags = vis.Tags
	}
	item := f
	if visible && vis.Hash == p.hash {
		item.Old, item.New, item.NewSeq = vis, nil, 0
		sc.writes.Resources = append(sc.writes.Resources, item)
		if aborted != nil {
			sc.writes.DeleteEntries = append(sc.writes.DeleteEntries, entries(p.o, aborted.Tags, visTags)...)
		}
		return
	}
	item.Old = nil
	if visible {
		item.Old = vis
		sc.res.Changed++
	} else {
		sc.res.Added++
	}
	item.New, item.NewSeq = &Version{Tags: p.tags, Hash: p.hash, Since: sc.now}, sc.m.Seq
	sc.writes.Resources = append(sc.writes.Resources, item)
	sc.writes.Entries = append(sc.writes.Entries, entries(p.o, p.tags, visTags)...)
	if aborted != nil {
		sc.writes.DeleteEntries = append(sc.writes.DeleteEntries, entries(p.o, aborted.Tags, union(visTags, p.tags))...)
	}
}

// entries are the tag entries of tags that except does not have (key and value).
func entries(o observed, tags, except Tags) []TagEntry {
	var out []TagEntry
	for _, k := range tags.Keys() {
		if v, ok := except[k]; ok && v == tags[k] {
			continue
		}
		out = append(out, TagEntry{AccountID: o.AccountID, Region: o.Region, Type: o.Type, ARN: o.ARN, Key: k, Value: tags[k]})
	}
	return out
}

func union(a, b Tags) Tags {
	out := Tags{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	return out
}

func observedOf(r Stored) observed {
	return observed{ARN: r.ARN, AccountID: r.AccountID, Region: r.Region, Type: r.Type}
}

// prune removes what the last committed syncs left behind (a version readers no longer see, a tombstone, and their
// tag entries): writes proportional to what those syncs changed.
func (sc *scanner) prune(ctx context.Context) error {
	var keys []ResourceKey
	for arn, stub := range sc.stubs {
		c := sc.committed[stub.Region]
		if !stub.settled(c) && !stub.dirty(c) {
			keys = append(keys, ResourceKey{Region: stub.Region, ARN: arn})
		}
	}
	if len(keys) == 0 {
		return nil
	}
	full, err := sc.s.Store.Resources(ctx, sc.tenant(), sc.account(), keys)
	if err != nil {
		return err
	}
	for _, f := range full {
		c := sc.committed[f.Region]
		v, ok := f.Visible(c)
		if !ok {
			sc.writes.Deleted = append(sc.writes.Deleted, f)
			var all Tags
			if f.Old != nil {
				all = f.Old.Tags
			}
			if f.New != nil {
				all = union(all, f.New.Tags)
			}
			sc.writes.DeleteEntries = append(sc.writes.DeleteEntries, entries(observedOf(f), all, nil)...)
			delete(sc.stubs, f.ARN)
			continue
		}
		if f.Old != nil && f.Old != v {
			sc.writes.DeleteEntries = append(sc.writes.DeleteEntries, entries(observedOf(f), f.Old.Tags, v.Tags)...)
		}
		item := f
		item.Old, item.New = nil, v
		if f.NewSeq == 0 {
			item.NewSeq = c
		}
		sc.writes.Resources = append(sc.writes.Resources, item)
		sc.stubs[f.ARN] = Stub{Region: f.Region, NewHash: v.Hash, NewSeq: item.NewSeq}
	}
	return sc.flush(ctx)
}

// continueLater saves what this invocation saw and hands the rest of the listing to a new message.
func (sc *scanner) continueLater(ctx context.Context, token string) error {
	if err := sc.flush(ctx); err != nil {
		return err
	}
	if err := sc.saveEdits(ctx, false); err != nil {
		return err
	}
	hashes := make([]uint64, 0, len(sc.seen))
	for h := range sc.seen {
		hashes = append(hashes, h)
	}
	st, err := sc.s.Store.Status(ctx, sc.tenant(), sc.account())
	if err != nil {
		return err
	}
	expires := sc.now.Add(24 * time.Hour)
	if st.Run != nil {
		expires = st.Run.Deadline.Add(24 * time.Hour)
	}
	if err := sc.s.Store.SaveSeen(ctx, sc.tenant(), sc.account(), sc.m.Seq, sc.m.Scan, sc.m.Pass, sc.m.Chunk, hashes, expires); err != nil {
		return err
	}
	next := sc.m
	next.Token, next.Chunk, next.Progress = token, sc.m.Chunk+1, sc.res
	next.Progress.Continuations++
	return sc.s.Queue.Send(ctx, []Message{next}, 0)
}

// finish runs when the listing is complete: what was stored and not listed is gone from AWS (a tombstone until the
// next sync prunes it), the edits are settled against what AWS said, and the result is counted.
func (sc *scanner) finish(ctx context.Context, perPage int) error {
	all := sc.seen
	if sc.m.Chunk > 0 {
		prev, err := sc.s.Store.Seen(ctx, sc.tenant(), sc.account(), sc.m.Seq, sc.m.Scan, sc.m.Pass)
		if err != nil {
			return err
		}
		all = make(map[uint64]bool, len(prev)+len(sc.seen))
		for _, h := range prev {
			all[h] = true
		}
		for h := range sc.seen {
			all[h] = true
		}
	}
	var keys []ResourceKey
	for arn, stub := range sc.stubs {
		if all[arnHash(arn)] {
			continue
		}
		c := sc.committed[stub.Region]
		if stub.visibleHash(c) == "" && !stub.dirty(c) {
			continue
		}
		keys = append(keys, ResourceKey{Region: stub.Region, ARN: arn})
	}
	if len(keys) > 0 {
		full, err := sc.s.Store.Resources(ctx, sc.tenant(), sc.account(), keys)
		if err != nil {
			return err
		}
		for _, f := range full {
			c := sc.committed[f.Region]
			v, ok := f.Visible(c)
			var aborted *Version
			if f.New != nil && f.NewSeq > c {
				aborted = f.New
			}
			if !ok {
				sc.writes.Deleted = append(sc.writes.Deleted, f)
				if aborted != nil {
					sc.writes.DeleteEntries = append(sc.writes.DeleteEntries, entries(observedOf(f), aborted.Tags, nil)...)
				}
				continue
			}
			item := f
			item.Old, item.New, item.NewSeq = v, &Version{Gone: true, Hash: "gone", Since: sc.now}, sc.m.Seq
			sc.writes.Resources = append(sc.writes.Resources, item)
			if aborted != nil {
				sc.writes.DeleteEntries = append(sc.writes.DeleteEntries, entries(observedOf(f), aborted.Tags, v.Tags)...)
			}
			sc.res.Removed++
		}
	}
	if err := sc.flush(ctx); err != nil {
		return err
	}
	if err := sc.saveEdits(ctx, true); err != nil {
		return err
	}
	sc.res.Resources = len(all)
	// The fewest pages that list what was found: one per page size, at least one (an empty region is one call).
	sc.res.Bound = max(1, (len(all)+perPage-1)/perPage)
	return nil
}

// saveEdits settles the tenant's edits of the resources listed against AWS's tags (complete: the listing is done,
// so an edited resource AWS did not list is gone, and its edits with it).
func (sc *scanner) saveEdits(ctx context.Context, complete bool) error {
	var all map[uint64]bool
	if complete && sc.m.Chunk > 0 {
		prev, err := sc.s.Store.Seen(ctx, sc.tenant(), sc.account(), sc.m.Seq, sc.m.Scan, sc.m.Pass)
		if err != nil {
			return err
		}
		all = map[uint64]bool{}
		for _, h := range prev {
			all[h] = true
		}
	}
	for _, arn := range sortedKeys(sc.edits) {
		e := sc.edits[arn]
		aws, listed := sc.observedEdits[arn]
		if !listed {
			if !complete || all[arnHash(arn)] {
				continue // listed by another chunk, or not yet
			}
		}
		after, writeBack := settleEdit(e, aws, listed, sc.level, sc.now)
		if writeBack {
			sc.res.WriteBack = true
		}
		delete(sc.edits, arn)
		if after != nil && editsEqual(&e, after) {
			continue
		}
		sc.res.Edits++
		if err := sc.s.Store.SaveEdit(ctx, sc.tenant(), &e, after, nil); err != nil && !errors.Is(err, ErrConcurrent) {
			return err
		}
	}
	return nil
}
