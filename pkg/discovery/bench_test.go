package discovery_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/gangplank/gangplank/pkg/testkit"
)

// benchAccounts is the organization size of the scale benchmarks (GANGPLANK_BENCH_ACCOUNTS, default 5,000).
func benchAccounts() int {
	if n, err := strconv.Atoi(os.Getenv("GANGPLANK_BENCH_ACCOUNTS")); err == nil && n > 0 {
		return n
	}
	return 5000
}

// BenchmarkScaleDiscovery: an organization of 5,000 accounts in 340 OUs (four levels of four); reports the
// Organizations requests of a discovery against the lower bound (accounts/20 + OUs), the first run (which adds
// every account) and a steady-state run (which changes nothing).
func BenchmarkScaleDiscovery(b *testing.B) {
	p := testkit.NewPlatform(b)
	n := benchAccounts()
	buildOrg(b, "731000000001", []int{4, 4, 4, 4}, n)
	p.ConnectManagement(b, "acme", "731000000001") // the first discovery: adds every account
	mgmt, err := p.Services.Accounts.Get(b.Context(), "acme", "731000000001")
	if err != nil || mgmt.Discovery == nil || mgmt.Discovery.LastRun == nil {
		b.Fatalf("first discovery: %v", err)
	}
	first := mgmt.Discovery.LastRun
	b.ResetTimer()
	var calls, bound int
	for b.Loop() {
		res, err := p.Services.Discovery.Discover(b.Context(), "acme", "731000000001")
		if err != nil {
			b.Fatal(err)
		}
		if res.Run.Found != n || res.Run.Added != 0 {
			b.Fatalf("steady run = %+v", res.Run)
		}
		calls, bound = res.Run.Calls, res.LowerBound
	}
	b.ReportMetric(float64(n), "accounts")
	b.ReportMetric(float64(first.OUs), "OUs")
	b.ReportMetric(float64(calls), "org-calls/run")
	b.ReportMetric(float64(bound), "lower-bound")
	b.ReportMetric(float64(calls)/float64(bound), "ratio")
	b.ReportMetric(float64(first.Added), "added-first-run")
}
