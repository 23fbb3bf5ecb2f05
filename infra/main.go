// Command infra is Gangplank's CDK app: `make synth`, `make diff`, `make deploy` (cdk.json runs it).
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
	app := awscdk.NewApp(nil)
	cfg := stack.ConfigFromContext(app, os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION"))
	if _, err := stack.New(app, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "gangplank infra:", err)
		os.Exit(1)
	}
	app.Synth(nil)
}
