package activation_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func wait(t *testing.T, p *testkit.Platform, id string) activation.Progress {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		pr, _, err := p.Services.Activation.Get(t.Context(), "acme", id, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		if pr.Status != activation.Running {
			return pr
		}
	}
	t.Fatal("the activation did not finish within 2 minutes")
	return activation.Progress{}
}

// TestBulkActivation: one request activates the organization's 100 member accounts through Step Functions; the 3
// without the member access role and the one whose callback never comes fail with their reasons, the 5 throttled
// by CloudFormation are retried and succeed like the other 91; a retried request starts nothing twice.
func TestBulkActivation(t *testing.T) {
	p := testkit.NewPlatform(t)
	env := testkit.LocalAWS(t)
	members := testkit.NewOrganization(t, "750000000001", 100)
	p.ConnectManagement(t, "acme", "750000000001")
	// Three invited accounts: no OrganizationAccountAccessRole.
	noRole := members[:3]
	for _, id := range noRole {
		testkit.DeleteRole(t, id, "OrganizationAccountAccessRole")
	}
	// One account's custom resource request is lost: its callback never comes.
	lost := members[3]
	// Five accounts whose CloudFormation throttles the first two CreateStack calls.
	throttled := map[string]int{}
	for _, id := range members[4:9] {
		throttled[id] = 2
	}
	var mu sync.Mutex
	defer env.Intercept(localaws.InterceptorFunc(func(w http.ResponseWriter, c *localaws.Call) bool {
		if !c.Is("cloudformation", "CreateStack") {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		for id, n := range throttled {
			if n > 0 && accountOf(env, c) == id {
				throttled[id] = n - 1
				localaws.WriteQueryError(w, http.StatusBadRequest, "Throttling", "Rate exceeded")
				return true
			}
		}
		return false
	}))()
	defer env.SetCustomResourceTimeoutCap(60 * time.Second)() // longer than the batch deadline below
	defer env.Intercept(localaws.InterceptorFunc(func(w http.ResponseWriter, c *localaws.Call) bool {
		if c.Is("sns", "Publish") && strings.Contains(c.Form("Message"), `"RequestType":"Create"`) && strings.Contains(c.Form("Message"), ":"+lost+":stack/") {
			w.Header().Set("Content-Type", "text/xml")
			_, _ = w.Write([]byte(`<PublishResponse><PublishResult><MessageId>lost</MessageId></PublishResult></PublishResponse>`))
			return true
		}
		return false
	}))()
	// The deadline is the batch task's timeout, stack creation included: room for ten stacks on a loaded machine.
	p.Services.Activation.BatchSize, p.Services.Activation.Deadline = 10, 40*time.Second

	id, err := p.Services.Activation.Start(t.Context(), "acme", "750000000001", "", activation.Request{All: true})
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.Services.Activation.Start(t.Context(), "acme", "750000000001", "", activation.Request{All: true})
	if err != nil || again != id {
		t.Fatalf("retried request: %s %v, want %s", again, err, id)
	}
	pr := wait(t, p, id)
	mu.Lock()
	for acct, n := range throttled {
		if n != 0 {
			t.Errorf("account %s was throttled %d times fewer than planned: the retry path was not exercised", acct, n)
		}
	}
	mu.Unlock()
	if pr.Total != 100 || pr.Succeeded != 96 || pr.Failed != 4 || pr.Status != activation.Completed {
		t.Errorf("progress = %+v", pr)
	}
	for _, it := range pr.Items {
		a, _ := p.Services.Accounts.Get(t.Context(), "acme", it.AccountID)
		switch {
		case it.AccountID == noRole[0] || it.AccountID == noRole[1] || it.AccountID == noRole[2]:
			if it.Status != activation.Failed || !strings.Contains(it.Reason, "OrganizationAccountAccessRole") || a.Status != accounts.Failed {
				t.Errorf("account without the role: %+v, account %s", it, a.Status)
			}
		case it.AccountID == lost:
			// Whichever comes first names the lost callback: the batch's deadline, or the custom resource's
			// timeout reported by the stack notification.
			lostReason := strings.Contains(it.Reason, "did not report back") || strings.Contains(it.Reason, "did not receive a response")
			if it.Status != activation.Failed || !lostReason || a.Status != accounts.Failed {
				t.Errorf("account whose callback never came: %+v, account %s", it, a.Status)
			}
		default:
			if it.Status != activation.Succeeded || a.Status != accounts.Active || a.StackID == "" {
				t.Errorf("account %s: %+v, account %s %q", it.AccountID, it, a.Status, a.StatusReason)
			}
		}
	}
}

// accountOf is the account a call acts in (the member session that signs CreateStack).
func accountOf(env *localaws.Env, c *localaws.Call) string { return env.CallerAccount(c) }

// TestCancel: cancelling marks the accounts not started yet cancelled (they stay not_activated), the activation
// cancelled; a batch task that runs afterwards (Step Functions delivers at least once) starts none of them.
func TestCancel(t *testing.T) {
	p := testkit.NewPlatform(t)
	members := testkit.NewOrganization(t, "750000000002", 4)
	p.ConnectManagement(t, "acme", "750000000002")
	// An activation recorded but whose workflow has not reached its batches yet.
	a := activation.Activation{ID: "act-cancel-test", ManagementAccountID: "750000000002", Status: activation.Running, Total: 4, CreatedAt: time.Now()}
	var items []activation.Item
	for _, id := range members {
		items = append(items, activation.Item{AccountID: id, Status: activation.Pending})
	}
	if err := p.Services.Activation.Store.Create(t.Context(), "acme", a, items); err != nil {
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
	p := testkit.NewPlatform(t)
	members := testkit.NewOrganization(t, "750000000003", 3)
	ctx := t.Context()
	p.AddManagement(t, "acme", "750000000003")
	if _, err := p.Services.Discovery.UpdateSettings(ctx, "acme", "750000000003", discovery.Settings{AutoEnroll: true}); err != nil {
		t.Fatal(err)
	}
	p.Connect(t, "acme", "750000000003")
	list, err := p.Services.Activation.List(ctx, "acme")
	if err != nil || len(list) != 1 {
		t.Fatalf("activations after discovery: %v %v", list, err)
	}
	pr := wait(t, p, list[0].ID)
	if pr.Succeeded != len(members) {
		t.Errorf("auto-enrolment: %+v", pr)
	}
}

// TestDuplicateCallbacks: SNS delivers every callback three times at once; each account settles its item once, so
// the batch counts down exactly once per account and resumes when (and only when) all have settled.
func TestDuplicateCallbacks(t *testing.T) {
	p := testkit.NewPlatform(t, testkit.PlatformOptions{ExtraDeliveries: 2})
	members := testkit.NewOrganization(t, "750000000004", 6)
	p.ConnectManagement(t, "acme", "750000000004")
	id, err := p.Services.Activation.Start(t.Context(), "acme", "750000000004", "", activation.Request{All: true})
	if err != nil {
		t.Fatal(err)
	}
	pr := wait(t, p, id)
	if pr.Status != activation.Completed || pr.Succeeded != len(members) || pr.Failed != 0 {
		t.Errorf("progress with duplicate callbacks = %+v", pr.Activation)
	}
	for _, it := range pr.Items {
		if it.Status != activation.Succeeded || it.FinishedAt == nil {
			t.Errorf("item %+v", it)
		}
	}
}
