package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gangplank/gangplank/pkg/testkit"
)

func integration(name string, extra ...any) map[string]any {
	m := map[string]any{"integrationName": name, "owners": []string{"ops@example.com"}}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

func TestPutIntegration(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Payer", "111111111111", "management"))
	f.mustCreate(t, account("Dev", "222222222222", "standalone"))
	path := "/v1/accounts/111111111111/integration"
	full := integration("prod-payer", "owners", []string{"ops@example.com", "finops@example.com"},
		"customAccessDetails", "Ask in #cloud-access (approvals within a day).", "credentialRotationDays", 90,
		"userCleanupDays", 30, "resourceTypes", []string{"ec2:instance", "s3:bucket"}, "regions", []string{"us-east-1", "eu-west-1"},
		"ssoRegion", "eu-west-1")

	wantProblem(t, f.do(t, http.MethodPut, path, f.admin, full), http.StatusPreconditionRequired, "precondition-required")
	wantProblem(t, f.do(t, http.MethodPut, path, f.admin, full, "If-Match", `"5"`), http.StatusPreconditionFailed, "precondition-failed")
	wantProblem(t, f.do(t, http.MethodPut, path, f.viewer, full, "If-Match", `"1"`), http.StatusForbidden, "forbidden")
	wantProblem(t, f.do(t, http.MethodPut, "/v1/accounts/999999999999/integration", f.admin, full, "If-Match", "*"), http.StatusNotFound, "not-found")

	r := f.do(t, http.MethodPut, path, f.admin, full, "If-Match", `"1"`)
	if r.Status != http.StatusOK || r.Header.Get("ETag") != `"2"` {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	var a struct {
		Integration struct {
			IntegrationName          string   `json:"integrationName"`
			Owners                   []string `json:"owners"`
			CredentialRotationDays   int      `json:"credentialRotationDays"`
			NextCredentialRotationAt string   `json:"nextCredentialRotationAt"`
			UserCleanupDays          int      `json:"userCleanupDays"`
			ResourceTypes            []string `json:"resourceTypes"`
			SSORegion                string   `json:"ssoRegion"`
			SSORegionCheck           struct {
				Status string `json:"status"`
				Reason string `json:"reason"`
			} `json:"ssoRegionCheck"`
		} `json:"integration"`
	}
	r.JSON(t, &a)
	i := a.Integration
	if i.IntegrationName != "prod-payer" || len(i.Owners) != 2 || i.CredentialRotationDays != 90 || i.NextCredentialRotationAt == "" ||
		i.UserCleanupDays != 30 || strings.Join(i.ResourceTypes, ",") != "ec2:instance,s3:bucket" || i.SSORegion != "eu-west-1" {
		t.Errorf("integration = %+v", i)
	}
	// The account is not connected: Gangplank could not look for Identity Center, and says so.
	if i.SSORegionCheck.Status != "unverified" || !strings.Contains(i.SSORegionCheck.Reason, "not connected") {
		t.Errorf("ssoRegionCheck = %+v", i.SSORegionCheck)
	}
	// GET shows the same settings.
	got := f.do(t, http.MethodGet, "/v1/accounts/111111111111", f.viewer, nil).Map(t)
	if got["integration"].(map[string]any)["integrationName"] != "prod-payer" {
		t.Errorf("GET = %v", got["integration"])
	}

	// The handle is unique in the tenant, ignoring case; the refusal names the field.
	wantProblem(t, f.do(t, http.MethodPut, "/v1/accounts/222222222222/integration", f.admin, integration("PROD-Payer"), "If-Match", "*"),
		http.StatusConflict, "integration-name-taken", "integrationName")
	// Another tenant may use the same handle.
	f.Do(t, testkit.Request{Method: http.MethodPost, Path: "/v1/accounts", Token: f.other, Body: account("Theirs", "333333333333", "standalone")})
	if r := f.do(t, http.MethodPut, "/v1/accounts/333333333333/integration", f.other, integration("prod-payer"), "If-Match", "*"); r.Status != http.StatusOK {
		t.Errorf("another tenant's same handle: %d %s", r.Status, r.Body)
	}
	// Renaming the handle frees the old one at once; a change of case keeps it.
	if r := f.do(t, http.MethodPut, path, f.admin, integration("Prod-Payer"), "If-Match", `"2"`); r.Status != http.StatusOK {
		t.Fatalf("case change: %d %s", r.Status, r.Body)
	}
	wantProblem(t, f.do(t, http.MethodPut, "/v1/accounts/222222222222/integration", f.admin, integration("prod-payer"), "If-Match", "*"),
		http.StatusConflict, "integration-name-taken", "integrationName")
	if r := f.do(t, http.MethodPut, path, f.admin, integration("payer"), "If-Match", "*"); r.Status != http.StatusOK {
		t.Fatalf("rename: %d %s", r.Status, r.Body)
	}
	if r := f.do(t, http.MethodPut, "/v1/accounts/222222222222/integration", f.admin, integration("prod-payer"), "If-Match", "*"); r.Status != http.StatusOK {
		t.Errorf("freed handle not reusable: %d %s", r.Status, r.Body)
	}
	// Deleting an account frees its handle.
	if r := f.do(t, http.MethodDelete, "/v1/accounts/222222222222?confirm=Dev", f.admin, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := f.do(t, http.MethodPut, path, f.admin, integration("prod-payer"), "If-Match", "*"); r.Status != http.StatusOK {
		t.Errorf("handle of a deleted account not reusable: %d %s", r.Status, r.Body)
	}
}

func TestPutIntegrationRefusals(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Payer", "111111111111", "management"))
	f.mustCreate(t, account("Solo", "222222222222", "standalone"))
	tests := []struct {
		name   string
		id     string
		body   any
		status int
		typ    string
		fields []string
	}{
		{name: "empty object", body: map[string]any{}, status: 422, typ: "validation-failed", fields: []string{"integrationName", "owners"}},
		{name: "every field wrong", id: "111111111111", body: map[string]any{"integrationName": "prod payer", "owners": []string{"not-an-email"},
			"customAccessDetails": "<img src=x onerror=alert(1)>", "credentialRotationDays": 0, "userCleanupDays": 400,
			"resourceTypes": []string{"AWS::EC2::Instance"}, "regions": []string{"us-east-7"}, "ssoRegion": "mars-1"},
			status: 422, typ: "validation-failed", fields: []string{"integrationName", "owners[0]", "customAccessDetails", "credentialRotationDays",
				"userCleanupDays", "resourceTypes[0]", "regions[0]", "ssoRegion"}},
		{name: "details with a control character", body: integration("a", "customAccessDetails", "tab\there"),
			status: 422, typ: "validation-failed", fields: []string{"customAccessDetails"}},
		{name: "details too long", body: integration("a", "customAccessDetails", strings.Repeat("x", 401)),
			status: 422, typ: "validation-failed", fields: []string{"customAccessDetails"}},
		{name: "SSO region on a standalone account", body: integration("a", "ssoRegion", "us-east-1"),
			status: 422, typ: "validation-failed", fields: []string{"ssoRegion"}},
		{name: "owners as a string", body: `{"integrationName":"a","owners":"ops@example.com"}`, status: 400, typ: "malformed-request", fields: []string{"owners"}},
		{name: "rotation as a string", body: `{"integrationName":"a","owners":["o@example.com"],"credentialRotationDays":"90"}`,
			status: 400, typ: "malformed-request", fields: []string{"credentialRotationDays"}},
		{name: "a computed field", body: `{"integrationName":"a","owners":["o@example.com"],"nextCredentialRotationAt":"2030-01-01T00:00:00Z"}`,
			status: 400, typ: "malformed-request", fields: []string{"nextCredentialRotationAt"}},
		{name: "not JSON", body: `{"integrationName":`, status: 400, typ: "malformed-request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.id
			if id == "" {
				id = "222222222222"
			}
			wantProblem(t, f.do(t, http.MethodPut, "/v1/accounts/"+id+"/integration", f.admin, tt.body, "If-Match", "*"), tt.status, tt.typ, tt.fields...)
		})
	}
	// Nothing was written by any refusal.
	for _, id := range []string{"111111111111", "222222222222"} {
		if a := f.do(t, http.MethodGet, "/v1/accounts/"+id, f.admin, nil).Map(t); a["version"] != float64(1) {
			t.Errorf("%s changed by a refused request: %v", id, a)
		}
	}
}

func TestCreateAccountWithIntegration(t *testing.T) {
	f := newFixture(t)
	body := account("Payer", "111111111111", "management")
	body["integration"] = integration("payer", "ssoRegion", "us-east-1", "regions", []string{"us-east-1"})
	a := f.mustCreate(t, body)
	if a["integration"].(map[string]any)["integrationName"] != "payer" {
		t.Fatalf("integration = %v", a["integration"])
	}
	// Errors of the account and of its settings come in one answer; nothing is created.
	bad := account("", "222222222222", "standalone")
	bad["integration"] = integration("PAYER")
	wantProblem(t, f.do(t, http.MethodPost, "/v1/accounts", f.admin, bad), http.StatusUnprocessableEntity, "validation-failed", "name")
	bad["name"] = "Other"
	wantProblem(t, f.do(t, http.MethodPost, "/v1/accounts", f.admin, bad), http.StatusConflict, "integration-name-taken", "integration.integrationName")
	bad["integration"] = integration("bad name", "owners", []string{})
	wantProblem(t, f.do(t, http.MethodPost, "/v1/accounts", f.admin, bad), http.StatusUnprocessableEntity, "validation-failed",
		"integration.integrationName", "integration.owners")
	// The refused account's ID is free (nothing half-written).
	bad["integration"] = integration("other")
	if r := f.do(t, http.MethodPost, "/v1/accounts", f.admin, bad); r.Status != http.StatusCreated {
		t.Errorf("after refusals: %d %s", r.Status, r.Body)
	}
}

// TestIntegrationAudit: each change of a setting is in the audit trail with its old and new values.
func TestIntegrationAudit(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Solo", "222222222222", "standalone"))
	path := "/v1/accounts/222222222222/integration"
	f.do(t, http.MethodPut, path, f.admin, integration("solo", "regions", []string{"us-east-1"}), "If-Match", "*")
	f.do(t, http.MethodPut, path, f.admin, integration("solo-2", "regions", []string{"us-east-1", "eu-west-1"}), "If-Match", "*")
	var trail struct {
		Items []struct {
			Action  string `json:"action"`
			Target  string `json:"target"`
			Changes []struct {
				Field string          `json:"field"`
				From  json.RawMessage `json:"from"`
				To    json.RawMessage `json:"to"`
			} `json:"changes"`
		} `json:"items"`
	}
	f.do(t, http.MethodGet, "/v1/audit?limit=1", f.admin, nil).JSON(t, &trail)
	e := trail.Items[0]
	got := map[string]string{}
	for _, c := range e.Changes {
		got[c.Field] = string(c.From) + " → " + string(c.To)
	}
	want := map[string]string{
		"integration.integrationName": `"solo" → "solo-2"`,
		"integration.regions":         `["us-east-1"] → ["us-east-1","eu-west-1"]`,
	}
	if e.Action != "account.integration_updated" || e.Target != "account/222222222222" || len(got) != len(want) {
		t.Fatalf("entry = %+v", e)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
}

// TestSSORegionChecked: once a management account is connected, its role looks for IAM Identity Center in the
// region given: found there, the region is verified; absent there, the change is refused with the field named.
func TestSSORegionChecked(t *testing.T) {
	f := newFixture(t)
	const payer = "790000000001"
	testkit.NewOrganization(t, payer, 1)
	f.ConnectManagement(t, "acme", payer)
	testkit.LocalAWS(t).EnableIdentityCenter(payer, "eu-central-1")
	path := "/v1/accounts/" + payer + "/integration"

	p := wantProblem(t, f.do(t, http.MethodPut, path, f.admin, integration("payer", "ssoRegion", "us-east-1"), "If-Match", "*"),
		http.StatusUnprocessableEntity, "validation-failed", "ssoRegion")
	if !strings.Contains(string(mustJSON(t, p["errors"])), "no IAM Identity Center instance in us-east-1") {
		t.Errorf("problem = %v", p)
	}
	r := f.do(t, http.MethodPut, path, f.admin, integration("payer", "ssoRegion", "eu-central-1"), "If-Match", "*")
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	check := r.Map(t)["integration"].(map[string]any)["ssoRegionCheck"].(map[string]any)
	if check["status"] != "verified" || !strings.HasPrefix(check["instanceArn"].(string), "arn:aws:sso:::instance/ssoins-") {
		t.Errorf("check = %v", check)
	}
}

// TestSSORegionRecheckedOnConnect: a region set before the account was connected is looked up once it is.
func TestSSORegionRecheckedOnConnect(t *testing.T) {
	f := newFixture(t)
	const payer = "790000000011"
	testkit.NewOrganization(t, payer, 1)
	testkit.LocalAWS(t).EnableIdentityCenter(payer, "eu-west-1")
	body := account("Payer", payer, "management")
	body["integration"] = integration("payer", "ssoRegion", "ap-south-1")
	f.mustCreate(t, body)
	f.Connect(t, "acme", payer)
	a := f.do(t, http.MethodGet, "/v1/accounts/"+payer, f.admin, nil).Map(t)
	check := a["integration"].(map[string]any)["ssoRegionCheck"].(map[string]any)
	if check["status"] != "not_found" || !strings.Contains(check["reason"].(string), "ap-south-1") {
		t.Errorf("check after connecting = %v", check)
	}
}

func TestTenantCredentialRotation(t *testing.T) {
	f := newFixture(t)
	wantProblem(t, f.do(t, http.MethodPatch, "/v1/tenant", f.admin, map[string]any{"settings": map[string]any{"credentialRotationDays": 3}}, "If-Match", "*"),
		http.StatusUnprocessableEntity, "validation-failed", "settings.credentialRotationDays")
	r := f.do(t, http.MethodPatch, "/v1/tenant", f.admin, map[string]any{"settings": map[string]any{"credentialRotationDays": 90}}, "If-Match", "*")
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	tenant := r.Map(t)
	rot := tenant["externalIdRotation"].(map[string]any)
	if tenant["settings"].(map[string]any)["credentialRotationDays"] != float64(90) || rot["nextRotationAt"] == nil {
		t.Errorf("tenant = %v", tenant)
	}
	r = f.do(t, http.MethodPatch, "/v1/tenant", f.admin, map[string]any{"settings": map[string]any{"credentialRotationDays": 0}}, "If-Match", "*")
	if rot := r.Map(t)["externalIdRotation"].(map[string]any); rot["nextRotationAt"] != nil {
		t.Errorf("rotation off but next = %v", rot)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
