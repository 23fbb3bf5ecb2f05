// Package identityweb builds the identity-api function's HTTP API. It is apart from pkg/platform/web so that the
// identity-api function links neither the main API's parts nor the HCL writer only the main API renders with.
package identityweb

import (
	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/httpapi"
	"github.com/gangplank/gangplank/pkg/platform"
)

// NewAPI builds the identity-api function's HTTP API: the IAM integration's routes.
func NewAPI(b *platform.Builder, authn auth.Authenticator) *httpapi.API {
	return httpapi.NewIdentity(httpapi.Config{Tenants: b.Tenants(), Identity: b.Identity(), Cursors: b.DB().Cursors, Authenticator: authn})
}
