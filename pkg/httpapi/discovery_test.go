package httpapi_test

import (
	"net/http"
	"testing"
)

// TestDiscoveryAPI: connecting a management account discovers its organization; the tree, a new run and the
// settings are served, with clear refusals.
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
	run := f.do(t, http.MethodPost, "/v1/accounts/740000000001/discovery", f.admin, nil)
	if run.Status != 200 || run.Map(t)["run"].(map[string]any)["found"] != float64(len(members)) {
		t.Errorf("discovery: %d %s", run.Status, run.Body)
	}
	settings := f.do(t, http.MethodPut, "/v1/accounts/740000000001/discovery/settings", f.admin,
		map[string]any{"excludeAccountIds": []string{members[0]}, "autoEnroll": false})
	if settings.Status != 200 || settings.Map(t)["discovery"].(map[string]any)["memberRoleName"] != "OrganizationAccountAccessRole" {
		t.Errorf("settings: %d %s", settings.Status, settings.Body)
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
