// Command identity-scheduler is the daily schedule's target: it enqueues a sync of every IAM integration and the
// key rotations that are due.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gangplank/gangplank/pkg/identity"
	"github.com/gangplank/gangplank/pkg/platform"
)

func main() {
	b, _ := platform.ColdStart(context.Background(), platform.IdentityScheduler, platform.Adapters{})
	s := platform.Build(func() *identity.Service { return b.Identity() })
	lambda.Start(func(ctx context.Context) error {
		n, err := s.ScheduleAll(ctx)
		slog.InfoContext(ctx, "identity work enqueued", "messages", n)
		return err
	})
}
