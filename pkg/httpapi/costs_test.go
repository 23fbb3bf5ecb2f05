package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gangplank/gangplank/pkg/testkit"
)

// connectedPayer adds a management account with an organization of members and connects it with a role made
// from its manual instructions, and waits for the discovery its activation starts; it returns the members.
func (f *fixture) connectedPayer(t *testing.T, id string, members int) []string {
	t.Helper()
	ids := testkit.NewOrganization(t, id, members)
	created := f.mustCreate(t, account("Payer "+id, id, "management"))
	role := f.CreateRole(t, instructions(t, created["onboarding"]))
	if r := f.do(t, http.MethodPost, "/v1/accounts/"+id+"/connect", f.admin, map[string]any{"roleArn": role}); r.Status != 200 {
		t.Fatalf("connect: %d %s", r.Status, r.Body)
	}
	f.WaitDiscovery(t, "acme", id)
	return ids
}

// TestRecommendations: an on-demand sync of a payer reads every service and plan type in a fixed number of
// requests, and the recommendations are listed per account (a linked account's from its payer), across the tenant
// (paginated, sorted by savings), filtered, and rate-limited.
func TestRecommendations(t *testing.T) {
	f := newFixture(t)
	members := f.connectedPayer(t, "710000000001", 12)
	linked := members[0] // discovered (not_activated) when the payer was connected

	r := f.do(t, http.MethodPost, "/v1/accounts/710000000001/recommendations/sync", f.admin, nil)
	if r.Status != http.StatusAccepted {
		t.Fatalf("sync: %d %s", r.Status, r.Body)
	}
	sync := r.Map(t)["sync"].(map[string]any)
	if sync["status"] != "ok" || sync["calls"] != float64(12) || sync["count"].(float64) == 0 {
		t.Errorf("sync status = %v (want ok, 12 calls: 8 reservation services + 4 Savings Plans types)", sync)
	}
	total := sync["count"].(float64)

	again := f.do(t, http.MethodPost, "/v1/accounts/710000000001/recommendations/sync", f.admin, nil)
	wantProblem(t, again, http.StatusTooManyRequests, "sync-rate-limited")
	if again.Header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}

	// One linked account's recommendations come from its payer's sync.
	acct := f.do(t, http.MethodGet, "/v1/accounts/"+linked+"/recommendations", f.viewer, nil).Map(t)
	items := acct["items"].([]any)
	for _, it := range items {
		if rec := it.(map[string]any); rec["accountId"] != linked || rec["payerAccountId"] != "710000000001" {
			t.Errorf("foreign recommendation in the account's listing: %v", rec)
		}
	}
	if acct["totals"].(map[string]any)["count"] != float64(len(items)) {
		t.Errorf("totals = %v for %d items", acct["totals"], len(items))
	}

	// Across the tenant: every recommendation once, highest savings first, a page at a time.
	seen, last, cursor := 0, 1e18, ""
	for pages := 0; pages < 100; pages++ {
		path := "/v1/recommendations?limit=7"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		page := f.do(t, http.MethodGet, path, f.viewer, nil).Map(t)
		for _, it := range page["items"].([]any) {
			s := it.(map[string]any)["estimatedMonthlySavings"].(float64)
			if s > last {
				t.Fatalf("not sorted by savings: %v after %v", s, last)
			}
			last = s
			seen++
		}
		next, _ := page["nextCursor"].(string)
		if cursor = next; cursor == "" {
			break
		}
	}
	if float64(seen) != total {
		t.Errorf("the tenant listing shows %d recommendations, the sync stored %v", seen, total)
	}

	rds := f.do(t, http.MethodGet, "/v1/recommendations?service=rds&term=ONE_YEAR", f.viewer, nil).Map(t)
	for _, it := range rds["items"].([]any) {
		if it.(map[string]any)["service"] != "rds" {
			t.Errorf("filter leaked %v", it)
		}
	}
	tests := []struct {
		name, method, path string
		status             int
		problem            string
	}{
		{"unknown term", "GET", "/v1/recommendations?term=FIVE_YEARS", 400, "malformed-request"},
		{"unknown payment option", "GET", "/v1/recommendations?paymentOption=LATER", 400, "malformed-request"},
		{"unknown service", "GET", "/v1/accounts/710000000001/recommendations?service=lightsail", 400, "malformed-request"},
		{"unknown parameter", "GET", "/v1/recommendations?sort=asc", 400, "malformed-request"},
		{"forged cursor", "GET", "/v1/recommendations?cursor=abc", 400, "invalid-cursor"},
		{"linked account is not a payer", "POST", "/v1/accounts/" + linked + "/recommendations/sync", 422, "not-a-payer"},
		{"viewer cannot sync", "POST", "/v1/accounts/710000000001/recommendations/sync", 403, "forbidden"},
		{"unknown account", "GET", "/v1/accounts/999999999999/recommendations", 404, "not-found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token := f.admin
			if tc.problem == "forbidden" {
				token = f.viewer
			}
			wantProblem(t, f.do(t, tc.method, tc.path, token, nil), tc.status, tc.problem)
		})
	}
}

// TestCommitment: an EDP commitment on a management account reports spend to date (Cost Explorer, monthly, at
// payer level) against its straight-line target.
func TestCommitment(t *testing.T) {
	f := newFixture(t)
	f.connectedPayer(t, "710000000002", 3)
	wantProblem(t, f.do(t, http.MethodGet, "/v1/accounts/710000000002/commitment", f.admin, nil), 404, "no-commitment")
	body := map[string]any{"amount": 1200000, "start": "2026-01-01", "end": "2028-12-31"}
	r := f.do(t, http.MethodPut, "/v1/accounts/710000000002/commitment", f.admin, body)
	if r.Status != 200 || r.Map(t)["currency"] != "USD" {
		t.Fatalf("put commitment: %d %s", r.Status, r.Body)
	}
	rep := f.do(t, http.MethodGet, "/v1/accounts/710000000002/commitment", f.viewer, nil).Map(t)
	months := rep["months"].([]any)
	if len(months) < 10 || rep["spendToDate"].(float64) <= 0 || rep["targetToDate"].(float64) <= 0 || rep["calls"].(float64) < 1 {
		t.Errorf("report = %v", rep)
	}
	elapsed := rep["elapsedFraction"].(float64)
	if want := 1200000 * elapsed; rep["targetToDate"].(float64)-want > 0.01 || want-rep["targetToDate"].(float64) > 0.01 {
		t.Errorf("target %v, want %v", rep["targetToDate"], want)
	}
	for _, tc := range []struct {
		name   string
		body   map[string]any
		fields string
	}{
		{"negative amount", map[string]any{"amount": -1, "start": "2026-01-01", "end": "2027-01-01"}, "amount"},
		{"ends before it starts", map[string]any{"amount": 1, "start": "2027-01-01", "end": "2026-01-01"}, "end"},
		{"not a date", map[string]any{"amount": 1, "start": "January", "end": "2027-01-01"}, "start"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, f.do(t, http.MethodPut, "/v1/accounts/710000000002/commitment", f.admin, tc.body), 422, "validation-failed", tc.fields)
		})
	}
	if audit := f.do(t, http.MethodGet, "/v1/audit?limit=1", f.admin, nil); !strings.Contains(string(audit.Body), "commitment.set") {
		t.Errorf("no audit entry for the commitment: %s", audit.Body)
	}
}

// TestRecommendationSettings: the tenant's recommendation settings are validated field by field, and kept.
func TestRecommendationSettings(t *testing.T) {
	f := newFixture(t)
	patch := func(rec map[string]any) *testkit.Response {
		return f.do(t, http.MethodPatch, "/v1/tenant", f.admin, map[string]any{"settings": map[string]any{"recommendations": rec}}, "If-Match", "*")
	}
	tests := []struct {
		name  string
		rec   map[string]any
		field string
	}{
		{"unknown term", map[string]any{"terms": []string{"FIVE_YEARS"}}, "settings.recommendations.terms"},
		{"unknown payment option", map[string]any{"paymentOptions": []string{"LATER"}}, "settings.recommendations.paymentOptions"},
		{"lookback Cost Explorer does not offer", map[string]any{"lookbackDays": 14}, "settings.recommendations.lookbackDays"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, patch(tc.rec), 422, "validation-failed", tc.field)
		})
	}
	r := patch(map[string]any{"terms": []string{"ONE_YEAR", "THREE_YEARS"}, "paymentOptions": []string{"ALL_UPFRONT"}, "lookbackDays": 60})
	rec := r.Map(t)["settings"].(map[string]any)["recommendations"].(map[string]any)
	if r.Status != 200 || rec["lookbackDays"] != float64(60) || len(rec["terms"].([]any)) != 2 {
		t.Errorf("settings = %d %s", r.Status, r.Body)
	}
}
