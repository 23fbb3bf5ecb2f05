// Command inventory-worker does the inventory's work the queue hands it, one message at a time: an account's sync
// plan, a region's scan (continued in a new message before the function's time runs out), a tag summary, a tag
// write-back. Each failed message is reported alone (partial batch responses).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gangplank/gangplank/pkg/inventory"
	"github.com/gangplank/gangplank/pkg/inventory/awsresources"
	"github.com/gangplank/gangplank/pkg/platform"
)

func main() {
	b, _ := platform.ColdStart(context.Background(), platform.InventoryWorker, platform.Adapters{Resources: awsresources.New})
	lambda.Start(platform.Build(func() *inventory.Service { return b.Inventory() }).HandleSQS)
}
