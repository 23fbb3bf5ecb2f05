package viewascode

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/onboarding"
)

// TestPoliciesAsGiven: the configuration parses as HCL, is formatted as `terraform fmt` would, and each
// jsonencode(...) evaluates to exactly the policy of the spec (the trust policy with the gangplank_account's
// External ID); pkg/onboarding's TestTerraform proves the spec is the role the manual instructions describe.
func TestPoliciesAsGiven(t *testing.T) {
	const principal, externalID = "arn:aws:iam::999999999999:role/gangplank-connector", "gp-0123456789abcdef0123456789abcdef"
	for _, shape := range []onboarding.RoleShape{
		{Type: accounts.Management, AccessLevel: accounts.TagsWrite, BulkActivation: true, MemberAccessRole: "OrganizationAccountAccessRole"},
		{Type: accounts.Linked, AccessLevel: accounts.Resources},
		{Type: accounts.Standalone, AccessLevel: accounts.ResourcesTags},
	} {
		spec := onboarding.TerraformSpec{RoleName: "GangplankAccess", PlatformPrincipal: principal, Policies: onboarding.PermissionPolicies(shape),
			Account: accounts.Account{AccountID: "111111111111", Name: `Payer "EU"`, Type: shape.Type, AccessLevel: shape.AccessLevel, Region: "eu-west-1",
				Integration: accounts.Integration{Name: "payer-eu", Owners: []string{"ops@example.com"}}}}
		conf, err := Renderer{}.Render(spec)
		if err != nil {
			t.Fatal(err)
		}
		if formatted := string(hclwrite.Format([]byte(conf))); formatted != conf {
			t.Errorf("not formatted as terraform fmt would:\n%s", conf)
		}
		file, diags := hclsyntax.ParseConfig([]byte(conf), "main.tf", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("does not parse: %v\n%s", diags, conf)
		}
		// The role's trust policy takes the External ID from the gangplank_account of the same configuration.
		ctx := &hcl.EvalContext{Functions: map[string]function.Function{"jsonencode": stdlib.JSONEncodeFunc},
			Variables: map[string]cty.Value{"gangplank_account": cty.ObjectVal(map[string]cty.Value{
				"this": cty.ObjectVal(map[string]cty.Value{"external_id": cty.StringVal(externalID)})})}}
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
				if err := json.Unmarshal([]byte(v.AsString()), &doc); err != nil {
					t.Fatalf("%s.%s: %v", block.Labels[1], name, err)
				}
				policies[block.Labels[1]] = doc
			}
		}
		want := map[string]any{"gangplank": roundTrip(t, onboarding.TrustPolicy(principal, externalID))}
		for _, p := range spec.Policies {
			want[snake(p.Name)] = roundTrip(t, p.Document)
		}
		if !reflect.DeepEqual(policies, want) {
			t.Errorf("%s/%s: policies differ from the spec's:\n got %v\nwant %v", shape.Type, shape.AccessLevel, policies, want)
		}
	}
}

func roundTrip(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSameAsHCLWriter: Renderer writes exactly what hashicorp/hcl's writer writes for the same configuration,
// whatever the account's values hold (quotes, backslashes, template introducers, newlines, control characters,
// non-ASCII), for every role shape, with and without the optional settings.
func TestSameAsHCLWriter(t *testing.T) {
	names := []string{"Payer", `Payer "EU"`, "a\\b ${var.x} %{if} $ % {}", "line\nbreak\ttab\rret", "é 名前 \u0007 \U0001F600 \u200b", "(unbalanced [ { # = \""}
	shapes := []onboarding.RoleShape{
		{Type: accounts.Management, AccessLevel: accounts.TagsWrite, BulkActivation: true, MemberAccessRole: "OrganizationAccountAccessRole"},
		{Type: accounts.Management, AccessLevel: accounts.Resources},
		{Type: accounts.Linked, AccessLevel: accounts.Resources},
		{Type: accounts.Linked, AccessLevel: accounts.ResourcesTags},
		{Type: accounts.Standalone, AccessLevel: accounts.ResourcesTags},
		{Type: accounts.Standalone, AccessLevel: accounts.TagsWrite},
	}
	for i, shape := range shapes {
		for j, name := range names {
			a := accounts.Account{AccountID: "111111111111", Name: name, Type: shape.Type, AccessLevel: shape.AccessLevel, Region: "eu-west-1",
				CostSync: j%2 == 0, Integration: accounts.Integration{Name: "payer-eu", Owners: []string{"ops@example.com"}}}
			if j%2 == 1 {
				a.ManagementAccountID, a.RoleARN = "222222222222", "arn:aws:iam::111111111111:role/team/GangplankAccess" // validated: no free text
				a.Integration = accounts.Integration{Name: name, Owners: []string{name, "b@example.com"}, CustomAccessDetails: name,
					CredentialRotationDays: 30, UserCleanupDays: 7, ResourceTypes: []string{"ec2:instance", name}, Regions: []string{"eu-west-1", "us-east-1"},
					SSORegion: "eu-west-1"}
			}
			if j == 2 {
				a.Integration = accounts.Integration{}
			}
			spec := onboarding.TerraformSpec{RoleName: "GangplankAccess", PlatformPrincipal: "arn:aws:iam::999999999999:role/gangplank-connector",
				Policies: onboarding.PermissionPolicies(shape), Account: a}
			got, err := Renderer{}.Render(spec)
			if err != nil {
				t.Fatal(err)
			}
			want, err := hclwriteRender(spec)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("shape %d, name %q: differs from hashicorp/hcl's writer:\n got:\n%s\nwant:\n%s", i, name, got, want)
			}
		}
	}
}
