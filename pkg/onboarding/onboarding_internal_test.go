package onboarding

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gangplank/gangplank/pkg/accounts"
)

func TestCheckToken(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	token, hash := newToken()
	oldToken, oldHash := newToken()
	replacedAt := now.Add(-time.Hour)
	used := now.Add(-time.Minute)
	link := func(mod func(*accounts.ActivationLink)) *accounts.ActivationLink {
		l := &accounts.ActivationLink{TokenHash: hash, AccountType: accounts.Management, IssuedAt: now.Add(-time.Hour),
			ExpiresAt: now.Add(DefaultLinkTTL), ReplacedHash: oldHash, ReplacedAt: &replacedAt}
		if mod != nil {
			mod(l)
		}
		return l
	}
	tests := []struct {
		name   string
		link   *accounts.ActivationLink
		token  string
		typ    accounts.Type
		stack  string
		want   tokenVerdict
		reason string
	}{
		{"valid", link(nil), token, accounts.Management, "s1", tokenValid, ""},
		{"forged", link(nil), "gpa_forged", accounts.Management, "s1", tokenUnknown, "Gangplank did not issue it"},
		{"no link issued", nil, token, accounts.Management, "s1", tokenUnknown, "Gangplank did not issue it"},
		{"empty token", link(nil), "", accounts.Management, "s1", tokenUnknown, "Gangplank did not issue it"},
		{"the link it replaced", link(nil), oldToken, accounts.Management, "s1", tokenReplaced, "replaced by a newer one on 2026-11-22 09:00 UTC"},
		{"expired", link(func(l *accounts.ActivationLink) { l.ExpiresAt = now.Add(-time.Second) }), token, accounts.Management, "s1",
			tokenExpired, "expired on 2026-11-22 09:59 UTC; create a new one in Gangplank"},
		{"expires exactly now", link(func(l *accounts.ActivationLink) { l.ExpiresAt = now }), token, accounts.Management, "s1", tokenExpired, "expired"},
		{"replayed by another stack", link(func(l *accounts.ActivationLink) { l.UsedAt, l.UsedByStack = &used, "s0" }), token, accounts.Management, "s1",
			tokenUsed, "already used on 2026-11-22 09:59 UTC"},
		{"again from the stack that used it", link(func(l *accounts.ActivationLink) { l.UsedAt, l.UsedByStack = &used, "s1" }), token, accounts.Management, "s1",
			tokenUsedBySameStack, ""},
		{"type changed in the stack", link(nil), token, accounts.Standalone, "s1", tokenWrongType, "made for a management account, but the stack says standalone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkToken(tt.link, tt.token, tt.typ, tt.stack, now)
			if got != tt.want {
				t.Fatalf("verdict = %d, want %d", got, tt.want)
			}
			if r := tokenReason(got, tt.link, tt.typ); !strings.Contains(r, tt.reason) {
				t.Errorf("reason %q does not say %q", r, tt.reason)
			}
		})
	}
	if tokenUnknown.authentic() || tokenReplaced.authentic() || tokenUsed.authentic() || !tokenExpired.authentic() {
		t.Error("only the current link may change the account")
	}
}

func TestTokenFormat(t *testing.T) {
	token, hash := newToken()
	if !strings.HasPrefix(token, "gpa_") || len(token) != 47 || len(hash) != 64 || strings.Contains(hash, token) {
		t.Errorf("token %q hash %q", token, hash)
	}
	if other, _ := newToken(); other == token {
		t.Error("two tokens are equal")
	}
}

var testConfig = Config{
	TemplateURL:          "https://gangplank-templates.s3.us-east-1.amazonaws.com/onboarding/1.0.0/onboarding.yaml",
	PlatformPrincipal:    "arn:aws:iam::999999999999:role/gangplank-connector",
	CallbackTopicPattern: "arn:aws:sns:{region}:999999999999:gangplank-onboarding",
	ConsoleURL:           AWSConsoleURL,
}

func instructionsFor(t *testing.T, typ accounts.Type, level accounts.AccessLevel, bulk bool) Instructions {
	t.Helper()
	name, _ := linkStackName("gpa_token'with quote")
	ins, err := testConfig.build(linkInput{
		TenantID: "acme", ExternalID: "gp-0123456789abcdef0123456789abcdef", Token: "gpa_token'with quote", StackName: name,
		Account:   accounts.Account{AccountID: "111111111111", Type: typ, AccessLevel: level, Region: "eu-west-1"},
		ExpiresAt: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), BulkActivation: bulk,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ins
}

func TestQuickCreateURL(t *testing.T) {
	ins := instructionsFor(t, accounts.Management, accounts.ResourcesTags, true)
	u, err := url.Parse(ins.QuickCreateURL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Host != "eu-west-1.console.aws.amazon.com" || u.Path != "/cloudformation/home" || u.Query().Get("region") != "eu-west-1" {
		t.Errorf("console part = %s", ins.QuickCreateURL)
	}
	route, query, _ := strings.Cut(u.Fragment, "?")
	if route != "/stacks/create/review" {
		t.Errorf("fragment route = %q", route)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"templateURL": testConfig.TemplateURL, "stackName": ins.StackName,
		"param_ExternalId": "gp-0123456789abcdef0123456789abcdef", "param_ActivationToken": "gpa_token'with quote",
		"param_CallbackTopicArn": "arn:aws:sns:eu-west-1:999999999999:gangplank-onboarding", "param_TenantId": "acme",
		"param_AccountType": "management", "param_AccessLevel": "resources_tags", "param_BulkActivation": "enabled",
		"param_PlatformPrincipal": testConfig.PlatformPrincipal, "param_RoleName": DefaultRoleName,
		"param_MemberAccessRoleName": DefaultMemberAccessRole,
		"param_IdentityAccess":       "none", "param_IdentityPathPrefix": "/",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if len(q) != len(want) {
		t.Errorf("link carries %d values, want %d: %v", len(q), len(want), q)
	}
	if ins.Action != ActionCreate || ins.ConsoleURL != ins.QuickCreateURL || ins.StackID != "" {
		t.Errorf("a new account's launch: action %q console %q stack %q", ins.Action, ins.ConsoleURL, ins.StackID)
	}
	if _, ok := stackNameSuffix(ins.StackName); !ok {
		t.Errorf("stack name %q has no link suffix", ins.StackName)
	}
}

// TestLinkStackName: every link names its own stack, with a suffix only the token's holder can compute, and only
// the suffix's hash is kept.
func TestLinkStackName(t *testing.T) {
	a, _ := newToken()
	b, _ := newToken()
	nameA, hashA := linkStackName(a)
	nameB, _ := linkStackName(b)
	if nameA == nameB || len(nameA) > 128 || !strings.HasPrefix(nameA, StackName+"-") {
		t.Errorf("names %q %q", nameA, nameB)
	}
	again, _ := linkStackName(a)
	suffix, ok := stackNameSuffix(nameA)
	if again != nameA || !ok || hashToken(suffix) != hashA || strings.Contains(hashA, suffix) {
		t.Errorf("name %q suffix %q (%v) hash %q", nameA, suffix, ok, hashA)
	}
	for _, bad := range []string{StackName, StackName + "-", StackName + "-ABCDEFGHIJKLMNOP", StackName + "-abcdefghijklmno1", nameA + "x", "Other-" + suffix} {
		if _, ok := stackNameSuffix(bad); ok {
			t.Errorf("%q read as a link's stack name", bad)
		}
	}
}

// TestUpdateInstructions: for an account a stack already connects, the launch material updates that stack (in its
// region, keeping its role name) instead of creating another, which would fail with AlreadyExists.
func TestUpdateInstructions(t *testing.T) {
	stackID := "arn:aws:cloudformation:eu-west-1:111111111111:stack/Gangplank-Onboarding-abcdefghijklmnop/4f1e-9c"
	name, _ := linkStackName("gpa_new")
	ins, err := testConfig.build(linkInput{TenantID: "acme", ExternalID: "gp-x", Token: "gpa_new", StackName: name,
		Account: accounts.Account{AccountID: "111111111111", Type: accounts.Standalone, AccessLevel: accounts.ResourcesTags, Region: "eu-west-1",
			Status: accounts.Active, StackID: stackID}})
	if err != nil {
		t.Fatal(err)
	}
	if ins.Action != ActionUpdate || ins.StackID != stackID || ins.StackName != "Gangplank-Onboarding-abcdefghijklmnop" || ins.QuickCreateURL != "" {
		t.Errorf("action %q stack %q name %q quick-create %q", ins.Action, ins.StackID, ins.StackName, ins.QuickCreateURL)
	}
	u, err := url.Parse(ins.ConsoleURL)
	if err != nil {
		t.Fatal(err)
	}
	route, query, _ := strings.Cut(u.Fragment, "?")
	q, _ := url.ParseQuery(query)
	if u.Host != "eu-west-1.console.aws.amazon.com" || route != "/stacks/update/template" || q.Get("stackId") != stackID ||
		q.Get("templateURL") != testConfig.TemplateURL || q.Get("param_ActivationToken") != "gpa_new" || q.Get("param_AccessLevel") != "resources_tags" {
		t.Errorf("console update link = %s", ins.ConsoleURL)
	}
	if _, ok := ins.Parameters["RoleName"]; ok {
		t.Error("an update renames the role")
	}
	for _, want := range []string{
		"aws cloudformation update-stack --region eu-west-1 --stack-name '" + stackID + "'",
		"--template-url '" + testConfig.TemplateURL + "'",
		"'ParameterKey=ActivationToken,ParameterValue=gpa_new'",
		"'ParameterKey=RoleName,UsePreviousValue=true'",
	} {
		if !strings.Contains(ins.CLICommand, want) {
			t.Errorf("update command lacks %q:\n%s", want, ins.CLICommand)
		}
	}
	if strings.Contains(ins.CLICommand, "create-stack") {
		t.Errorf("update command creates a stack:\n%s", ins.CLICommand)
	}
}

// TestTemplateParameters: the link fills in exactly the template's parameters, and nothing the template lacks.
func TestTemplateParameters(t *testing.T) {
	var tpl struct {
		Metadata struct {
			Gangplank struct {
				TemplateVersion string `yaml:"TemplateVersion"`
			} `yaml:"Gangplank"`
		} `yaml:"Metadata"`
		Parameters map[string]struct {
			AllowedValues []string `yaml:"AllowedValues"`
		} `yaml:"Parameters"`
		Resources map[string]struct {
			Properties map[string]any `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(Template, &tpl); err != nil {
		t.Fatal(err)
	}
	if tpl.Metadata.Gangplank.TemplateVersion != TemplateVersion || tpl.Resources["GangplankConnection"].Properties["TemplateVersion"] != TemplateVersion {
		t.Errorf("template version %q / %v, code says %s", tpl.Metadata.Gangplank.TemplateVersion,
			tpl.Resources["GangplankConnection"].Properties["TemplateVersion"], TemplateVersion)
	}
	ins := instructionsFor(t, accounts.Linked, accounts.Resources, false)
	for name := range tpl.Parameters {
		if _, ok := ins.Parameters[name]; !ok {
			t.Errorf("template parameter %s is not filled in", name)
		}
	}
	for name := range ins.Parameters {
		if _, ok := tpl.Parameters[name]; !ok {
			t.Errorf("instructions set %s, which the template does not have", name)
		}
	}
	for _, v := range []string{"management", "linked", "standalone"} {
		if !contains(tpl.Parameters["AccountType"].AllowedValues, v) {
			t.Errorf("template AccountType lacks %s", v)
		}
	}
	for _, l := range accounts.AccessLevels {
		if !contains(tpl.Parameters["AccessLevel"].AllowedValues, string(l)) {
			t.Errorf("template AccessLevel lacks %s", l)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestCLICommand(t *testing.T) {
	ins := instructionsFor(t, accounts.Standalone, accounts.Resources, false)
	for _, want := range []string{
		"REGION=eu-west-1\naws cloudformation create-stack --region \"$REGION\" --stack-name " + ins.StackName + " ",
		"--template-url '" + testConfig.TemplateURL + "'",
		"--capabilities CAPABILITY_NAMED_IAM",
		"--notification-arns 'arn:aws:sns:'\"$REGION\"':999999999999:gangplank-onboarding'",
		`'ParameterKey=ActivationToken,ParameterValue=gpa_token'"'"'with quote'`, // the quote survives the shell
		"'ParameterKey=TenantId,ParameterValue=acme'",
	} {
		if !strings.Contains(ins.CLICommand, want) {
			t.Errorf("CLI command lacks %q:\n%s", want, ins.CLICommand)
		}
	}
}

// recordingRenderer stands for pkg/viewascode (which imports this package): it keeps the spec it was handed.
type recordingRenderer struct{ spec *TerraformSpec }

func (r recordingRenderer) Render(s TerraformSpec) (string, error) {
	*r.spec = s
	return "# rendered", nil
}

// TestTerraform: the material's Terraform is written from exactly the role the manual instructions describe (the
// same trust principal, role name and permission policies); pkg/viewascode's tests prove it writes them as given.
// Without a renderer (every function but the API) the material has no Terraform.
func TestTerraform(t *testing.T) {
	for _, shape := range []struct {
		typ   accounts.Type
		level accounts.AccessLevel
		bulk  bool
	}{{accounts.Management, accounts.TagsWrite, true}, {accounts.Linked, accounts.Resources, false}, {accounts.Standalone, accounts.ResourcesTags, false}} {
		var spec TerraformSpec
		name, _ := linkStackName("gpa_token")
		in := linkInput{TenantID: "acme", ExternalID: "gp-0123456789abcdef0123456789abcdef", Token: "gpa_token", StackName: name,
			Account:   accounts.Account{AccountID: "111111111111", Type: shape.typ, AccessLevel: shape.level, Region: "eu-west-1"},
			ExpiresAt: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), BulkActivation: shape.bulk}
		bare, err := testConfig.build(in)
		if err != nil || bare.Terraform != "" {
			t.Errorf("%s without a renderer: terraform %q, %v", shape.typ, bare.Terraform, err)
		}
		in.Terraform = recordingRenderer{&spec}
		ins, err := testConfig.build(in)
		if err != nil {
			t.Fatal(err)
		}
		if ins.Terraform != "# rendered" {
			t.Errorf("terraform = %q", ins.Terraform)
		}
		if spec.RoleName != ins.Manual.RoleName || spec.PlatformPrincipal != testConfig.PlatformPrincipal || spec.Account.AccountID != "111111111111" {
			t.Errorf("%s: spec = %+v", shape.typ, spec)
		}
		if !reflect.DeepEqual(spec.Policies, ins.Manual.PermissionPolicies) {
			t.Errorf("%s/%s: terraform policies differ from the manual ones:\n got %v\nwant %v", shape.typ, shape.level, spec.Policies, ins.Manual.PermissionPolicies)
		}
		if !reflect.DeepEqual(TrustPolicy(spec.PlatformPrincipal, in.ExternalID), ins.Manual.TrustPolicy) {
			t.Errorf("trust policy differs")
		}
	}
}

func TestPermissionPolicies(t *testing.T) {
	names := func(ps []NamedPolicy) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return out
	}
	tests := []struct {
		shape RoleShape
		want  []string
	}{
		{RoleShape{AccessLevel: accounts.Resources, Type: accounts.Linked}, []string{"GangplankTags", "GangplankInventory", "GangplankOrganizationMembership"}},
		{RoleShape{AccessLevel: accounts.Resources, Type: accounts.Standalone}, []string{"GangplankTags", "GangplankInventory", "GangplankBilling"}},
		{RoleShape{AccessLevel: accounts.Resources, Type: accounts.Management}, []string{"GangplankTags", "GangplankInventory", "GangplankBilling", "GangplankOrganization"}},
		{RoleShape{AccessLevel: accounts.Resources, Type: accounts.Management, BulkActivation: true},
			[]string{"GangplankTags", "GangplankInventory", "GangplankBilling", "GangplankOrganization", "GangplankMemberActivation"}},
		// Bulk activation means nothing outside a management account.
		{RoleShape{AccessLevel: accounts.Resources, Type: accounts.Standalone, BulkActivation: true}, []string{"GangplankTags", "GangplankInventory", "GangplankBilling"}},
	}
	for _, tt := range tests {
		if got := names(PermissionPolicies(tt.shape)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%+v: %v, want %v", tt.shape, got, tt.want)
		}
	}
	// Tag writes grant nothing but tagging, and never IAM's own tagging (attribute-based access control).
	for _, p := range PermissionPolicies(RoleShape{AccessLevel: accounts.TagsWrite, Type: accounts.Linked}) {
		if p.Name != "GangplankTags" {
			continue // the linked role's one organization read (GangplankOrganizationMembership) is no tag write
		}
		for _, st := range p.Document.Statement {
			for _, a := range st.Action {
				if st.Effect == "Allow" && !strings.Contains(strings.ToLower(a), "tag") {
					t.Errorf("tags_write allows %s", a)
				}
				if strings.HasPrefix(a, "iam:") {
					t.Errorf("tags_write allows %s", a)
				}
			}
		}
	}
	member := PermissionPolicies(RoleShape{Type: accounts.Management, BulkActivation: true, MemberAccessRole: "OrgAccess"})[4].Document.Statement[0]
	if member.Resource != "arn:aws:iam::*:role/OrgAccess" || member.Condition["StringEquals"]["aws:ResourceOrgID"] != "${aws:PrincipalOrgID}" {
		t.Errorf("member activation statement = %+v", member)
	}
}

func TestEncodeFitsCloudFormationLimit(t *testing.T) {
	r := CustomResourceResponse{Status: "FAILED", Reason: strings.Repeat("é", 5000), PhysicalResourceID: "p", StackID: "s", RequestID: "r", LogicalResourceID: "l"}
	body := encode(r)
	if len(body) > MaxResponseBytes {
		t.Fatalf("%d bytes", len(body))
	}
	var back CustomResourceResponse
	if err := json.Unmarshal(body, &back); err != nil || !strings.HasSuffix(back.Reason, "…") || back.RequestID != "r" {
		t.Errorf("shortened response = %+v, %v", back, err)
	}
	short := encode(CustomResourceResponse{Status: "SUCCESS", PhysicalResourceID: "p"})
	if !strings.Contains(string(short), `"NoEcho":false`) || strings.Contains(string(short), "Reason") {
		t.Errorf("success body = %s", short)
	}
}

func TestParseStackEvent(t *testing.T) {
	msg := "StackId='arn:aws:cloudformation:us-east-1:111111111111:stack/Gangplank-Onboarding/5b3c'\n" +
		"Timestamp='2026-11-22T10:00:00.000Z'\nEventId='GangplankRole-CREATE_FAILED-2026'\nLogicalResourceId='GangplankRole'\n" +
		"Namespace='111111111111'\nPhysicalResourceId=''\nPrincipalId='AIDA'\nResourceProperties='{\"RoleName\":\"GangplankAccess\"}'\n" +
		"ResourceStatus='CREATE_FAILED'\nResourceStatusReason='GangplankAccess already exists in stack arn:aws:cloudformation:x'\n" +
		"ResourceType='AWS::IAM::Role'\nStackName='Gangplank-Onboarding'\nClientRequestToken='null'\n"
	e, ok := ParseStackEvent(msg)
	if !ok || e.LogicalResourceID != "GangplankRole" || e.ResourceStatus != "CREATE_FAILED" || e.StackName != "Gangplank-Onboarding" {
		t.Fatalf("%+v %v", e, ok)
	}
	if r := stackFailure(e); r != "The onboarding stack failed before Gangplank could answer it. CloudFormation reported for GangplankRole (AWS::IAM::Role): “GangplankAccess already exists in stack arn:aws:cloudformation:x”" {
		t.Errorf("reason = %q", r)
	}
	cancelled := e
	cancelled.ResourceStatusReason = "Resource creation cancelled"
	if stackFailure(cancelled) != "" {
		t.Error("a cancelled resource is not the failure's cause")
	}
	stack := StackEvent{ResourceType: "AWS::CloudFormation::Stack", ResourceStatus: "ROLLBACK_IN_PROGRESS", ResourceStatusReason: "The following resource(s) failed to create: [GangplankRole]."}
	if r := stackFailure(stack); !strings.HasPrefix(r, "The onboarding stack failed before Gangplank could answer it. CloudFormation reported: “The following") {
		t.Errorf("stack reason = %q", r)
	}
	if stackFailure(StackEvent{ResourceType: "AWS::CloudFormation::Stack", ResourceStatus: "CREATE_COMPLETE"}) != "" {
		t.Error("success is not a failure")
	}
	if _, ok := ParseStackEvent(`{"RequestType":"Create"}`); ok {
		t.Error("a JSON request parsed as a stack event")
	}
}

// TestResponseURLAllowed: the callback PUTs only to CloudFormation's response bucket of the stack's partition and
// region, on the hosts CloudFormation uses for its presigned URLs (or, locally, that bucket path-style on the local
// AWS), never to a look-alike bucket, another region's bucket, another host or an unsigned URL.
func TestResponseURLAllowed(t *testing.T) {
	const (
		useast1 = "arn:aws:cloudformation:us-east-1:111111111111:stack/s/1"
		euwest1 = "arn:aws:cloudformation:eu-west-1:111111111111:stack/s/1"
		cn      = "arn:aws-cn:cloudformation:cn-north-1:111111111111:stack/s/1"
		gov     = "arn:aws-us-gov:cloudformation:us-gov-west-1:111111111111:stack/s/1"
		signed  = "/arn%3Aaws%3Acloudformation%3Aus-east-1%3A111111111111%3Astack/s/1%7CGangplankConnection%7Cr?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ab12"
	)
	cloud := Config{}
	local := Config{ResponseEndpoint: "http://127.0.0.1:4566"}
	tests := []struct {
		c     Config
		url   string
		stack string
		want  bool
	}{
		{cloud, "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com" + signed, useast1, true},
		{cloud, "https://cloudformation-custom-resource-response-useast1.s3.us-east-1.amazonaws.com" + signed, useast1, true},
		{cloud, "https://cloudformation-custom-resource-response-useast1.s3-us-east-1.amazonaws.com" + signed, useast1, true},
		{cloud, "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com:443" + signed, useast1, true},
		{cloud, "https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com" + signed, euwest1, true},
		{cloud, "https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/k?AWSAccessKeyId=A&Expires=1&Signature=s", euwest1, true},
		{cloud, "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn" + signed, cn, true},
		{cloud, "https://cloudformation-custom-resource-response-usgovwest1.s3-us-gov-west-1.amazonaws.com" + signed, gov, true},
		// Another region's bucket than the stack's.
		{cloud, "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com" + signed, euwest1, false},
		{cloud, "https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com" + signed, euwest1, false},
		{cloud, "https://cloudformation-custom-resource-response-euwest1.s3-us-east-1.amazonaws.com" + signed, euwest1, false},
		// Look-alike buckets anyone might register, other hosts, partitions and schemes.
		{cloud, "https://cloudformation-custom-resource-response-evil.s3.amazonaws.com" + signed, useast1, false},
		{cloud, "https://cloudformation-custom-resource-response-useast1x.s3.amazonaws.com" + signed, useast1, false},
		{cloud, "https://cloudformation-custom-resource-response-useast1.amazonaws.com" + signed, useast1, false},
		{cloud, "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com.evil.example" + signed, useast1, false},
		{cloud, "https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com" + signed, cn, false},
		{cloud, "http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com" + signed, useast1, false},
		{cloud, "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com:8443" + signed, useast1, false},
		{cloud, "https://user@cloudformation-custom-resource-response-useast1.s3.amazonaws.com" + signed, useast1, false},
		{cloud, "https://evil.example/cloudformation-custom-resource-response-useast1" + signed, useast1, false},
		{cloud, "http://169.254.169.254/latest/meta-data/iam/security-credentials/", useast1, false},
		// Not presigned, no object, no stack.
		{cloud, "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/key", useast1, false},
		{cloud, "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/?X-Amz-Signature=a", useast1, false},
		{cloud, "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com" + signed, "not-a-stack", false},
		{cloud, "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com" + signed, "arn:aws:sns:us-east-1:111111111111:t", false},
		// Locally: the response bucket of the stack's region, path-style on the local AWS, and nothing else there.
		{local, "http://127.0.0.1:4566/cloudformation-custom-resource-response-euwest1/k%7Cr?X-Amz-Signature=s", euwest1, true},
		{local, "http://127.0.0.1:4566/cloudformation-custom-resource-response-useast1/k", euwest1, false},
		{local, "http://127.0.0.1:4566/cloudformation-custom-resource-response-euwest1/", euwest1, false},
		{local, "http://127.0.0.1:4566/gangplank-templates/onboarding/1.1.0/onboarding.yaml", euwest1, false},
		{local, "http://127.0.0.1:4566/_localaws/cfn-response/abc", euwest1, false},
		{local, "http://127.0.0.1:4566/x/cloudformation-custom-resource-response-euwest1/k", euwest1, false},
		{local, "http://127.0.0.1:9999/cloudformation-custom-resource-response-euwest1/k", euwest1, false},
		{local, "https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com" + signed, euwest1, false},
	}
	for _, tt := range tests {
		if got := tt.c.responseURLAllowed(tt.url, tt.stack); got != tt.want {
			t.Errorf("responseURLAllowed(%q, %q) = %v, want %v", tt.url, tt.stack, got, tt.want)
		}
	}
}

// TestReported: text a stack reported is bounded, loses control and format characters, and keeps the rest.
func TestReported(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"Role GangplankAccess already exists", 100, "Role GangplankAccess already exists"},
		{"a\x00b\x1b[31mc\u202ed\r\n\te", 100, "a b [31mc d e"},
		{"  spaced   out  ", 100, "spaced out"},
		{"bad \xff utf-8", 100, "bad \uFFFD utf-8"},
		{strings.Repeat("é", 20), 11, strings.Repeat("é", 4) + "…"},
	}
	for _, tt := range tests {
		if got := reported(tt.in, tt.max); got != tt.want {
			t.Errorf("reported(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
	if got := reported(strings.Repeat("x", 10000), maxReportedBytes); len(got) > maxReportedBytes {
		t.Errorf("%d bytes", len(got))
	}
}

func TestConfigValidate(t *testing.T) {
	if err := testConfig.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := Config{TemplateURL: "not a url", PlatformPrincipal: "arn:aws:iam::1:role/x", CallbackTopicPattern: "arn:aws:sns:us-east-1:1:t"}
	err := bad.Validate()
	for _, want := range []string{"ONBOARDING_TEMPLATE_URL", "PLATFORM_PRINCIPAL_ARN", "CALLBACK_TOPIC_ARN_PATTERN must contain {region}"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}
