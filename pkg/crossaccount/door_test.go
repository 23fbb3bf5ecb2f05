package crossaccount_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/costsync"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/platform/awsadapters"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// TestRotationGracePeriod: after the tenant rotates its External ID, every capability that enters the account
// (discovery, cost sync, bulk activation) still works through a role that requires the previous one, until the
// grace period ends; then each fails with a reason that names the ended grace period.
func TestRotationGracePeriod(t *testing.T) {
	p := testkit.NewPlatform(t)
	ctx := t.Context()
	const mgmtID = "770000000001"
	testkit.NewOrganization(t, mgmtID, 2)
	p.ConnectManagement(t, "acme", mgmtID) // its role requires the External ID of today
	before, err := p.Services.Tenants.Get(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Services.Tenants.RotateExternalID(ctx, "acme", nil); err != nil {
		t.Fatal(err)
	}

	sess, err := p.Services.Door.Enter(ctx, "acme", mgmtID, "test")
	if err != nil {
		t.Fatalf("enter through the previous External ID: %v", err)
	}
	if !sess.Previous || sess.ExternalID != before.ExternalID {
		t.Errorf("session: previous=%v externalId=%q, want the previous External ID %q", sess.Previous, sess.ExternalID, before.ExternalID)
	}
	if job := p.Discover(t, "acme", mgmtID); job.Status != discovery.Succeeded || job.Run.Found != 2 {
		t.Fatalf("discovery in the grace period: %s %q %+v; want the 2 member accounts", job.Status, job.Error, job.Run)
	}
	status, err := p.Services.CostSync.SyncPayer(ctx, "acme", mgmtID)
	if err != nil || status.Status != costsync.StatusOK {
		t.Fatalf("cost sync in the grace period: %+v, %v", status, err)
	}
	id, err := p.Services.Activation.Start(ctx, "acme", mgmtID, "", activation.Request{All: true})
	if err != nil {
		t.Fatal(err)
	}
	var pr activation.Progress
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if pr, _, err = p.Services.Activation.Get(ctx, "acme", id, 0, 100); err != nil {
			t.Fatal(err)
		}
		if pr.Status != activation.Running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bulk activation still running after 3 minutes: %+v", pr)
		}
	}
	if pr.Succeeded != 2 {
		t.Fatalf("bulk activation in the grace period: %d of 2 succeeded: %+v", pr.Succeeded, pr.Items)
	}

	// The same platform a month later: the previous External ID's grace period (30 days) has ended.
	later, err := platform.NewServices(p.AWS, p.Config, awsadapters.All(), func() time.Time { return time.Now().Add(31 * 24 * time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	clearly := func(what string, err error) {
		t.Helper()
		var refused *crossaccount.AccessError
		if !errors.As(err, &refused) || !strings.Contains(err.Error(), "grace period ended") {
			t.Errorf("%s after the grace period: %v, want a refusal naming the ended grace period", what, err)
		}
	}
	// The later platform's discovery runs its own steps (the worker's clock is today's).
	steps := &heldQueue{}
	later.Discovery.Queue = steps
	job, err := later.Discovery.Start(ctx, "acme", mgmtID, discovery.TriggerAPI)
	if err != nil || len(steps.held) != 1 {
		t.Fatalf("start discovery a month later: %v, %d steps queued", err, len(steps.held))
	}
	if err := later.Discovery.Step(ctx, steps.held[0], false); err != nil {
		t.Fatalf("a refusal is no error another delivery fixes: %v", err)
	}
	if job, err = later.Discovery.Job(ctx, "acme", job.ID); err != nil || job.Status != discovery.Failed ||
		!strings.Contains(job.Error, "grace period ended") {
		t.Errorf("discovery after the grace period: %s %q %v, want failed naming the ended grace period", job.Status, job.Error, err)
	}
	status, err = later.CostSync.SyncPayer(ctx, "acme", mgmtID)
	clearly("cost sync", err)
	if status.Status != costsync.StatusFailed || !strings.Contains(status.LastError, "grace period ended") {
		t.Errorf("cost sync status after the grace period: %+v, want failed with the reason", status)
	}
	_, err = later.Activation.Handle(ctx, activation.Batch{Action: "activate", TenantID: "acme", ActivationID: id,
		ManagementAccountID: mgmtID, AccountIDs: nil})
	clearly("bulk activation", err)
}

// heldQueue keeps the steps a discovery queues, for the test to run.
type heldQueue struct{ held []discovery.Message }

func (q *heldQueue) Send(_ context.Context, m discovery.Message) error {
	q.held = append(q.held, m)
	return nil
}
