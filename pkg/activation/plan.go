package activation

import "github.com/gangplank/gangplank/pkg/tenants"

// MaxBatchSize is the most accounts one batch (one task, one wait) holds: 50 keep a batch's reads to one
// BatchGetItem (100 keys: items and accounts) and its starts to two transactions, and make 5,000 accounts 100 Map
// iterations.
const MaxBatchSize = 50

// MaxMapConcurrency is the most iterations an inline Map state runs at once (a Step Functions limit).
const MaxMapConcurrency = 40

// Plan is how the workflow spreads an activation: Batches of BatchSize accounts, Concurrency of them at once, so
// that at most BatchSize × Concurrency stacks are in flight (created and not yet reported back).
type Plan struct {
	BatchSize, Concurrency, Batches int
}

// plan spreads accounts over batches for at most inFlight stacks at once: as few batches (history events) as
// inFlight allows, each at most maxBatch (0: MaxBatchSize) accounts.
func plan(accounts, inFlight, maxBatch int) Plan {
	if maxBatch <= 0 || maxBatch > MaxBatchSize {
		maxBatch = MaxBatchSize
	}
	if inFlight <= 0 {
		inFlight = tenants.DefaultActivationStacksInFlight
	}
	concurrency := min((inFlight+maxBatch-1)/maxBatch, MaxMapConcurrency)
	size := max(min(inFlight/concurrency, maxBatch), 1)
	batches := max((accounts+size-1)/size, 1)
	return Plan{BatchSize: size, Concurrency: max(min(concurrency, batches), 1), Batches: batches}
}

// InFlight is the most stacks the plan has in flight at once.
func (p Plan) InFlight() int { return p.BatchSize * p.Concurrency }

// History events a run of the workflow records (docs/bulk-activation.md): the execution's own and the Finish
// task's, then per batch its Map iteration and its one waitForTaskToken task. Each retry of a task adds
// taskRetryEvents; a batch whose deadline passes adds expiredBatchEvents (the Expire task).
const (
	topLevelEvents     = 11 // ExecutionStarted, MapStateEntered/Started/Succeeded/Exited, Finish (5), ExecutionSucceeded
	batchEvents        = 8  // MapIterationStarted/Succeeded, TaskStateEntered/Exited, TaskScheduled/Started/Submitted/Succeeded
	taskRetryEvents    = 4  // the failed attempt's TaskFailed, the next attempt's TaskScheduled/Started/Submitted
	expiredBatchEvents = 6  // TaskTimedOut instead of TaskSucceeded, then Expire: entered, four task events, exited
)

// HistoryEvents is the history a run of the plan records when every batch's task succeeds at its first attempt.
func (p Plan) HistoryEvents() int { return topLevelEvents + p.Batches*batchEvents }

// PlanFor is the plan of an activation of n accounts with inFlight stacks at once.
func PlanFor(n, inFlight int) Plan { return plan(n, inFlight, 0) }
