// Command costsync-worker syncs the Cost Explorer recommendations of the payers the queue hands it, reporting
// each failed message alone (partial batch responses) so one payer's failure never holds up another's.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gangplank/gangplank/pkg/platform"
)

func main() {
	services, _ := platform.ColdStart(context.Background())
	lambda.Start(services.CostSync.HandleSQS)
}
