// Command discovery is the daily discovery: it reads the organization of every active management account and
// brings each tenant's linked accounts in step with it.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/platform"
)

func main() {
	b, _ := platform.ColdStart(context.Background(), platform.Discovery)
	disc := platform.Build(func() *discovery.Service { return b.Discovery() })
	lambda.Start(func(ctx context.Context) (map[string]int, error) {
		ran, failed, err := disc.DiscoverAll(ctx)
		slog.InfoContext(ctx, "daily discovery", "organizations", ran, "failed", failed)
		return map[string]int{"organizations": ran, "failed": failed}, err
	})
}
