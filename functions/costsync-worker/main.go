// Command costsync-worker syncs the Cost Explorer recommendations of the payers the queue hands it, reporting
// each failed message alone (partial batch responses) so one payer's failure never holds up another's.
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
	services, err := platform.NewServices(awsCfg, cfg, time.Now)
	if err != nil {
		fail("build services", err)
	}
	lambda.Start(services.CostSync.HandleSQS)
}

func fail(what string, err error) {
	slog.Error("cold start failed: "+what, "error", err.Error())
	os.Exit(1)
}
