// Package web builds the HTTP API over a function's parts. It is apart from pkg/platform so that only the API
// function (and the local server and tests, which serve it) link the HTTP layer and its OpenAPI document.
package web

import (
	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/httpapi"
	"github.com/gangplank/gangplank/pkg/platform"
)

// NewAPI builds the HTTP API over the builder's parts, authenticating callers with authn.
func NewAPI(b *platform.Builder, authn auth.Authenticator) *httpapi.API {
	return httpapi.New(httpapi.Config{
		Accounts: b.Accounts(), Tenants: b.Tenants(), Audit: b.Audit(), Onboarding: b.Onboarding(), CostSync: b.CostSync(),
		Discovery: b.Discovery(), Activation: b.Activation(), Inventory: b.Inventory(), Cursors: b.DB().Cursors, Authenticator: authn,
	})
}
