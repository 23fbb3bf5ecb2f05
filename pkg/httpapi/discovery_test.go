package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gangplank/gangplank/pkg/discovery"
)

// TestDiscoveryAPI: connecting a management account discovers its organization; the tree is served; a new discovery
// starts a job and answers at once (202, Location), and the job's progress and result are read by its id, by the tenant's viewers too, never by another tenant; with clear
// refusals.
func TestDiscoveryAPI(t *testing.T) {
	f := newFixture(t)
	members := f.connectedPayer(t, "740000000001", 5)

	view := f.do(t, http.MethodGet, "/v1/accounts/740000000001/organization", f.viewer, nil)
	if view.Status != 200 {
		t.Fatalf("organization: %d %s", view.Status, view.Body)
	}
	v := view.Map(t)
	if accts := v["accounts"].([]any); len(accts) != len(members) || accts[0].(map[string]any)["status"] != "not_activated" {
		t.Errorf("organization accounts = %v", v["accounts"])
	}
	start := f.do(t, http.MethodPost, "/v1/accounts/740000000001/discovery", f.admin, nil)
	job := start.Map(t)
	id, _ := job["id"].(string)
	if start.Status != http.StatusAccepted || !discovery.ValidJobID(id) || start.Header.Get("Location") != "/v1/discoveries/"+id ||
		job["kind"] != "organization" || job["trigger"] != "api" {
		t.Fatalf("discovery: %d %v %s", start.Status, start.Header, start.Body)
	}
	f.WaitJob(t, "acme", id, 2*time.Minute)
	got := f.do(t, http.MethodGet, "/v1/discoveries/"+id, f.viewer, nil)
	if got.Status != 200 || got.Map(t)["status"] != "succeeded" || got.Map(t)["run"].(map[string]any)["found"] != float64(len(members)) ||
		got.Map(t)["progress"].(map[string]any)["accountsRead"] != float64(len(members)+1) {
		t.Errorf("the job: %d %s", got.Status, got.Body)
	}
	wantProblem(t, f.do(t, http.MethodGet, "/v1/discoveries/"+id, f.other, nil), 404, "not-found")
	settings := f.do(t, http.MethodPut, "/v1/accounts/740000000001/discovery/settings", f.admin,
		map[string]any{"excludeAccountIds": []string{members[0]}, "autoEnroll": false})
	if settings.Status != 200 || settings.Map(t)["discovery"].(map[string]any)["memberRoleName"] != "OrganizationAccountAccessRole" {
		t.Errorf("settings: %d %s", settings.Status, settings.Body)
	}
	// A linked account may come first, naming no management account: its own role finds it once connected.
	if r := f.do(t, http.MethodPost, "/v1/accounts", f.admin, account("First", "740000000007", "linked")); r.Status != http.StatusCreated {
		t.Errorf("a linked account without its management account: %d %s", r.Status, r.Body)
	}
	f.mustCreate(t, account("Solo", "740000000009", "standalone"))
	f.mustCreate(t, account("Fresh payer", "740000000008", "management"))
	tests := []struct {
		name, method, path, token string
		body                      any
		status                    int
		problem                   string
	}{
		{"viewer cannot discover", "POST", "/v1/accounts/740000000001/discovery", f.viewer, nil, 403, "forbidden"},
		{"standalone account", "POST", "/v1/accounts/740000000009/discovery", f.admin, nil, 422, "not-a-management-account"},
		{"not connected yet", "POST", "/v1/accounts/740000000008/discovery", f.admin, nil, 409, "not-connected"},
		{"another tenant's organization", "POST", "/v1/accounts/740000000001/discovery", f.other, nil, 404, "not-found"},
		{"no such job", "GET", "/v1/discoveries/20260101T000000-0123456789ab", f.admin, nil, 404, "not-found"},
		{"not a job id", "GET", "/v1/discoveries/..%2Faccounts", f.admin, nil, 404, "not-found"},
		{"never discovered", "GET", "/v1/accounts/740000000008/organization", f.admin, nil, 404, "never-discovered"},
		{"bad OU id", "PUT", "/v1/accounts/740000000001/discovery/settings", f.admin, map[string]any{"includeOuIds": []string{"prod"}}, 422, "validation-failed"},
		{"unknown field", "PUT", "/v1/accounts/740000000001/discovery/settings", f.admin, map[string]any{"ous": []string{}}, 400, "malformed-request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, f.do(t, tc.method, tc.path, tc.token, tc.body), tc.status, tc.problem)
		})
	}
}
