package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// Bad input, endpoint by endpoint: every refusal goes through the real router and names its status, its problem
// type and the fields it blames (in the order the API reports them), so a validation that blames the wrong field
// fails here.

// refusal is one bad request (made by acme's admin) and the answer it must get.
type refusal struct {
	name         string
	method, path string
	body         any // a string or []byte is sent as is, anything else as JSON
	header       map[string]string
	status       int
	problem      string
	fields       []string
	detail       string // a part of what the problem says (its detail or a field's message)
}

func (f *fixture) refuse(t *testing.T, cases []refusal) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			for k, v := range tc.header {
				h[k] = v
			}
			r := f.Do(t, testkit.Request{Method: tc.method, Path: tc.path, Token: f.admin, Body: tc.body, Header: h})
			p := wantProblem(t, r, tc.status, tc.problem, tc.fields...)
			// What is wrong is said in the detail, or in the message of the field it is about.
			said, _ := p["detail"].(string)
			if errs, ok := p["errors"].([]any); ok {
				for _, e := range errs {
					said += " | " + e.(map[string]any)["message"].(string)
				}
			}
			if tc.detail != "" && !strings.Contains(said, tc.detail) {
				t.Errorf("the problem (%q) does not say %q", said, tc.detail)
			}
		})
	}
}

// TestBodiesThatAreNotObjects: every endpoint that reads a body wants one JSON object of valid UTF-8, each member
// once and none null. Anything else is a 400 that says what is wrong, before any field is looked at.
func TestBodiesThatAreNotObjects(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Payer", "790000000001", "management"))
	endpoints := []struct{ method, path string }{
		{http.MethodPost, "/v1/accounts"},
		{http.MethodPatch, "/v1/accounts/790000000001"},
		{http.MethodPatch, "/v1/tenant"},
		{http.MethodPost, "/v1/accounts/790000000001/connect"},
		{http.MethodPut, "/v1/accounts/790000000001/commitment"},
		{http.MethodPut, "/v1/accounts/790000000001/discovery/settings"},
		{http.MethodPost, "/v1/accounts/790000000001/activations"},
	}
	shapes := []struct {
		name, body string
		fields     []string
		detail     string
	}{
		{name: "null", body: `null`, detail: "not null"},
		{name: "null with spaces", body: " \n null \t", detail: "not null"},
		{name: "an array", body: `[]`, detail: "not an array"},
		{name: "a string", body: `"{}"`, detail: "not a string"},
		{name: "a number", body: `12`, detail: "not a number"},
		{name: "a boolean", body: `true`, detail: "not true"},
		{name: "invalid UTF-8 in a string", body: "{\"name\":\"Caf\xe9\"}", detail: "UTF-8"},
		{name: "invalid UTF-8 in a member name", body: "{\"\xff\":1}", detail: "UTF-8"},
		{name: "a lone high surrogate", body: `{"name":"a\ud800b"}`, detail: "UTF-8"},
		{name: "a lone low surrogate", body: `{"name":"\udc00"}`, detail: "UTF-8"},
		{name: "a reversed surrogate pair", body: `{"name":"\udc00\ud800"}`, detail: "UTF-8"},
	}
	// Member-level refusals, with members each endpoint knows.
	members := []struct {
		method, path, name, body, field, detail string
	}{
		{"POST", "/v1/accounts", "a member twice", `{"name":"a","name":"b"}`, "name", "twice"},
		{"POST", "/v1/accounts", "a member in capitals", `{"Name":"a"}`, "Name", `did you mean "name"`},
		{"POST", "/v1/accounts", "a null member", `{"name":"n","costSync":null}`, "costSync", "null"},
		{"PATCH", "/v1/accounts/790000000001", "a null member", `{"accessLevel":null}`, "accessLevel", "null"},
		{"PATCH", "/v1/accounts/790000000001", "a member twice", `{"costSync":true,"costSync":false}`, "costSync", "twice"},
		{"PATCH", "/v1/tenant", "a nested member twice", `{"settings":{"defaultRegion":"us-east-1","defaultRegion":"eu-west-1"}}`, "settings.defaultRegion", "twice"},
		{"PATCH", "/v1/tenant", "a nested null member", `{"settings":{"recommendations":null}}`, "settings.recommendations", "null"},
		{"PATCH", "/v1/tenant", "a null in a nested list", `{"settings":{"recommendations":{"terms":["ONE_YEAR",null]}}}`, "settings.recommendations.terms", "null"},
		{"PATCH", "/v1/tenant", "a nested unknown member", `{"settings":{"colour":"red"}}`, "settings.colour", "not know"},
		{"PATCH", "/v1/tenant", "a nested member in capitals", `{"settings":{"DefaultRegion":"us-east-1"}}`, "settings.DefaultRegion", `did you mean "defaultRegion"`},
		{"PATCH", "/v1/tenant", "nesting too deep", `{"settings":{"recommendations":{"terms":[[[[[[[[]]]]]]]]}}}`, "", "deeper"},
		{"POST", "/v1/accounts/790000000001/connect", "a null member", `{"roleArn":null}`, "roleArn", "null"},
		{"PUT", "/v1/accounts/790000000001/commitment", "a null member", `{"amount":null}`, "amount", "null"},
		{"PUT", "/v1/accounts/790000000001/commitment", "a member twice", `{"currency":"USD","currency":"EUR"}`, "currency", "twice"},
		{"PUT", "/v1/accounts/790000000001/discovery/settings", "a null list", `{"includeOuIds":null}`, "includeOuIds", "null"},
		{"PUT", "/v1/accounts/790000000001/discovery/settings", "a null in a list", `{"excludeOuIds":["r-ab12",null]}`, "excludeOuIds", "null"},
		{"POST", "/v1/accounts/790000000001/activations", "a null in a list", `{"accountIds":["790000000002",null]}`, "accountIds", "null"},
		{"POST", "/v1/accounts/790000000001/activations", "a member in two cases", `{"all":true,"ALL":false}`, "ALL", `did you mean "all"`},
	}
	var cases []refusal
	for _, e := range endpoints {
		for _, s := range shapes {
			cases = append(cases, refusal{name: e.method + " " + e.path + ": " + s.name, method: e.method, path: e.path,
				body: s.body, header: map[string]string{"If-Match": "*"}, status: http.StatusBadRequest,
				problem: "malformed-request", fields: s.fields, detail: s.detail})
		}
	}
	for _, m := range members {
		var fields []string
		if m.field != "" {
			fields = []string{m.field}
		}
		cases = append(cases, refusal{name: m.method + " " + m.path + ": " + m.name, method: m.method, path: m.path,
			body: m.body, header: map[string]string{"If-Match": "*"}, status: http.StatusBadRequest,
			problem: "malformed-request", fields: fields, detail: m.detail})
	}
	f.refuse(t, cases)

	// A valid UTF-8 body with a real U+FFFD and a proper surrogate pair is fine.
	r := f.do(t, http.MethodPost, "/v1/accounts", f.admin, `{"name":"Payer \ufffd \ud83d\ude80","accountId":"790000000003","type":"standalone","region":"us-east-1"}`)
	if r.Status != http.StatusCreated || r.Map(t)["name"] != "Payer \ufffd \U0001F680" {
		t.Errorf("a valid body was refused: %d %s", r.Status, r.Body)
	}
}

// TestNullDoesNotResetDiscoverySettings: PUT null used to be read as {} and reset the settings.
func TestNullDoesNotResetDiscoverySettings(t *testing.T) {
	f := newFixture(t)
	members := f.connectedPayer(t, "790000000010", 2)
	path := "/v1/accounts/790000000010/discovery/settings"
	if r := f.do(t, http.MethodPut, path, f.admin, map[string]any{"excludeAccountIds": members[:1], "autoEnroll": true}); r.Status != 200 {
		t.Fatalf("settings: %d %s", r.Status, r.Body)
	}
	wantProblem(t, f.do(t, http.MethodPut, path, f.admin, `null`), http.StatusBadRequest, "malformed-request")
	d := f.do(t, http.MethodGet, "/v1/accounts/790000000010", f.viewer, nil).Map(t)["discovery"].(map[string]any)
	if d["autoEnroll"] != true || fmt.Sprint(d["excludeAccountIds"]) != fmt.Sprint([]any{members[0]}) {
		t.Errorf("the refused null changed the settings: %v", d)
	}
}

// TestOrganizationInputRefusals: discovery settings and bulk activation requests take member role names by IAM's
// rules, OU ids by AWS's patterns, account ids of 12 digits, bounded lists without repeats, and every refusal names
// the list it is about.
func TestOrganizationInputRefusals(t *testing.T) {
	f := newFixture(t)
	members := f.connectedPayer(t, "790000000020", 3)
	org := f.do(t, http.MethodGet, "/v1/accounts/790000000020/organization", f.viewer, nil).Map(t)
	root := org["rootId"].(string)
	settings := "/v1/accounts/790000000020/discovery/settings"
	activations := "/v1/accounts/790000000020/activations"
	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprintf("ou-ab12-%08d", i)
	}
	manyAccounts := make([]string, 1001)
	for i := range manyAccounts {
		manyAccounts[i] = fmt.Sprintf("%012d", i)
	}
	s := func(name string, body map[string]any, fields ...string) refusal {
		return refusal{name: "settings: " + name, method: http.MethodPut, path: settings, body: body,
			status: http.StatusUnprocessableEntity, problem: "validation-failed", fields: fields}
	}
	a := func(name string, body map[string]any, fields ...string) refusal {
		return refusal{name: "activation: " + name, method: http.MethodPost, path: activations, body: body,
			status: http.StatusUnprocessableEntity, problem: "validation-failed", fields: fields}
	}
	f.refuse(t, []refusal{
		s("role name *", map[string]any{"memberRoleName": "*"}, "memberRoleName"),
		s("role name with NUL", map[string]any{"memberRoleName": "Org\u0000Role"}, "memberRoleName"),
		s("role name ../../Admin", map[string]any{"memberRoleName": "../../Admin"}, "memberRoleName"),
		s("role name with a path", map[string]any{"memberRoleName": "path/Admin"}, "memberRoleName"),
		s("role name with a space", map[string]any{"memberRoleName": "Org Role"}, "memberRoleName"),
		s("role name non-ASCII", map[string]any{"memberRoleName": "Rôle"}, "memberRoleName"),
		s("role name of 65 characters", map[string]any{"memberRoleName": strings.Repeat("a", 65)}, "memberRoleName"),
		s("OU id by name", map[string]any{"includeOuIds": []string{"prod"}}, "includeOuIds"),
		s("root id too short", map[string]any{"includeOuIds": []string{"r-ab1"}}, "includeOuIds"),
		s("root id in capitals", map[string]any{"includeOuIds": []string{"R-AB12"}}, "includeOuIds"),
		s("OU id with a short suffix", map[string]any{"includeOuIds": []string{"ou-ab12-1234567"}}, "includeOuIds"),
		s("OU id without its root part", map[string]any{"includeOuIds": []string{"ou-12345678"}}, "includeOuIds"),
		s("OU id with a wildcard", map[string]any{"includeOuIds": []string{"ou-*"}}, "includeOuIds"),
		s("excluded OU id by name", map[string]any{"excludeOuIds": []string{"sandbox"}}, "excludeOuIds"),
		s("excluded account id", map[string]any{"excludeAccountIds": []string{"12"}}, "excludeAccountIds"),
		s("excluded account id with spaces", map[string]any{"excludeAccountIds": []string{" 790000000021"}}, "excludeAccountIds"),
		s("included OU twice", map[string]any{"includeOuIds": []string{root, root}}, "includeOuIds"),
		s("excluded account twice", map[string]any{"excludeAccountIds": []string{members[0], members[0]}}, "excludeAccountIds"),
		s("OU both included and excluded", map[string]any{"includeOuIds": []string{root}, "excludeOuIds": []string{root}}, "excludeOuIds"),
		s("too many included OUs", map[string]any{"includeOuIds": many}, "includeOuIds"),
		s("too many excluded accounts", map[string]any{"excludeAccountIds": manyAccounts}, "excludeAccountIds"),
		s("everything wrong", map[string]any{"includeOuIds": []string{"a"}, "excludeOuIds": []string{"b"},
			"excludeAccountIds": []string{"c"}, "memberRoleName": "*"}, "includeOuIds", "excludeOuIds", "excludeAccountIds", "memberRoleName"),
		{name: "settings: a list as a string", method: http.MethodPut, path: settings, body: `{"includeOuIds":"` + root + `"}`,
			status: http.StatusBadRequest, problem: "malformed-request", fields: []string{"includeOuIds"}},

		a("account id too short", map[string]any{"accountIds": []string{"12"}}, "accountIds"),
		a("excluded account id too short", map[string]any{"all": true, "excludeAccountIds": []string{"12"}}, "excludeAccountIds"),
		a("account id of letters", map[string]any{"accountIds": []string{"abcdefghijkl"}}, "accountIds"),
		a("OU id by name", map[string]any{"ouIds": []string{"prod"}}, "ouIds"),
		a("excluded OU id by name", map[string]any{"all": true, "excludeOuIds": []string{"prod"}}, "excludeOuIds"),
		a("account twice", map[string]any{"accountIds": []string{members[0], members[0]}}, "accountIds"),
		a("OU twice", map[string]any{"ouIds": []string{root, root}}, "ouIds"),
		a("everything wrong", map[string]any{"accountIds": []string{"1"}, "ouIds": []string{"x"}, "excludeAccountIds": []string{"2"},
			"excludeOuIds": []string{"y"}}, "accountIds", "ouIds", "excludeAccountIds", "excludeOuIds"),
		{name: "activation: Idempotency-Key too long", method: http.MethodPost, path: activations, body: map[string]any{"all": true},
			header: map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}, status: 400, problem: "malformed-request", fields: []string{"Idempotency-Key"}},
		{name: "activation: Idempotency-Key with a control character", method: http.MethodPost, path: activations, body: map[string]any{"all": true},
			header: map[string]string{"Idempotency-Key": "key\x01"}, status: 400, problem: "malformed-request", fields: []string{"Idempotency-Key"}},
		{name: "activation: Idempotency-Key not ASCII", method: http.MethodPost, path: activations, body: map[string]any{"all": true},
			header: map[string]string{"Idempotency-Key": "clé"}, status: 400, problem: "malformed-request", fields: []string{"Idempotency-Key"}},
	})

	// Nothing refused changed the settings, and IAM's whole alphabet is accepted.
	r := f.do(t, http.MethodPut, settings, f.admin, map[string]any{"memberRoleName": "Org_Access+=,.@-1", "includeOuIds": []string{root}})
	if r.Status != 200 || r.Map(t)["discovery"].(map[string]any)["memberRoleName"] != "Org_Access+=,.@-1" {
		t.Errorf("a valid role name was refused: %d %s", r.Status, r.Body)
	}
	if list := f.do(t, http.MethodGet, "/v1/activations", f.viewer, nil).Map(t)["items"].([]any); len(list) != 0 {
		t.Errorf("a refused request started an activation: %v", list)
	}
}

// TestCommitmentRefusals: a commitment is a positive amount in an ISO 4217 currency over a real term.
func TestCommitmentRefusals(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Payer", "790000000030", "management"))
	path := "/v1/accounts/790000000030/commitment"
	c := func(name string, amount any, currency, start, end string, fields ...string) refusal {
		body := map[string]any{"amount": amount, "start": start, "end": end}
		if currency != "-" {
			body["currency"] = currency
		}
		return refusal{name: name, method: http.MethodPut, path: path, body: body, status: 422, problem: "validation-failed", fields: fields}
	}
	f.refuse(t, []refusal{
		c("currency of digits", 1000, "123", "2026-01-01", "2028-12-31", "currency"),
		c("currency with a control character", 1000, "US\u0001", "2026-01-01", "2028-12-31", "currency"),
		c("currency not in ISO 4217", 1000, "XYZ", "2026-01-01", "2028-12-31", "currency"),
		c("currency withdrawn from ISO 4217", 1000, "DEM", "2026-01-01", "2028-12-31", "currency"),
		c("currency in small letters", 1000, "usd", "2026-01-01", "2028-12-31", "currency"),
		c("currency of four letters", 1000, "EURO", "2026-01-01", "2028-12-31", "currency"),
		c("no amount", 0, "USD", "2026-01-01", "2028-12-31", "amount"),
		c("negative amount", -5, "USD", "2026-01-01", "2028-12-31", "amount"),
		c("amount beyond any commitment", 1e200, "USD", "2026-01-01", "2028-12-31", "amount"),
		c("start not a date", 1000, "USD", "2026-02-30", "2028-12-31", "start"),
		c("start missing", 1000, "USD", "", "2028-12-31", "start"),
		c("start in year 1", 1000, "USD", "0001-01-01", "2028-12-31", "start"),
		c("end missing", 1000, "USD", "2026-01-01", "", "end"),
		c("end before start", 1000, "USD", "2026-01-01", "2025-12-31", "end"),
		c("term of a century", 1000, "USD", "2026-01-01", "2099-12-31", "end"),
		c("everything wrong", -1, "$$$", "soon", "later", "amount", "currency", "start", "end"),
	})
	r := f.do(t, http.MethodPut, path, f.admin, map[string]any{"amount": 1000, "currency": "EUR", "start": "2026-01-01", "end": "2028-12-31"})
	if r.Status != 200 || r.Map(t)["currency"] != "EUR" {
		t.Errorf("a valid commitment was refused: %d %s", r.Status, r.Body)
	}
	r = f.do(t, http.MethodPut, path, f.admin, map[string]any{"amount": 1000, "start": "2026-01-01", "end": "2028-12-31"})
	if r.Status != 200 || r.Map(t)["currency"] != "USD" {
		t.Errorf("a commitment without currency is not in USD: %d %s", r.Status, r.Body)
	}
}

// TestTenantSettingsRefusals: every wrong setting is reported at once, under its own name.
func TestTenantSettingsRefusals(t *testing.T) {
	f := newFixture(t)
	set := func(name string, settings map[string]any, fields ...string) refusal {
		return refusal{name: name, method: http.MethodPatch, path: "/v1/tenant", body: map[string]any{"settings": settings},
			header: map[string]string{"If-Match": "*"}, status: 422, problem: "validation-failed", fields: fields}
	}
	recs := func(r map[string]any) map[string]any { return map[string]any{"recommendations": r} }
	f.refuse(t, []refusal{
		set("unknown region", map[string]any{"defaultRegion": "eu-west-9"}, "settings.defaultRegion"),
		set("region with NUL", map[string]any{"defaultRegion": "us-east-1\u0000"}, "settings.defaultRegion"),
		set("negative grace", map[string]any{"externalIdGraceDays": -1}, "settings.externalIdGraceDays"),
		set("grace over a year", map[string]any{"externalIdGraceDays": 366}, "settings.externalIdGraceDays"),
		set("unknown term", recs(map[string]any{"terms": []string{"FIVE_YEARS"}}), "settings.recommendations.terms"),
		set("term twice", recs(map[string]any{"terms": []string{"ONE_YEAR", "ONE_YEAR"}}), "settings.recommendations.terms"),
		set("payment option twice", recs(map[string]any{"paymentOptions": []string{"NO_UPFRONT", "NO_UPFRONT"}}), "settings.recommendations.paymentOptions"),
		set("unknown payment option", recs(map[string]any{"paymentOptions": []string{"LATER"}}), "settings.recommendations.paymentOptions"),
		set("lookback of 8 days", recs(map[string]any{"lookbackDays": 8}), "settings.recommendations.lookbackDays"),
		set("every recommendation setting wrong", recs(map[string]any{"terms": []string{"X"}, "paymentOptions": []string{"Y"}, "lookbackDays": 1}),
			"settings.recommendations.terms", "settings.recommendations.paymentOptions", "settings.recommendations.lookbackDays"),
		set("everything wrong", map[string]any{"defaultRegion": "moon-1", "externalIdGraceDays": 1000, "recommendations": map[string]any{"lookbackDays": 2}},
			"settings.defaultRegion", "settings.externalIdGraceDays", "settings.recommendations.lookbackDays"),
		{name: "grace of one and a half days", method: http.MethodPatch, path: "/v1/tenant", body: `{"settings":{"externalIdGraceDays":1.5}}`,
			header: map[string]string{"If-Match": "*"}, status: 400, problem: "malformed-request", fields: []string{"settings.externalIdGraceDays"}},
		{name: "settings null", method: http.MethodPatch, path: "/v1/tenant", body: `{"settings":null}`,
			header: map[string]string{"If-Match": "*"}, status: 400, problem: "malformed-request", fields: []string{"settings"}},
		{name: "If-Match not a quoted tag", method: http.MethodPatch, path: "/v1/tenant", body: map[string]any{"settings": map[string]any{}},
			header: map[string]string{"If-Match": "1"}, status: 400, problem: "malformed-request", fields: []string{"If-Match"}},
		{name: "rotate with If-Match not a quoted tag", method: http.MethodPost, path: "/v1/tenant/external-id/rotate",
			header: map[string]string{"If-Match": "v1"}, status: 400, problem: "malformed-request", fields: []string{"If-Match"}},
	})
	if v := f.do(t, http.MethodGet, "/v1/tenant", f.viewer, nil).Map(t)["version"]; v != float64(1) {
		t.Errorf("a refused change wrote the tenant (version %v)", v)
	}
}

// TestAccountInputRefusals: account fields, names compared in one Unicode form, the platform's own account, role
// ARNs and If-Match.
func TestAccountInputRefusals(t *testing.T) {
	f := newFixture(t)
	principal, err := awsid.ParseRoleARN(f.Config.Onboarding.PlatformPrincipal)
	if err != nil {
		t.Fatal(err)
	}
	platformAccount := principal.AccountID
	composed, decomposed := "Caf\u00e9", "Cafe\u0301"
	created := f.mustCreate(t, account(composed, "790000000040", "standalone"))
	path := "/v1/accounts/790000000040"
	patch := func(name string, body any, header map[string]string, status int, problem string, fields ...string) refusal {
		if header == nil {
			header = map[string]string{"If-Match": "*"}
		}
		return refusal{name: "patch: " + name, method: http.MethodPatch, path: path, body: body, header: header, status: status, problem: problem, fields: fields}
	}
	create := func(name string, body any, status int, problem string, fields ...string) refusal {
		return refusal{name: "create: " + name, method: http.MethodPost, path: "/v1/accounts", body: body, status: status, problem: problem, fields: fields}
	}
	f.refuse(t, []refusal{
		create("the platform's own account", account("Ours", platformAccount, "standalone"), 422, "validation-failed", "accountId"),
		create("the platform's own account as management", account("Ours", platformAccount, "management"), 422, "validation-failed", "accountId"),
		create("the same name decomposed", account(decomposed, "790000000041", "standalone"), 409, "name-taken", "name"),
		create("the same name decomposed, in capitals", account("CAFE\u0301", "790000000041", "standalone"), 409, "name-taken", "name"),
		create("a name with a line break", account("a\nb", "790000000041", "standalone"), 422, "validation-failed", "name"),
		create("a name with a bidi override", account("abc\u202edcba", "790000000041", "standalone"), 422, "validation-failed", "name"),
		create("a name of 65 characters once composed", account(strings.Repeat("e\u0301", 65), "790000000041", "standalone"), 422, "validation-failed", "name"),
		create("a name of 64 letters and 64 accents", account(strings.Repeat("e\u0301", 64), "790000000040", "standalone"), 409, "account-taken"),
		create("account id with a NUL", account("N", "79000000004\u0000", "standalone"), 422, "validation-failed", "accountId"),
		create("management id of letters", account("L", "790000000041", "linked", "managementAccountId", "abc"), 422, "validation-failed", "managementAccountId"),
		patch("name null", `{"name":null}`, nil, 400, "malformed-request", "name"),
		patch("empty name and unknown access level", map[string]any{"name": "", "accessLevel": "root"}, nil, 422, "validation-failed", "name", "accessLevel"),
		patch("If-Match not a quoted tag", map[string]any{"name": "X"}, map[string]string{"If-Match": "1"}, 400, "malformed-request", "If-Match"),
		patch("If-Match with a control character", map[string]any{"name": "X"}, map[string]string{"If-Match": "\"1\x00\""}, 400, "malformed-request", "If-Match"),
		patch("If-Match too long", map[string]any{"name": "X"}, map[string]string{"If-Match": `"` + strings.Repeat("1", 300) + `"`}, 400, "malformed-request", "If-Match"),
		{name: "delete: If-Match not a quoted tag", method: http.MethodDelete, path: path + "?confirm=" + url.QueryEscape(composed),
			header: map[string]string{"If-Match": "1"}, status: 400, problem: "malformed-request", fields: []string{"If-Match"}},
		{name: "connect: role ARN with a path of 600 characters", method: http.MethodPost, path: path + "/connect",
			body:   map[string]any{"roleArn": "arn:aws:iam::790000000040:role/" + strings.Repeat("p/", 300) + "GangplankAccess"},
			status: 422, problem: "validation-failed", fields: []string{"roleArn"}},
		{name: "connect: role ARN with a space in its path", method: http.MethodPost, path: path + "/connect",
			body: map[string]any{"roleArn": "arn:aws:iam::790000000040:role/my path/GangplankAccess"}, status: 422, problem: "validation-failed", fields: []string{"roleArn"}},
		{name: "connect: role ARN with an empty path segment", method: http.MethodPost, path: path + "/connect",
			body: map[string]any{"roleArn": "arn:aws:iam::790000000040:role//GangplankAccess"}, status: 422, problem: "validation-failed", fields: []string{"roleArn"}},
	})

	// Names are stored in NFC, so the name shown is the one to type to confirm, however it was typed.
	r := f.do(t, http.MethodPost, "/v1/accounts", f.admin, account("Re\u0301sume\u0301", "790000000042", "standalone"))
	if r.Status != http.StatusCreated || r.Map(t)["name"] != "R\u00e9sum\u00e9" {
		t.Errorf("a decomposed name is not stored composed: %d %s", r.Status, r.Body)
	}
	if created["name"] != composed {
		t.Errorf("name = %q", created["name"])
	}
	if r := f.do(t, http.MethodDelete, path+"?confirm="+url.QueryEscape(decomposed), f.admin, nil); r.Status != http.StatusNoContent {
		t.Errorf("deleting %q with its decomposed name: %d %s", composed, r.Status, r.Body)
	}
	// Another tenant cannot claim the platform's account either.
	wantProblem(t, f.do(t, http.MethodPost, "/v1/accounts", f.other, account("Theirs", platformAccount, "standalone")), 422, "validation-failed", "accountId")
}

// TestQueryRefusals: every endpoint checks its query string: known parameters, each once, well encoded, valid
// UTF-8, well-formed values. Values in the URL are refused with 400; values in a body with 422.
func TestQueryRefusals(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Payer", "790000000050", "management"))
	q := func(name, method, path string, status int, problem string, fields ...string) refusal {
		return refusal{name: name, method: method, path: path, status: status, problem: problem, fields: fields}
	}
	f.refuse(t, []refusal{
		q("badly escaped limit", "GET", "/v1/accounts?limit=%zz", 400, "malformed-request", "limit"),
		q("badly escaped name", "GET", "/v1/accounts?%zz=1", 400, "malformed-request", "%zz"),
		q("status not UTF-8", "GET", "/v1/accounts?status=%ff", 400, "malformed-request", "status"),
		q("status with NUL", "GET", "/v1/accounts?status=active%00", 400, "malformed-request", "status"),
		q("a semicolon", "GET", "/v1/accounts?status=active;type=linked", 400, "malformed-request", "status"),
		q("limit with a sign", "GET", "/v1/accounts?limit=+5", 400, "malformed-request", "limit"),
		q("limit in hex", "GET", "/v1/audit?limit=0x10", 400, "malformed-request", "limit"),
		q("limit beyond int", "GET", "/v1/audit?limit=99999999999999999999", 400, "malformed-request", "limit"),
		q("every filter wrong", "GET", "/v1/accounts?type=payer&status=ok&managementAccountId=1", 400, "malformed-request", "type", "status", "managementAccountId"),
		q("cursor of 5000 characters", "GET", "/v1/audit?cursor="+strings.Repeat("a", 5000), 400, "invalid-cursor", "cursor"),
		q("unknown parameter on one account", "GET", "/v1/accounts/790000000050?verbose=1", 400, "malformed-request", "verbose"),
		q("unknown parameter on the tenant", "GET", "/v1/tenant?expand=all", 400, "malformed-request", "expand"),
		q("unknown parameter on a change", "PATCH", "/v1/accounts/790000000050?force=1", 400, "malformed-request", "force"),
		q("confirm not UTF-8", "DELETE", "/v1/accounts/790000000050?confirm=%ff", 400, "malformed-request", "confirm"),
		q("confirm twice", "DELETE", "/v1/accounts/790000000050?confirm=Payer&confirm=Payer", 400, "malformed-request", "confirm"),
		q("recommendation term", "GET", "/v1/recommendations?term=FIVE_YEARS", 400, "malformed-request", "term"),
		q("every recommendation filter wrong", "GET", "/v1/recommendations?term=X&paymentOption=Y&service=Z", 400, "malformed-request", "service", "term", "paymentOption"),
		q("account recommendation filter", "GET", "/v1/accounts/790000000050/recommendations?paymentOption=SOMETIME", 400, "malformed-request", "paymentOption"),
		q("activation page limit", "GET", "/v1/activations/act-000000000000000000000000?limit=0", 400, "malformed-request", "limit"),
	})
	if r := f.do(t, http.MethodGet, "/v1/accounts/790000000050", f.viewer, nil); r.Status != 200 {
		t.Errorf("the account is gone: %d %s", r.Status, r.Body)
	}
}

// TestMalformedPathIDs: a path id that cannot name anything answers 404 before any DynamoDB request (an over-long
// key is a 500 in DynamoDB), on every route with an id.
func TestMalformedPathIDs(t *testing.T) {
	f := newFixture(t)
	f.do(t, http.MethodGet, "/v1/tenant", f.admin, nil) // the tenant exists from here on
	long := strings.Repeat("0", 2000)
	ids := []string{"12", "abcdefghijkl", "%ff", "79000000006%00", "7900000000600", long}
	activationIDs := []string{"act-nope", "act-" + long, "%ff", "act-00000000000000000000000%00", "ACT-000000000000000000000000", "act-00000000000000000000000g"}
	accountRoutes := []struct{ method, suffix string }{
		{"GET", ""}, {"PATCH", ""}, {"DELETE", "?confirm=x"}, {"GET", "/onboarding"}, {"POST", "/connect"}, {"POST", "/verify"},
		{"POST", "/discovery"}, {"PUT", "/discovery/settings"}, {"GET", "/organization"}, {"POST", "/activations"},
		{"POST", "/recommendations/sync"}, {"GET", "/recommendations"}, {"PUT", "/commitment"}, {"GET", "/commitment"},
	}
	for _, rt := range accountRoutes {
		for _, id := range ids {
			var body any
			if rt.method == "PATCH" || rt.method == "PUT" || (rt.method == "POST" && (rt.suffix == "/connect" || rt.suffix == "/activations")) {
				body = map[string]any{}
			}
			checkNoLookup(t, f, rt.method, "/v1/accounts/"+id+rt.suffix, body)
		}
	}
	for _, id := range activationIDs {
		checkNoLookup(t, f, "GET", "/v1/activations/"+id, nil)
		checkNoLookup(t, f, "DELETE", "/v1/activations/"+id, nil)
	}
}

func checkNoLookup(t *testing.T, f *fixture, method, path string, body any) {
	t.Helper()
	name := method + " " + path
	if len(name) > 80 {
		name = name[:80] + "…"
	}
	t.Run(name, func(t *testing.T) {
		f.Calls.Reset()
		r := f.Do(t, testkit.Request{Method: method, Path: path, Token: f.admin, Body: body, Header: map[string]string{"If-Match": "*"}})
		wantProblem(t, r, http.StatusNotFound, "not-found")
		if n := f.Calls.ServiceCalls("DynamoDB"); n != 0 {
			t.Errorf("%d DynamoDB requests for a malformed id: %v", n, f.Calls.Snapshot())
		}
	})
}
