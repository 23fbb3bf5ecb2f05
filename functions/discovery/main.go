// Command discovery is the daily discovery: it reads the organization of every active management account and
// brings each tenant's linked accounts in step with it.
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
	lambda.Start(func(ctx context.Context) (map[string]int, error) {
		ran, failed, err := services.Discovery.DiscoverAll(ctx)
		slog.InfoContext(ctx, "daily discovery", "organizations", ran, "failed", failed)
		return map[string]int{"organizations": ran, "failed": failed}, err
	})
}

func fail(what string, err error) {
	slog.Error("cold start failed: "+what, "error", err.Error())
	os.Exit(1)
}
