// Command api is the API Lambda: API Gateway (HTTP API, payload v2) in front of Gangplank's HTTP handler.
// API Gateway's JWT authorizer has verified the token; the handler reads its claims.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/awssecrets"
	"github.com/gangplank/gangplank/pkg/costsync/awscostexplorer"
	"github.com/gangplank/gangplank/pkg/httpapi"
	"github.com/gangplank/gangplank/pkg/identitycenter/awsssoadmin"
	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/platform/web"
)

func main() {
	b, cfg := platform.ColdStart(context.Background(), platform.API,
		platform.Adapters{SecretReader: awssecrets.NewReader, CostExplorer: awscostexplorer.New, IdentityCenter: awsssoadmin.ListInstances})
	api := platform.Build(func() *httpapi.API { return web.NewAPI(b, auth.GatewayClaims{Claims: cfg.Claims}) })
	lambda.Start(httpadapter.NewV2(api).ProxyWithContext)
}
