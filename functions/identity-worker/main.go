// Command identity-worker does the IAM integrations' work from the identity queue (verifications, syncs, key
// rotations, delayed deletions of offboarded users), reporting each failed message alone (partial batch
// responses).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gangplank/gangplank/pkg/awssecrets"
	"github.com/gangplank/gangplank/pkg/identity"
	"github.com/gangplank/gangplank/pkg/identity/awsscheduler"
	"github.com/gangplank/gangplank/pkg/platform"
)

func main() {
	b, _ := platform.ColdStart(context.Background(), platform.IdentityWorker,
		platform.Adapters{SecretReader: awssecrets.NewReader, KeyVault: awssecrets.NewVault, Scheduler: awsscheduler.New})
	lambda.Start(platform.Build(func() *identity.Service { return b.Identity() }).HandleSQS)
}
