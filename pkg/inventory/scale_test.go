package inventory_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/inventory"
	"github.com/gangplank/gangplank/pkg/localaws"
)

// fifo runs inventory work in order, in the caller, timing each message: what one worker does, with the longest
// invocation measured (no Lambda may need 15 minutes).
type fifo struct {
	svc     *inventory.Service
	mu      sync.Mutex
	pending []inventory.Message
	longest time.Duration
	handled int
}

func (q *fifo) Send(_ context.Context, msgs []inventory.Message, _ time.Duration) error {
	q.mu.Lock()
	q.pending = append(q.pending, msgs...)
	q.mu.Unlock()
	return nil
}

func (q *fifo) drain(ctx context.Context) error {
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.mu.Unlock()
			return nil
		}
		m := q.pending[0]
		q.pending = q.pending[1:]
		q.mu.Unlock()
		start := time.Now()
		if err := q.svc.Handle(ctx, m); err != nil {
			return fmt.Errorf("%s %s: %w", m.Kind, m.Scan, err)
		}
		q.handled++
		q.longest = max(q.longest, time.Since(start))
	}
}

// peakHeap samples the process's heap while f runs.
func peakHeap(f func()) uint64 {
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	return peak
}

type scaleResult struct {
	first, second     inventory.Status
	firstWall         time.Duration
	secondWall        time.Duration
	peak              uint64
	longest           time.Duration
	handled           int
	secondWriteCalls  int64
	secondBatchWrites int64
}

// runScale seeds n resources over regions in one account, connects it at level, and syncs it twice through a
// queue run in order (one worker), measuring the first and the unchanged second sync.
func runScale(tb testing.TB, acct string, n int, regions []string, level accounts.AccessLevel, budget time.Duration) scaleResult {
	var q *fifo
	w := newWorld(tb, worldOptions{regions: regions, tune: func(s *inventory.Service) {
		if q == nil {
			q = &fifo{svc: s}
		}
		s.Queue = q
		s.Budget = budget
	}})
	per := n / len(regions)
	for i, r := range regions {
		count := per
		if i == len(regions)-1 {
			count = n - per*(len(regions)-1)
		}
		for start := 0; start < count; start += 5000 {
			w.seed(tb, localaws.Seed{Account: acct, Region: r, Type: "sns:topic", Prefix: "scale-" + r, Start: start, Count: min(5000, count-start),
				Cycle: map[string][]string{"env": {"prod", "staging", "dev"}}})
		}
	}
	if level == accounts.Resources {
		w.env.ResourceExplorerSetup(acct, regions, regions[0], false)
	}
	w.connect(tb, acct, level) // its first sync waits in the queue
	ctx := context.Background()
	var res scaleResult
	q.svc = w.Services.Inventory
	start := time.Now()
	res.peak = peakHeap(func() {
		if err := q.drain(ctx); err != nil {
			tb.Fatal(err)
		}
	})
	res.firstWall = time.Since(start)
	res.first = w.status(tb, acct)
	res.longest, res.handled = q.longest, q.handled
	writesBefore := w.Calls.Calls("DynamoDB", "BatchWriteItem") + w.Calls.Calls("DynamoDB", "PutItem") + w.Calls.Calls("DynamoDB", "UpdateItem") +
		w.Calls.Calls("DynamoDB", "TransactWriteItems") + w.Calls.Calls("DynamoDB", "DeleteItem")
	batchBefore := w.Calls.Calls("DynamoDB", "BatchWriteItem")
	start = time.Now()
	if err := q.svc.Handle(ctx, inventory.Message{Kind: inventory.KindPlan, TenantID: "acme", AccountID: acct, Trigger: "on_demand"}); err != nil {
		tb.Fatal(err)
	}
	if err := q.drain(ctx); err != nil {
		tb.Fatal(err)
	}
	res.secondWall = time.Since(start)
	res.second = w.status(tb, acct)
	res.secondWriteCalls = w.Calls.Calls("DynamoDB", "BatchWriteItem") + w.Calls.Calls("DynamoDB", "PutItem") + w.Calls.Calls("DynamoDB", "UpdateItem") +
		w.Calls.Calls("DynamoDB", "TransactWriteItems") + w.Calls.Calls("DynamoDB", "DeleteItem") - writesBefore
	res.secondBatchWrites = w.Calls.Calls("DynamoDB", "BatchWriteItem") - batchBefore
	return res
}

// TestCallsNearTheBound: 10,000 resources in three regions, listed with the Tagging API at one page per 100
// resources and region (the lower bound, exactly), and with Resource Explorer at one page per 1,000; a second,
// unchanged sync writes no resource and makes only the run's own status writes.
func TestCallsNearTheBound(t *testing.T) {
	regions := []string{"eu-west-1", "us-east-1", "us-west-2"}
	for _, tc := range []struct {
		name   string
		acct   string
		level  accounts.AccessLevel
		bound  int
		source string
	}{
		// 3,334 + 3,333 + 3,333 resources: 34 pages a region.
		{"tagging api", "620000000020", accounts.ResourcesTags, 102, inventory.SourceTagging},
		{"resource explorer", "620000000021", accounts.Resources, 10, inventory.SourceExplorer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runScale(t, tc.acct, 10000, regions, tc.level, 0)
			first, second := res.first.Last, res.second.Last
			if res.first.Resources < 10000 || first.Source != tc.source || first.Bound != tc.bound || first.ListingCalls != first.Bound {
				t.Errorf("first sync: %d resources, %d listing calls, bound %d, source %s", res.first.Resources, first.ListingCalls, first.Bound, first.Source)
			}
			if first.SetupCalls > 4 {
				t.Errorf("setup calls = %d", first.SetupCalls)
			}
			if second.Writes != 0 || res.secondBatchWrites != 0 || res.secondWriteCalls > int64(len(regions)+3) {
				t.Errorf("second, unchanged sync wrote %d items in %d batches (%d write requests)", second.Writes, res.secondBatchWrites, res.secondWriteCalls)
			}
			t.Logf("%s: %d resources, %d listing calls (bound %d, ratio %.2f) + %d setup; first sync %s, second %s (%d write requests); peak heap %d MB",
				tc.name, res.first.Resources, first.ListingCalls, first.Bound, first.Ratio, first.SetupCalls, res.firstWall.Round(time.Millisecond),
				res.secondWall.Round(time.Millisecond), res.secondWriteCalls, res.peak>>20)
		})
	}
}

// BenchmarkScaleInventory: one account with 100,000 resources (GANGPLANK_BENCH_RESOURCES) in four regions, synced
// through the Tagging API by one worker whose invocations continue in new messages every minute (Lambda's 15
// minutes are never needed); then a second, unchanged sync.
func BenchmarkScaleInventory(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("GANGPLANK_BENCH_RESOURCES")); err == nil && v > 0 {
		n = v
	}
	regions := []string{"eu-west-1", "us-east-1", "us-east-2", "us-west-2"}
	for i := 0; i < b.N; i++ {
		res := runScale(b, fmt.Sprintf("63000000%04d", i), n, regions, accounts.ResourcesTags, time.Minute)
		first, second := res.first.Last, res.second.Last
		continuations := 0
		for _, r := range first.Regions {
			continuations += r.Continuations
		}
		b.ReportMetric(float64(first.ListingCalls), "listing-calls")
		b.ReportMetric(float64(first.Bound), "bound")
		b.ReportMetric(first.Ratio, "ratio")
		b.ReportMetric(res.firstWall.Seconds(), "first-sync-s")
		b.ReportMetric(res.secondWall.Seconds(), "second-sync-s")
		b.ReportMetric(float64(res.peak>>20), "peak-heap-MB")
		b.ReportMetric(float64(second.Writes), "second-sync-items-written")
		b.ReportMetric(float64(res.secondWriteCalls), "second-sync-write-requests")
		b.ReportMetric(res.longest.Seconds(), "longest-invocation-s")
		b.Logf("%d resources in %d regions: %d listing calls (bound %d, ratio %.3f) + %d setup calls, %d retries; first sync %s (%d messages, %d continuations, longest invocation %s, %d items written); "+
			"second sync %s, %d items and %d write requests; peak worker heap %d MB",
			res.first.Resources, len(regions), first.ListingCalls, first.Bound, first.Ratio, first.SetupCalls, first.Retries, res.firstWall.Round(time.Second),
			res.handled, continuations, res.longest.Round(time.Second), first.Writes, res.secondWall.Round(time.Millisecond), second.Writes, res.secondWriteCalls, res.peak>>20)
	}
}
