package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/store"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestCreateAccount(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, http.MethodPost, "/v1/accounts", f.admin,
		map[string]any{"name": "Payer", "accountId": "011111111111", "type": "management", "region": "eu-west-1", "costSync": false})
	if r.Status != http.StatusCreated {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	a := r.Map(t)
	want := map[string]any{"accountId": "011111111111", "name": "Payer", "type": "management", "status": "pending",
		"statusReason": "", "region": "eu-west-1", "accessLevel": "resources", "costSync": false, "version": float64(1)}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("%s = %v, want %v", k, a[k], v)
		}
	}
	if _, ok := a["managementAccountId"]; ok {
		t.Error("a management account shows a managementAccountId")
	}
	if r.Header.Get("Location") != "/v1/accounts/011111111111" || r.Header.Get("ETag") != `"1"` {
		t.Errorf("Location %q, ETag %q", r.Header.Get("Location"), r.Header.Get("ETag"))
	}
	// The linked account of that management account.
	l := f.mustCreate(t, account("Dev", "222222222222", "linked", "managementAccountId", "011111111111"))
	if l["managementAccountId"] != "011111111111" || l["costSync"] != true {
		t.Errorf("linked = %v", l)
	}
}

func TestCreateAccountRefusals(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Payer", "111111111111", "management"))
	f.mustCreate(t, account("Solo", "333333333333", "standalone"))
	big := `{"name":"` + strings.Repeat("x", 70<<10) + `"}`
	tests := []struct {
		name        string
		body        any
		contentType string
		status      int
		typ         string
		fields      []string
	}{
		{name: "every field wrong", body: map[string]any{"name": "", "accountId": "12", "type": "payer", "region": "moon-1", "accessLevel": "root"},
			status: 422, typ: "validation-failed", fields: []string{"name", "accountId", "type", "region", "accessLevel"}},
		{name: "missing everything", body: map[string]any{}, status: 422, typ: "validation-failed", fields: []string{"name", "accountId", "type", "region"}},
		{name: "account ID as a number", body: `{"name":"n","accountId":123456789012,"type":"standalone","region":"us-east-1"}`,
			status: 400, typ: "malformed-request", fields: []string{"accountId"}},
		{name: "costSync as a string", body: `{"name":"n","accountId":"123456789012","type":"standalone","region":"us-east-1","costSync":"yes"}`,
			status: 400, typ: "malformed-request", fields: []string{"costSync"}},
		{name: "unknown field", body: `{"name":"n","accountId":"123456789012","type":"standalone","region":"us-east-1","role":"x"}`,
			status: 400, typ: "malformed-request", fields: []string{"role"}},
		{name: "not JSON", body: `{"name":`, status: 400, typ: "malformed-request"},
		{name: "syntax error", body: `{"name" "x"}`, status: 400, typ: "malformed-request"},
		{name: "an array", body: `[1,2]`, status: 400, typ: "malformed-request"},
		{name: "two objects", body: `{"name":"a"} {"name":"b"}`, status: 400, typ: "malformed-request"},
		{name: "empty body", body: ``, status: 400, typ: "malformed-request"},
		{name: "too large", body: big, status: 413, typ: "payload-too-large"},
		{name: "text/plain", body: `{}`, contentType: "text/plain", status: 415, typ: "unsupported-media-type"},
		{name: "latin-1 JSON", body: `{}`, contentType: "application/json; charset=iso-8859-1", status: 415, typ: "unsupported-media-type"},
		{name: "no content type", body: `{}`, contentType: "-", status: 415, typ: "unsupported-media-type"},
		{name: "linked to an unknown management account", body: account("L", "444444444444", "linked", "managementAccountId", "999999999999"),
			status: 422, typ: "validation-failed", fields: []string{"managementAccountId"}},
		{name: "linked to a standalone account", body: account("L", "444444444444", "linked", "managementAccountId", "333333333333"),
			status: 422, typ: "validation-failed", fields: []string{"managementAccountId"}},
		{name: "same account again", body: account("Again", "111111111111", "standalone"), status: 409, typ: "account-taken"},
		{name: "name taken, other case", body: account("PAYER", "555555555555", "standalone"), status: 409, typ: "name-taken", fields: []string{"name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := testkit.Request{Method: http.MethodPost, Path: "/v1/accounts", Token: f.admin, Body: tt.body, Header: map[string]string{}}
			if tt.body == "" {
				req.Body = []byte{}
			}
			switch tt.contentType {
			case "":
			case "-":
				req.Header["Content-Type"] = ""
			default:
				req.Header["Content-Type"] = tt.contentType
			}
			wantProblem(t, f.Do(t, req), tt.status, tt.typ, tt.fields...)
		})
	}
	// Nothing was half-written by any refusal: the two original accounts are all there is, and the failed
	// claims (444…, 555…) are free for another tenant.
	list := f.do(t, http.MethodGet, "/v1/accounts", f.admin, nil).Map(t)
	if n := len(list["items"].([]any)); n != 2 {
		t.Errorf("%d accounts after refusals, want 2", n)
	}
	for _, id := range []string{"444444444444", "555555555555"} {
		if r := f.do(t, http.MethodPost, "/v1/accounts", f.other, account("Mine "+id, id, "standalone")); r.Status != http.StatusCreated {
			t.Errorf("%s stayed claimed after a refused create: %d %s", id, r.Status, r.Body)
		}
	}
}

func TestAccountClaimedByAnotherTenant(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Payer", "111111111111", "management"))
	r := f.do(t, http.MethodPost, "/v1/accounts", f.other, account("Mine", "111111111111", "management"))
	p := wantProblem(t, r, http.StatusConflict, "account-taken")
	if strings.Contains(string(r.Body), "acme") {
		t.Errorf("the refusal names the tenant holding the account: %s", r.Body)
	}
	if !strings.Contains(p["detail"].(string), "another organisation") {
		t.Errorf("detail = %v", p["detail"])
	}
}

func TestListAccounts(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Payer", "100000000000", "management"))
	f.mustCreate(t, account("Other payer", "100000000001", "management"))
	for i := 0; i < 7; i++ {
		f.mustCreate(t, account(fmt.Sprintf("Member %d", i), fmt.Sprintf("2000000000%02d", i), "linked", "managementAccountId", "100000000000"))
	}
	f.mustCreate(t, account("Member of other", "300000000000", "linked", "managementAccountId", "100000000001"))
	f.mustCreate(t, account("Solo", "400000000000", "standalone"))
	// One account moves to active, so status filters have two populations.
	f.setStatus(t, "200000000003", "active")
	f.setStatus(t, "400000000000", "active")

	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"100000000000", "100000000001", "200000000000", "200000000001", "200000000002", "200000000003", "200000000004", "200000000005", "200000000006", "300000000000", "400000000000"}},
		{"type=management", []string{"100000000000", "100000000001"}},
		{"type=standalone", []string{"400000000000"}},
		{"status=active", []string{"200000000003", "400000000000"}},
		{"status=active&type=linked", []string{"200000000003"}},
		{"status=pending&type=standalone", nil},
		{"managementAccountId=100000000001", []string{"300000000000"}},
		{"managementAccountId=100000000000&status=active", []string{"200000000003"}},
		{"managementAccountId=100000000000&type=standalone", nil},
		{"managementAccountId=100000000000&type=linked&status=pending", []string{"200000000000", "200000000001", "200000000002", "200000000004", "200000000005", "200000000006"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := f.listAll(t, "/v1/accounts?limit=3&"+tt.query)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}

// setStatus changes an account's status through the store, as the onboarding callback will.
func (f *fixture) setStatus(t *testing.T, id, status string) {
	t.Helper()
	ctx := t.Context()
	before, err := f.Services.Accounts.Get(ctx, "acme", id)
	if err != nil {
		t.Fatal(err)
	}
	after := before
	after.Status, after.Version = accounts.Status(status), before.Version+1
	entry := audit.New(ctx, "acme", time.Now(), "account.status", accounts.Target(id), audit.Diff(&before, &after))
	if err := (store.Accounts{DB: f.Services.DB}).Replace(ctx, before, after, entry); err != nil {
		t.Fatal(err)
	}
}

// listAll follows nextCursor to the end and returns the account IDs in order.
func (f *fixture) listAll(t *testing.T, path string) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatal("pagination does not end")
		}
		p := path
		if cursor != "" {
			p += "&cursor=" + cursor
		}
		r := f.do(t, http.MethodGet, p, f.admin, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", p, r.Status, r.Body)
		}
		var page struct {
			Items []struct {
				AccountID string `json:"accountId"`
			} `json:"items"`
			NextCursor string `json:"nextCursor"`
		}
		r.JSON(t, &page)
		for _, it := range page.Items {
			ids = append(ids, it.AccountID)
		}
		if page.NextCursor == "" {
			return ids
		}
		cursor = page.NextCursor
	}
}

func TestListAccountsRefusals(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 3; i++ {
		f.mustCreate(t, account(fmt.Sprintf("A%d", i), fmt.Sprintf("10000000000%d", i), "standalone"))
	}
	first := f.do(t, http.MethodGet, "/v1/accounts?limit=1", f.admin, nil).Map(t)
	cursor := first["nextCursor"].(string)
	if cursor == "" {
		t.Fatal("no cursor after a full page")
	}
	otherTenantsCursor := cursor
	tampered := []byte(cursor)
	tampered[len(tampered)-3] ^= 2
	tests := []struct {
		query  string
		fields []string
		typ    string
	}{
		{"limit=0", []string{"limit"}, "malformed-request"},
		{"limit=101", []string{"limit"}, "malformed-request"},
		{"limit=ten", []string{"limit"}, "malformed-request"},
		{"status=gone", []string{"status"}, "malformed-request"},
		{"type=payer&managementAccountId=12", []string{"type", "managementAccountId"}, "malformed-request"},
		{"stauts=active", []string{"stauts"}, "malformed-request"},
		{"status=active&status=failed", []string{"status"}, "malformed-request"},
		{"cursor=" + string(tampered), []string{"cursor"}, "invalid-cursor"},
		{"cursor=not-a-cursor", []string{"cursor"}, "invalid-cursor"},
		// A cursor from an unfiltered listing cannot continue a filtered one.
		{"type=standalone&cursor=" + cursor, []string{"cursor"}, "invalid-cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			wantProblem(t, f.do(t, http.MethodGet, "/v1/accounts?"+tt.query, f.admin, nil), http.StatusBadRequest, tt.typ, tt.fields...)
		})
	}
	// Another tenant cannot use acme's cursor to read on in acme's listing, nor in its own.
	wantProblem(t, f.do(t, http.MethodGet, "/v1/accounts?limit=1&cursor="+otherTenantsCursor, f.other, nil), http.StatusBadRequest, "invalid-cursor")
}

func TestGetAccount(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Payer", "111111111111", "management"))
	r := f.do(t, http.MethodGet, "/v1/accounts/111111111111", f.viewer, nil)
	if r.Status != http.StatusOK || r.Header.Get("ETag") != `"1"` || r.Map(t)["name"] != "Payer" {
		t.Fatalf("%d %v %s", r.Status, r.Header, r.Body)
	}
	for _, id := range []string{"999999999999", "1", "abc", "11111111111%2F"} {
		wantProblem(t, f.do(t, http.MethodGet, "/v1/accounts/"+id, f.admin, nil), http.StatusNotFound, "not-found")
	}
}

func TestPatchAccount(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Payer", "111111111111", "management"))
	f.mustCreate(t, account("Dev", "222222222222", "standalone"))
	path := "/v1/accounts/111111111111"

	wantProblem(t, f.do(t, http.MethodPatch, path, f.admin, map[string]any{"name": "X"}), http.StatusPreconditionRequired, "precondition-required")
	wantProblem(t, f.do(t, http.MethodPatch, path, f.admin, map[string]any{"name": "X"}, "If-Match", `"2"`), http.StatusPreconditionFailed, "precondition-failed")
	wantProblem(t, f.do(t, http.MethodPatch, path, f.admin, map[string]any{"name": "X"}, "If-Match", `W/"1"`), http.StatusPreconditionFailed, "precondition-failed")
	wantProblem(t, f.do(t, http.MethodPatch, path, f.admin, map[string]any{"name": "dev"}, "If-Match", `"1"`), http.StatusConflict, "name-taken", "name")
	wantProblem(t, f.do(t, http.MethodPatch, path, f.admin, map[string]any{"accessLevel": "admin", "name": ""}, "If-Match", `"1"`),
		http.StatusUnprocessableEntity, "validation-failed", "name", "accessLevel")
	wantProblem(t, f.do(t, http.MethodPatch, path, f.admin, map[string]any{"type": "linked"}, "If-Match", `"1"`),
		http.StatusBadRequest, "malformed-request", "type")

	r := f.do(t, http.MethodPatch, path, f.admin, map[string]any{"name": "Payer (EU)", "accessLevel": "tags_write", "costSync": false}, "If-Match", `"1"`)
	if r.Status != http.StatusOK || r.Header.Get("ETag") != `"2"` {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	a := r.Map(t)
	if a["name"] != "Payer (EU)" || a["accessLevel"] != "tags_write" || a["costSync"] != false || a["version"] != float64(2) {
		t.Errorf("patched = %v", a)
	}
	// The old name is free again; the new one is taken.
	f.mustCreate(t, account("Payer", "333333333333", "standalone"))
	wantProblem(t, f.do(t, http.MethodPost, "/v1/accounts", f.admin, account("payer (eu)", "444444444444", "standalone")), http.StatusConflict, "name-taken")

	// A change of case only keeps the reservation and still renames.
	r = f.do(t, http.MethodPatch, path, f.admin, map[string]any{"name": "PAYER (EU)"}, "If-Match", `"2"`)
	if r.Status != http.StatusOK || r.Map(t)["name"] != "PAYER (EU)" {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	// A patch that changes nothing writes nothing (the version stays).
	r = f.do(t, http.MethodPatch, path, f.admin, `{"costSync":false}`, "If-Match", "*", "Content-Type", "application/merge-patch+json")
	if r.Status != http.StatusOK || r.Map(t)["version"] != float64(3) {
		t.Errorf("no-op patch: %d %s", r.Status, r.Body)
	}
	// Viewers read but never write.
	wantProblem(t, f.do(t, http.MethodPatch, path, f.viewer, map[string]any{"name": "V"}, "If-Match", "*"), http.StatusForbidden, "forbidden")
}

func TestConcurrentPatchesWithOneETag(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Payer", "111111111111", "management"))
	const editors = 4
	statuses := make([]int, editors)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < editors; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = f.do(t, http.MethodPatch, "/v1/accounts/111111111111", f.admin,
				map[string]any{"name": fmt.Sprintf("Editor %d", i)}, "If-Match", `"1"`).Status
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			won++
		case http.StatusPreconditionFailed:
		default:
			t.Errorf("unexpected status %d", s)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d editors with the same ETag won (%v); want exactly 1", won, editors, statuses)
	}
	a := f.do(t, http.MethodGet, "/v1/accounts/111111111111", f.admin, nil).Map(t)
	if a["version"] != float64(2) {
		t.Errorf("version = %v after one winning edit", a["version"])
	}
}

func TestConcurrentClaimsByTwoTenants(t *testing.T) {
	f := newFixture(t)
	for round := 0; round < 5; round++ {
		id := fmt.Sprintf("70000000000%d", round)
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		start := make(chan struct{})
		for i, tok := range []string{f.admin, f.other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				statuses[i] = f.do(t, http.MethodPost, "/v1/accounts", tok, account("Claim "+id, id, "standalone")).Status
			}()
		}
		close(start)
		wg.Wait()
		created := 0
		for _, s := range statuses {
			if s == http.StatusCreated {
				created++
			} else if s != http.StatusConflict {
				t.Errorf("round %d: status %d", round, s)
			}
		}
		if created != 1 {
			t.Fatalf("round %d: %d tenants got account %s (%v); want exactly 1", round, created, id, statuses)
		}
	}
}

func TestDeleteAccount(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Payer", "111111111111", "management"))
	f.mustCreate(t, account("Dev", "222222222222", "linked", "managementAccountId", "111111111111"))
	f.mustCreate(t, account("Prod", "333333333333", "linked", "managementAccountId", "111111111111"))

	for _, q := range []string{"", "?confirm=", "?confirm=payer", "?confirm=Payer%20"} {
		wantProblem(t, f.do(t, http.MethodDelete, "/v1/accounts/111111111111"+q, f.admin, nil), http.StatusUnprocessableEntity, "confirmation-required", "confirm")
	}
	wantProblem(t, f.do(t, http.MethodDelete, "/v1/accounts/111111111111?confirm=Payer&force=1", f.admin, nil), http.StatusBadRequest, "malformed-request", "force")
	wantProblem(t, f.do(t, http.MethodDelete, "/v1/accounts/111111111111?confirm=Payer", f.viewer, nil), http.StatusForbidden, "forbidden")

	// The management account still has two linked accounts: 409 names them and says what to do.
	p := wantProblem(t, f.do(t, http.MethodDelete, "/v1/accounts/111111111111?confirm=Payer", f.admin, nil), http.StatusConflict, "has-linked-accounts")
	if p["linkedAccountCount"] != float64(2) || fmt.Sprint(p["linkedAccounts"]) != "[222222222222 333333333333]" ||
		!strings.Contains(p["detail"].(string), "remove them first") {
		t.Errorf("problem = %v", p)
	}
	wantProblem(t, f.do(t, http.MethodDelete, "/v1/accounts/222222222222?confirm=Dev", f.admin, nil, "If-Match", `"9"`), http.StatusPreconditionFailed, "precondition-failed")
	for _, del := range []string{"/v1/accounts/222222222222?confirm=Dev", "/v1/accounts/333333333333?confirm=Prod", "/v1/accounts/111111111111?confirm=Payer"} {
		if r := f.do(t, http.MethodDelete, del, f.admin, nil, "If-Match", `"1"`); r.Status != http.StatusNoContent || len(r.Body) != 0 {
			t.Fatalf("%s: %d %s", del, r.Status, r.Body)
		}
	}
	wantProblem(t, f.do(t, http.MethodGet, "/v1/accounts/111111111111", f.admin, nil), http.StatusNotFound, "not-found")
	wantProblem(t, f.do(t, http.MethodDelete, "/v1/accounts/111111111111?confirm=Payer", f.admin, nil), http.StatusNotFound, "not-found")
	// The name and the account ID are free again, for this tenant and for any other.
	f.mustCreate(t, account("Payer", "444444444444", "standalone"))
	if r := f.do(t, http.MethodPost, "/v1/accounts", f.other, account("Theirs", "111111111111", "management")); r.Status != http.StatusCreated {
		t.Errorf("released account ID not claimable: %d %s", r.Status, r.Body)
	}
}

func TestRouting(t *testing.T) {
	f := newFixture(t)
	r := f.Do(t, testkit.Request{Method: http.MethodGet, Path: "/v2/accounts", Token: f.admin})
	wantProblem(t, r, http.StatusNotFound, "no-such-endpoint")
	r = f.Do(t, testkit.Request{Method: http.MethodPut, Path: "/v1/accounts/111111111111", Token: f.admin, Body: map[string]any{}})
	wantProblem(t, r, http.StatusMethodNotAllowed, "method-not-allowed")
	if allow := r.Header.Get("Allow"); allow != "GET, PATCH, DELETE" {
		t.Errorf("Allow = %q", allow)
	}
	r = f.do(t, http.MethodGet, "/healthz", "", nil)
	if r.Status != http.StatusOK || r.Header.Get("X-Request-Id") == "" {
		t.Errorf("healthz: %d %v", r.Status, r.Header)
	}
	r = f.do(t, http.MethodGet, "/v1/openapi.json", "", nil)
	if r.Status != http.StatusOK || r.Map(t)["openapi"] != "3.0.3" {
		t.Errorf("openapi.json: %d", r.Status)
	}
}
