package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// instructions reads the onboarding material of an API answer (POST /v1/accounts's "onboarding", or GET .../onboarding).
func instructions(t *testing.T, raw any) onboarding.Instructions {
	t.Helper()
	b, _ := json.Marshal(raw)
	var ins onboarding.Instructions
	if err := json.Unmarshal(b, &ins); err != nil {
		t.Fatalf("instructions: %v", err)
	}
	return ins
}

// TestOnboardingInstructions: every way to launch the stack carries the same, current parameters, and asking again
// issues a new link.
func TestOnboardingInstructions(t *testing.T) {
	f := newFixture(t)
	created := f.mustCreate(t, account("Payer", "111111111111", "management", "region", "eu-west-1", "accessLevel", "resources_tags"))
	first := instructions(t, created["onboarding"])
	externalID := f.do(t, http.MethodGet, "/v1/tenant", f.admin, nil).Map(t)["externalId"].(string)

	r := f.do(t, http.MethodGet, "/v1/accounts/111111111111/onboarding", f.admin, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET onboarding: %d %s", r.Status, r.Body)
	}
	again := instructions(t, r.Map(t))
	if again.Parameters["ActivationToken"] == first.Parameters["ActivationToken"] || again.Parameters["ActivationToken"] == "" {
		t.Errorf("GET onboarding did not issue a new token")
	}
	for _, ins := range []onboarding.Instructions{first, again} {
		p := ins.Parameters
		if p["ExternalId"] != externalID || p["AccountType"] != "management" || p["AccessLevel"] != "resources_tags" {
			t.Errorf("parameters = %v", p)
		}
		if ins.Region != "eu-west-1" || !strings.Contains(p["CallbackTopicArn"], ":eu-west-1:") {
			t.Errorf("region %s, callback topic %s: the ServiceToken must be in the stack's region", ins.Region, p["CallbackTopicArn"])
		}
		u, err := url.Parse(ins.QuickCreateURL)
		if err != nil {
			t.Fatalf("quick-create URL: %v", err)
		}
		frag, _ := url.ParseQuery(strings.TrimPrefix(u.Fragment, "/stacks/create/review?"))
		if frag.Get("templateURL") != ins.TemplateURL || frag.Get("param_ActivationToken") != p["ActivationToken"] ||
			frag.Get("param_ExternalId") != externalID || u.Query().Get("region") != "eu-west-1" {
			t.Errorf("quick-create URL %s does not carry the parameters", ins.QuickCreateURL)
		}
		for _, want := range []string{"aws cloudformation create-stack", "REGION=eu-west-1", "CAPABILITY_NAMED_IAM", p["ActivationToken"]} {
			if !strings.Contains(ins.CLICommand, want) {
				t.Errorf("CLI command lacks %q: %s", want, ins.CLICommand)
			}
		}
		if got := ins.Manual.TrustPolicy.Statement[0].Condition["StringEquals"]["sts:ExternalId"]; got != externalID {
			t.Errorf("manual trust policy External ID = %q", got)
		}
		// View as Code: both halves, the role trusting the External ID of the gangplank_account it comes with.
		for _, want := range []string{`resource "aws_iam_role" "gangplank"`, `"sts:ExternalId" = gangplank_account.this.external_id`,
			`resource "gangplank_account" "this"`, `resource "gangplank_account_connection" "this"`} {
			if !strings.Contains(ins.Terraform, want) {
				t.Errorf("terraform lacks %s:\n%s", want, ins.Terraform)
			}
		}
	}

	tests := []struct {
		name, path, token string
		status            int
		problem           string
	}{
		{"viewer cannot issue links", "/v1/accounts/111111111111/onboarding", f.viewer, 403, "forbidden"},
		{"unknown account", "/v1/accounts/999999999999/onboarding", f.admin, 404, "not-found"},
		{"malformed account id", "/v1/accounts/12/onboarding", f.admin, 404, "not-found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, f.do(t, http.MethodGet, tc.path, tc.token, nil), tc.status, tc.problem)
		})
	}
}

// TestConnect: pasting the ARN of a role made by hand from the manual instructions activates the account; a role
// that does not work is refused with the reason and changes nothing.
func TestConnect(t *testing.T) {
	f := newFixture(t)
	created := f.mustCreate(t, account("Payer", "111111111111", "standalone"))
	ins := instructions(t, created["onboarding"])

	wrongExternal := ins.Manual.TrustPolicy
	wrongExternal.Statement = append([]onboarding.Statement(nil), wrongExternal.Statement...)
	wrongExternal.Statement[0].Condition = map[string]map[string]string{"StringEquals": {"sts:ExternalId": "not-the-tenants"}}
	wrongExternalRole := testkit.CreateRole(t, "111111111111", testkit.UniqueName("GangplankWrongExt"), wrongExternal)
	otherAccountRole := f.CreateRole(t, onboarding.Instructions{AccountID: "222222222222", Manual: ins.Manual})
	notGangplank := testkit.CreateRole(t, "111111111111", testkit.UniqueName("Analytics"), ins.Manual.TrustPolicy)

	failures := []struct {
		name, roleARN, problem, reason string
	}{
		{"role of another account", otherAccountRole, "role-verification-failed", "belongs to account 222222222222"},
		{"role that does not exist", "arn:aws:iam::111111111111:role/GangplankAccess-missing", "role-verification-failed", "Check that the role exists"},
		{"trust policy with another External ID", wrongExternalRole, "role-verification-failed", "sts:ExternalId"},
		{"role outside Gangplank's name pattern", notGangplank, "role-verification-failed", `must start with "Gangplank"`},
		{"not an ARN", "GangplankAccess", "validation-failed", ""},
	}
	before := f.do(t, http.MethodGet, "/v1/accounts/111111111111", f.admin, nil)
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(t, http.MethodPost, "/v1/accounts/111111111111/connect", f.admin, map[string]any{"roleArn": tc.roleARN})
			if tc.problem == "validation-failed" {
				wantProblem(t, r, 422, tc.problem, "roleArn")
				return
			}
			p := wantProblem(t, r, 422, tc.problem)
			if detail, _ := p["detail"].(string); !strings.Contains(detail, tc.reason) {
				t.Errorf("detail %q lacks %q", detail, tc.reason)
			}
		})
	}
	if after := f.do(t, http.MethodGet, "/v1/accounts/111111111111", f.admin, nil); string(after.Body) != string(before.Body) {
		t.Errorf("refused connections changed the account:\nbefore %s\nafter  %s", before.Body, after.Body)
	}
	wantProblem(t, f.do(t, http.MethodPost, "/v1/accounts/111111111111/connect", f.viewer, map[string]any{"roleArn": otherAccountRole}), 403, "forbidden")
	wantProblem(t, f.do(t, http.MethodPost, "/v1/accounts/111111111111/connect", f.admin, map[string]any{"roleArn": otherAccountRole, "extra": 1}), 400, "malformed-request")

	good := f.CreateRole(t, ins)
	r := f.do(t, http.MethodPost, "/v1/accounts/111111111111/connect", f.admin, map[string]any{"roleArn": good})
	if r.Status != http.StatusOK {
		t.Fatalf("connect: %d %s", r.Status, r.Body)
	}
	a := r.Map(t)
	health, _ := a["health"].(map[string]any)
	if a["status"] != "active" || a["roleArn"] != good || a["lastVerifiedAt"] == nil || a["activatedAt"] == nil || health["status"] != "healthy" {
		t.Errorf("connected account = %s", r.Body)
	}
	if r.Header.Get("ETag") == "" {
		t.Errorf("no ETag")
	}
	audit := f.do(t, http.MethodGet, "/v1/audit?limit=1", f.admin, nil)
	if !strings.Contains(string(audit.Body), "account.connected") {
		t.Errorf("newest audit entry is not the connection: %s", audit.Body)
	}
}

// TestVerify: re-checking finds a role that stopped working (disconnected, unhealthy) and one that works again;
// an STS outage changes nothing and says so.
func TestVerify(t *testing.T) {
	f := newFixture(t)
	ins := instructions(t, f.mustCreate(t, account("Prod", "111111111111", "standalone"))["onboarding"])
	wantProblem(t, f.do(t, http.MethodPost, "/v1/accounts/111111111111/verify", f.admin, nil), 409, "not-connected")

	role := f.CreateRole(t, ins)
	if r := f.do(t, http.MethodPost, "/v1/accounts/111111111111/connect", f.admin, map[string]any{"roleArn": role}); r.Status != 200 {
		t.Fatalf("connect: %d %s", r.Status, r.Body)
	}
	r := f.do(t, http.MethodPost, "/v1/accounts/111111111111/verify", f.admin, nil)
	if r.Status != 200 || r.Map(t)["status"] != "active" {
		t.Fatalf("verify a working role: %d %s", r.Status, r.Body)
	}

	// An STS outage: 503 with Retry-After, and the account is untouched.
	before := f.do(t, http.MethodGet, "/v1/accounts/111111111111", f.admin, nil)
	remove := testkit.LocalAWS(t).Intercept(localaws.InterceptorFunc(func(w http.ResponseWriter, c *localaws.Call) bool {
		if !c.Is("sts", "AssumeRole") {
			return false
		}
		localaws.WriteQueryError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "injected outage")
		return true
	}))
	out := f.do(t, http.MethodPost, "/v1/accounts/111111111111/verify", f.admin, nil)
	remove()
	wantProblem(t, out, 503, "aws-unreachable")
	if out.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	if after := f.do(t, http.MethodGet, "/v1/accounts/111111111111", f.admin, nil); string(after.Body) != string(before.Body) {
		t.Errorf("an outage changed the account: %s", after.Body)
	}

	// The customer deletes the role: the account is disconnected, with the reason.
	name := role[strings.LastIndexByte(role, '/')+1:]
	client := testkit.LocalAWS(t).AccountIAM("111111111111")
	for _, p := range ins.Manual.PermissionPolicies {
		_, _ = client.DeleteRolePolicy(t.Context(), &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(p.Name)})
	}
	if _, err := client.DeleteRole(t.Context(), &iam.DeleteRoleInput{RoleName: aws.String(name)}); err != nil {
		t.Fatalf("delete role: %v", err)
	}
	r = f.do(t, http.MethodPost, "/v1/accounts/111111111111/verify", f.admin, nil)
	a := r.Map(t)
	health, _ := a["health"].(map[string]any)
	if r.Status != 200 || a["status"] != "disconnected" || health["status"] != "unhealthy" ||
		!strings.Contains(a["statusReason"].(string), "stopped working") {
		t.Errorf("verify a deleted role: %d %s", r.Status, r.Body)
	}
	wantProblem(t, f.do(t, http.MethodPost, "/v1/accounts/111111111111/verify", f.viewer, nil), 403, "forbidden")
}

// TestRotateExternalID: the new External ID is used at once by new instructions, the old one keeps working during
// the grace period (health says so), and a stale If-Match is refused.
func TestRotateExternalID(t *testing.T) {
	f := newFixture(t)
	ins := instructions(t, f.mustCreate(t, account("Prod", "111111111111", "standalone"))["onboarding"])
	role := f.CreateRole(t, ins)
	if r := f.do(t, http.MethodPost, "/v1/accounts/111111111111/connect", f.admin, map[string]any{"roleArn": role}); r.Status != 200 {
		t.Fatalf("connect: %d %s", r.Status, r.Body)
	}
	tenant := f.do(t, http.MethodGet, "/v1/tenant", f.admin, nil)
	old := tenant.Map(t)["externalId"].(string)

	wantProblem(t, f.do(t, http.MethodPost, "/v1/tenant/external-id/rotate", f.viewer, nil), 403, "forbidden")
	r := f.do(t, http.MethodPost, "/v1/tenant/external-id/rotate", f.admin, nil, "If-Match", tenant.Header.Get("ETag"))
	if r.Status != 200 {
		t.Fatalf("rotate: %d %s", r.Status, r.Body)
	}
	rotated := r.Map(t)
	prev, _ := rotated["previousExternalIds"].([]any)
	if rotated["externalId"] == old || len(prev) != 1 || prev[0].(map[string]any)["externalId"] != old || prev[0].(map[string]any)["validUntil"] == nil {
		t.Errorf("rotated tenant = %s", r.Body)
	}
	wantProblem(t, f.do(t, http.MethodPost, "/v1/tenant/external-id/rotate", f.admin, nil, "If-Match", tenant.Header.Get("ETag")), 412, "precondition-failed")

	again := instructions(t, f.do(t, http.MethodGet, "/v1/accounts/111111111111/onboarding", f.admin, nil).Map(t))
	if again.Parameters["ExternalId"] != rotated["externalId"] {
		t.Errorf("new instructions use External ID %q, want the new %q", again.Parameters["ExternalId"], rotated["externalId"])
	}
	v := f.do(t, http.MethodPost, "/v1/accounts/111111111111/verify", f.admin, nil).Map(t)
	health, _ := v["health"].(map[string]any)
	if v["status"] != "active" || health["status"] != "degraded" || !strings.Contains(health["reason"].(string), "previous External ID") {
		t.Errorf("an account on the old External ID after rotation: %v", v)
	}
}
