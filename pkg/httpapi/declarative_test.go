package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/costsync"
	"github.com/gangplank/gangplank/pkg/store"
)

// The endpoints declarative clients (the Terraform provider) need besides the usual ones: reading a commitment
// without Cost Explorer, removing it, and disconnecting an account.

// TestCommitmentWithoutSpend: spend=false answers the commitment alone, also for an account not connected yet
// (where the spend report must refuse), and DELETE removes it.
func TestCommitmentWithoutSpend(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Payer", "111111111111", "management"))
	path := "/v1/accounts/111111111111/commitment"
	wantProblem(t, f.do(t, http.MethodGet, path+"?spend=false", f.admin, nil), http.StatusNotFound, "no-commitment")
	if r := f.do(t, http.MethodPut, path, f.admin, map[string]any{"amount": 500000, "currency": "EUR", "start": "2026-01-01", "end": "2027-12-31"}); r.Status != http.StatusOK {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
	// The report needs Cost Explorer through the role: not connected yet.
	wantProblem(t, f.do(t, http.MethodGet, path, f.viewer, nil), http.StatusConflict, "not-connected")
	r := f.do(t, http.MethodGet, path+"?spend=false", f.viewer, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("spend=false: %d %s", r.Status, r.Body)
	}
	c := r.Map(t)["commitment"].(map[string]any)
	if c["amount"] != float64(500000) || c["currency"] != "EUR" || !strings.HasPrefix(c["start"].(string), "2026-01-01") {
		t.Errorf("commitment = %v", c)
	}
	wantProblem(t, f.do(t, http.MethodGet, path+"?spend=maybe", f.viewer, nil), http.StatusBadRequest, "malformed-request", "spend")
	wantProblem(t, f.do(t, http.MethodDelete, path, f.viewer, nil), http.StatusForbidden, "forbidden")
	if r := f.do(t, http.MethodDelete, path, f.admin, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	wantProblem(t, f.do(t, http.MethodGet, path+"?spend=false", f.admin, nil), http.StatusNotFound, "no-commitment")
	wantProblem(t, f.do(t, http.MethodDelete, path, f.admin, nil), http.StatusNotFound, "no-commitment")
	if trail := f.do(t, http.MethodGet, "/v1/audit?limit=1", f.admin, nil); !strings.Contains(string(trail.Body), `"commitment.deleted"`) ||
		!strings.Contains(string(trail.Body), `"amount"`) {
		t.Errorf("audit: %s", trail.Body)
	}
}

// TestCommitmentWrittenConcurrently: a commitment write that lost to another one is a conflict the client can act
// on, not a 500 (the store used to return the cost sync's status error, which no edge mapped).
func TestCommitmentWrittenConcurrently(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Payer", "111111111111", "management"))
	costs := store.Costs{DB: f.Services.DB}
	c := costsync.Commitment{PayerAccountID: "111111111111", Amount: 1, Currency: "USD", Start: time.Now(), End: time.Now().Add(time.Hour)}
	entry := func() audit.Entry {
		return audit.New(context.Background(), "acme", time.Now(), "commitment.set", "account/111111111111", nil)
	}
	if err := costs.PutCommitment(t.Context(), "acme", c, 0, entry()); err != nil {
		t.Fatal(err)
	}
	// A second writer read "no commitment" (version 0) before the first wrote.
	if err := costs.PutCommitment(t.Context(), "acme", c, 0, entry()); !errors.Is(err, costsync.ErrCommitmentChanged) {
		t.Errorf("stale put: %v", err)
	}
	if err := costs.DeleteCommitment(t.Context(), "acme", "111111111111", 7, entry()); !errors.Is(err, costsync.ErrCommitmentChanged) {
		t.Errorf("stale delete: %v", err)
	}
}

// TestDisconnect: the account forgets its role and stops being used; asking again changes nothing.
func TestDisconnect(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, account("Solo", "780000000001", "standalone"))
	f.Connect(t, "acme", "780000000001")
	path := "/v1/accounts/780000000001/disconnect"
	wantProblem(t, f.do(t, http.MethodPost, path, f.viewer, nil), http.StatusForbidden, "forbidden")
	wantProblem(t, f.do(t, http.MethodPost, "/v1/accounts/999999999999/disconnect", f.admin, nil), http.StatusNotFound, "not-found")
	r := f.do(t, http.MethodPost, path, f.admin, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	a := r.Map(t)
	if a["status"] != "disconnected" || a["roleArn"] != nil || a["health"].(map[string]any)["status"] != "unknown" ||
		!strings.Contains(a["statusReason"].(string), "on request") {
		t.Errorf("disconnected = %v", a)
	}
	again := f.do(t, http.MethodPost, path, f.admin, nil).Map(t)
	if again["version"] != a["version"] {
		t.Errorf("a second disconnect wrote again: %v → %v", a["version"], again["version"])
	}
	// Gangplank no longer has a role to check.
	wantProblem(t, f.do(t, http.MethodPost, "/v1/accounts/780000000001/verify", f.admin, nil), http.StatusConflict, "not-connected")
	if trail := f.do(t, http.MethodGet, "/v1/audit?limit=1", f.admin, nil); !strings.Contains(string(trail.Body), `"account.disconnected"`) {
		t.Errorf("audit: %s", trail.Body)
	}
}

// TestViewAsCode: GET /v1/accounts/{id}/terraform answers both halves in one configuration, formatted as
// `terraform fmt` writes it, with the account's settings and the role the onboarding material describes; viewers
// may read it (it issues no link), and it changes nothing.
func TestViewAsCode(t *testing.T) {
	f := newFixture(t)
	body := account("Payer \"EU\"", "111111111111", "management")
	body["region"] = "eu-west-1"
	body["integration"] = integration("payer-eu", "regions", []string{"eu-west-1"}, "customAccessDetails", "Ask #cloud")
	f.mustCreate(t, body)
	f.mustCreate(t, account("Solo", "780000000002", "standalone"))
	f.Connect(t, "acme", "780000000002")

	r := f.do(t, http.MethodGet, "/v1/accounts/111111111111/terraform", f.viewer, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	var v struct {
		AccountID, RoleName, TemplateURL, CallbackTopicARN, Configuration string
	}
	r.JSON(t, &v)
	if v.RoleName != "GangplankAccess" || !strings.HasSuffix(v.TemplateURL, "/onboarding.yaml") || !strings.Contains(v.CallbackTopicARN, ":eu-west-1:") {
		t.Errorf("facts = %+v", v)
	}
	if formatted := string(hclwrite.Format([]byte(v.Configuration))); formatted != v.Configuration {
		t.Errorf("the configuration is not formatted as terraform fmt would:\n%s", v.Configuration)
	}
	file, diags := hclsyntax.ParseConfig([]byte(v.Configuration), "main.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("does not parse: %v", diags)
	}
	blocks := map[string]bool{}
	for _, b := range file.Body.(*hclsyntax.Body).Blocks {
		blocks[b.Type+" "+strings.Join(b.Labels, ".")] = true
	}
	for _, want := range []string{"import ", "provider gangplank", "provider aws", "variable integration_name", "variable owners", "resource gangplank_account.this",
		"resource aws_iam_role.gangplank", "resource aws_iam_role_policy_attachment.view_only", "resource aws_iam_role_policy.gangplank_organization",
		"resource aws_iam_role_policy.gangplank_member_activation", "resource gangplank_account_connection.this", "output gangplank_role_arn"} {
		if !blocks[want] {
			t.Errorf("no %s in:\n%s", want, v.Configuration)
		}
	}
	for _, want := range []string{`\bname\s+= "Payer \\"EU\\""`, `default\s+= "payer-eu"`, `custom_access_details\s+= "Ask #cloud"`,
		`allowed_account_ids\s+= \["111111111111"\]`, `import \{\s+to = gangplank_account\.this\s+id = "111111111111"\s+\}`, `"sts:ExternalId" = gangplank_account\.this\.external_id`} {
		if !regexp.MustCompile(want).MatchString(v.Configuration) {
			t.Errorf("configuration lacks %s:\n%s", want, v.Configuration)
		}
	}
	// A connected account's configuration names its deployed role, so it can be imported.
	conn := f.do(t, http.MethodGet, "/v1/accounts/780000000002/terraform", f.admin, nil).Map(t)
	if !strings.HasPrefix(conn["roleName"].(string), "GangplankAccess-") || !strings.Contains(conn["configuration"].(string), conn["roleName"].(string)) {
		t.Errorf("connected account: role %v", conn["roleName"])
	}
	// Reading it wrote nothing (no activation link issued).
	if a := f.do(t, http.MethodGet, "/v1/accounts/111111111111", f.admin, nil).Map(t); a["version"] != float64(1) {
		t.Errorf("version = %v after reading the configuration", a["version"])
	}
	wantProblem(t, f.do(t, http.MethodGet, "/v1/accounts/999999999999/terraform", f.admin, nil), http.StatusNotFound, "not-found")
}
