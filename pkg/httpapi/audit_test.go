package httpapi_test

import (
	"net/http"
	"testing"
)

func TestAuditTrail(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Payer", "111111111111", "management"))
	f.do(t, http.MethodPatch, "/v1/accounts/111111111111", f.admin, map[string]any{"name": "Payer EU", "costSync": false}, "If-Match", `"1"`)
	f.do(t, http.MethodDelete, "/v1/accounts/111111111111?confirm=Payer%20EU", f.admin, nil)
	// A refused change leaves no trace.
	f.do(t, http.MethodPatch, "/v1/accounts/111111111111", f.admin, map[string]any{"name": "x"}, "If-Match", `"1"`)

	r := f.do(t, http.MethodGet, "/v1/audit", f.viewer, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	var page struct {
		Items []struct {
			Action, Target, RequestID string
			Actor                     struct{ Type, ID, Role string }
			Changes                   []struct {
				Field    string
				From, To any
			}
		}
	}
	r.JSON(t, &page)
	var actions []string
	for _, e := range page.Items {
		actions = append(actions, e.Action)
	}
	want := []string{"account.deleted", "account.updated", "account.created", "tenant.created"}
	if len(actions) != len(want) {
		t.Fatalf("actions = %v, want %v (newest first)", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Fatalf("actions = %v, want %v (newest first)", actions, want)
		}
	}
	upd := page.Items[1]
	if upd.Actor.Type != "user" || upd.Actor.ID != "user-acme-admin" || upd.Actor.Role != "admin" || upd.Target != "account/111111111111" || upd.RequestID == "" {
		t.Errorf("update entry = %+v", upd)
	}
	if len(upd.Changes) != 2 || upd.Changes[0].Field != "name" || upd.Changes[0].From != "Payer" || upd.Changes[0].To != "Payer EU" ||
		upd.Changes[1].Field != "costSync" || upd.Changes[1].From != true || upd.Changes[1].To != false {
		t.Errorf("changes = %+v", upd.Changes)
	}
	del := page.Items[0]
	if len(del.Changes) == 0 || del.Changes[0].To != nil {
		t.Errorf("a deletion records the account as it was: %+v", del.Changes)
	}

	// Pagination: one entry a page, newest first, four pages.
	var seen []string
	cursor := ""
	for i := 0; i < 10; i++ {
		path := "/v1/audit?limit=1"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		var p struct {
			Items      []struct{ Action string }
			NextCursor string
		}
		f.do(t, http.MethodGet, path, f.admin, nil).JSON(t, &p)
		for _, it := range p.Items {
			seen = append(seen, it.Action)
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if len(seen) != 4 || seen[0] != "account.deleted" || seen[3] != "tenant.created" {
		t.Errorf("paged actions = %v", seen)
	}
	wantProblem(t, f.do(t, http.MethodGet, "/v1/audit?limit=1000", f.admin, nil), http.StatusBadRequest, "malformed-request", "limit")
	wantProblem(t, f.do(t, http.MethodGet, "/v1/audit?from=yesterday", f.admin, nil), http.StatusBadRequest, "malformed-request", "from")
}
