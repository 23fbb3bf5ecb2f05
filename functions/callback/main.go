// Command callback is the onboarding callback Lambda, subscribed to the callback topic in every served region. It
// answers the onboarding stack's custom resource requests (verifying the customer's role and activating the
// account) and reads CloudFormation stack notifications for stacks Gangplank launched.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gangplank/gangplank/pkg/identitycenter/awsssoadmin"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/platform"
)

func main() {
	b, _ := platform.ColdStart(context.Background(), platform.Callback, platform.Adapters{IdentityCenter: awsssoadmin.ListInstances})
	lambda.Start(platform.Build(func() *onboarding.Service { return b.Onboarding() }).HandleSNS)
}
