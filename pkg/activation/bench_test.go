package activation_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// benchSize reads a GANGPLANK_BENCH_* size.
func benchSize(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// taskCounts counts the workflow's task invocations by action, and the failed ones.
type taskCounts struct {
	mu     sync.Mutex
	calls  map[string]int
	failed map[string]int
}

func countTasks(tb testing.TB, p *testkit.Platform) *taskCounts {
	c := &taskCounts{calls: map[string]int{}, failed: map[string]int{}}
	registerTask(tb, p, func(ctx context.Context, b activation.Batch, real func(context.Context, activation.Batch) (activation.Batch, error)) (activation.Batch, error) {
		out, err := real(ctx, b)
		c.mu.Lock()
		c.calls[b.Action]++
		if err != nil {
			c.failed[b.Action]++
		}
		c.mu.Unlock()
		return out, err
	})
	return c
}

// BenchmarkScaleActivation: one bulk activation of an organization's member accounts (GANGPLANK_BENCH_ACTIVATIONS,
// default 1,000) with GANGPLANK_BENCH_IN_FLIGHT stacks in flight (default 100), through the local Step Functions,
// CloudFormation and callback. Reports the wall time against the model ⌈N / in flight⌉ × stack time, the
// DynamoDB requests, STS and CloudFormation calls per activated account (everything the platform does from the
// request to the last callback, the callback's own requests included), and the execution's history events against
// the design's count. Every wait is bounded: a workflow that fails or never ends fails the benchmark with the
// activation's state.
func BenchmarkScaleActivation(b *testing.B) {
	n := benchSize("GANGPLANK_BENCH_ACTIVATIONS", 1000)
	inFlight := benchSize("GANGPLANK_BENCH_IN_FLIGHT", 100)
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		// Production's callback timeout and batch deadline: the local AWS answers one DynamoDB request at a time, so
		// a hundred callbacks queue behind each other, and a shorter timeout would only make them start over.
		p := newPlatform(b)
		mgmt := "75100000000" + strconv.Itoa(i%10)
		members := testkit.NewOrganization(b, mgmt, n)
		ctx := context.Background()
		p.ConnectManagement(b, "acme", mgmt)
		tasks := countTasks(b, p)
		p.Calls.LabelBy(caller)
		p.Calls.Reset()
		b.StartTimer()
		start := time.Now()
		id, err := p.Services.Activation.Start(ctx, "acme", mgmt, "", activation.Request{All: true, StacksInFlight: inFlight})
		if err != nil {
			b.Fatal(err)
		}
		// Locally every account goes through one moto process (DynamoDB one request at a time): on a busy machine
		// that is under a second an account. The bound only turns a workflow that never ends into a failure.
		status := waitExecutionFor(b, p, id, 10*time.Minute+time.Duration(n)*3*time.Second)
		elapsed := time.Since(start)
		b.StopTimer()
		idle(b) // the last callbacks' follow-up
		calls := p.Calls.Snapshot()
		pr, _, err := p.Services.Activation.Get(ctx, "acme", id, 0, n)
		if err != nil {
			b.Fatal(err)
		}
		if status != sfntypes.ExecutionStatusSucceeded || pr.Succeeded != len(members) {
			b.Fatalf("execution %s; activation %s: %d succeeded, %d failed, %d in progress, %d pending of %d", status, pr.Status,
				pr.Succeeded, pr.Failed, pr.InProgress, pr.Pending, pr.Total)
		}
		events := historyEvents(b, p, id)
		plan := activation.PlanFor(n, inFlight)
		design := plan.HistoryEvents() + 4*(tasks.calls["activate"]-plan.Batches) + 6*(tasks.calls["expire"]+tasks.calls["abandon"])
		stack, round := medianStackTime(pr.Items), meanRoundTime(pr.Items, plan.BatchSize)
		rounds := math.Ceil(float64(n) / float64(plan.InFlight()))
		per := func(service string) float64 {
			var sum int64
			for k, v := range calls {
				if strings.HasPrefix(k, service+".") {
					sum += v
				}
			}
			return float64(sum) / float64(pr.Succeeded)
		}
		b.ReportMetric(elapsed.Seconds(), "wall-s")
		b.ReportMetric(stack.Seconds(), "stack-s")
		b.ReportMetric(round.Seconds(), "batch-s")
		b.ReportMetric(rounds*round.Seconds(), "model-wall-s")
		b.ReportMetric(per("DynamoDB"), "ddb-requests/account")
		b.ReportMetric(per("STS"), "sts-calls/account")
		b.ReportMetric(per("CloudFormation"), "cfn-calls/account")
		b.ReportMetric(float64(events), "history-events")
		b.ReportMetric(float64(design), "design-events")
		b.ReportMetric(float64(activation.PlanFor(activation.MaxAccounts, inFlight).HistoryEvents()), "design-events@5000")
		b.Logf("%d accounts, %d in flight (%d batches of %d, %d at once): wall %v; median stack (created → reported back) %v, "+
			"mean batch (first created → last reported back) %v; model ⌈N/in flight⌉ × batch = %.0f × %v = %v",
			n, inFlight, plan.Batches, plan.BatchSize, plan.Concurrency, elapsed.Round(time.Second), stack.Round(10*time.Millisecond),
			round.Round(10*time.Millisecond), rounds, round.Round(10*time.Millisecond), time.Duration(rounds*float64(round)).Round(time.Second))
		b.Logf("tasks %v (failed %v); history events: %d recorded, %d by the design", tasks.calls, tasks.failed, events, design)
		b.Logf("AWS calls per activated account: %s", breakdown(calls, pr.Succeeded))
		b.Logf("by caller: %s", breakdown(p.Calls.Labelled(), pr.Succeeded))
		b.StartTimer()
	}
	b.ReportMetric(float64(n), "accounts")
}

// historyEvents counts the execution's history events (every page).
func historyEvents(tb testing.TB, p *testkit.Platform, id string) int {
	tb.Helper()
	events := 0
	hist := sfn.NewGetExecutionHistoryPaginator(sfn.NewFromConfig(testkit.AWSConfig(tb, nil)), &sfn.GetExecutionHistoryInput{
		ExecutionArn: aws.String(executionARN(p, id))})
	for hist.HasMorePages() {
		page, err := hist.NextPage(context.Background())
		if err != nil {
			tb.Fatalf("history: %v", err)
		}
		events += len(page.Events)
	}
	return events
}

// medianStackTime is the median time from an item's start (its stack about to be created) to its outcome.
func medianStackTime(items []activation.Item) time.Duration {
	var d []time.Duration
	for _, it := range items {
		if it.StartedAt != nil && it.FinishedAt != nil {
			d = append(d, it.FinishedAt.Sub(*it.StartedAt))
		}
	}
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

// meanRoundTime is the mean time a batch takes, from its first stack's creation to its last stack's outcome (a
// batch resumes when its slowest stack reports back). Batches are cut from the accounts in order.
func meanRoundTime(items []activation.Item, size int) time.Duration {
	sorted := append([]activation.Item(nil), items...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].AccountID < sorted[j].AccountID })
	var total time.Duration
	batches := 0
	for start := 0; start < len(sorted); start += size {
		var first, last time.Time
		for _, it := range sorted[start:min(start+size, len(sorted))] {
			if it.StartedAt == nil || it.FinishedAt == nil {
				continue
			}
			if first.IsZero() || it.StartedAt.Before(first) {
				first = *it.StartedAt
			}
			if it.FinishedAt.After(last) {
				last = *it.FinishedAt
			}
		}
		if !first.IsZero() {
			total += last.Sub(first)
			batches++
		}
	}
	if batches == 0 {
		return 0
	}
	return total / time.Duration(batches)
}

// breakdown lists each operation's calls per account.
func breakdown(calls map[string]int64, accounts int) string {
	var keys []string
	for k := range calls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.3f", k, float64(calls[k])/float64(accounts)))
	}
	return strings.Join(parts, ", ")
}

// caller names the function a call runs in: the Lambda function (callback, activation), or the request (Start).
func caller(ctx context.Context) string {
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok {
		return "request"
	}
	name := lc.InvokedFunctionArn[strings.LastIndex(lc.InvokedFunctionArn, ":")+1:]
	for _, fn := range []string{"callback", "activation"} {
		if strings.Contains(name, fn) {
			return fn
		}
	}
	return name
}
