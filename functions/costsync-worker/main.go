// Command costsync-worker syncs the Cost Explorer recommendations of the payers the queue hands it, reporting
// each failed message alone (partial batch responses) so one payer's failure never holds up another's.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gangplank/gangplank/pkg/costsync"
	"github.com/gangplank/gangplank/pkg/costsync/awscostexplorer"
	"github.com/gangplank/gangplank/pkg/platform"
)

func main() {
	b, _ := platform.ColdStart(context.Background(), platform.CostSyncWorker, platform.Adapters{CostExplorer: awscostexplorer.New})
	lambda.Start(platform.Build(func() *costsync.Service { return b.CostSync() }).HandleSQS)
}
