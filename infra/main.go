// Command infra is Gangplank's CDK app (cdk.json runs it from the repository's root): `make synth`, `make diff`,
// `make deploy`. The stacks live in infra/stack; docs/deploy.md explains the configuration.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/gangplank/gangplank/infra/stack"
)

func main() {
	defer jsii.Close()
	root, err := os.Getwd()
	if err != nil {
		fail(err)
	}
	app := awscdk.NewApp(nil)
	cfg, err := stack.ConfigFromApp(app, root)
	if err != nil {
		fail(err)
	}
	if _, err := stack.Build(app, cfg); err != nil {
		fail(err)
	}
	app.Synth(nil)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gangplank infra:", err)
	os.Exit(1)
}
