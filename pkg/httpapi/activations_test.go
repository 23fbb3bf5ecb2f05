package httpapi_test

import (
	"net/http"
	"testing"
	"time"
)

// TestActivationsAPI: a request starts (once) a bulk activation whose progress is served until it completes; the
// list shows it; cancelling a finished one changes nothing; bad requests are refused.
func TestActivationsAPI(t *testing.T) {
	f := newFixture(t)
	members := f.connectedPayer(t, "760000000001", 3)
	body := map[string]any{"accountIds": members[:2]}
	r := f.do(t, http.MethodPost, "/v1/accounts/760000000001/activations", f.admin, body, "Idempotency-Key", "k1")
	if r.Status != http.StatusAccepted {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	id := r.Map(t)["activationId"].(string)
	if again := f.do(t, http.MethodPost, "/v1/accounts/760000000001/activations", f.admin, body, "Idempotency-Key", "k1"); again.Map(t)["activationId"] != id {
		t.Errorf("a retried request got another activation: %s", again.Body)
	}
	// The activation's own status says when it ended; the bound only turns one that never ends into a failure.
	var progress map[string]any
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(300 * time.Millisecond) {
		progress = f.do(t, http.MethodGet, "/v1/activations/"+id+"?limit=1", f.viewer, nil).Map(t)
		if progress["status"] != "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("activation %s still running after 10 minutes: %v", id, progress)
		}
	}
	if progress["status"] != "completed" || progress["succeeded"] != float64(2) || len(progress["items"].([]any)) != 1 ||
		progress["nextCursor"] == nil || progress["stacksInFlight"] != float64(100) {
		t.Errorf("progress = %v", progress)
	}
	// An Idempotency-Key names its activation for good, after its end too.
	if again := f.do(t, http.MethodPost, "/v1/accounts/760000000001/activations", f.admin, body, "Idempotency-Key", "k1"); again.Status != 202 || again.Map(t)["activationId"] != id {
		t.Errorf("the same Idempotency-Key after the end: %d %s", again.Status, again.Body)
	}
	if list := f.do(t, http.MethodGet, "/v1/activations", f.viewer, nil).Map(t)["items"].([]any); len(list) != 1 {
		t.Errorf("list = %v", list)
	}
	// Another tenant, knowing the id, reaches nothing.
	wantProblem(t, f.do(t, http.MethodGet, "/v1/activations/"+id, f.other, nil), 404, "not-found")
	wantProblem(t, f.do(t, http.MethodDelete, "/v1/activations/"+id, f.other, nil), 404, "not-found")
	if list := f.do(t, http.MethodGet, "/v1/activations", f.other, nil).Map(t)["items"].([]any); len(list) != 0 {
		t.Errorf("another tenant lists %v", list)
	}
	if c := f.do(t, http.MethodDelete, "/v1/activations/"+id, f.admin, nil); c.Status != 200 || c.Map(t)["status"] != "completed" {
		t.Errorf("cancel of a finished activation: %d %s", c.Status, c.Body)
	}
	tests := []struct {
		name, method, path, token string
		body                      any
		status                    int
		problem                   string
	}{
		{"nothing selected", "POST", "/v1/accounts/760000000001/activations", f.admin, map[string]any{}, 422, "validation-failed"},
		{"everything already active", "POST", "/v1/accounts/760000000001/activations", f.admin, map[string]any{"accountIds": members[:2]}, 422, "nothing-selected"},
		{"viewer cannot start", "POST", "/v1/accounts/760000000001/activations", f.viewer, map[string]any{"all": true}, 403, "forbidden"},
		{"unknown activation", "GET", "/v1/activations/act-nope", f.viewer, nil, 404, "not-found"},
		{"unknown field", "POST", "/v1/accounts/760000000001/activations", f.admin, map[string]any{"every": true}, 400, "malformed-request"},
		{"malformed account id", "POST", "/v1/accounts/760000000001/activations", f.admin, map[string]any{"accountIds": []string{"12"}}, 422, "validation-failed"},
		{"too few stacks in flight", "POST", "/v1/accounts/760000000001/activations", f.admin, map[string]any{"all": true, "stacksInFlight": 9}, 422, "validation-failed"},
		{"too many stacks in flight", "POST", "/v1/accounts/760000000001/activations", f.admin, map[string]any{"all": true, "stacksInFlight": 501}, 422, "validation-failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, f.do(t, tc.method, tc.path, tc.token, tc.body), tc.status, tc.problem)
		})
	}
}
