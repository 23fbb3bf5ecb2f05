// Command hello is the cold-start harness's baseline: the smallest aws-lambda-go function, built with the same
// flags as Gangplank's functions, so that each function's init is measured against what Lambda's Go runtime costs
// by itself.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context) (string, error) { return "hello", nil })
}
