// Command floor is the cold-start harness's second baseline: the hello-world function plus what every Gangplank
// function must do before its first request (its AWS configuration from Lambda's environment, and a DynamoDB
// client, which every function uses). The SDK's per-service packages run their own init (operation schemas,
// endpoint rules): what a function costs beyond this floor is what its own wiring links.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gangplank/gangplank/pkg/awsx"
)

func main() {
	cfg, err := awsx.LambdaConfig(os.Getenv)
	if err != nil {
		os.Exit(1)
	}
	db := dynamodb.NewFromConfig(cfg)
	lambda.Start(func(context.Context) (string, error) { return db.Options().Region, nil })
}
