// Command costsync-scheduler is the daily schedule's target: it enqueues one message per payer whose cost sync is
// on, for the costsync-worker function.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gangplank/gangplank/pkg/costsync"
	"github.com/gangplank/gangplank/pkg/platform"
)

func main() {
	b, _ := platform.ColdStart(context.Background(), platform.CostSyncScheduler, platform.Adapters{})
	sync := platform.Build(func() *costsync.Service { return b.CostSync() })
	lambda.Start(func(ctx context.Context) (map[string]int, error) {
		n, err := sync.ScheduleAll(ctx)
		slog.InfoContext(ctx, "cost sync scheduled", "payers", n)
		return map[string]int{"payers": n}, err
	})
}
