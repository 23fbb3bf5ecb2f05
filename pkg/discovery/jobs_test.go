package discovery_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// heldQueue keeps the steps a discovery queues, for the test to deliver.
type heldQueue struct {
	mu   sync.Mutex
	held []discovery.Message
}

func (q *heldQueue) Send(_ context.Context, m discovery.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.held = append(q.held, m)
	return nil
}

func (q *heldQueue) take() (discovery.Message, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.held) == 0 {
		return discovery.Message{}, false
	}
	m := q.held[0]
	q.held = q.held[1:]
	return m, true
}

// byHand is the platform's discovery with its steps held for the test to deliver (the worker never sees them).
func byHand(p *testkit.Platform, tune func(*discovery.Service)) (*discovery.Service, *heldQueue) {
	svc := *p.Services.Discovery
	q := &heldQueue{}
	svc.Queue = q
	if tune != nil {
		tune(&svc)
	}
	return &svc, q
}

// connectedWithoutOrganization connects a management account before its organization exists (the discovery its
// activation starts fails: not in an organization), so the test decides when and how the organization is read.
func connectedWithoutOrganization(t *testing.T, p *testkit.Platform, tenant, id string) {
	t.Helper()
	p.ConnectManagement(t, tenant, id)
	if j := p.WaitDiscovery(t, tenant, id); j.Status != discovery.Failed || !strings.Contains(j.Error, "not in an AWS organization") {
		t.Fatalf("the activation's discovery of an account in no organization: %s %q", j.Status, j.Error)
	}
}

// wantRequests is the fewest Organizations requests that read o: ListRoots, and per container (root and OUs) one
// ListOrganizationalUnitsForParent (none at AWS's depth limit; o is shallower) and one ListAccountsForParent a page
// of 20.
func wantRequests(o *org) int {
	perPath := map[string]int{}
	for _, path := range o.accounts {
		perPath[path]++
	}
	n := 1
	for _, path := range o.ous {
		n += 1 + max(1, (perPath[path]+19)/20)
	}
	return n
}

// TestJobInSteps: a job whose steps may each make only a few requests and compare only a few accounts reads the
// organization and brings the tenant's accounts in step across many steps, each checkpointing where it stopped, and
// every step delivered twice (SQS delivers at least once): the result is exact, no request is made twice, progress
// is visible between steps, and only the step the job expects runs.
func TestJobInSteps(t *testing.T) {
	p := testkit.NewPlatform(t)
	const mgmt = "732000000001"
	connectedWithoutOrganization(t, p, "acme", mgmt)
	o := buildOrg(t, mgmt, []int{2, 2}, 90)
	svc, q := byHand(p, func(s *discovery.Service) { s.StepCalls, s.StepAccounts = 3, 20 })

	job, err := svc.Start(t.Context(), "acme", mgmt, discovery.TriggerAPI)
	if err != nil || job.Status != discovery.Queued {
		t.Fatalf("start: %+v, %v", job, err)
	}
	sawRunning := false
	for deliveries := 0; ; deliveries++ {
		m, ok := q.take()
		if !ok {
			break
		}
		if deliveries > 400 {
			t.Fatalf("still stepping after %d deliveries", deliveries)
		}
		for range 2 {
			if err := svc.Step(t.Context(), m, false); err != nil {
				t.Fatalf("step %d: %v", m.Step, err)
			}
		}
		if j, err := svc.Job(t.Context(), "acme", job.ID); err == nil && j.Status == discovery.Running && j.Progress.Calls > 0 {
			sawRunning = true
		}
	}
	done, err := svc.Job(t.Context(), "acme", job.ID)
	if err != nil || done.Status != discovery.Succeeded {
		t.Fatalf("job: %+v, %v", done, err)
	}
	// The listing returns the management account too (91 accounts read); it is no member to add.
	if done.Run.Found != 90 || done.Run.Added != 90 || done.Run.Updated != 0 || done.Progress.AccountsRead != 91 ||
		done.Progress.OUsRead != len(o.ous)-1 || done.Progress.AccountsCompared != 90 {
		t.Errorf("job = run %+v, progress %+v; want 90 found and added, %d OUs", done.Run, done.Progress, len(o.ous)-1)
	}
	if want := wantRequests(o); done.Progress.Calls != want || done.Run.Calls != want {
		t.Errorf("%d Organizations requests over %d steps, want exactly %d (none repeated)", done.Progress.Calls, done.Progress.Steps, want)
	}
	if done.Progress.Steps < 10 || !sawRunning {
		t.Errorf("%d steps (running seen: %v): the limits must split the job", done.Progress.Steps, sawRunning)
	}
	found := members(t, p, "acme", mgmt)
	for id, path := range o.accounts {
		if a := found[id]; a.Status != accounts.NotActivated || a.Organization == nil || a.Organization.Path != path {
			t.Errorf("account %s = %s %+v, want path %s", id, a.Status, a.Organization, path)
		}
	}
	// A late duplicate of any step changes nothing.
	if err := svc.Step(t.Context(), discovery.Message{TenantID: "acme", AccountID: mgmt, JobID: job.ID, Step: 3}, false); err != nil {
		t.Fatal(err)
	}
	if again, _ := svc.Job(t.Context(), "acme", job.ID); again.Version != done.Version {
		t.Errorf("a duplicate after the end wrote the job (version %d → %d)", done.Version, again.Version)
	}
}

// TestStepDiesMidway: a step that dies before its checkpoint (the write of the job fails, as when the Lambda is
// stopped) is delivered again and redoes its work from the last checkpoint: accounts it already created are not
// created twice nor counted twice, and the job ends exact.
func TestStepDiesMidway(t *testing.T) {
	p := testkit.NewPlatform(t)
	const mgmt = "732000000002"
	connectedWithoutOrganization(t, p, "acme", mgmt)
	o := buildOrg(t, mgmt, []int{2}, 70)
	svc, q := byHand(p, func(s *discovery.Service) { s.StepCalls, s.StepAccounts = 4, 25 })

	var checkpoints atomic.Int32
	defer testkit.LocalAWS(t).Intercept(localaws.InterceptorFunc(func(w http.ResponseWriter, c *localaws.Call) bool {
		if c.Service != "dynamodb" || c.Action != "PutItem" || !bytes.Contains(c.Body, []byte(`"discoveryJob"`)) {
			return false
		}
		// Every third checkpoint is lost, in the reading phase and in the writing one.
		if checkpoints.Add(1)%3 == 0 {
			localaws.WriteJSONError(w, http.StatusBadRequest, "ValidationException", "the step died")
			return true
		}
		return false
	}))()
	job, err := svc.Start(t.Context(), "acme", mgmt, discovery.TriggerAPI)
	if err != nil {
		t.Fatal(err)
	}
	failures := 0
	for deliveries := 0; ; deliveries++ {
		m, ok := q.take()
		if !ok {
			break
		}
		if deliveries > 400 {
			t.Fatalf("still stepping after %d deliveries", deliveries)
		}
		for svc.Step(t.Context(), m, false) != nil {
			failures++ // the queue delivers the step again
			if failures > 100 {
				t.Fatal("a step fails every delivery")
			}
		}
	}
	done, err := svc.Job(t.Context(), "acme", job.ID)
	if err != nil || done.Status != discovery.Succeeded {
		t.Fatalf("job: %+v, %v", done, err)
	}
	if failures < 2 {
		t.Fatalf("%d steps died: the test must kill some", failures)
	}
	if done.Run.Found != 70 || done.Run.Added != 70 || done.Run.Updated != 0 || done.Run.Left != 0 {
		t.Errorf("run after %d lost checkpoints = %+v, want 70 found and added, nothing else", failures, done.Run)
	}
	found := members(t, p, "acme", mgmt)
	if len(found) != 70 {
		t.Errorf("%d accounts, want 70", len(found))
	}
	for id := range o.accounts {
		if a, err := p.Services.Accounts.Get(t.Context(), "acme", id); err != nil || a.Version != 1 {
			t.Errorf("account %s: version %d, %v (a redone step wrote it again)", id, a.Version, err)
		}
	}
}

// TestOneJobAtATime: while an account's job is unfinished, starting another returns it; a job that stopped making
// progress (past its lease) fails as stalled when the next starts; a finished job lets the next start; every start
// of another tenant's account is not found.
func TestOneJobAtATime(t *testing.T) {
	p := testkit.NewPlatform(t)
	const mgmt = "732000000003"
	connectedWithoutOrganization(t, p, "acme", mgmt)
	buildOrg(t, mgmt, nil, 3)
	now := time.Now().UTC()
	svc, q := byHand(p, func(s *discovery.Service) { s.Now = func() time.Time { return now } })

	first, err := svc.Start(t.Context(), "acme", mgmt, discovery.TriggerAPI)
	if err != nil {
		t.Fatal(err)
	}
	second, err := svc.Start(t.Context(), "acme", mgmt, discovery.TriggerSchedule)
	if err != nil || second.ID != first.ID || second.Trigger != discovery.TriggerAPI {
		t.Fatalf("second start = %+v, %v; want the running job %s", second, err, first.ID)
	}
	if len(q.held) != 1 {
		t.Errorf("%d steps queued, want the first job's only", len(q.held))
	}
	if _, err := svc.Start(t.Context(), "globex", mgmt, discovery.TriggerAPI); err == nil {
		t.Error("another tenant started a discovery of acme's account")
	}

	// Its step is lost; past its lease it counts as stopped.
	q.take()
	now = now.Add(discovery.DefaultLease + time.Minute)
	stalled, err := svc.Job(t.Context(), "acme", first.ID)
	if err != nil || stalled.Status != discovery.Failed || !strings.Contains(stalled.Error, "stopped making progress") {
		t.Errorf("the stalled job reads %s %q, %v", stalled.Status, stalled.Error, err)
	}
	third, err := svc.Start(t.Context(), "acme", mgmt, discovery.TriggerAPI)
	if err != nil || third.ID == first.ID {
		t.Fatalf("a start after the lease = %+v, %v; want a new job", third, err)
	}
	m, ok := q.take()
	if !ok {
		t.Fatal("the new job queued no step")
	}
	if err := svc.Step(t.Context(), m, false); err != nil {
		t.Fatal(err)
	}
	if j, _ := svc.Job(t.Context(), "acme", third.ID); j.Status != discovery.Succeeded || j.Run.Added != 3 {
		t.Fatalf("the new job = %s %q %+v", j.Status, j.Error, j.Run)
	}
	fourth, err := svc.Start(t.Context(), "acme", mgmt, discovery.TriggerAPI)
	if err != nil || fourth.ID == third.ID || fourth.Status != discovery.Queued {
		t.Errorf("a start after the job ended = %+v, %v; want a new job", fourth, err)
	}
}

// TestSteadyStateCost: a discovery that finds nothing changed makes DynamoDB requests for the listing of the
// management account's accounts and a fixed few for the job, and none per account: the same count for 40 accounts
// and for 160.
func TestSteadyStateCost(t *testing.T) {
	p := testkit.NewPlatform(t)
	cost := func(mgmt string, n int) (int64, map[string]int64) {
		buildOrg(t, mgmt, []int{2}, n)
		p.ConnectManagement(t, "acme", mgmt)
		if j := p.WaitDiscovery(t, "acme", mgmt); j.Status != discovery.Succeeded || j.Run.Added != n {
			t.Fatalf("first discovery: %s %q %+v", j.Status, j.Error, j.Run)
		}
		testkit.WaitIdle(t)
		p.Calls.Reset()
		j := p.Discover(t, "acme", mgmt)
		if j.Status != discovery.Succeeded || j.Run.Found != n || j.Run.Added+j.Run.Updated+j.Run.Left != 0 {
			t.Fatalf("steady discovery: %s %q %+v", j.Status, j.Error, j.Run)
		}
		snap := map[string]int64{}
		for k, v := range p.Calls.Snapshot() {
			if strings.HasPrefix(k, "DynamoDB.") {
				snap[k] = v
			}
		}
		return p.Calls.ServiceCalls("DynamoDB"), snap
	}
	small, smallOps := cost("732000000004", 40)
	large, largeOps := cost("732000000005", 160)
	t.Logf("steady state: %d DynamoDB requests for 40 accounts %v, %d for 160 %v", small, smallOps, large, largeOps)
	if large != small || large > 16 {
		t.Errorf("steady-state DynamoDB requests: %d for 40 accounts, %d for 160; want the same few", small, large)
	}
	if largeOps["DynamoDB.Query"] != 1 {
		t.Errorf("%d Query pages to list 160 accounts, want 1", largeOps["DynamoDB.Query"])
	}
}

// TestChangedSinceListed: an account the tenant changes between discovery's listing and its write is written
// conditionally on the listed version, so the tenant's change stays and discovery's lands on top of it.
func TestChangedSinceListed(t *testing.T) {
	p := testkit.NewPlatform(t)
	const mgmt = "732000000006"
	buildOrg(t, mgmt, []int{1}, 4)
	p.ConnectManagement(t, "acme", mgmt)
	listed, err := p.Services.Discovery.Members.Members(t.Context(), "acme", mgmt)
	if err != nil || len(listed) != 4 {
		t.Fatalf("listing: %d, %v", len(listed), err)
	}
	k := listed[0]
	if _, err := p.Services.Accounts.Mutate(t.Context(), "acme", k.AccountID, "account.renamed", func(a *accounts.Account) error {
		a.Name = "Renamed meanwhile"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := *k.Organization
	want.Path += "/Moved"
	changed, err := p.Services.Accounts.SetMembership(t.Context(), "acme", k, want)
	if err != nil || !changed {
		t.Fatalf("set membership over a stale listing: %v, %v", changed, err)
	}
	a, _ := p.Services.Accounts.Get(t.Context(), "acme", k.AccountID)
	if a.Name != "Renamed meanwhile" || a.Organization.Path != want.Path || a.Version != k.Version+2 {
		t.Errorf("account = %q %+v v%d; want both changes, version %d", a.Name, a.Organization, a.Version, k.Version+2)
	}
	// Unchanged: nothing is written.
	fresh, _ := p.Services.Discovery.Members.Members(t.Context(), "acme", mgmt)
	for _, l := range fresh {
		if l.AccountID == k.AccountID {
			if changed, err := p.Services.Accounts.SetMembership(t.Context(), "acme", l, want); err != nil || changed {
				t.Errorf("an unchanged membership was written: %v, %v", changed, err)
			}
		}
	}
}

// TestLinkedAccountFirst (issue 9 §4): a tenant that starts with a linked account, naming no management account,
// has its organization read through the linked account's own role once it is active (DescribeOrganization from a
// member). The management account appears not_activated, "discovered from linked account X", inviting its
// activation, and the linked account is attached to it; a second linked account of the same organization is
// attached to it; a management account another tenant holds is never named; an account in no organization is
// told it is standalone.
func TestLinkedAccountFirst(t *testing.T) {
	p := testkit.NewPlatform(t)
	const mgmt, otherMgmt, alone = "733000000001", "733000000002", "733000000099"
	ids := testkit.NewOrganization(t, mgmt, 2)
	theirs := testkit.NewOrganization(t, otherMgmt, 1)
	if err := p.Services.Tenants.Ensure(t.Context(), "globex"); err != nil {
		t.Fatal(err)
	}
	p.AddManagement(t, "globex", otherMgmt)
	addLinked := func(id string) {
		t.Helper()
		if _, err := p.Services.Accounts.Create(t.Context(), "acme", accounts.CreateInput{Name: "Dev " + id, AccountID: id, Type: "linked",
			Region: "us-east-1"}); err != nil {
			t.Fatalf("add linked account %s: %v", id, err)
		}
		p.Connect(t, "acme", id) // its activation starts the lookup
	}
	if err := p.Services.Tenants.Ensure(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, linked string
		want         accounts.LookupStatus
		management   string
		reason       string
	}{
		{"management account unknown: added", ids[0], accounts.LookupAttached, mgmt, "was not linked yet: Gangplank added it"},
		{"management account known: attached", ids[1], accounts.LookupAttached, mgmt, "found through this account's role"},
		{"management account another tenant's", theirs[0], accounts.LookupClaimedElsewhere, "", "another Gangplank tenant"},
		{"in no organization", alone, accounts.LookupNotInOrganization, "", "standalone account"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addLinked(tc.linked)
			job := p.WaitDiscovery(t, "acme", tc.linked)
			if job.Status != discovery.Succeeded || job.Kind != discovery.KindManagementAccount || job.Trigger != discovery.TriggerActivation ||
				job.Lookup == nil || job.Lookup.Status != tc.want || !strings.Contains(job.Lookup.Reason, tc.reason) {
				t.Fatalf("job = %s %s %q, lookup %+v", job.Kind, job.Status, job.Error, job.Lookup)
			}
			linked, err := p.Services.Accounts.Get(t.Context(), "acme", tc.linked)
			if err != nil || linked.ManagementAccountID != tc.management || linked.ManagementLookup == nil || linked.ManagementLookup.Status != tc.want {
				t.Errorf("linked account = management %q, lookup %+v, %v", linked.ManagementAccountID, linked.ManagementLookup, err)
			}
			if strings.Contains(job.Lookup.Reason, "globex") || strings.Contains(job.Lookup.Reason, "Payer") {
				t.Errorf("the reason names another tenant: %s", job.Lookup.Reason)
			}
		})
	}

	m, err := p.Services.Accounts.Get(t.Context(), "acme", mgmt)
	if err != nil || m.Type != accounts.Management || m.Status != accounts.NotActivated ||
		!strings.Contains(m.StatusReason, "Discovered from linked account "+ids[0]) || !strings.Contains(m.StatusReason, "Activate it") {
		t.Fatalf("management account = %s %s %q, %v", m.Type, m.Status, m.StatusReason, err)
	}
	if got := members(t, p, "acme", mgmt); len(got) != 2 {
		t.Errorf("the management account has %d linked accounts, want 2", len(got))
	}
	// Through the API, as the tenant sees it.
	r := p.Do(t, testkit.Request{Method: "GET", Path: "/v1/accounts/" + mgmt, Token: p.Token(t, "acme", "viewer")})
	if r.Status != 200 || r.Map(t)["status"] != "not_activated" || !strings.Contains(r.Map(t)["statusReason"].(string), ids[0]) {
		t.Errorf("GET the management account: %d %s", r.Status, r.Body)
	}
	r = p.Do(t, testkit.Request{Method: "GET", Path: "/v1/accounts/" + ids[0], Token: p.Token(t, "acme", "viewer")})
	if lookup, _ := r.Map(t)["managementLookup"].(map[string]any); r.Status != 200 || lookup["status"] != "attached" || r.Map(t)["managementAccountId"] != mgmt {
		t.Errorf("GET the linked account: %d %s", r.Status, r.Body)
	}
	// globex's management account is untouched.
	if g, err := p.Services.Accounts.Get(t.Context(), "globex", otherMgmt); err != nil || g.Version != 1 || len(members(t, p, "globex", otherMgmt)) != 0 {
		t.Errorf("globex's management account: %+v, %v", g, err)
	}
}
