// Command discovery is the daily discovery: it starts a discovery job for every active management account's
// organization and returns; the discovery-worker function runs the jobs.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/platform"
)

func main() {
	b, _ := platform.ColdStart(context.Background(), platform.Discovery, platform.Adapters{})
	disc := platform.Build(func() *discovery.Service { return b.Discovery() })
	lambda.Start(func(ctx context.Context) (map[string]int, error) {
		started, failed, err := disc.StartAll(ctx)
		slog.InfoContext(ctx, "daily discovery started", "organizations", started, "failed", failed)
		return map[string]int{"started": started, "failed": failed}, err
	})
}
