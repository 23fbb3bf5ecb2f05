package discovery_test

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// benchSize reads a GANGPLANK_BENCH_* size, or its default.
func benchSize(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// seedShape is an organization of n OUs six levels deep (the root and five levels of OUs, fanning out 5, 4, 4, 4, 5
// and cut at n in the last level), with accounts spread round-robin over the root and every OU.
func seedShape(management string, ous, accounts int) localaws.OrganizationSeed {
	seed := localaws.OrganizationSeed{ManagementAccountID: management}
	level := []int{-1}
	for _, fanout := range []int{5, 4, 4, 4, 5} {
		var next []int
		for _, parent := range level {
			for range fanout {
				if len(seed.OUs) == ous {
					break
				}
				next = append(next, len(seed.OUs))
				seed.OUs = append(seed.OUs, localaws.SeedOU{Name: fmt.Sprintf("ou-%05d", len(seed.OUs)), Parent: parent})
			}
		}
		level = next
	}
	for i := range accounts {
		seed.Accounts = append(seed.Accounts, localaws.SeedAccount{Name: fmt.Sprintf("acct-%06d", i),
			Email: fmt.Sprintf("acct-%06d@example.com", i), Parent: i%(len(seed.OUs)+1) - 1})
	}
	return seed
}

// peakHeap samples the process's heap until stopped and returns the highest value seen (the platform, the discovery
// worker and the test run in this process; moto is another).
func peakHeap() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(done); <-finished; return peak.Load() }
}

// benchWait bounds each discovery of the benchmark (50,000 accounts on a busy machine).
const benchWait = 80 * time.Minute

// BenchmarkScaleDiscovery: an organization of GANGPLANK_BENCH_ACCOUNTS accounts (default 50,000) in
// GANGPLANK_BENCH_OUS OUs (default 2,000) six levels deep. The first discovery (started by the management account's
// activation) adds every account; a steady-state run changes nothing. Reports Organizations requests against the
// lower bound (accounts/20 + OUs), the DynamoDB requests of each run, wall times and the peak Go heap.
func BenchmarkScaleDiscovery(b *testing.B) {
	n, ous := benchSize("GANGPLANK_BENCH_ACCOUNTS", 50000), benchSize("GANGPLANK_BENCH_OUS", 2000)
	p := testkit.NewPlatform(b)
	const mgmt = "731000000001"
	if _, err := testkit.LocalAWS(b).SeedOrganization(b.Context(), seedShape(mgmt, ous, n)); err != nil {
		b.Fatal(err)
	}
	// Cost sync off: its first sync would run in the test's process (the whole platform in one), not the worker's.
	if err := p.Services.Tenants.Ensure(b.Context(), "acme"); err != nil {
		b.Fatal(err)
	}
	if _, err := p.Services.Accounts.Create(b.Context(), "acme", accounts.CreateInput{Name: "Payer", AccountID: mgmt, Type: "management",
		Region: "us-east-1", CostSync: aws.Bool(false)}); err != nil {
		b.Fatal(err)
	}
	heap := peakHeap()
	p.Calls.Reset()
	start := time.Now()
	p.Connect(b, "acme", mgmt) // the activation starts the first discovery
	first := p.WaitDiscoveryWithin(b, "acme", mgmt, benchWait)
	firstWall := time.Since(start)
	firstDynamo := p.Calls.ServiceCalls("DynamoDB")
	if first.Status != discovery.Succeeded || first.Run == nil || first.Run.Added != n {
		b.Fatalf("first discovery: %s %q %+v", first.Status, first.Error, first.Run)
	}
	b.ResetTimer()
	var steady discovery.Job
	var steadyWall time.Duration
	var steadyDynamo, steadyQueries int64
	for b.Loop() {
		p.Calls.Reset()
		start := time.Now()
		job, err := p.Services.Discovery.Start(b.Context(), "acme", mgmt, discovery.TriggerAPI)
		if err != nil {
			b.Fatal(err)
		}
		steady = p.WaitJob(b, "acme", job.ID, benchWait)
		steadyWall = time.Since(start)
		steadyDynamo, steadyQueries = p.Calls.ServiceCalls("DynamoDB"), p.Calls.Calls("DynamoDB", "Query")
		b.Logf("steady run's requests: %v", p.Calls.Snapshot())
		if steady.Status != discovery.Succeeded || steady.Run.Found != n || steady.Run.Added+steady.Run.Updated+steady.Run.Left != 0 {
			b.Fatalf("steady run: %s %q %+v", steady.Status, steady.Error, steady.Run)
		}
	}
	b.StopTimer()
	peak := heap()
	bound := (n+19)/20 + ous
	b.Logf("first run: %d DynamoDB requests, %s; steady run: %d DynamoDB requests (%d Query pages), %s; %d Organizations calls per run, bound %d",
		firstDynamo, firstWall.Round(time.Second), steadyDynamo, steadyQueries, steadyWall.Round(time.Second), steady.Run.Calls, bound)
	b.ReportMetric(float64(n), "accounts")
	b.ReportMetric(float64(first.Run.OUs), "OUs")
	b.ReportMetric(float64(steady.Run.Calls), "org-calls/run")
	b.ReportMetric(float64(bound), "lower-bound")
	b.ReportMetric(float64(steady.Run.Calls)/float64(bound), "ratio")
	b.ReportMetric(float64(first.Progress.Steps), "steps-first")
	b.ReportMetric(float64(firstDynamo), "ddb-first")
	b.ReportMetric(float64(steadyDynamo), "ddb-steady")
	b.ReportMetric(float64(steadyQueries), "ddb-steady-queries")
	b.ReportMetric(firstWall.Seconds(), "s-first")
	b.ReportMetric(steadyWall.Seconds(), "s-steady")
	b.ReportMetric(float64(peak)/(1<<20), "MB-peak-heap")
}
