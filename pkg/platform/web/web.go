// Package web builds the HTTP API over a function's parts. It is apart from pkg/platform so that only the API
// function (and the local server and tests, which serve it) link the HTTP layer and its OpenAPI document.
package web

import (
	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/httpapi"
	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/viewascode"
)

// NewAPI builds the HTTP API over the builder's parts, authenticating callers with authn. The IAM integration's
// routes are part of it only where the function may read the integrations' keys (the local server, the tests); in
// the cloud the identity-api function serves them (identityweb.NewAPI).
func NewAPI(b *platform.Builder, authn auth.Authenticator) *httpapi.API {
	ob := b.Onboarding()
	// Only the API renders Terraform (launch material, View as Code): the HCL writer stays out of the other functions.
	ob.RenderTerraformWith(viewascode.Renderer{})
	cfg := httpapi.Config{
		Accounts: b.Accounts(), Tenants: b.Tenants(), Audit: b.Audit(), Onboarding: ob, CostSync: b.CostSync(),
		Discovery: b.Discovery(), Activation: b.Activation(), Inventory: b.Inventory(), Cursors: b.DB().Cursors, Authenticator: authn,
	}
	if b.Needs().IdentityKeys != "" {
		cfg.Identity = b.Identity()
	}
	return httpapi.New(cfg)
}
