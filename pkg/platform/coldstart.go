package platform

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/gangplank/gangplank/pkg/awsx"
	"github.com/gangplank/gangplank/pkg/logging"
)

// ColdStart is every function's start: JSON logs carrying the Lambda request id and function name, the AWS
// configuration (Lambda's environment), the function's typed configuration (only what its Needs declare; secrets
// read once), and its builder, which the function's main asks for exactly the parts it serves with, given the
// adapters its Needs call for (and no others: what a binary links, it initialises). A function that cannot start
// logs why and exits, so Lambda reports a failed initialisation instead of serving with half a configuration.
func ColdStart(ctx context.Context, fn Function, adapters Adapters) (*Builder, Config) {
	logging.SetupLambda()
	if err := adapters.missing(fn.Needs); err != nil {
		Fail("wire "+fn.Name, err)
	}
	awsCfg, err := awsx.LambdaConfig(os.Getenv)
	if err != nil {
		Fail("load AWS config", err)
	}
	var secrets SecretReader
	if fn.Needs.CursorKey {
		secrets = adapters.SecretReader(awsCfg)
	}
	cfg, err := LoadConfig(ctx, os.Getenv, secrets, fn.Needs)
	if err != nil {
		Fail("load configuration", err)
	}
	return NewBuilder(awsCfg, cfg, fn.Needs, adapters, time.Now), cfg
}

// Build runs a function's constructor, turning a part its wiring does not allow into a failed cold start.
func Build[T any](construct func() T) (out T) {
	defer func() {
		if v := recover(); v != nil {
			if nw, ok := v.(*NotWiredError); ok {
				Fail("build", nw)
			}
			panic(v)
		}
	}()
	return construct()
}

// Fail ends a cold start that cannot go on, saying what failed.
func Fail(what string, err error) {
	slog.Error("cold start failed: "+what, "error", err.Error())
	os.Exit(1)
}
