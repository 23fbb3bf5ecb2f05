package inventory_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/inventory"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// TestBadTagsRefused: every violation of AWS's tag rules is a 422 naming the field, nothing is kept, and the
// resource's ETag is unchanged.
func TestBadTagsRefused(t *testing.T) {
	w := newWorld(t, worldOptions{})
	acct := "620000000030"
	arns := w.seed(t, localaws.Seed{Account: acct, Region: "us-east-1", Type: "sns:topic", Prefix: "bad", Count: 1, Tags: map[string]string{"k": "v"}})
	w.connect(t, acct, accounts.TagsWrite)
	w.env.ResetCalls(acct) // connecting probed the level with one harmless UntagResources
	many := map[string]any{}
	for i := range 50 {
		many["key"+strings.Repeat("x", i)] = "v"
	}
	for _, tc := range []struct {
		name  string
		tags  map[string]any
		field string
	}{
		{"key too long", map[string]any{strings.Repeat("k", 129): "v"}, "tags." + strings.Repeat("k", 129)},
		{"value too long", map[string]any{"owner": strings.Repeat("v", 257)}, "tags.owner"},
		{"aws: prefix", map[string]any{"aws:cloudformation:stack-name": "x"}, "tags.aws:cloudformation:stack-name"},
		{"AWS: prefix in capitals", map[string]any{"AWS:thing": nil}, "tags.AWS:thing"},
		{"character AWS refuses", map[string]any{"owner": "a<b"}, "tags.owner"},
		{"more than 50 tags", many, "tags"},
		{"nothing to change", map[string]any{}, "tags"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, etag := w.get(t, arns[0])
			r := w.patch(t, arns[0], etag, tc.tags)
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("%d %s, want 422", r.Status, r.Body)
			}
			var p struct {
				Errors []struct{ Field, Message string }
			}
			r.JSON(t, &p)
			named := false
			for _, e := range p.Errors {
				named = named || e.Field == tc.field
			}
			if !named {
				t.Errorf("errors %s do not name %s", r.Body, tc.field)
			}
			if _, after := w.get(t, arns[0]); after != etag {
				t.Errorf("the refused edit changed the resource (ETag %s → %s)", etag, after)
			}
		})
	}
	if wr := writes(w.env.RoleCalls(acct)); len(wr) != 0 {
		t.Errorf("refused edits reached AWS: %v", wr)
	}
}

// TestInventoryAPIRolesAndRateLimit: viewers read but neither edit tags nor start syncs; an admin's on-demand sync
// is accepted (202) once per interval, then 429 with Retry-After; a stale If-Match is 412, a missing one 428.
func TestInventoryAPIRolesAndRateLimit(t *testing.T) {
	w := newWorld(t, worldOptions{})
	acct := "620000000031"
	arns := w.seed(t, localaws.Seed{Account: acct, Region: "us-east-1", Type: "sqs:queue", Prefix: "roles", Count: 2, Tags: map[string]string{"team": "a"}})
	w.connect(t, acct, accounts.ResourcesTags)
	_, etag := w.get(t, arns[0])
	if r := w.Do(t, testkit.Request{Method: http.MethodPatch, Path: resourcePath(arns[0]), Token: w.viewer, Body: map[string]any{"tags": map[string]any{"x": "y"}},
		Header: map[string]string{"If-Match": etag}}); r.Status != http.StatusForbidden {
		t.Errorf("viewer's tag edit: %d %s", r.Status, r.Body)
	}
	if r := w.Do(t, testkit.Request{Method: http.MethodPost, Path: "/v1/accounts/" + acct + "/resources/sync", Token: w.viewer}); r.Status != http.StatusForbidden {
		t.Errorf("viewer's sync: %d %s", r.Status, r.Body)
	}
	if r := w.Do(t, testkit.Request{Method: http.MethodPatch, Path: resourcePath(arns[0]), Token: w.admin, Body: map[string]any{"tags": map[string]any{"x": "y"}}}); r.Status != http.StatusPreconditionRequired {
		t.Errorf("edit without If-Match: %d %s", r.Status, r.Body)
	}
	if r := w.patch(t, arns[0], etag, map[string]any{"x": "y"}); r.Status != http.StatusOK {
		t.Fatalf("edit: %d %s", r.Status, r.Body)
	}
	if r := w.patch(t, arns[0], etag, map[string]any{"x": "z"}); r.Status != http.StatusPreconditionFailed {
		t.Errorf("edit with a stale If-Match: %d %s", r.Status, r.Body)
	}

	r := w.Do(t, testkit.Request{Method: http.MethodPost, Path: "/v1/accounts/" + acct + "/resources/sync", Token: w.admin})
	if r.Status != http.StatusAccepted {
		t.Fatalf("on-demand sync: %d %s", r.Status, r.Body)
	}
	testkit.WaitIdle(t)
	r = w.Do(t, testkit.Request{Method: http.MethodPost, Path: "/v1/accounts/" + acct + "/resources/sync", Token: w.admin})
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Errorf("a second on-demand sync at once: %d (Retry-After %q) %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	if st := w.status(t, acct); st.Last == nil || st.Last.Trigger != "on_demand" || st.Status != inventory.StatusActive {
		t.Errorf("status after the on-demand sync: %s", mustJSON(st))
	}
	vals := w.Do(t, testkit.Request{Method: http.MethodGet, Path: "/v1/tags/team?accountId=" + acct, Token: w.viewer})
	var kv inventory.KeyValues
	vals.JSON(t, &kv)
	if vals.Status != http.StatusOK || len(kv.Values) != 1 || kv.Values[0].Value != "a" || kv.Values[0].Resources != 2 {
		t.Errorf("values of team: %d %s", vals.Status, vals.Body)
	}
}

// TestInventoryCrossTenant: another tenant's admin meets 404 (or an empty listing, tenant-wide) on every inventory
// endpoint for acme's account and resources, and changes nothing.
func TestInventoryCrossTenant(t *testing.T) {
	w := newWorld(t, worldOptions{})
	acct := "620000000032"
	arns := w.seed(t, localaws.Seed{Account: acct, Region: "us-east-1", Type: "sns:topic", Prefix: "iso", Count: 2, Tags: map[string]string{"env": "prod"}})
	w.connect(t, acct, accounts.TagsWrite)
	w.env.ResetCalls(acct) // connecting probed the level with one harmless UntagResources
	res, etag := w.get(t, arns[0])
	before := w.status(t, acct)
	other := w.Token(t, "globex", auth.Admin)
	enc := resourcePath(arns[0])
	for _, tc := range []struct {
		method, path string
		body         any
		want         int
	}{
		{http.MethodGet, "/v1/accounts/" + acct + "/resources", nil, http.StatusNotFound},
		{http.MethodGet, "/v1/accounts/" + acct + "/resources?tag=env:prod", nil, http.StatusNotFound},
		{http.MethodGet, "/v1/resources?accountId=" + acct, nil, http.StatusNotFound},
		{http.MethodGet, enc, nil, http.StatusNotFound},
		{http.MethodPatch, enc, map[string]any{"tags": map[string]any{"env": "hacked"}}, http.StatusNotFound},
		{http.MethodGet, "/v1/accounts/" + acct + "/resources/sync", nil, http.StatusNotFound},
		{http.MethodPost, "/v1/accounts/" + acct + "/resources/sync", nil, http.StatusNotFound},
		{http.MethodGet, "/v1/tags?accountId=" + acct, nil, http.StatusNotFound},
		{http.MethodGet, "/v1/tags/env?accountId=" + acct, nil, http.StatusNotFound},
		// Tenant-wide reads answer for the caller's own tenant: nothing of acme's.
		{http.MethodGet, "/v1/resources", nil, http.StatusOK},
		{http.MethodGet, "/v1/resources?tag=env:prod", nil, http.StatusOK},
		{http.MethodGet, "/v1/tags", nil, http.StatusOK},
		{http.MethodGet, "/v1/tags/env", nil, http.StatusOK},
	} {
		r := w.Do(t, testkit.Request{Method: tc.method, Path: tc.path, Token: other, Body: tc.body, Header: map[string]string{"If-Match": etag}})
		if r.Status != tc.want {
			t.Errorf("%s %s as another tenant: %d %s, want %d", tc.method, tc.path, r.Status, r.Body, tc.want)
		}
		if tc.want == http.StatusOK && (strings.Contains(string(r.Body), acct) || strings.Contains(string(r.Body), `"prod"`)) {
			t.Errorf("%s %s as another tenant shows acme's data: %s", tc.method, tc.path, r.Body)
		}
	}
	testkit.WaitIdle(t)
	after, afterETag := w.get(t, arns[0])
	if afterETag != etag || mustJSON(after) != mustJSON(res) {
		t.Errorf("another tenant changed acme's resource: %s → %s", mustJSON(res), mustJSON(after))
	}
	if st := w.status(t, acct); st.Last.Seq != before.Last.Seq || st.Run != nil {
		t.Errorf("another tenant started a sync of acme's account: %s", mustJSON(st))
	}
	if wr := writes(w.env.RoleCalls(acct)); len(wr) != 0 {
		t.Errorf("another tenant's edit reached AWS: %v", wr)
	}
}
