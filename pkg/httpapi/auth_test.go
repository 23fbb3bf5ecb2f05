package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	expired, _ := f.Issuer.Token("u", "acme", auth.Admin, time.Minute, time.Now().Add(-2*time.Hour))
	otherKey, _ := auth.NewKey()
	forged, _ := auth.Issuer{Key: otherKey, Issuer: auth.LocalIssuer, Audience: auth.LocalAudience}.Token("u", "acme", auth.Admin, time.Hour, time.Now())
	tests := []struct {
		name, header string
		status       int
		detail       string
	}{
		{"no token", "", 401, "Authorization: Bearer"},
		{"malformed", "Bearer abc", 401, "well-formed"},
		{"expired", "Bearer " + expired, 401, "expired"},
		{"wrongly signed", "Bearer " + forged, 401, "signature"},
		{"not bearer", "Token " + expired, 401, "Bearer <token>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/v1/tenant", "/v1/accounts", "/v1/audit", "/v1/accounts/111111111111"} {
				r := f.Do(t, testkit.Request{Method: http.MethodGet, Path: path, Header: map[string]string{"Authorization": tt.header}})
				p := wantProblem(t, r, tt.status, "unauthenticated")
				if !strings.Contains(p["detail"].(string), tt.detail) {
					t.Errorf("%s: detail %q lacks %q", path, p["detail"], tt.detail)
				}
				if r.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: 401 without WWW-Authenticate", path)
				}
			}
		})
	}
	// A rejected token creates no tenant: the first valid request does.
	var page struct{ Items []any }
	f.do(t, http.MethodGet, "/v1/audit", f.admin, nil).JSON(t, &page)
	if len(page.Items) != 1 {
		t.Errorf("audit has %d entries; want only the tenant's creation", len(page.Items))
	}
}

func TestViewerCannotWrite(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Payer", "111111111111", "management"))
	writes := []testkit.Request{
		{Method: http.MethodPost, Path: "/v1/accounts", Body: account("V", "222222222222", "standalone")},
		{Method: http.MethodPatch, Path: "/v1/accounts/111111111111", Body: map[string]any{"name": "V"}, Header: map[string]string{"If-Match": "*"}},
		{Method: http.MethodDelete, Path: "/v1/accounts/111111111111?confirm=Payer"},
		{Method: http.MethodPatch, Path: "/v1/tenant", Body: map[string]any{}, Header: map[string]string{"If-Match": "*"}},
	}
	for _, w := range writes {
		w.Token = f.viewer
		wantProblem(t, f.Do(t, w), http.StatusForbidden, "forbidden")
	}
	if a := f.do(t, http.MethodGet, "/v1/accounts/111111111111", f.viewer, nil).Map(t); a["version"] != float64(1) {
		t.Errorf("a viewer's refused writes changed the account: %v", a)
	}
}
