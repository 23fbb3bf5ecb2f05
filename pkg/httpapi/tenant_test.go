package httpapi_test

import (
	"net/http"
	"regexp"
	"testing"
)

func TestTenant(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, http.MethodGet, "/v1/tenant", f.viewer, nil)
	if r.Status != http.StatusOK || r.Header.Get("ETag") != `"1"` {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	tenant := r.Map(t)
	if tenant["tenantId"] != "acme" || !regexp.MustCompile(`^gp-[0-9a-f]{32}$`).MatchString(tenant["externalId"].(string)) {
		t.Errorf("tenant = %v", tenant)
	}
	// The tenant exists once: a second read returns the same External ID.
	again := f.do(t, http.MethodGet, "/v1/tenant", f.admin, nil).Map(t)
	if again["externalId"] != tenant["externalId"] || again["createdAt"] != tenant["createdAt"] {
		t.Errorf("second read = %v", again)
	}
	// Each tenant gets its own External ID.
	other := f.do(t, http.MethodGet, "/v1/tenant", f.other, nil).Map(t)
	if other["tenantId"] != "globex" || other["externalId"] == tenant["externalId"] {
		t.Errorf("other tenant = %v", other)
	}

	wantProblem(t, f.do(t, http.MethodPatch, "/v1/tenant", f.admin, map[string]any{"settings": map[string]any{"defaultRegion": "eu-west-1"}}),
		http.StatusPreconditionRequired, "precondition-required")
	wantProblem(t, f.do(t, http.MethodPatch, "/v1/tenant", f.admin, map[string]any{"settings": map[string]any{"defaultRegion": "eu-west-9"}}, "If-Match", `"1"`),
		http.StatusUnprocessableEntity, "validation-failed", "settings.defaultRegion")
	wantProblem(t, f.do(t, http.MethodPatch, "/v1/tenant", f.admin, map[string]any{"externalId": "mine"}, "If-Match", `"1"`),
		http.StatusBadRequest, "malformed-request", "externalId")
	wantProblem(t, f.do(t, http.MethodPatch, "/v1/tenant", f.viewer, map[string]any{"settings": map[string]any{}}, "If-Match", `"1"`),
		http.StatusForbidden, "forbidden")

	r = f.do(t, http.MethodPatch, "/v1/tenant", f.admin, map[string]any{"settings": map[string]any{"defaultRegion": "eu-west-1", "costSyncDefault": false}}, "If-Match", `"1"`)
	if r.Status != http.StatusOK || r.Header.Get("ETag") != `"2"` {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	wantProblem(t, f.do(t, http.MethodPatch, "/v1/tenant", f.admin, map[string]any{"settings": map[string]any{"costSyncDefault": true}}, "If-Match", `"1"`),
		http.StatusPreconditionFailed, "precondition-failed")

	// Bulk activation's stacks in flight: 100 until set, 10-500.
	if r.Map(t)["settings"].(map[string]any)["activationStacksInFlight"] != float64(100) {
		t.Errorf("default stacks in flight: %s", r.Body)
	}
	wantProblem(t, f.do(t, http.MethodPatch, "/v1/tenant", f.admin, map[string]any{"settings": map[string]any{"activationStacksInFlight": 501}}, "If-Match", `"2"`),
		http.StatusUnprocessableEntity, "validation-failed", "settings.activationStacksInFlight")
	r = f.do(t, http.MethodPatch, "/v1/tenant", f.admin, map[string]any{"settings": map[string]any{"activationStacksInFlight": 40}}, "If-Match", `"2"`)
	if r.Status != http.StatusOK || r.Map(t)["settings"].(map[string]any)["activationStacksInFlight"] != float64(40) {
		t.Errorf("set stacks in flight: %d %s", r.Status, r.Body)
	}

	// New accounts now start from the tenant's defaults.
	a := f.mustCreate(t, map[string]any{"name": "Defaults", "accountId": "111111111111", "type": "standalone"})
	if a["region"] != "eu-west-1" || a["costSync"] != false {
		t.Errorf("account ignored the tenant's defaults: %v", a)
	}
}
