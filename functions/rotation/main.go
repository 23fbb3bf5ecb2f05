// Command rotation is the daily External ID schedule: for every tenant with rotation on, it warns before a
// rotation, rotates when due (the old ID keeps its grace period), and warns before a grace period ends about the
// stacks still on the old ID.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/rotation"
)

func main() {
	b, _ := platform.ColdStart(context.Background(), platform.Rotation, platform.Adapters{})
	schedule := platform.Build(func() *rotation.Service { return b.Rotation() })
	lambda.Start(func(ctx context.Context) (rotation.Report, error) {
		r, err := schedule.RunDue(ctx)
		slog.InfoContext(ctx, "External ID schedule", "tenants", r.Tenants, "rotated", r.Rotated, "warnings", r.Warnings, "failed", r.Failed)
		return r, err
	})
}
