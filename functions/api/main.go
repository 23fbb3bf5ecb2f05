// Command api is the API Lambda: API Gateway (HTTP API, payload v2) in front of Gangplank's HTTP handler.
// API Gateway's JWT authorizer has verified the token; the handler reads its claims.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/gangplank/gangplank/pkg/auth"
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
	api := platform.NewAPI(services, auth.GatewayClaims{Claims: cfg.Claims})
	lambda.Start(httpadapter.NewV2(api).ProxyWithContext)
}

func fail(what string, err error) {
	slog.Error("cold start failed: "+what, "error", err.Error())
	os.Exit(1)
}
