package onboarding

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
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
		{"forged", link(nil), "gpa_forged", accounts.Management, "s1", tokenUnknown, "not issued by Gangplank"},
		{"no link issued", nil, token, accounts.Management, "s1", tokenUnknown, "not issued by Gangplank"},
		{"empty token", link(nil), "", accounts.Management, "s1", tokenUnknown, "not issued by Gangplank"},
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
	ins, err := testConfig.build(linkInput{
		TenantID: "acme", ExternalID: "gp-0123456789abcdef0123456789abcdef", Token: "gpa_token'with quote",
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
		"templateURL": testConfig.TemplateURL, "stackName": StackName,
		"param_ExternalId": "gp-0123456789abcdef0123456789abcdef", "param_ActivationToken": "gpa_token'with quote",
		"param_CallbackTopicArn": "arn:aws:sns:eu-west-1:999999999999:gangplank-onboarding", "param_TenantId": "acme",
		"param_AccountType": "management", "param_AccessLevel": "resources_tags", "param_BulkActivation": "enabled",
		"param_PlatformPrincipal": testConfig.PlatformPrincipal, "param_RoleName": DefaultRoleName,
		"param_MemberAccessRoleName": DefaultMemberAccessRole,
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if len(q) != len(want) {
		t.Errorf("link carries %d values, want %d: %v", len(q), len(want), q)
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
		"aws cloudformation create-stack --region eu-west-1 --stack-name Gangplank-Onboarding",
		"--template-url '" + testConfig.TemplateURL + "'",
		"--capabilities CAPABILITY_NAMED_IAM",
		"--notification-arns '" + ins.Parameters["CallbackTopicArn"] + "'",
		`'ParameterKey=ActivationToken,ParameterValue=gpa_token'"'"'with quote'`, // the quote survives the shell
		"'ParameterKey=TenantId,ParameterValue=acme'",
	} {
		if !strings.Contains(ins.CLICommand, want) {
			t.Errorf("CLI command lacks %q:\n%s", want, ins.CLICommand)
		}
	}
}

// TestTerraform: the configuration parses as HCL, and each jsonencode(...) evaluates to exactly the policy the
// instructions give for creating the role by hand.
func TestTerraform(t *testing.T) {
	for _, shape := range []struct {
		typ   accounts.Type
		level accounts.AccessLevel
		bulk  bool
	}{{accounts.Management, accounts.TagsWrite, true}, {accounts.Linked, accounts.Resources, false}, {accounts.Standalone, accounts.ResourcesTags, false}} {
		ins := instructionsFor(t, shape.typ, shape.level, shape.bulk)
		file, diags := hclsyntax.ParseConfig([]byte(ins.Terraform), "main.tf", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("terraform does not parse: %v\n%s", diags, ins.Terraform)
		}
		ctx := &hcl.EvalContext{Functions: map[string]function.Function{"jsonencode": stdlib.JSONEncodeFunc}}
		policies := map[string]any{}
		for _, block := range file.Body.(*hclsyntax.Body).Blocks {
			if block.Type != "resource" {
				continue
			}
			for name, attr := range block.Body.Attributes {
				if name != "policy" && name != "assume_role_policy" {
					continue
				}
				v, diags := attr.Expr.Value(ctx)
				if diags.HasErrors() {
					t.Fatalf("%s.%s: %v", block.Labels[1], name, diags)
				}
				var doc any
				_ = json.Unmarshal([]byte(v.AsString()), &doc)
				policies[block.Labels[1]] = doc
			}
		}
		want := map[string]any{"gangplank": roundTrip(t, ins.Manual.TrustPolicy)}
		for _, p := range ins.Manual.PermissionPolicies {
			want[snake(p.Name)] = roundTrip(t, p.Document)
		}
		if !reflect.DeepEqual(policies, want) {
			t.Errorf("%s/%s: terraform policies differ from the manual ones:\n got %v\nwant %v", shape.typ, shape.level, policies, want)
		}
	}
}

func roundTrip(t *testing.T, v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	_ = json.Unmarshal(raw, &out)
	return out
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
		{RoleShape{AccessLevel: accounts.Resources, Type: accounts.Linked}, []string{"GangplankTags", "GangplankInventory"}},
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
			continue
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
	if r := stackFailure(e); r != "CloudFormation could not create GangplankRole (AWS::IAM::Role) in the onboarding stack: GangplankAccess already exists in stack arn:aws:cloudformation:x" {
		t.Errorf("reason = %q", r)
	}
	cancelled := e
	cancelled.ResourceStatusReason = "Resource creation cancelled"
	if stackFailure(cancelled) != "" {
		t.Error("a cancelled resource is not the failure's cause")
	}
	stack := StackEvent{ResourceType: "AWS::CloudFormation::Stack", ResourceStatus: "ROLLBACK_IN_PROGRESS", ResourceStatusReason: "The following resource(s) failed to create: [GangplankRole]."}
	if r := stackFailure(stack); !strings.HasPrefix(r, "The onboarding stack failed: The following") {
		t.Errorf("stack reason = %q", r)
	}
	if stackFailure(StackEvent{ResourceType: "AWS::CloudFormation::Stack", ResourceStatus: "CREATE_COMPLETE"}) != "" {
		t.Error("success is not a failure")
	}
	if _, ok := ParseStackEvent(`{"RequestType":"Create"}`); ok {
		t.Error("a JSON request parsed as a stack event")
	}
}

func TestResponseURLAllowed(t *testing.T) {
	c := Config{ResponseURLPrefixes: []string{"http://127.0.0.1:4566/"}}
	for raw, want := range map[string]bool{
		"https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3A...?X-Amz-Signature=x": true,
		"https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/x":                 true,
		"http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x":                            false,
		"https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com.evil.example/x":              false,
		"https://evil.example/cloudformation-custom-resource-response-":                                        false,
		"https://user@cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x":                      false,
		"http://127.0.0.1:4566/cloudformation-custom-resource-response/abc":                                    true,
		"http://127.0.0.1:9999/x": false,
		"http://169.254.169.254/latest/meta-data/iam/security-credentials/":                                          false,
		"https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com:443/arn?X-Amz-Algorithm=AWS4-HMAC": true,
	} {
		if got := c.responseURLAllowed(raw); got != want {
			t.Errorf("responseURLAllowed(%q) = %v, want %v", raw, got, want)
		}
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
