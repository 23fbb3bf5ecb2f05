package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/golang-jwt/jwt/v5"
)

// Local token settings: the issuer and audience `make local` and `make token` use.
const (
	LocalIssuer   = "https://gangplank.local"
	LocalAudience = "gangplank-api"
)

// leeway tolerates small clock differences between issuer and verifier.
const leeway = 30 * time.Second

// Verifier checks ES256 bearer tokens itself: the local server's authenticator.
type Verifier struct {
	Key      *ecdsa.PublicKey
	Issuer   string
	Audience string
	Claims   Claims
	Now      func() time.Time
}

var _ Authenticator = (*Verifier)(nil)

// Authenticate verifies the bearer token's signature, issuer, audience and expiry.
func (v *Verifier) Authenticate(r *http.Request) (Principal, error) {
	raw, err := bearer(r)
	if err != nil {
		return Principal{}, err
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
		jwt.WithIssuer(v.Issuer), jwt.WithAudience(v.Audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(leeway),
	}
	if v.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(v.Now))
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return v.Key, nil }, opts...); err != nil {
		return Principal{}, unauthenticated("%s", describe(err))
	}
	return principalFrom(func(name string) (string, bool) {
		s, ok := claims[name].(string)
		return s, ok
	}, v.claimNames())
}

func (v *Verifier) claimNames() Claims {
	if v.Claims == (Claims{}) {
		return DefaultClaims
	}
	return v.Claims
}

// describe turns a jwt error into a sentence a client developer can act on.
func describe(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "the token has expired; get a new one"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "the token's signature is not valid"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "the token is not a well-formed JWT"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "the token was issued by an issuer this API does not trust"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "the token is meant for another audience"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "the token is not valid yet"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "the token cannot be verified (wrong algorithm or key)"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "the token lacks a required claim (exp)"
	}
	return "the token is not valid"
}

func bearer(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", unauthenticated("send an Authorization: Bearer <token> header")
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", unauthenticated("the Authorization header must be 'Bearer <token>'")
	}
	return strings.TrimSpace(token), nil
}

// GatewayClaims reads the claims that API Gateway's JWT authorizer verified. A request that reached the function
// without them (a misconfigured route) is refused rather than trusted.
type GatewayClaims struct {
	Claims Claims
}

var _ Authenticator = GatewayClaims{}

// Authenticate reads the authorizer's claims from the API Gateway v2 request context.
func (g GatewayClaims) Authenticate(r *http.Request) (Principal, error) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil || len(rc.Authorizer.JWT.Claims) == 0 {
		return Principal{}, unauthenticated("no verified token reached the API; send an Authorization: Bearer <token> header")
	}
	names := g.Claims
	if names == (Claims{}) {
		names = DefaultClaims
	}
	return principalFrom(func(name string) (string, bool) {
		s, ok := rc.Authorizer.JWT.Claims[name]
		return s, ok
	}, names)
}

// Issuer signs tokens: `make token`, the local server's printed token, and tests.
type Issuer struct {
	Key      *ecdsa.PrivateKey
	Issuer   string
	Audience string
	Claims   Claims
}

// Token returns a signed token for subject in tenant with role, valid for ttl.
func (i Issuer) Token(subject, tenantID string, role Role, ttl time.Duration, now time.Time) (string, error) {
	names := i.Claims
	if names == (Claims{}) {
		names = DefaultClaims
	}
	claims := jwt.MapClaims{
		"iss": i.Issuer, "aud": i.Audience, "sub": subject,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix(),
		names.Tenant: tenantID, names.Role: string(role),
	}
	return jwt.NewWithClaims(jwt.SigningMethodES256, claims).SignedString(i.Key)
}

// NewKey generates a P-256 signing key.
func NewKey() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

// LoadOrCreateKey reads a PEM EC private key from path, creating one (mode 0600) if the file does not exist.
func LoadOrCreateKey(path string) (*ecdsa.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key, err := NewKey()
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		return key, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
	}
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM block", path)
	}
	return x509.ParseECPrivateKey(block.Bytes)
}
