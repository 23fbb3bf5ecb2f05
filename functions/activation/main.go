// Command activation is the bulk activation workflow's task function: per batch of member accounts it creates the
// onboarding stacks, checks on them, and closes the activation (the action field says which).
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
	lambda.Start(services.Activation.Handle)
}

func fail(what string, err error) {
	slog.Error("cold start failed: "+what, "error", err.Error())
	os.Exit(1)
}
