// Command discovery-worker runs discovery jobs from the discovery queue, one step per message: it reads an
// organization (or a linked account's management account) through the customer's role for as long as its
// invocation allows, checkpoints, and queues the job's next step itself.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/discovery/awsorganizations"
	"github.com/gangplank/gangplank/pkg/platform"
)

func main() {
	b, _ := platform.ColdStart(context.Background(), platform.DiscoveryWorker, platform.Adapters{Organizations: awsorganizations.New})
	lambda.Start(platform.Build(func() *discovery.Service { return b.Discovery() }).HandleSQS)
}
