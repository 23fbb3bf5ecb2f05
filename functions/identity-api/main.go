// Command identity-api is the IAM integration's HTTP API: API Gateway routes the operations the OpenAPI document
// marks x-gangplank-function: identity-api here, so that the one function serving them, and not the main API,
// may read the integrations' stored keys.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/awssecrets"
	"github.com/gangplank/gangplank/pkg/httpapi"
	"github.com/gangplank/gangplank/pkg/identity/awsscheduler"
	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/platform/identityweb"
)

func main() {
	b, cfg := platform.ColdStart(context.Background(), platform.IdentityAPI,
		platform.Adapters{SecretReader: awssecrets.NewReader, KeyVault: awssecrets.NewVault, Scheduler: awsscheduler.New})
	api := platform.Build(func() *httpapi.API { return identityweb.NewAPI(b, auth.GatewayClaims{Claims: cfg.Claims}) })
	lambda.Start(httpadapter.NewV2(api).ProxyWithContext)
}
