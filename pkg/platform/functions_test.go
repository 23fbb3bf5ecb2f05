package platform_test

import (
	"errors"
	"os"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/costsync"
	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/platform/awsadapters"
	"github.com/gangplank/gangplank/pkg/tables"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// TestEveryFolderIsAFunction: each folder under functions/ is a function with its wiring, and no wiring is
// without its folder (the CDK app deploys and grants each from platform.Functions).
func TestEveryFolderIsAFunction(t *testing.T) {
	entries, err := os.ReadDir("../../functions")
	if err != nil {
		t.Fatal(err)
	}
	var dirs, wired []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	for _, f := range platform.Functions() {
		wired = append(wired, f.Name)
	}
	sort.Strings(dirs)
	sort.Strings(wired)
	if !slices.Equal(dirs, wired) {
		t.Errorf("functions/ has %v, the wiring %v", dirs, wired)
	}
}

// TestScheduledFunctionsRunWithTheirOwnWiring: the daily discovery and the cost sync scheduler, each built from its
// own wiring over the configuration the CDK stack gives it, do their whole job (the callback and the cost sync
// worker run that way in every test: testkit serves them). A part beyond a function's wiring fails to build.
func TestScheduledFunctionsRunWithTheirOwnWiring(t *testing.T) {
	p := testkit.NewPlatform(t)
	ctx := t.Context()
	testkit.NewOrganization(t, "780000000001", 2)
	p.ConnectManagement(t, "acme", "780000000001")
	full := p.Config
	full.QueueURLs = map[string]string{platform.CostSyncQueue.ID: p.Provisioned.CostSyncQueueURL,
		platform.DiscoveryQueue.ID: p.Provisioned.DiscoveryQueueURL}
	builder := func(fn platform.Function) *platform.Builder {
		return platform.NewBuilder(p.AWS, full.For(fn.Needs), fn.Needs, awsadapters.All(), time.Now)
	}

	started, failed, err := builder(platform.Discovery).Discovery().StartAll(ctx)
	if err != nil || started != 1 || failed != 0 {
		t.Errorf("daily discovery: %d organizations, %d failed, %v", started, failed, err)
	}
	if job := p.WaitDiscovery(t, "acme", "780000000001"); job.Trigger != discovery.TriggerSchedule || job.Status != discovery.Succeeded {
		t.Errorf("the worker did not run the scheduled discovery: %+v", job)
	}
	scheduler := builder(platform.CostSyncScheduler)
	n, err := scheduler.CostSync().ScheduleAll(ctx)
	if err != nil || n != 1 {
		t.Fatalf("scheduler: %d payers, %v", n, err)
	}
	testkit.WaitIdle(t)
	status, err := p.Services.CostSync.Status(ctx, "acme", "780000000001")
	if err != nil || status.Status != costsync.StatusOK {
		t.Errorf("the worker did not sync the scheduled payer: %+v, %v", status, err)
	}

	// The scheduler may not enter customers' accounts, nor read the tenants table.
	var notWired *platform.NotWiredError
	func() {
		defer func() { notWired, _ = recover().(*platform.NotWiredError) }()
		scheduler.Discovery()
	}()
	if notWired == nil || notWired.Need != "Queues[discovery]" {
		t.Errorf("the scheduler built discovery: %v", notWired)
	}
	var table tables.NotWiredError
	func() {
		defer func() { table, _ = recover().(tables.NotWiredError) }()
		_, _ = scheduler.Tenants().Get(ctx, "acme")
	}()
	if table.Table != tables.Tenants.ID {
		t.Errorf("the scheduler read the tenants table: %v", table)
	}
	if err := builder(platform.CostSyncScheduler).CostSync().FirstSync(ctx, mustAccount(t, p, "780000000001")); err != nil {
		t.Errorf("the scheduler hands payers to the queue: %v", err)
	}
	if err := platform.NewBuilder(p.AWS, full.For(platform.Discovery.Needs), platform.Discovery.Needs, awsadapters.All(), time.Now).CostSync().
		FirstSync(ctx, mustAccount(t, p, "780000000001")); !errors.Is(err, costsync.ErrQueueNotWired) {
		t.Errorf("discovery, which has no queue, enqueued: %v", err)
	}
	testkit.WaitIdle(t)
}

func mustAccount(t *testing.T, p *testkit.Platform, id string) accounts.Account {
	t.Helper()
	a, err := p.Services.Accounts.Get(t.Context(), "acme", id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
