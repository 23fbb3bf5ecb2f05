// Command costsync-scheduler is the daily schedule's target: it enqueues one message per payer whose cost sync is
// on, for the costsync-worker function.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/gangplank/gangplank/pkg/logging"
	"github.com/gangplank/gangplank/pkg/platform"
)

func main() {
	logging.Setup()
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fail("load AWS config", err)
	}
	cfg, err := platform.LoadConfig(ctx, os.Getenv, secretsmanager.NewFromConfig(awsCfg))
	if err != nil {
		fail("load configuration", err)
	}
	if cfg.CostSyncQueueURL == "" {
		fail("load configuration", errMissingQueue)
	}
	services, err := platform.NewServices(awsCfg, cfg, time.Now)
	if err != nil {
		fail("build services", err)
	}
	lambda.Start(func(ctx context.Context) (map[string]int, error) {
		n, err := services.CostSync.ScheduleAll(ctx)
		slog.InfoContext(ctx, "cost sync scheduled", "payers", n)
		return map[string]int{"payers": n}, err
	})
}

type configError string

func (e configError) Error() string { return string(e) }

const errMissingQueue = configError("COSTSYNC_QUEUE_URL is not set: the scheduler hands payers to the worker through it")

func fail(what string, err error) {
	slog.Error("cold start failed: "+what, "error", err.Error())
	os.Exit(1)
}
