// Command inventory-scheduler is the hourly schedule's target: it starts the sync of every account whose scheduled
// inventory sync is due (each tenant chooses how often), for the inventory-worker function.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gangplank/gangplank/pkg/inventory"
	"github.com/gangplank/gangplank/pkg/platform"
)

func main() {
	b, _ := platform.ColdStart(context.Background(), platform.InventoryScheduler, platform.Adapters{})
	inv := platform.Build(func() *inventory.Service { return b.Inventory() })
	lambda.Start(func(ctx context.Context) (map[string]int, error) {
		n, err := inv.ScheduleDue(ctx)
		slog.InfoContext(ctx, "inventory syncs scheduled", "accounts", n)
		return map[string]int{"accounts": n}, err
	})
}
