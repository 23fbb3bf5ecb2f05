// Command costsync-scheduler is the daily schedule's target: it enqueues one message per payer whose cost sync is
// on, for the costsync-worker function.
package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gangplank/gangplank/pkg/platform"
)

func main() {
	services, cfg := platform.ColdStart(context.Background())
	if cfg.CostSyncQueueURL == "" {
		platform.Fail("load configuration", errors.New("COSTSYNC_QUEUE_URL is not set: the scheduler hands payers to the worker through it"))
	}
	lambda.Start(func(ctx context.Context) (map[string]int, error) {
		n, err := services.CostSync.ScheduleAll(ctx)
		slog.InfoContext(ctx, "cost sync scheduled", "payers", n)
		return map[string]int{"payers": n}, err
	})
}
