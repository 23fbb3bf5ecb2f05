package activation_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/store"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// TestRedeliveredCallbackCountsDown: the first delivery of one account's callback activates the account but fails
// while counting its batch down (DynamoDB refuses the write once). The error is not swallowed: the delivery is
// retried, the retry finds its answer already recorded and still counts the batch down, so the batch resumes at
// once and the account's item says succeeded (not failed by the batch's deadline).
func TestRedeliveredCallbackCountsDown(t *testing.T) {
	p := newPlatform(t)
	env := testkit.LocalAWS(t)
	members := testkit.NewOrganization(t, "750000000011", 3)
	p.ConnectManagement(t, "acme", "750000000011")
	victim := members[1]
	var mu sync.Mutex
	refused := 0
	defer env.Intercept(localaws.InterceptorFunc(func(w http.ResponseWriter, c *localaws.Call) bool {
		if c.Service != "dynamodb" || (c.Action != "UpdateItem" && c.Action != "TransactWriteItems" && c.Action != "PutItem") {
			return false
		}
		body := string(c.Body)
		if !strings.Contains(body, "#ACTIVATION#") || !strings.Contains(body, "ACCOUNT#"+victim) || !strings.Contains(body, `"succeeded"`) {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		if refused > 0 {
			return false
		}
		refused++
		localaws.WriteJSONError(w, http.StatusInternalServerError, "InternalServerError", "injected: the batch count-down fails once")
		return true
	}))()
	// The deadline (10 minutes) must not be what ends the batch: its accounts' callbacks resume it.
	tasks := countTasks(t, p)
	id, err := p.Services.Activation.Start(t.Context(), "acme", "750000000011", "", activation.Request{All: true})
	if err != nil {
		t.Fatal(err)
	}
	pr, status := finished(t, p, id)
	if refused != 1 {
		t.Fatalf("the count-down of %s was refused %d times; the fault was not exercised", victim, refused)
	}
	if status != sfntypes.ExecutionStatusSucceeded || pr.Status != activation.Completed || pr.Succeeded != 3 || pr.Failed != 0 {
		t.Errorf("execution %s, progress %+v", status, pr.Activation)
	}
	for _, it := range pr.Items {
		a, _ := p.Services.Accounts.Get(t.Context(), "acme", it.AccountID)
		if it.Status != activation.Succeeded || a.Status != accounts.Active {
			t.Errorf("account %s: item %+v, account %s %q", it.AccountID, it, a.Status, a.StatusReason)
		}
	}
	if tasks.calls["expire"] != 0 {
		t.Errorf("the batch waited out its deadline (expire ran %d times) instead of being resumed by the callbacks", tasks.calls["expire"])
	}
}

// TestExpireNeverFailsAnActiveAccount: when a batch's deadline passes with an item still in progress whose account
// is in fact active (its callback settled the account, but the count-down never happened), the item is recorded
// as succeeded and the account stays active.
func TestExpireNeverFailsAnActiveAccount(t *testing.T) {
	p := newPlatform(t)
	members := testkit.NewOrganization(t, "750000000012", 2)
	p.ConnectManagement(t, "acme", "750000000012")
	active, waiting := members[0], members[1]
	p.Connect(t, "acme", active) // active through its own role
	a := activation.Activation{ID: "act-expire-test", ManagementAccountID: "750000000012", Status: activation.Running, Total: 2, CreatedAt: time.Now()}
	now := time.Now()
	stack := "arn:aws:cloudformation:us-east-1:" + waiting + ":stack/Gangplank-Onboarding/4a5c2e0e-0000-4000-8000-000000000000"
	items := []activation.Item{{AccountID: active, Status: activation.InProgress, StartedAt: &now},
		{AccountID: waiting, Status: activation.InProgress, StartedAt: &now, StackID: stack}}
	if err := p.Services.Activation.Store.Create(t.Context(), "acme", a, items, "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Services.Accounts.Mutate(t.Context(), "acme", waiting, "test", func(acct *accounts.Account) error {
		acct.Status, acct.Activation = accounts.Activating, &accounts.ActivationRef{ActivationID: a.ID}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Services.Activation.Handle(t.Context(), activation.Batch{Action: "expire", TenantID: "acme", ActivationID: a.ID,
		ManagementAccountID: "750000000012", AccountIDs: members}); err != nil {
		t.Fatal(err)
	}
	pr, _, err := p.Services.Activation.Get(t.Context(), "acme", a.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range pr.Items {
		acct, _ := p.Services.Accounts.Get(t.Context(), "acme", it.AccountID)
		switch it.AccountID {
		case active:
			if it.Status != activation.Succeeded || acct.Status != accounts.Active {
				t.Errorf("active account after the deadline: item %+v, account %s", it, acct.Status)
			}
		case waiting:
			if it.Status != activation.Failed || !strings.Contains(it.Reason, "did not report back") || acct.Status != accounts.Failed {
				t.Errorf("awaited account after the deadline: item %+v, account %s", it, acct.Status)
			}
		}
	}
}

// TestTaskFailuresFinishTheActivation: a batch whose task keeps failing (an error the workflow does not expect)
// does not fail the execution and leave the activation running: the batch's accounts fail with a reason naming
// the failure, the other batch succeeds, the activation completes. And when even the finishing task keeps failing,
// the workflow still records the activation as failed, with the reason.
func TestTaskFailuresFinishTheActivation(t *testing.T) {
	t.Run("a batch's task fails", func(t *testing.T) {
		p := newPlatform(t)
		members := testkit.NewOrganization(t, "750000000013", 4)
		p.ConnectManagement(t, "acme", "750000000013")
		p.Services.Activation.BatchSize = 2
		failing := slices.Sorted(slices.Values(members))[2:] // batches are cut from the accounts in order
		registerTask(t, p, func(ctx context.Context, b activation.Batch, real func(context.Context, activation.Batch) (activation.Batch, error)) (activation.Batch, error) {
			if b.Action == "activate" && b.Index == 1 {
				return b, errors.New("injected: the task crashed")
			}
			return real(ctx, b)
		})
		id, err := p.Services.Activation.Start(t.Context(), "acme", "750000000013", "", activation.Request{All: true})
		if err != nil {
			t.Fatal(err)
		}
		pr, status := finished(t, p, id)
		if status != sfntypes.ExecutionStatusSucceeded || pr.Status != activation.Completed || pr.Succeeded != 2 || pr.Failed != 2 {
			t.Fatalf("execution %s, progress %+v", status, pr.Activation)
		}
		for _, it := range pr.Items {
			acct, _ := p.Services.Accounts.Get(t.Context(), "acme", it.AccountID)
			if acct.Status == accounts.Activating {
				t.Errorf("account %s left activating: %+v", it.AccountID, it)
			}
			if slices.Contains(failing, it.AccountID) {
				if it.Status != activation.Failed || !strings.Contains(it.Reason, "injected: the task crashed") {
					t.Errorf("account of the failing batch: %+v", it)
				}
			}
		}
	})
	t.Run("the finishing task fails", func(t *testing.T) {
		p := newPlatform(t)
		testkit.NewOrganization(t, "750000000014", 1)
		p.ConnectManagement(t, "acme", "750000000014")
		registerTask(t, p, func(ctx context.Context, b activation.Batch, real func(context.Context, activation.Batch) (activation.Batch, error)) (activation.Batch, error) {
			if b.Action == "finish" {
				return b, errors.New("injected: finish crashed")
			}
			return real(ctx, b)
		})
		id, err := p.Services.Activation.Start(t.Context(), "acme", "750000000014", "", activation.Request{All: true})
		if err != nil {
			t.Fatal(err)
		}
		pr, _ := finished(t, p, id)
		if pr.Status == activation.Running || pr.FinishedAt == nil {
			t.Fatalf("the activation is left %s after its workflow ended: %+v", pr.Status, pr.Activation)
		}
		if pr.Status != "failed" {
			t.Errorf("status %s, want failed: %+v", pr.Status, pr.Activation)
		}
	})
}

// TestRedeliveredTaskRedrivesStartedItems: the batch's task dies while creating one account's stack (after
// marking it in progress, before the stack exists). Step Functions delivers the task again: the item is started
// again (not skipped as "in progress"), and the account activates.
func TestRedeliveredTaskRedrivesStartedItems(t *testing.T) {
	p := newPlatform(t)
	env := testkit.LocalAWS(t)
	members := testkit.NewOrganization(t, "750000000015", 3)
	p.ConnectManagement(t, "acme", "750000000015")
	a := activation.Activation{ID: "act-redrive-test", ManagementAccountID: "750000000015", Status: activation.Running, Total: 3, CreatedAt: time.Now()}
	var items []activation.Item
	for _, id := range members {
		items = append(items, activation.Item{AccountID: id, Status: activation.Pending})
	}
	if err := p.Services.Activation.Store.Create(t.Context(), "acme", a, items, "", ""); err != nil {
		t.Fatal(err)
	}
	victim := members[1]
	crash, die := context.WithCancel(context.Background())
	var once sync.Once
	defer env.Intercept(localaws.InterceptorFunc(func(w http.ResponseWriter, c *localaws.Call) bool {
		if !c.Is("cloudformation", "CreateStack") || env.CallerAccount(c) != victim {
			return false
		}
		crashed := false
		once.Do(func() { crashed = true })
		if !crashed {
			return false
		}
		die() // the Lambda dies here: nothing after this point of the first attempt happens
		localaws.WriteQueryError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "injected: the task died")
		return true
	}))()
	batch := activation.Batch{Action: "activate", TenantID: "acme", ActivationID: a.ID, ManagementAccountID: "750000000015", AccountIDs: members}
	_, _ = p.Services.Activation.Handle(crash, batch) // dies midway
	idle(t)
	if _, err := p.Services.Activation.Handle(t.Context(), batch); err != nil { // Step Functions' second delivery
		t.Fatal(err)
	}
	waitFor(t, "every account of the redelivered batch settles", func() bool {
		pr, _, err := p.Services.Activation.Get(t.Context(), "acme", a.ID, 0, 10)
		return err == nil && pr.Succeeded+pr.Failed == 3
	})
	pr, _, _ := p.Services.Activation.Get(t.Context(), "acme", a.ID, 0, 10)
	for _, it := range pr.Items {
		acct, _ := p.Services.Accounts.Get(t.Context(), "acme", it.AccountID)
		if it.Status != activation.Succeeded || acct.Status != accounts.Active {
			t.Errorf("account %s: item %+v, account %s %q", it.AccountID, it, acct.Status, acct.StatusReason)
		}
	}
}

// TestNewPressAfterTheEnd: after an activation ended with a failure (an account without the member role), the
// tenant fixes the account and presses "Activate Selected" again with the same selection: that is a new run, for
// the accounts not active, and it activates the fixed account.
func TestNewPressAfterTheEnd(t *testing.T) {
	p := newPlatform(t)
	env := testkit.LocalAWS(t)
	members := testkit.NewOrganization(t, "750000000016", 3)
	p.ConnectManagement(t, "acme", "750000000016")
	restore := removeMemberRole(t, env, members[0])
	first, err := p.Services.Activation.Start(t.Context(), "acme", "750000000016", "", activation.Request{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if pr, _ := finished(t, p, first); pr.Succeeded != 2 || pr.Failed != 1 {
		t.Fatalf("first run: %+v", pr.Activation)
	}
	restore() // the tenant grants the role by hand
	second, err := p.Services.Activation.Start(t.Context(), "acme", "750000000016", "", activation.Request{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if second == first {
		t.Fatalf("pressing again after the end returned the ended activation %s", first)
	}
	pr, _ := finished(t, p, second)
	if pr.Total != 1 || pr.Succeeded != 1 || len(pr.Items) != 1 || pr.Items[0].AccountID != members[0] {
		t.Errorf("second run: %+v %+v", pr.Activation, pr.Items)
	}
	if acct, _ := p.Services.Accounts.Get(t.Context(), "acme", members[0]); acct.Status != accounts.Active {
		t.Errorf("the fixed account is %s: %s", acct.Status, acct.StatusReason)
	}
}

// TestItemsRecordTheStackID: every item of a bulk activation records the StackId CreateStack returned, which is
// the stack that activated the account.
func TestItemsRecordTheStackID(t *testing.T) {
	p := newPlatform(t)
	testkit.NewOrganization(t, "750000000017", 2)
	p.ConnectManagement(t, "acme", "750000000017")
	id, err := p.Services.Activation.Start(t.Context(), "acme", "750000000017", "", activation.Request{All: true})
	if err != nil {
		t.Fatal(err)
	}
	pr, _ := finished(t, p, id)
	if pr.Succeeded != 2 {
		t.Fatalf("progress %+v", pr.Activation)
	}
	for _, it := range pr.Items {
		acct, _ := p.Services.Accounts.Get(t.Context(), "acme", it.AccountID)
		if it.StackID == "" || it.StackID != acct.StackID {
			t.Errorf("item %s records stack %q; the account was activated by %q", it.AccountID, it.StackID, acct.StackID)
		}
	}
}

// TestRedeliveredStackFailureCountsDown: one account's stack fails before its custom resource is answered (the
// request is lost; CloudFormation gives up at the resource's timeout). The first delivery of the stack's failure
// notification fails the account but fails while counting its batch down (DynamoDB refuses the write once). The
// notification is delivered again, and the stack's later notifications follow: each finds the failure already
// recorded, and still counts the batch down, so the batch resumes at once rather than at its deadline (far away).
func TestRedeliveredStackFailureCountsDown(t *testing.T) {
	p := newPlatform(t)
	env := testkit.LocalAWS(t)
	members := testkit.NewOrganization(t, "750000000018", 2)
	p.ConnectManagement(t, "acme", "750000000018")
	victim := members[1]
	defer env.SetCustomResourceTimeoutCap(20 * time.Second)()
	var mu sync.Mutex
	refused := 0
	defer env.Intercept(localaws.InterceptorFunc(func(w http.ResponseWriter, c *localaws.Call) bool {
		switch {
		case c.Is("sns", "Publish") && strings.Contains(c.Form("Message"), `"RequestType":"Create"`) &&
			strings.Contains(c.Form("Message"), ":"+victim+":stack/"):
			w.Header().Set("Content-Type", "text/xml")
			_, _ = w.Write([]byte(`<PublishResponse><PublishResult><MessageId>lost</MessageId></PublishResult></PublishResponse>`))
			return true
		case c.Service == "dynamodb" && c.Action == "TransactWriteItems":
			body := string(c.Body)
			if !strings.Contains(body, "#ACTIVATION#") || !strings.Contains(body, "ACCOUNT#"+victim) || !strings.Contains(body, `"failed"`) {
				return false
			}
			mu.Lock()
			defer mu.Unlock()
			if refused > 0 {
				return false
			}
			refused++
			localaws.WriteJSONError(w, http.StatusInternalServerError, "InternalServerError", "injected: the batch count-down fails once")
			return true
		}
		return false
	}))()
	p.Services.Activation.Deadline = 30 * time.Minute // far beyond executionBound: only the count-down can end the batch
	tasks := countTasks(t, p)
	id, err := p.Services.Activation.Start(t.Context(), "acme", "750000000018", "", activation.Request{All: true})
	if err != nil {
		t.Fatal(err)
	}
	pr, status := finished(t, p, id)
	if refused != 1 {
		t.Fatalf("the count-down of %s was refused %d times; the fault was not exercised", victim, refused)
	}
	if status != sfntypes.ExecutionStatusSucceeded || pr.Status != activation.Completed || pr.Succeeded != 1 || pr.Failed != 1 {
		t.Errorf("execution %s, progress %+v", status, pr.Activation)
	}
	for _, it := range pr.Items {
		a, _ := p.Services.Accounts.Get(t.Context(), "acme", it.AccountID)
		if it.AccountID == victim && (it.Status != activation.Failed || !strings.Contains(it.Reason, "did not receive a response") || a.Status != accounts.Failed) {
			t.Errorf("account whose stack failed: item %+v, account %s %q", it, a.Status, a.StatusReason)
		}
	}
	if tasks.calls["expire"] != 0 {
		t.Errorf("the batch waited out its deadline (expire ran %d times)", tasks.calls["expire"])
	}
}

// TestCreatedStackIsAwaited: the StackId CreateStack returned is what the account awaits (accounts.AwaitStack),
// and its claim mirrors it, so the stack's notifications are recognised by their exact StackId with one read.
func TestCreatedStackIsAwaited(t *testing.T) {
	p := newPlatform(t)
	env := testkit.LocalAWS(t)
	members := testkit.NewOrganization(t, "750000000019", 1)
	p.ConnectManagement(t, "acme", "750000000019")
	// The callback never hears of the stack, so the account stays awaiting it.
	defer env.SetCustomResourceTimeoutCap(10 * time.Minute)()
	defer env.Intercept(localaws.InterceptorFunc(func(w http.ResponseWriter, c *localaws.Call) bool {
		if c.Is("sns", "Publish") && strings.Contains(c.Form("Message"), `"RequestType":"Create"`) {
			w.Header().Set("Content-Type", "text/xml")
			_, _ = w.Write([]byte(`<PublishResponse><PublishResult><MessageId>lost</MessageId></PublishResult></PublishResponse>`))
			return true
		}
		return false
	}))()
	a := activation.Activation{ID: "act-awaited-stack", ManagementAccountID: "750000000019", Status: activation.Running, Total: 1, CreatedAt: time.Now()}
	if err := p.Services.Activation.Store.Create(t.Context(), "acme", a, []activation.Item{{AccountID: members[0], Status: activation.Pending}}, "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Services.Activation.Handle(t.Context(), activation.Batch{Action: "activate", TenantID: "acme", ActivationID: a.ID,
		ManagementAccountID: "750000000019", AccountIDs: members}); err != nil {
		t.Fatal(err)
	}
	pr, _, err := p.Services.Activation.Get(t.Context(), "acme", a.ID, 0, 10)
	if err != nil || len(pr.Items) != 1 {
		t.Fatalf("progress %+v, %v", pr, err)
	}
	stackID := pr.Items[0].StackID
	acct, _ := p.Services.Accounts.Get(t.Context(), "acme", members[0])
	claim, err := store.Accounts{DB: p.Services.DB}.Claim(t.Context(), members[0])
	if err != nil {
		t.Fatal(err)
	}
	if stackID == "" || acct.Status != accounts.Activating || acct.AwaitedStackID != stackID || claim.Awaiting.StackID != stackID {
		t.Errorf("item's stack %q; account %s awaits %q; its claim %+v", stackID, acct.Status, acct.AwaitedStackID, claim.Awaiting)
	}
	if _, err := p.Services.Activation.Handle(t.Context(), activation.Batch{Action: "expire", TenantID: "acme", ActivationID: a.ID,
		ManagementAccountID: "750000000019", AccountIDs: members}); err != nil {
		t.Fatal(err)
	}
	acct, _ = p.Services.Accounts.Get(t.Context(), "acme", members[0])
	claim, _ = store.Accounts{DB: p.Services.DB}.Claim(t.Context(), members[0])
	if acct.Status != accounts.Failed || acct.AwaitedStackID != "" || claim.Awaiting.StackID != "" {
		t.Errorf("after the deadline: account %s awaits %q; its claim %+v", acct.Status, acct.AwaitedStackID, claim.Awaiting)
	}
}
