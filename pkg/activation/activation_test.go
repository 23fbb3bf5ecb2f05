package activation_test

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/tenants"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// throttle answers the first n calls of action in each of the accounts with a throttling error.
type throttle struct {
	env                   *localaws.Env
	service, action, code string
	mu                    sync.Mutex
	left                  map[string]int
}

func newThrottle(env *localaws.Env, service, action, code string, accts []string, n int) *throttle {
	t := &throttle{env: env, service: service, action: action, code: code, left: map[string]int{}}
	for _, a := range accts {
		t.left[a] = n
	}
	return t
}

func (t *throttle) Intercept(w http.ResponseWriter, c *localaws.Call) bool {
	if !c.Is(t.service, t.action) {
		return false
	}
	acct := t.env.CallerAccount(c)
	if t.service == "sts" {
		acct = strings.Split(strings.TrimPrefix(c.Form("RoleArn"), "arn:aws:iam::"), ":")[0]
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.left[acct] <= 0 {
		return false
	}
	t.left[acct]--
	localaws.WriteQueryError(w, http.StatusBadRequest, t.code, "Rate exceeded")
	return true
}

// exercised fails the test unless every planned throttling happened.
func (t *throttle) exercised(tb testing.TB) {
	tb.Helper()
	t.mu.Lock()
	defer t.mu.Unlock()
	for acct, n := range t.left {
		if n != 0 {
			tb.Errorf("%s %s in %s was throttled %d times fewer than planned: the retry path was not exercised", t.service, t.action, acct, n)
		}
	}
}

// TestBulkActivation: one request activates the organization's 40 member accounts through Step Functions, 15
// stacks in flight; the 3 without the member access role fail with their reason; the 5 whose CreateStack and the
// 5 whose AssumeRole are throttled are retried with backoff and succeed like the others; a repeated request while
// the activation runs starts nothing twice; every item records its stack. (Scale is BenchmarkScaleActivation's.) Nothing here waits on the clock: the
// test waits for the execution's end (bounded generously), whatever the machine's load.
func TestBulkActivation(t *testing.T) {
	p := newPlatform(t)
	env := testkit.LocalAWS(t)
	members := testkit.NewOrganization(t, "750000000001", 40)
	p.ConnectManagement(t, "acme", "750000000001")
	noRole := members[:3]
	for _, id := range noRole {
		testkit.DeleteRole(t, id, "OrganizationAccountAccessRole")
	}
	cfnThrottle := newThrottle(env, "cloudformation", "CreateStack", "Throttling", members[4:9], 2)
	stsThrottle := newThrottle(env, "sts", "AssumeRole", "Throttling", members[9:14], 2)
	defer env.Intercept(cfnThrottle)()
	defer env.Intercept(stsThrottle)()
	p.Services.Activation.BatchSize = 10
	req := activation.Request{All: true, StacksInFlight: 15}

	id, err := p.Services.Activation.Start(t.Context(), "acme", "750000000001", "", req)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := p.Services.Activation.Start(t.Context(), "acme", "750000000001", "", req); err != nil || again != id {
		t.Fatalf("repeated request while running: %s %v, want %s", again, err, id)
	}
	pr, status := finished(t, p, id)
	cfnThrottle.exercised(t)
	stsThrottle.exercised(t)
	if status != sfntypes.ExecutionStatusSucceeded || pr.Total != 40 || pr.Succeeded != 37 || pr.Failed != 3 || pr.Status != activation.Completed {
		t.Errorf("execution %s, progress %+v", status, pr.Activation)
	}
	for _, it := range pr.Items {
		a, _ := p.Services.Accounts.Get(t.Context(), "acme", it.AccountID)
		if slices.Contains(noRole, it.AccountID) {
			if it.Status != activation.Failed || !strings.Contains(it.Reason, "OrganizationAccountAccessRole") || a.Status != accounts.Failed {
				t.Errorf("account without the role: %+v, account %s", it, a.Status)
			}
			continue
		}
		if it.Status != activation.Succeeded || a.Status != accounts.Active || it.StackID == "" || it.StackID != a.StackID {
			t.Errorf("account %s: %+v, account %s %q stack %q", it.AccountID, it, a.Status, a.StatusReason, a.StackID)
		}
		if a.Activation == nil || a.Activation.ActivationID != id {
			t.Errorf("account %s refers to %+v, want activation %s", it.AccountID, a.Activation, id)
		}
	}
}

// TestLostCallback: one account's custom resource request is lost. CloudFormation gives up on it after the
// resource's ServiceTimeout and rolls the stack back; its notification (the stack the activation recorded) fails
// the account with that reason, and the batch resumes without waiting out its own deadline.
func TestLostCallback(t *testing.T) {
	p := newPlatform(t)
	env := testkit.LocalAWS(t)
	members := testkit.NewOrganization(t, "750000000005", 3)
	p.ConnectManagement(t, "acme", "750000000005")
	lost := members[1]
	defer env.SetCustomResourceTimeoutCap(20 * time.Second)()
	defer env.Intercept(localaws.InterceptorFunc(func(w http.ResponseWriter, c *localaws.Call) bool {
		if c.Is("sns", "Publish") && strings.Contains(c.Form("Message"), `"RequestType":"Create"`) && strings.Contains(c.Form("Message"), ":"+lost+":stack/") {
			w.Header().Set("Content-Type", "text/xml")
			_, _ = w.Write([]byte(`<PublishResponse><PublishResult><MessageId>lost</MessageId></PublishResult></PublishResponse>`))
			return true
		}
		return false
	}))()
	p.Services.Activation.Deadline = 30 * time.Minute // far away: the stack's own timeout names the lost callback
	id, err := p.Services.Activation.Start(t.Context(), "acme", "750000000005", "", activation.Request{All: true})
	if err != nil {
		t.Fatal(err)
	}
	pr, status := finished(t, p, id)
	if status != sfntypes.ExecutionStatusSucceeded || pr.Succeeded != 2 || pr.Failed != 1 {
		t.Fatalf("execution %s, progress %+v", status, pr.Activation)
	}
	for _, it := range pr.Items {
		a, _ := p.Services.Accounts.Get(t.Context(), "acme", it.AccountID)
		if it.AccountID == lost && (it.Status != activation.Failed || !strings.Contains(it.Reason, "did not receive a response") || a.Status != accounts.Failed) {
			t.Errorf("account whose callback never came: %+v, account %s %q", it, a.Status, a.StatusReason)
		}
	}
}

// TestDeadline: no stack of the batch reports back; when the batch's deadline passes, each of its accounts fails
// with the deadline's reason (whether its stack had been created by then or not), and the activation completes.
func TestDeadline(t *testing.T) {
	p := newPlatform(t)
	env := testkit.LocalAWS(t)
	members := testkit.NewOrganization(t, "750000000006", 2)
	p.ConnectManagement(t, "acme", "750000000006")
	defer env.SetCustomResourceTimeoutCap(10 * time.Minute)()
	defer env.Intercept(localaws.InterceptorFunc(func(w http.ResponseWriter, c *localaws.Call) bool {
		if c.Is("sns", "Publish") && strings.Contains(c.Form("Message"), `"RequestType":"Create"`) {
			w.Header().Set("Content-Type", "text/xml")
			_, _ = w.Write([]byte(`<PublishResponse><PublishResult><MessageId>lost</MessageId></PublishResult></PublishResponse>`))
			return true
		}
		return false
	}))()
	p.Services.Activation.Deadline = 3 * time.Second
	id, err := p.Services.Activation.Start(t.Context(), "acme", "750000000006", "", activation.Request{All: true})
	if err != nil {
		t.Fatal(err)
	}
	status := waitExecution(t, p, id)
	pr, _, err := p.Services.Activation.Get(t.Context(), "acme", id, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if status != sfntypes.ExecutionStatusSucceeded || pr.Status != activation.Completed || pr.Failed != len(members) {
		t.Fatalf("execution %s, progress %+v", status, pr.Activation)
	}
	for _, it := range pr.Items {
		a, _ := p.Services.Accounts.Get(t.Context(), "acme", it.AccountID)
		deadline := strings.Contains(it.Reason, "did not report back in time") || strings.Contains(it.Reason, "ran out of time before")
		if it.Status != activation.Failed || !deadline || a.Status == accounts.Activating || a.Status == accounts.Active {
			t.Errorf("account %s after the deadline: %+v, account %s", it.AccountID, it, a.Status)
		}
	}
}

// TestThrottlingOutlastsTheClient: an account's CloudFormation throttles CreateStack more often than the client
// retries. The task leaves the account for its next attempt (RetryLaterError) instead of failing it; the workflow
// retries the task after a pause, which creates the stack.
func TestThrottlingOutlastsTheClient(t *testing.T) {
	p := newPlatform(t)
	env := testkit.LocalAWS(t)
	members := testkit.NewOrganization(t, "750000000007", 2)
	p.ConnectManagement(t, "acme", "750000000007")
	th := newThrottle(env, "cloudformation", "CreateStack", "Throttling", members[:1], 10)
	defer env.Intercept(th)()
	id, err := p.Services.Activation.Start(t.Context(), "acme", "750000000007", "", activation.Request{All: true})
	if err != nil {
		t.Fatal(err)
	}
	pr, status := finished(t, p, id)
	th.exercised(t)
	if status != sfntypes.ExecutionStatusSucceeded || pr.Succeeded != 2 || pr.Failed != 0 {
		t.Errorf("execution %s, progress %+v %+v", status, pr.Activation, pr.Items)
	}
}

// TestStacksInFlight: a request's stacksInFlight (else the tenant's setting) bounds the stacks created and not yet
// reported back at any moment, as the items' start and finish times show.
func TestStacksInFlight(t *testing.T) {
	p := newPlatform(t)
	testkit.NewOrganization(t, "750000000008", 24)
	p.ConnectManagement(t, "acme", "750000000008")
	if _, err := p.Services.Tenants.UpdateSettings(t.Context(), "acme", []string{"*"}, tenants.SettingsPatch{ActivationStacksInFlight: ptr(12)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Services.Tenants.UpdateSettings(t.Context(), "acme", []string{"*"}, tenants.SettingsPatch{ActivationStacksInFlight: ptr(5)}); err == nil {
		t.Error("a tenant setting of 5 stacks in flight was accepted")
	}
	if _, err := p.Services.Activation.Start(t.Context(), "acme", "750000000008", "", activation.Request{All: true, StacksInFlight: 501}); err == nil {
		t.Error("a request for 501 stacks in flight was accepted")
	}
	id, err := p.Services.Activation.Start(t.Context(), "acme", "750000000008", "", activation.Request{AccountIDs: nil, All: true, StacksInFlight: 10})
	if err != nil {
		t.Fatal(err)
	}
	pr, _ := finished(t, p, id)
	if pr.Succeeded != 24 || pr.StacksInFlight != 10 {
		t.Fatalf("progress %+v", pr.Activation)
	}
	if most := mostInFlight(pr.Items); most > 10 || most < 5 {
		t.Errorf("at most %d stacks were in flight at once, want 10 at most (and more than one batch's worth of work at a time)", most)
	}
	// Without a request setting, the tenant's.
	members := testkit.NewOrganization(t, "750000000009", 2)
	p.ConnectManagement(t, "acme", "750000000009")
	id, err = p.Services.Activation.Start(t.Context(), "acme", "750000000009", "", activation.Request{AccountIDs: members})
	if err != nil {
		t.Fatal(err)
	}
	if pr, _ := finished(t, p, id); pr.StacksInFlight != 12 || pr.Succeeded != 2 {
		t.Errorf("activation under the tenant's setting: %+v", pr.Activation)
	}
}

// mostInFlight is the most items whose [startedAt, finishedAt] overlap.
func mostInFlight(items []activation.Item) int {
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, it := range items {
		if it.StartedAt != nil && it.FinishedAt != nil {
			edges = append(edges, edge{*it.StartedAt, 1}, edge{*it.FinishedAt, -1})
		}
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at.Equal(edges[j].at) {
			return edges[i].delta < edges[j].delta
		}
		return edges[i].at.Before(edges[j].at)
	})
	most, now := 0, 0
	for _, e := range edges {
		now += e.delta
		most = max(most, now)
	}
	return most
}

func ptr[T any](v T) *T { return &v }

// TestPlan: the workflow's plan keeps at most the stacks in flight asked for, in batches of at most 50, and 5,000
// accounts stay far under Step Functions' 25,000 history events at every allowed setting.
func TestPlan(t *testing.T) {
	for _, inFlight := range []int{tenants.MinActivationStacksInFlight, 25, 64, 75, 100, 101, 250, tenants.MaxActivationStacksInFlight} {
		p := activation.PlanFor(activation.MaxAccounts, inFlight)
		if p.InFlight() > inFlight || p.InFlight() < inFlight*3/4 || p.BatchSize > activation.MaxBatchSize || p.Concurrency > activation.MaxMapConcurrency {
			t.Errorf("plan for %d in flight: %+v (%d in flight)", inFlight, p, p.InFlight())
		}
		if p.Batches*p.BatchSize < activation.MaxAccounts {
			t.Errorf("plan for %d in flight leaves accounts out: %+v", inFlight, p)
		}
		if events := p.HistoryEvents(); events > 25000/5 {
			t.Errorf("5,000 accounts at %d in flight: %d history events", inFlight, events)
		}
	}
	if p := activation.PlanFor(3, 100); p.Batches != 1 || p.Concurrency != 1 || p.BatchSize != 50 {
		t.Errorf("plan for 3 accounts: %+v", p)
	}
}

// TestCancel: cancelling marks the accounts not started yet cancelled (they stay not_activated), the activation
// cancelled; a batch task that runs afterwards (Step Functions delivers at least once) starts none of them.
func TestCancel(t *testing.T) {
	p := newPlatform(t)
	members := testkit.NewOrganization(t, "750000000002", 4)
	p.ConnectManagement(t, "acme", "750000000002")
	// An activation recorded but whose workflow has not reached its batches yet.
	a := activation.Activation{ID: "act-cancel-test", ManagementAccountID: "750000000002", Status: activation.Running, Total: 4, CreatedAt: time.Now()}
	var items []activation.Item
	for _, id := range members {
		items = append(items, activation.Item{AccountID: id, Status: activation.Pending})
	}
	if err := p.Services.Activation.Store.Create(t.Context(), "acme", a, items, "", ""); err != nil {
		t.Fatal(err)
	}
	pr, err := p.Services.Activation.Cancel(t.Context(), "acme", a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Status != activation.Stopped || pr.Cancelled != 4 || pr.Pending != 0 {
		t.Errorf("after cancel: %+v", pr)
	}
	if _, err := p.Services.Activation.Handle(t.Context(), activation.Batch{Action: "activate", TenantID: "acme", ActivationID: a.ID,
		ManagementAccountID: "750000000002", AccountIDs: members}); err != nil {
		t.Fatal(err)
	}
	for _, id := range members {
		acct, _ := p.Services.Accounts.Get(t.Context(), "acme", id)
		if acct.Status != accounts.NotActivated || acct.StackID != "" {
			t.Errorf("cancelled account %s: %s, stack %q", id, acct.Status, acct.StackID)
		}
	}
	if _, err := p.Services.Activation.Cancel(t.Context(), "globex", a.ID); err != activation.ErrNotFound {
		t.Errorf("another tenant cancelled acme's activation: %v", err)
	}
}

// TestAutoEnrolment: with auto-enrolment on, the discovery that follows the management account's activation starts
// a bulk activation of the new accounts of the included OUs, which become active.
func TestAutoEnrolment(t *testing.T) {
	p := newPlatform(t)
	members := testkit.NewOrganization(t, "750000000003", 3)
	ctx := t.Context()
	p.AddManagement(t, "acme", "750000000003")
	if _, err := p.Services.Discovery.UpdateSettings(ctx, "acme", "750000000003", discovery.Settings{AutoEnroll: true}); err != nil {
		t.Fatal(err)
	}
	p.Connect(t, "acme", "750000000003")
	p.WaitDiscovery(t, "acme", "750000000003") // the discovery job the activation started
	list, err := p.Services.Activation.List(ctx, "acme")
	if err != nil || len(list) != 1 {
		t.Fatalf("activations after discovery: %v %v", list, err)
	}
	if pr, _ := finished(t, p, list[0].ID); pr.Succeeded != len(members) {
		t.Errorf("auto-enrolment: %+v", pr)
	}
}

// TestDuplicateCallbacks: SNS delivers every callback three times at once; each account settles its item once, so
// the batch counts down exactly once per account and resumes when (and only when) all have settled.
func TestDuplicateCallbacks(t *testing.T) {
	p := newPlatform(t, testkit.PlatformOptions{ExtraDeliveries: 2})
	members := testkit.NewOrganization(t, "750000000004", 6)
	p.ConnectManagement(t, "acme", "750000000004")
	id, err := p.Services.Activation.Start(t.Context(), "acme", "750000000004", "", activation.Request{All: true})
	if err != nil {
		t.Fatal(err)
	}
	pr, status := finished(t, p, id)
	if status != sfntypes.ExecutionStatusSucceeded || pr.Status != activation.Completed || pr.Succeeded != len(members) || pr.Failed != 0 {
		t.Errorf("execution %s, progress with duplicate callbacks = %+v", status, pr.Activation)
	}
	for _, it := range pr.Items {
		if it.Status != activation.Succeeded || it.FinishedAt == nil {
			t.Errorf("item %+v", it)
		}
	}
}
