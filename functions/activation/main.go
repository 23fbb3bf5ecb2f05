// Command activation is the bulk activation workflow's task function: per batch of member accounts it creates the
// onboarding stacks, checks on them, and closes the activation (the action field says which).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/activation/awscloudformation"
	"github.com/gangplank/gangplank/pkg/platform"
)

func main() {
	b, _ := platform.ColdStart(context.Background(), platform.Activation,
		platform.Adapters{CloudFormation: awscloudformation.New})
	lambda.Start(platform.Build(func() *activation.Service { return b.Activation() }).Handle)
}
