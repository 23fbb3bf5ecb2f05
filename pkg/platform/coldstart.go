package platform

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/gangplank/gangplank/pkg/logging"
)

// ColdStart is every function's start: JSON logs, the AWS configuration, the typed configuration (its secrets read
// once), and the services, built once per cold start. A function that cannot start logs why and exits, so Lambda
// reports a failed initialisation instead of serving with half a configuration.
func ColdStart(ctx context.Context) (*Services, Config) {
	logging.Setup()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		Fail("load AWS config", err)
	}
	cfg, err := LoadConfig(ctx, os.Getenv, secretsmanager.NewFromConfig(awsCfg))
	if err != nil {
		Fail("load configuration", err)
	}
	services, err := NewServices(awsCfg, cfg, time.Now)
	if err != nil {
		Fail("build services", err)
	}
	return services, cfg
}

// Fail ends a cold start that cannot go on, saying what failed.
func Fail(what string, err error) {
	slog.Error("cold start failed: "+what, "error", err.Error())
	os.Exit(1)
}
