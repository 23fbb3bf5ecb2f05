package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/golang-jwt/jwt/v5"
)

func request(token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/v1/tenant", nil)
	if token != "" {
		r.Header.Set("Authorization", token)
	}
	return r
}

func TestVerifier(t *testing.T) {
	key, _ := NewKey()
	otherKey, _ := NewKey()
	now := time.Now()
	issuer := Issuer{Key: key, Issuer: LocalIssuer, Audience: LocalAudience}
	v := &Verifier{Key: &key.PublicKey, Issuer: LocalIssuer, Audience: LocalAudience}
	sign := func(claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodES256, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + s
	}
	base := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": LocalIssuer, "aud": LocalAudience, "sub": "u1", "tenant_id": "acme", "role": "admin",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	with := func(k string, v any) string {
		c := base()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return sign(c)
	}
	good, _ := issuer.Token("u1", "acme", Admin, time.Hour, now)
	wrongKey, _ := Issuer{Key: otherKey, Issuer: LocalIssuer, Audience: LocalAudience}.Token("u1", "acme", Admin, time.Hour, now)
	hmacToken, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, base()).SignedString([]byte("secret"))
	noneToken, _ := jwt.NewWithClaims(jwt.SigningMethodNone, base()).SignedString(jwt.UnsafeAllowNoneSignatureType)

	tests := []struct {
		name   string
		header string
		want   Principal
		err    error
		detail string
	}{
		{name: "valid", header: "Bearer " + good, want: Principal{Subject: "u1", TenantID: "acme", Role: Admin}},
		{name: "scheme is case-insensitive", header: "bearer " + good, want: Principal{Subject: "u1", TenantID: "acme", Role: Admin}},
		{name: "viewer", header: with("role", "viewer"), want: Principal{Subject: "u1", TenantID: "acme", Role: Viewer}},
		{name: "missing", header: "", err: ErrUnauthenticated, detail: "Authorization: Bearer"},
		{name: "basic scheme", header: "Basic dTpw", err: ErrUnauthenticated, detail: "must be 'Bearer <token>'"},
		{name: "empty bearer", header: "Bearer ", err: ErrUnauthenticated, detail: "must be 'Bearer <token>'"},
		{name: "malformed", header: "Bearer not.a.jwt", err: ErrUnauthenticated, detail: "well-formed"},
		{name: "expired", header: with("exp", now.Add(-time.Hour).Unix()), err: ErrUnauthenticated, detail: "expired"},
		{name: "no expiry", header: with("exp", nil), err: ErrUnauthenticated, detail: "exp"},
		{name: "issued in the future", header: with("iat", now.Add(time.Hour).Unix()), err: ErrUnauthenticated, detail: "not valid yet"},
		{name: "wrong key", header: "Bearer " + wrongKey, err: ErrUnauthenticated, detail: "signature"},
		{name: "HS256 (algorithm confusion)", header: "Bearer " + hmacToken, err: ErrUnauthenticated},
		{name: "alg none", header: "Bearer " + noneToken, err: ErrUnauthenticated},
		{name: "wrong issuer", header: with("iss", "https://evil.example"), err: ErrUnauthenticated, detail: "issuer"},
		{name: "wrong audience", header: with("aud", "other-api"), err: ErrUnauthenticated, detail: "audience"},
		{name: "no subject", header: with("sub", nil), err: ErrUnauthenticated, detail: "sub"},
		{name: "no tenant", header: with("tenant_id", nil), err: ErrUnauthenticated, detail: "tenant_id"},
		{name: "tenant with key separator", header: with("tenant_id", "acme#ACCOUNT#1"), err: ErrUnauthenticated, detail: "not a valid tenant ID"},
		{name: "tenant not a string", header: with("tenant_id", 42), err: ErrUnauthenticated, detail: "tenant_id"},
		{name: "no role", header: with("role", nil), err: ErrForbidden, detail: "no role claim"},
		{name: "unknown role", header: with("role", "root"), err: ErrForbidden, detail: `"root"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Authenticate(request(tt.header))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error = %v, want %v", err, tt.err)
				}
				if !strings.Contains(err.Error(), tt.detail) {
					t.Errorf("error %q does not say %q", err, tt.detail)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Authenticate = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestGatewayClaims(t *testing.T) {
	cognito := Claims{Tenant: "custom:tenant_id", Role: "custom:role"}
	withClaims := func(claims map[string]string) *http.Request {
		rc := events.APIGatewayV2HTTPRequestContext{RequestID: "req-1"}
		if claims != nil {
			rc.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
			}
		}
		req, err := (&core.RequestAccessorV2{}).EventToRequestWithContext(context.Background(), events.APIGatewayV2HTTPRequest{
			RawPath: "/v1/tenant", RequestContext: rc,
		})
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	tests := []struct {
		name   string
		claims map[string]string
		want   Principal
		err    error
	}{
		{"verified claims", map[string]string{"sub": "s", "custom:tenant_id": "acme", "custom:role": "viewer"}, Principal{"s", "acme", Viewer}, nil},
		{"no authorizer (route without JWT authorizer)", nil, Principal{}, ErrUnauthenticated},
		{"claims under the default names are not read", map[string]string{"sub": "s", "tenant_id": "acme", "role": "admin"}, Principal{}, ErrUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := GatewayClaims{Claims: cognito}.Authenticate(withClaims(tt.claims))
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Fatalf("Authenticate = %+v, %v; want %+v, %v", got, err, tt.want, tt.err)
			}
		})
	}
	// A request that never went through API Gateway carries no verified claims at all.
	if _, err := (GatewayClaims{}).Authenticate(request("Bearer forged")); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("a bearer header without gateway claims was accepted: %v", err)
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := t.TempDir() + "/k/key.pem"
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Error("the second load returned another key")
	}
}
