// Package auth turns a request's bearer token into a Principal: who is calling, for which tenant, with which role.
//
// In the cloud, API Gateway's JWT authorizer has already verified the token's signature, issuer, audience and expiry
// before the function runs; GatewayClaims reads the verified claims from the request context. Locally, Verifier
// checks the token itself with a key that `make local` generates. Either way the tenant comes from the token and
// nowhere else.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sync"
)

// Role is what a principal may do.
type Role string

const (
	// Admin reads and changes everything in its tenant.
	Admin Role = "admin"
	// Viewer reads only.
	Viewer Role = "viewer"
)

// Principal is an authenticated caller.
type Principal struct {
	Subject  string
	TenantID string
	Role     Role
}

// CanWrite reports whether the principal may change data.
func (p Principal) CanWrite() bool { return p.Role == Admin }

// ErrUnauthenticated is the root of every failure to establish who is calling (HTTP 401).
var ErrUnauthenticated = errors.New("authentication required")

// ErrForbidden: the caller is known but may not do this (HTTP 403).
var ErrForbidden = errors.New("forbidden")

// unauthenticated wraps a reason in ErrUnauthenticated.
func unauthenticated(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnauthenticated, fmt.Sprintf(format, args...))
}

// Authenticator establishes the principal behind a request.
type Authenticator interface {
	Authenticate(r *http.Request) (Principal, error)
}

// Claims names the token claims that carry the tenant and the role. Cognito, for instance, prefixes custom
// attributes: custom:tenant_id and custom:role.
type Claims struct {
	Tenant string
	Role   string
}

// DefaultClaims are the claim names of tokens Gangplank issues itself.
var DefaultClaims = Claims{Tenant: "tenant_id", Role: "role"}

var tenantIDPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`) })

// ValidTenantID reports whether id may name a tenant: 1-64 letters, digits, dot, underscore or hyphen, starting
// with a letter or digit. The restriction keeps tenant IDs safe inside storage keys.
func ValidTenantID(id string) bool { return tenantIDPattern().MatchString(id) }

// principalFrom builds a principal from verified claims.
func principalFrom(claim func(string) (string, bool), names Claims) (Principal, error) {
	sub, _ := claim("sub")
	if sub == "" {
		return Principal{}, unauthenticated("the token has no sub claim")
	}
	tenant, _ := claim(names.Tenant)
	if tenant == "" {
		return Principal{}, unauthenticated("the token has no %s claim naming your tenant", names.Tenant)
	}
	if !ValidTenantID(tenant) {
		return Principal{}, unauthenticated("the token's %s claim is not a valid tenant ID", names.Tenant)
	}
	role, _ := claim(names.Role)
	switch Role(role) {
	case Admin, Viewer:
	case "":
		return Principal{}, fmt.Errorf("%w: the token has no %s claim; ask your administrator for the admin or viewer role", ErrForbidden, names.Role)
	default:
		return Principal{}, fmt.Errorf("%w: role %q is not admin or viewer", ErrForbidden, role)
	}
	return Principal{Subject: sub, TenantID: tenant, Role: Role(role)}, nil
}

type principalKey struct{}

// WithPrincipal returns a context carrying the authenticated principal.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal stored by WithPrincipal.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
