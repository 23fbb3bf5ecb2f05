package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// addNagChecks runs cdk-nag's AwsSolutions pack on every stack; findings are errors in the cloud assembly, which
// `make synth` and the tests turn into failures. Each accepted finding is suppressed in suppressions.go with its
// reason.
func addNagChecks(app awscdk.App, stacks ...awscdk.Stack) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	for _, s := range stacks {
		suppress(s)
	}
}
