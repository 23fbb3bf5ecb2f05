package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gangplank/gangplank/pkg/testkit"
)

// TestTenantIsolation: for every endpoint, another tenant's caller gets 404 (or sees only its own data) and changes
// nothing of acme's. The tenant always comes from the token; nothing in a request can point elsewhere.
func TestTenantIsolation(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Payer", "111111111111", "management"))
	f.mustCreate(t, account("Dev", "222222222222", "linked", "managementAccountId", "111111111111"))
	acmeCursor := f.do(t, http.MethodGet, "/v1/accounts?limit=1", f.admin, nil).Map(t)["nextCursor"].(string)
	// acme's activation id is derived from its request: globex cannot reach it even knowing it.
	acmeActivation := "act-000000000000000000000000"
	// An ARN in acme's account, URL-encoded as the API takes it: globex meets 404 whether or not it exists.
	acmeResource := url.PathEscape("arn:aws:sns:us-east-1:111111111111:orders")
	before := f.snapshot(t)

	tests := []struct {
		name   string
		req    testkit.Request
		status int
		check  func(t *testing.T, r *testkit.Response)
	}{
		{name: "GET account", req: testkit.Request{Method: "GET", Path: "/v1/accounts/111111111111"}, status: 404},
		{name: "PATCH account", req: testkit.Request{Method: "PATCH", Path: "/v1/accounts/111111111111",
			Body: map[string]any{"name": "Hijacked"}, Header: map[string]string{"If-Match": "*"}}, status: 404},
		{name: "PUT acme's integration settings", req: testkit.Request{Method: "PUT", Path: "/v1/accounts/111111111111/integration",
			Body: map[string]any{"integrationName": "hijacked", "owners": []string{"evil@example.com"}}, Header: map[string]string{"If-Match": "*"}}, status: 404},
		{name: "DELETE account", req: testkit.Request{Method: "DELETE", Path: "/v1/accounts/222222222222?confirm=Dev"}, status: 404},
		{name: "list accounts", req: testkit.Request{Method: "GET", Path: "/v1/accounts"}, status: 200,
			check: func(t *testing.T, r *testkit.Response) { wantNoItems(t, r) }},
		{name: "list linked accounts of acme's management account", req: testkit.Request{Method: "GET", Path: "/v1/accounts?managementAccountId=111111111111"}, status: 200,
			check: func(t *testing.T, r *testkit.Response) { wantNoItems(t, r) }},
		{name: "list with acme's cursor", req: testkit.Request{Method: "GET", Path: "/v1/accounts?limit=1&cursor=" + acmeCursor}, status: 400},
		{name: "link under acme's management account", req: testkit.Request{Method: "POST", Path: "/v1/accounts",
			Body: account("Sneaky", "333333333333", "linked", "managementAccountId", "111111111111")}, status: 422},
		{name: "claim acme's account", req: testkit.Request{Method: "POST", Path: "/v1/accounts", Body: account("Mine", "111111111111", "management")}, status: 409,
			check: func(t *testing.T, r *testkit.Response) {
				if strings.Contains(string(r.Body), "acme") || strings.Contains(string(r.Body), "Payer") {
					t.Errorf("refusal leaks acme's data: %s", r.Body)
				}
			}},
		{name: "onboarding instructions", req: testkit.Request{Method: "GET", Path: "/v1/accounts/111111111111/onboarding"}, status: 404},
		{name: "connect acme's account", req: testkit.Request{Method: "POST", Path: "/v1/accounts/111111111111/connect",
			Body: map[string]any{"roleArn": "arn:aws:iam::111111111111:role/GangplankAccess"}}, status: 404},
		{name: "verify acme's account", req: testkit.Request{Method: "POST", Path: "/v1/accounts/111111111111/verify"}, status: 404},
		{name: "rotate the External ID", req: testkit.Request{Method: "POST", Path: "/v1/tenant/external-id/rotate"}, status: 200,
			check: func(t *testing.T, r *testkit.Response) {
				if r.Map(t)["tenantId"] != "globex" {
					t.Errorf("rotated tenant = %s", r.Body)
				}
			}},
		{name: "sync acme's recommendations", req: testkit.Request{Method: "POST", Path: "/v1/accounts/111111111111/recommendations/sync"}, status: 404},
		{name: "acme's recommendations", req: testkit.Request{Method: "GET", Path: "/v1/accounts/111111111111/recommendations"}, status: 404},
		{name: "tenant recommendations", req: testkit.Request{Method: "GET", Path: "/v1/recommendations"}, status: 200,
			check: func(t *testing.T, r *testkit.Response) { wantNoItems(t, r) }},
		{name: "acme's commitment", req: testkit.Request{Method: "GET", Path: "/v1/accounts/111111111111/commitment"}, status: 404},
		{name: "set acme's commitment", req: testkit.Request{Method: "PUT", Path: "/v1/accounts/111111111111/commitment",
			Body: map[string]any{"amount": 1, "start": "2026-01-01", "end": "2027-01-01"}}, status: 404},
		{name: "acme's commitment without spend", req: testkit.Request{Method: "GET", Path: "/v1/accounts/111111111111/commitment?spend=false"}, status: 404},
		{name: "delete acme's commitment", req: testkit.Request{Method: "DELETE", Path: "/v1/accounts/111111111111/commitment"}, status: 404},
		{name: "acme's account as Terraform", req: testkit.Request{Method: "GET", Path: "/v1/accounts/111111111111/terraform"}, status: 404},
		{name: "disconnect acme's account", req: testkit.Request{Method: "POST", Path: "/v1/accounts/111111111111/disconnect"}, status: 404},
		{name: "discover acme's organization", req: testkit.Request{Method: "POST", Path: "/v1/accounts/111111111111/discovery"}, status: 404},
		{name: "read a discovery job", req: testkit.Request{Method: "GET", Path: "/v1/discoveries/20260101T000000-0123456789ab"}, status: 404},
		{name: "acme's organization", req: testkit.Request{Method: "GET", Path: "/v1/accounts/111111111111/organization"}, status: 404},
		{name: "acme's discovery settings", req: testkit.Request{Method: "PUT", Path: "/v1/accounts/111111111111/discovery/settings",
			Body: map[string]any{"autoEnroll": true}}, status: 404},
		{name: "activate acme's accounts", req: testkit.Request{Method: "POST", Path: "/v1/accounts/111111111111/activations",
			Body: map[string]any{"all": true}}, status: 404},
		{name: "activations", req: testkit.Request{Method: "GET", Path: "/v1/activations"}, status: 200,
			check: func(t *testing.T, r *testkit.Response) { wantNoItems(t, r) }},
		{name: "acme's activation", req: testkit.Request{Method: "GET", Path: "/v1/activations/" + acmeActivation}, status: 404},
		{name: "cancel acme's activation", req: testkit.Request{Method: "DELETE", Path: "/v1/activations/" + acmeActivation}, status: 404},
		{name: "acme's resources", req: testkit.Request{Method: "GET", Path: "/v1/accounts/111111111111/resources"}, status: 404},
		{name: "acme's inventory status", req: testkit.Request{Method: "GET", Path: "/v1/accounts/111111111111/resources/sync"}, status: 404},
		{name: "sync acme's inventory", req: testkit.Request{Method: "POST", Path: "/v1/accounts/111111111111/resources/sync"}, status: 404},
		{name: "resources of acme's account", req: testkit.Request{Method: "GET", Path: "/v1/resources?accountId=111111111111"}, status: 404},
		{name: "tenant resources", req: testkit.Request{Method: "GET", Path: "/v1/resources"}, status: 200, check: wantNoItems},
		{name: "acme's resource", req: testkit.Request{Method: "GET", Path: "/v1/resources/" + acmeResource}, status: 404},
		{name: "tag acme's resource", req: testkit.Request{Method: "PATCH", Path: "/v1/resources/" + acmeResource,
			Body: map[string]any{"tags": map[string]any{"env": "hacked"}}, Header: map[string]string{"If-Match": "*"}}, status: 404},
		{name: "tag keys of acme's account", req: testkit.Request{Method: "GET", Path: "/v1/tags?accountId=111111111111"}, status: 404},
		{name: "tenant tag keys", req: testkit.Request{Method: "GET", Path: "/v1/tags"}, status: 200, check: wantNoItems},
		{name: "tenant tag values", req: testkit.Request{Method: "GET", Path: "/v1/tags/env"}, status: 200,
			check: func(t *testing.T, r *testkit.Response) {
				if v := r.Map(t)["values"].([]any); len(v) != 0 {
					t.Errorf("another tenant sees %d values: %s", len(v), r.Body)
				}
			}},
		{name: "audit trail", req: testkit.Request{Method: "GET", Path: "/v1/audit"}, status: 200,
			check: func(t *testing.T, r *testkit.Response) {
				if strings.Contains(string(r.Body), "111111111111") || strings.Contains(string(r.Body), "acme") {
					t.Errorf("globex's audit trail shows acme's entries: %s", r.Body)
				}
			}},
		{name: "tenant", req: testkit.Request{Method: "GET", Path: "/v1/tenant"}, status: 200,
			check: func(t *testing.T, r *testkit.Response) {
				if r.Map(t)["tenantId"] != "globex" {
					t.Errorf("tenant = %s", r.Body)
				}
			}},
		{name: "tenant settings", req: testkit.Request{Method: "PATCH", Path: "/v1/tenant",
			Body: map[string]any{"settings": map[string]any{"defaultRegion": "ap-south-1"}}, Header: map[string]string{"If-Match": "*"}}, status: 200,
			check: func(t *testing.T, r *testkit.Response) {
				if r.Map(t)["tenantId"] != "globex" {
					t.Errorf("tenant = %s", r.Body)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Token = f.other
			r := f.Do(t, tt.req)
			if r.Status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.Status, tt.status, r.Body)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
	if after := f.snapshot(t); after != before {
		t.Errorf("acme's data changed through globex's requests:\nbefore %s\nafter  %s", before, after)
	}
}

// snapshot is acme's accounts, tenant and audit trail as the API shows them.
func (f *fixture) snapshot(t *testing.T) string {
	var b strings.Builder
	for _, p := range []string{"/v1/accounts", "/v1/tenant", "/v1/audit"} {
		r := f.do(t, http.MethodGet, p, f.admin, nil)
		b.Write(r.Body)
	}
	return b.String()
}

func wantNoItems(t *testing.T, r *testkit.Response) {
	t.Helper()
	if items := r.Map(t)["items"].([]any); len(items) != 0 {
		t.Errorf("another tenant sees %d items: %s", len(items), r.Body)
	}
}
