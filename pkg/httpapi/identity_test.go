package httpapi_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gangplank/gangplank/pkg/testkit"
)

// iamFixture is tenant acme with an account whose role grants identityAccess (readwrite unless said otherwise),
// connected, so that its IAM integration exists and has synced; the customer acts in the account as its owner.
type iamFixture struct {
	*fixture
	acct  string
	owner *iam.Client
}

func newIAMFixture(t *testing.T, acct, access string) *iamFixture {
	return newFixture(t).iamAccount(t, acct, access)
}

// iamAccount adds an account to tenant acme with the identity option and connects its role.
func (f *fixture) iamAccount(t *testing.T, acct, access string) *iamFixture {
	t.Helper()
	f.mustCreate(t, account("IAM "+acct, acct, "standalone", "identityAccess", access))
	f.Connect(t, "acme", acct)
	return &iamFixture{fixture: f, acct: acct, owner: iam.NewFromConfig(testkit.LocalAWS(t).AccountConfig(acct))}
}

func (f *iamFixture) path(rest string) string { return "/v1/accounts/" + f.acct + "/iam" + rest }

// group creates an IAM group and a managed policy in the account, and returns the policy's ARN.
func (f *iamFixture) group(t *testing.T, name string) string {
	t.Helper()
	ctx := t.Context()
	if _, err := f.owner.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}}})
	p, err := f.owner.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name + "-policy"), PolicyDocument: aws.String(string(doc))})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(p.Policy.Arn)
}

// TestIdentityAPI walks the IAM integration through the API: the role's integration appears once the role is
// connected, syncs, onboards a user (password generated and shown once), links it to a person, issues and uses a
// self-service link, offboards, and is removed; every answer is checked against the OpenAPI document.
func TestIdentityAPI(t *testing.T) {
	f := newIAMFixture(t, "610000000001", "readwrite")
	policy := f.group(t, "engineers")

	in := f.do(t, http.MethodGet, f.path(""), f.viewer, nil)
	if in.Status != http.StatusOK {
		t.Fatalf("GET integration: %d %s", in.Status, in.Body)
	}
	v := in.Map(t)
	if v["via"] != "role" || v["access"] != "readwrite" || v["status"] != "active" || v["chosen"] != "readwrite" || v["pathPrefix"] != "/" {
		t.Errorf("integration = %s", in.Body)
	}
	calls := v["lastSync"].(map[string]any)["calls"].(map[string]any)
	if calls["IAM.GetAccountAuthorizationDetails"] == nil || calls["IAM.GetCredentialReport"] == nil {
		t.Errorf("the sync's calls are not recorded by operation: %v", calls)
	}
	if r := f.do(t, http.MethodPost, f.path("/verify"), f.admin, nil); r.Status != http.StatusOK || r.Map(t)["access"] != "readwrite" {
		t.Errorf("verify: %d %s", r.Status, r.Body)
	}
	if r := f.do(t, http.MethodPost, f.path("/sync"), f.admin, nil); r.Status != http.StatusAccepted {
		t.Errorf("sync: %d %s", r.Status, r.Body)
	}
	r := f.do(t, http.MethodPost, f.path("/sync"), f.admin, nil)
	wantProblem(t, r, http.StatusTooManyRequests, "sync-rate-limited")
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}

	r = f.do(t, http.MethodPost, f.path("/users"), f.admin, map[string]any{"userName": "dana", "groups": []string{"engineers"}, "managedPolicyArns": []string{policy}})
	if r.Status != http.StatusCreated {
		t.Fatalf("onboard: %d %s", r.Status, r.Body)
	}
	onboarded := r.Map(t)
	password, _ := onboarded["password"].(string)
	if len(password) < 20 || onboarded["passwordResetRequired"] != true || r.Header.Get("Location") != f.path("/users/dana") {
		t.Errorf("onboarded = %s (Location %s)", r.Body, r.Header.Get("Location"))
	}
	profile, err := f.owner.GetLoginProfile(t.Context(), &iam.GetLoginProfileInput{UserName: aws.String("dana")})
	if err != nil || !profile.LoginProfile.PasswordResetRequired {
		t.Errorf("dana's login profile: %+v %v", profile, err)
	}
	list := f.do(t, http.MethodGet, f.path("/users?limit=10"), f.viewer, nil)
	if list.Status != http.StatusOK || !strings.Contains(string(list.Body), `"userName":"dana"`) {
		t.Errorf("users: %d %s", list.Status, list.Body)
	}
	detail := f.do(t, http.MethodGet, f.path("/users/dana"), f.viewer, nil)
	if detail.Status != http.StatusOK || !strings.Contains(string(detail.Body), `"passwordResetRequired":true`) ||
		!strings.Contains(string(detail.Body), `"groups":["engineers"]`) {
		t.Errorf("user: %d %s", detail.Status, detail.Body)
	}
	if strings.Contains(string(detail.Body), password) || strings.Contains(string(list.Body), password) {
		t.Error("the generated password is shown again")
	}
	groups := f.do(t, http.MethodGet, f.path("/groups"), f.viewer, nil)
	if groups.Status != http.StatusOK || !strings.Contains(string(groups.Body), `"groupName":"engineers"`) {
		t.Errorf("groups: %d %s", groups.Status, groups.Body)
	}

	link := f.do(t, http.MethodPut, f.path("/users/dana/person"), f.admin, map[string]any{"email": "Dana@Example.com"})
	if link.Status != http.StatusOK || link.Map(t)["email"] != "dana@example.com" {
		t.Fatalf("link person: %d %s", link.Status, link.Body)
	}
	people := f.do(t, http.MethodGet, "/v1/people/dana@example.com/iam-users", f.viewer, nil)
	if items := people.Map(t)["items"].([]any); people.Status != http.StatusOK || len(items) != 1 {
		t.Errorf("dana's users: %d %s", people.Status, people.Body)
	}
	if r := f.do(t, http.MethodDelete, f.path("/users/dana/person"), f.admin, nil); r.Status != http.StatusNoContent {
		t.Errorf("unlink: %d %s", r.Status, r.Body)
	}
	wantProblem(t, f.do(t, http.MethodDelete, f.path("/users/dana/person"), f.admin, nil), http.StatusNotFound, "no-person-link")

	inv := f.do(t, http.MethodPost, f.path("/invitations"), f.admin, map[string]any{"groups": []string{"engineers"}, "email": "erin@example.com", "validHours": 24})
	if inv.Status != http.StatusCreated {
		t.Fatalf("invite: %d %s", inv.Status, inv.Body)
	}
	token := inv.Map(t)["token"].(string)
	public := "/v1/iam-invitations/" + token
	opened := f.do(t, http.MethodGet, public, "", nil)
	if opened.Status != http.StatusOK || !strings.Contains(string(opened.Body), `"minimumLength"`) || !strings.Contains(string(opened.Body), `"engineers"`) {
		t.Errorf("open link: %d %s", opened.Status, opened.Body)
	}
	wantProblem(t, f.do(t, http.MethodPost, public, "", map[string]any{"userName": "erin", "password": "weak"}), http.StatusUnprocessableEntity,
		"validation-failed", "password")
	accepted := f.do(t, http.MethodPost, public, "", map[string]any{"userName": "erin", "password": "Erin-chose-this-1"})
	if accepted.Status != http.StatusCreated || accepted.Map(t)["password"] != nil || !strings.Contains(string(accepted.Body), `"person":"erin@example.com"`) {
		t.Fatalf("accept link: %d %s", accepted.Status, accepted.Body)
	}
	wantProblem(t, f.do(t, http.MethodPost, public, "", map[string]any{"userName": "erin2", "password": "Erin-chose-this-1"}), http.StatusGone, "invitation-gone")
	wantProblem(t, f.do(t, http.MethodGet, "/v1/iam-invitations/gpi_unknown", "", nil), http.StatusNotFound, "invitation-not-found")

	off := f.do(t, http.MethodDelete, f.path("/users/dana"), f.admin, nil)
	if off.Status != http.StatusOK || off.Map(t)["status"] != "deleted" {
		t.Fatalf("offboard: %d %s", off.Status, off.Body)
	}
	if r := f.do(t, http.MethodGet, f.path("/users/dana/offboarding"), f.viewer, nil); r.Status != http.StatusOK || r.Map(t)["status"] != "deleted" {
		t.Errorf("offboarding: %d %s", r.Status, r.Body)
	}
	wantProblem(t, f.do(t, http.MethodPost, f.path("/key/rotate"), f.admin, nil), http.StatusConflict, "no-key")

	wantProblem(t, f.do(t, http.MethodDelete, "/v1/accounts/"+f.acct+"?confirm=IAM%20"+f.acct, f.admin, nil), http.StatusConflict, "has-identity-integration")
	if r := f.do(t, http.MethodDelete, f.path(""), f.admin, nil); r.Status != http.StatusNoContent {
		t.Fatalf("remove: %d %s", r.Status, r.Body)
	}
	wantProblem(t, f.do(t, http.MethodGet, f.path(""), f.viewer, nil), http.StatusNotFound, "no-identity-integration")
	wantProblem(t, f.do(t, http.MethodGet, f.path("/users"), f.viewer, nil), http.StatusNotFound, "no-identity-integration")
	if a := f.do(t, http.MethodGet, "/v1/accounts/"+f.acct, f.viewer, nil).Map(t); a["identityAccess"] != "none" || a["identityIntegration"] != nil {
		t.Errorf("account after removal: %v", a)
	}
	if r := f.do(t, http.MethodDelete, "/v1/accounts/"+f.acct+"?confirm=IAM%20"+f.acct, f.admin, nil); r.Status != http.StatusNoContent {
		t.Errorf("delete the account after its integration: %d %s", r.Status, r.Body)
	}
}

// TestIdentityBadInput: every refusal names what is wrong: IAM's user name rules, the account's password policy
// (read from IAM), a group or policy that does not exist, a taken user name, a key that is not a key; viewers
// cannot write; a read-only integration refuses onboarding and offboarding with 409.
func TestIdentityBadInput(t *testing.T) {
	f := newIAMFixture(t, "610000000002", "readwrite")
	ctx := t.Context()
	policy := f.group(t, "ops")
	if _, err := f.owner.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(14),
		RequireSymbols: true, RequireNumbers: true, RequireUppercaseCharacters: true, RequireLowercaseCharacters: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.owner.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("taken")}); err != nil {
		t.Fatal(err)
	}
	users := f.path("/users")
	tests := []struct {
		name   string
		body   any
		status int
		typ    string
		fields []string
		detail string
	}{
		{"user name with a space", map[string]any{"userName": "jane doe"}, 422, "validation-failed", []string{"userName"}, ""},
		{"user name too long", map[string]any{"userName": strings.Repeat("a", 65)}, 422, "validation-failed", []string{"userName"}, ""},
		{"no user name", map[string]any{"groups": []string{"ops"}}, 422, "validation-failed", []string{"userName"}, ""},
		{"password under the policy", map[string]any{"userName": "jane", "password": "Short1!"}, 422, "validation-failed", []string{"password"}, "at least 14 characters"},
		{"password without a symbol", map[string]any{"userName": "jane", "password": "LongEnoughPassw0rd"}, 422, "validation-failed", []string{"password"}, "symbol"},
		{"unknown group", map[string]any{"userName": "jane", "groups": []string{"ops", "nobody-here"}}, 422, "validation-failed", []string{"groups[1]"}, ""},
		{"unknown policy", map[string]any{"userName": "jane", "managedPolicyArns": []string{"arn:aws:iam::610000000002:policy/missing"}}, 422, "validation-failed", []string{"managedPolicyArns[0]"}, ""},
		{"another account's policy", map[string]any{"userName": "jane", "managedPolicyArns": []string{"arn:aws:iam::999999999999:policy/theirs"}}, 422, "validation-failed", []string{"managedPolicyArns[0]"}, ""},
		{"not a policy ARN", map[string]any{"userName": "jane", "managedPolicyArns": []string{"ReadOnlyAccess"}}, 422, "validation-failed", []string{"managedPolicyArns[0]"}, ""},
		{"group twice", map[string]any{"userName": "jane", "groups": []string{"ops", "OPS"}}, 422, "validation-failed", []string{"groups[1]"}, ""},
		{"taken name", map[string]any{"userName": "taken"}, 409, "iam-user-exists", []string{"userName"}, ""},
		{"unknown field", map[string]any{"userName": "jane", "admin": true}, 400, "malformed-request", []string{"admin"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := wantProblem(t, f.do(t, http.MethodPost, users, f.admin, tt.body), tt.status, tt.typ, tt.fields...)
			if tt.detail != "" && !strings.Contains(js(p), tt.detail) {
				t.Errorf("the refusal does not say %q: %v", tt.detail, p)
			}
		})
	}
	if out, err := f.owner.ListUsers(ctx, &iam.ListUsersInput{}); err != nil || len(out.Users) != 1 {
		t.Errorf("refused onboardings made users: %+v %v", out, err)
	}
	if r := f.do(t, http.MethodPost, users, f.admin, map[string]any{"userName": "jane", "password": "A-strong-enough-1", "managedPolicyArns": []string{policy}}); r.Status != http.StatusCreated {
		t.Fatalf("a valid onboarding: %d %s", r.Status, r.Body)
	}

	wantProblem(t, f.do(t, http.MethodPut, f.path("/key"), f.admin, map[string]any{"accessKeyId": "nope", "secretAccessKey": "short"}),
		http.StatusUnprocessableEntity, "validation-failed", "accessKeyId", "secretAccessKey")
	wantProblem(t, f.do(t, http.MethodPut, f.path("/key"), f.admin, map[string]any{"accessKeyId": "ASIAIOSFODNN7EXAMPLE", "secretAccessKey": strings.Repeat("s", 40)}),
		http.StatusUnprocessableEntity, "validation-failed", "accessKeyId")
	wantProblem(t, f.do(t, http.MethodPut, f.path("/users/jane/person"), f.admin, map[string]any{"email": "not an email"}),
		http.StatusUnprocessableEntity, "validation-failed", "email")
	wantProblem(t, f.do(t, http.MethodPost, f.path("/invitations"), f.admin, map[string]any{"validHours": 1000}),
		http.StatusUnprocessableEntity, "validation-failed", "validHours")
	wantProblem(t, f.do(t, http.MethodGet, f.path("/users/bad%20name"), f.viewer, nil), http.StatusNotFound, "iam-user-not-found")
	wantProblem(t, f.do(t, http.MethodDelete, f.path("/users/nobody"), f.admin, nil), http.StatusNotFound, "iam-user-not-found")
	wantProblem(t, f.do(t, http.MethodGet, "/v1/people/not-an-email/iam-users", f.viewer, nil), http.StatusNotFound, "not-found")

	for _, w := range []testkit.Request{
		{Method: http.MethodPost, Path: users, Body: map[string]any{"userName": "viewer-made"}},
		{Method: http.MethodDelete, Path: f.path("/users/jane")},
		{Method: http.MethodDelete, Path: f.path("")},
		{Method: http.MethodPut, Path: f.path("/key"), Body: map[string]any{"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": strings.Repeat("s", 40)}},
		{Method: http.MethodPost, Path: f.path("/invitations"), Body: map[string]any{}},
	} {
		w.Token = f.viewer
		wantProblem(t, f.Do(t, w), http.StatusForbidden, "forbidden")
	}

	ro := f.iamAccount(t, "610000000003", "read")
	if v := ro.do(t, http.MethodGet, ro.path(""), ro.viewer, nil).Map(t); v["access"] != "read" || v["status"] != "active" {
		t.Fatalf("read-only integration = %v", v)
	}
	if _, err := ro.owner.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("keeps-access")}); err != nil {
		t.Fatal(err)
	}
	p := wantProblem(t, ro.do(t, http.MethodPost, ro.path("/users"), ro.admin, map[string]any{"userName": "nope"}), http.StatusConflict, "identity-read-only")
	if !strings.Contains(p["detail"].(string), "readwrite") {
		t.Errorf("the refusal does not say how to get write access: %v", p["detail"])
	}
	wantProblem(t, ro.do(t, http.MethodDelete, ro.path("/users/keeps-access"), ro.admin, nil), http.StatusConflict, "identity-read-only")
	if _, err := ro.owner.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("keeps-access")}); err != nil {
		t.Errorf("a read-only integration touched the user: %v", err)
	}
}

// TestSecretsNeverLeak: passwords (chosen or generated), self-service tokens and stored keys appear in no log line,
// no audit entry, and no answer but the one that hands them out.
func TestSecretsNeverLeak(t *testing.T) {
	logs := captureLogs(t)
	f := newIAMFixture(t, "610000000004", "readwrite")
	chosen := "Chosen-Passw0rd-never-shown"
	var answers []string
	do := func(method, path, token string, body any) *testkit.Response {
		r := f.do(t, method, path, token, body)
		answers = append(answers, string(r.Body))
		return r
	}
	if r := do(http.MethodPost, f.path("/users"), f.admin, map[string]any{"userName": "frank", "password": chosen}); r.Status != http.StatusCreated {
		t.Fatalf("onboard: %d %s", r.Status, r.Body)
	}
	r := f.do(t, http.MethodPost, f.path("/users"), f.admin, map[string]any{"userName": "gina"})
	generated, _ := r.Map(t)["password"].(string)
	if generated == "" {
		t.Fatalf("no generated password: %s", r.Body)
	}
	inv := f.do(t, http.MethodPost, f.path("/invitations"), f.admin, map[string]any{})
	token := inv.Map(t)["token"].(string)
	selfChosen := "Self-Chosen-Passw0rd-1"
	do(http.MethodGet, "/v1/iam-invitations/"+token, "", nil)
	do(http.MethodPost, "/v1/iam-invitations/"+token, "", map[string]any{"userName": "hank", "password": "weak"})
	do(http.MethodPost, "/v1/iam-invitations/"+token, "", map[string]any{"userName": "hank", "password": selfChosen})
	for _, p := range []string{f.path(""), f.path("/users"), f.path("/users/frank"), f.path("/users/gina"), f.path("/users/hank"), "/v1/audit?limit=100"} {
		do(http.MethodGet, p, f.admin, nil)
	}
	do(http.MethodDelete, f.path("/users/gina"), f.admin, nil)
	audit := f.do(t, http.MethodGet, "/v1/audit?limit=100", f.admin, nil)
	if !strings.Contains(string(audit.Body), "iam.user_onboarded") || !strings.Contains(string(audit.Body), `"consolePassword"`) {
		t.Errorf("the audit trail does not record the onboardings: %s", audit.Body)
	}
	for _, secret := range []string{chosen, generated, token, selfChosen} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("a secret appears in the logs: %q", secret)
		}
		if strings.Contains(string(audit.Body), secret) {
			t.Errorf("a secret appears in the audit trail: %q", secret)
		}
		for _, a := range answers {
			if strings.Contains(a, secret) {
				t.Errorf("a secret appears in a later answer: %q in %s", secret, a)
			}
		}
	}
	if !strings.Contains(logs.String(), "/v1/iam-invitations/{token}") {
		t.Error("the logs do not show the self-service requests (with the token hidden)")
	}
}

// captureLogs sends every slog line of the test to a buffer (and restores the logger after).
func captureLogs(t *testing.T) *syncBuffer {
	t.Helper()
	b := &syncBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return b
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestIdentityTenantIsolation: every IAM integration endpoint answers another tenant 404 (or its own, empty data)
// about acme's account, and changes nothing of acme's integration, users, links or audit trail.
func TestIdentityTenantIsolation(t *testing.T) {
	f := newIAMFixture(t, "610000000005", "readwrite")
	if r := f.do(t, http.MethodPost, f.path("/users"), f.admin, map[string]any{"userName": "ivy"}); r.Status != http.StatusCreated {
		t.Fatalf("onboard: %d %s", r.Status, r.Body)
	}
	if r := f.do(t, http.MethodPut, f.path("/users/ivy/person"), f.admin, map[string]any{"email": "ivy@example.com"}); r.Status != http.StatusOK {
		t.Fatalf("link: %d %s", r.Status, r.Body)
	}
	snapshot := func() string {
		var b strings.Builder
		for _, p := range []string{f.path(""), f.path("/users"), f.path("/users/ivy/offboarding"), f.path("/groups"), "/v1/people/ivy@example.com/iam-users", "/v1/audit"} {
			r := f.do(t, http.MethodGet, p, f.admin, nil)
			b.WriteString(p + " " + http.StatusText(r.Status) + "\n")
			if r.Status == http.StatusOK && !strings.HasSuffix(p, "/iam") { // the integration's view is compared below
				b.Write(r.Body)
			}
		}
		in := f.do(t, http.MethodGet, f.path(""), f.admin, nil).Map(t)
		b.WriteString(js(in["version"]) + js(in["status"]) + js(in["access"]))
		return b.String()
	}
	before := snapshot()
	key := map[string]any{"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretAccessKey": strings.Repeat("s", 40)}
	tests := []struct {
		method, path string
		body         any
		status       int
	}{
		{http.MethodGet, f.path(""), nil, 404},
		{http.MethodDelete, f.path(""), nil, 404},
		{http.MethodPut, f.path("/key"), key, 404},
		{http.MethodPost, f.path("/key/rotate"), nil, 404},
		{http.MethodPost, f.path("/verify"), nil, 404},
		{http.MethodPost, f.path("/sync"), nil, 404},
		{http.MethodGet, f.path("/users"), nil, 404},
		{http.MethodPost, f.path("/users"), map[string]any{"userName": "intruder"}, 404},
		{http.MethodGet, f.path("/users/ivy"), nil, 404},
		{http.MethodDelete, f.path("/users/ivy"), nil, 404},
		{http.MethodGet, f.path("/users/ivy/offboarding"), nil, 404},
		{http.MethodPut, f.path("/users/ivy/person"), map[string]any{"email": "mallory@example.com"}, 404},
		{http.MethodDelete, f.path("/users/ivy/person"), nil, 404},
		{http.MethodGet, f.path("/groups"), nil, 404},
		{http.MethodPost, f.path("/invitations"), map[string]any{}, 404},
		{http.MethodGet, "/v1/people/ivy@example.com/iam-users", nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := f.do(t, tt.method, tt.path, f.other, tt.body)
			if r.Status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.Status, tt.status, r.Body)
			}
			body := r.Map(t)
			delete(body, "instance") // the request's own path
			if seen := js(body); strings.Contains(seen, "ivy") || strings.Contains(seen, "acme") {
				t.Errorf("globex sees acme's data: %s", seen)
			}
		})
	}
	if after := snapshot(); after != before {
		t.Errorf("acme's IAM integration changed through globex's requests:\nbefore %s\nafter  %s", before, after)
	}
	if _, err := f.owner.GetUser(t.Context(), &iam.GetUserInput{UserName: aws.String("ivy")}); err != nil {
		t.Errorf("ivy is gone: %v", err)
	}
}
