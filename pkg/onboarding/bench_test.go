package onboarding_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/inventory"
	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/tenants"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// activationCost launches n onboarding stacks (one account each) and returns what the callback spent per
// activation: DynamoDB requests and STS calls.
func activationCost(t *testing.T, w *world, n int, first int) (ddb, stsCalls float64) {
	t.Helper()
	var total, sts int64
	for i := range n {
		id := fmt.Sprintf("6%011d", first+i)
		ins := w.addAccount(t, "acme", id, "standalone")
		w.Calls.Reset()
		w.launch(t, id, ins, nil)
		if a := w.account(t, "acme", id); a.Status != accounts.Active {
			t.Fatalf("account %s: %s %s", id, a.Status, a.StatusReason)
		}
		total += w.Calls.ServiceCalls("DynamoDB")
		sts += w.Calls.ServiceCalls("STS")
	}
	return float64(total) / float64(n), float64(sts) / float64(n)
}

// TestActivationCost: an activation by the callback costs two STS calls (assume the customer's role, confirm its
// identity) plus one per cold start for the connector's own session, which is cached; and five DynamoDB requests:
// the account, the tenant, and the read and transaction of the transition (with its audit entry and answer).
func TestActivationCost(t *testing.T) {
	// The inventory's first sync is the inventory worker's work, measured in pkg/inventory: here its plan is
	// recorded where the callback hands it on, and not run, so only the callback's requests are counted.
	firstSyncs := &recordedInventory{}
	w := newWorld(t, testkit.PlatformOptions{Tune: func(p platform.Parts) {
		if p.Inventory != nil {
			p.Inventory.Queue = firstSyncs
		}
	}})
	w.Do(t, testkit.Request{Method: "GET", Path: "/v1/tenant", Token: w.Token(t, "acme", auth.Admin)})
	// Without cost sync: a payer's first sync after activation is the worker's job, measured on its own.
	off := false
	if _, err := w.Services.Tenants.UpdateSettings(t.Context(), "acme", []string{"*"}, tenants.SettingsPatch{CostSyncDefault: &off}); err != nil {
		t.Fatal(err)
	}
	const n = 4
	ddb, sts := activationCost(t, w, n, 0)
	t.Logf("per activation: %.2f DynamoDB requests, %.2f STS calls", ddb, sts)
	if got := firstSyncs.plans(); got != n {
		t.Errorf("%d inventory first syncs handed on for %d activations", got, n)
	}
	if want := float64(2*n+1) / n; sts != want || ddb != 5 {
		t.Errorf("per activation: %.2f DynamoDB requests (want 5), %.2f STS calls (want %.2f)", ddb, sts, want)
	}
}

// recordedInventory is the inventory's queue as the callback sees it, keeping what it is handed.
type recordedInventory struct {
	mu   sync.Mutex
	msgs []inventory.Message
}

func (q *recordedInventory) Send(_ context.Context, msgs []inventory.Message, _ time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, msgs...)
	return nil
}

func (q *recordedInventory) plans() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, m := range q.msgs {
		if m.Kind == inventory.KindPlan && m.Trigger == "activation" {
			n++
		}
	}
	return n
}
