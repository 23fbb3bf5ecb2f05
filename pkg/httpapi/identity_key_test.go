package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/gangplank/gangplank/pkg/testkit"
)

// userKey creates an IAM user with IAMFullAccess in the account (as its owner) and returns its key.
func userKey(t *testing.T, owner *iam.Client, name, path string) (id, secret string) {
	t.Helper()
	ctx := t.Context()
	if _, err := owner.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name), Path: aws.String(path)}); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMFullAccess")}); err != nil {
		t.Fatal(err)
	}
	k, err := owner.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey)
}

// TestIdentityKeyAPI: RoleUp's way in through the API, for an account that runs no stack. A key of another account
// is refused (422, naming both accounts); a good key is checked, stored and shown by its id, user and age only;
// the path prefix refuses users outside it (403 naming the prefix); the key rotates; removal deletes its secret.
// Neither the key's secret nor the rotated key's appears in any answer, log line or audit entry.
func TestIdentityKeyAPI(t *testing.T) {
	logs := captureLogs(t)
	f := newFixture(t)
	const acct, other = "620000000001", "620000000002"
	f.mustCreate(t, account("Keyed", acct, "standalone", "identityPathPrefix", "/staff/"))
	owner := iam.NewFromConfig(testkit.LocalAWS(t).AccountConfig(acct))
	foreignID, foreignSecret := userKey(t, iam.NewFromConfig(testkit.LocalAWS(t).AccountConfig(other)), "their-admin", "/")
	keyID, keySecret := userKey(t, owner, "gangplank", "/automation/")
	if _, err := owner.CreateUser(t.Context(), &iam.CreateUserInput{UserName: aws.String("outsider"), Path: aws.String("/contractors/")}); err != nil {
		t.Fatal(err)
	}
	path := func(rest string) string { return "/v1/accounts/" + acct + "/iam" + rest }
	var answers []string
	do := func(method, p string, body any) *testkit.Response {
		r := f.do(t, method, p, f.admin, body)
		answers = append(answers, string(r.Body))
		return r
	}

	p := wantProblem(t, do(http.MethodPut, path("/key"), map[string]any{"accessKeyId": foreignID, "secretAccessKey": foreignSecret}),
		http.StatusUnprocessableEntity, "key-refused", "accessKeyId")
	if d := p["detail"].(string); !strings.Contains(d, other) || !strings.Contains(d, acct) {
		t.Errorf("the refusal does not name both accounts: %s", d)
	}
	r := do(http.MethodPut, path("/key"), map[string]any{"accessKeyId": keyID, "secretAccessKey": keySecret})
	if r.Status != http.StatusOK {
		t.Fatalf("enter the key: %d %s", r.Status, r.Body)
	}
	v := r.Map(t)
	key, _ := v["key"].(map[string]any)
	if v["via"] != "key" || v["access"] != "readwrite" || v["pathPrefix"] != "/staff/" || key["accessKeyId"] != keyID || key["userName"] != "gangplank" ||
		key["ageDays"] != float64(0) {
		t.Errorf("integration after the key = %s", r.Body)
	}
	testkit.WaitIdle(t) // the first sync
	if v := do(http.MethodGet, path(""), nil).Map(t); v["status"] != "active" {
		t.Errorf("after the first sync: %v", v)
	}
	p = wantProblem(t, do(http.MethodDelete, path("/users/outsider"), nil), http.StatusForbidden, "outside-path-prefix")
	if p["pathPrefix"] != "/staff/" || !strings.Contains(p["detail"].(string), "/staff/") {
		t.Errorf("the refusal does not name the prefix: %v", p)
	}
	if r := do(http.MethodPost, path("/users"), map[string]any{"userName": "newcomer"}); r.Status != http.StatusCreated {
		t.Fatalf("onboard with the key: %d %s", r.Status, r.Body)
	}
	if u, err := owner.GetUser(t.Context(), &iam.GetUserInput{UserName: aws.String("newcomer")}); err != nil || aws.ToString(u.User.Path) != "/staff/" {
		t.Errorf("newcomer: %+v %v", u, err)
	}

	r = do(http.MethodPost, path("/key/rotate"), nil)
	rotated, _ := r.Map(t)["key"].(map[string]any)
	if r.Status != http.StatusOK || rotated["accessKeyId"] == keyID || rotated["rotation"].(map[string]any)["lastRotatedAt"] == nil {
		t.Fatalf("rotate: %d %s", r.Status, r.Body)
	}
	secrets := secretsmanager.NewFromConfig(f.AWS)
	secretID := aws.String(f.Config.Identity.SecretPrefix + "/acme/" + acct)
	stored, err := secrets.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: secretID})
	if err != nil || !strings.Contains(aws.ToString(stored.SecretString), rotated["accessKeyId"].(string)) {
		t.Fatalf("the rotated key's secret: %v", err)
	}
	_, rotatedSecret, _ := strings.Cut(aws.ToString(stored.SecretString), `"secretAccessKey":"`)
	rotatedSecret, _, _ = strings.Cut(rotatedSecret, `"`)
	if len(rotatedSecret) < 20 {
		t.Fatalf("could not read the rotated key's secret from %d characters", len(aws.ToString(stored.SecretString)))
	}
	for _, p := range []string{path(""), path("/users"), path("/users/gangplank"), path("/groups")} {
		do(http.MethodGet, p, nil)
	}
	audit := do(http.MethodGet, "/v1/audit?limit=100", nil)
	if !strings.Contains(string(audit.Body), "iam.key_rotated") || !strings.Contains(string(audit.Body), "iam.integration_created") {
		t.Errorf("the audit trail does not record the key's entry and rotation: %s", audit.Body)
	}
	if r := do(http.MethodDelete, path(""), nil); r.Status != http.StatusNoContent {
		t.Fatalf("remove: %d %s", r.Status, r.Body)
	}
	if _, err := secrets.DescribeSecret(t.Context(), &secretsmanager.DescribeSecretInput{SecretId: secretID}); err == nil {
		t.Error("the key's secret outlives the integration")
	}
	for _, secret := range []string{keySecret, rotatedSecret, foreignSecret} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("a key's secret appears in the logs")
		}
		for _, a := range answers {
			if strings.Contains(a, secret) {
				t.Errorf("a key's secret appears in an answer: %s", a)
			}
		}
	}
	if !strings.Contains(logs.String(), "/v1/accounts/"+acct+"/iam/key") {
		t.Error("the captured logs do not show the key's requests: the grep above proves nothing")
	}
}
