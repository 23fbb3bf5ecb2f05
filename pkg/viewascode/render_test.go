package viewascode

import (
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/platform"
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

// TestOnlyTheAPILinksTheHCLWriter (issue 12 §4): hashicorp/hcl runs go-cmp's init at every cold start of a binary
// that links it; only the API renders Terraform, so no other function may link it.
func TestOnlyTheAPILinksTheHCLWriter(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the functions' dependencies: %v", err)
	}
	out, err := exec.Command(goCmd, "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "../../functions/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		name := fields[0][strings.LastIndex(fields[0], "/")+1:]
		deps[name] = fields[1:]
	}
	for _, fn := range platform.Functions() {
		list, ok := deps[fn.Name]
		if !ok {
			t.Fatalf("go list did not list functions/%s", fn.Name)
		}
		var hclDeps []string
		for _, d := range list {
			if strings.HasPrefix(d, "github.com/hashicorp/hcl") || strings.HasPrefix(d, "github.com/google/go-cmp") {
				hclDeps = append(hclDeps, d)
			}
		}
		if wantHCL := fn.Name == platform.API.Name; (len(hclDeps) > 0) != wantHCL {
			t.Errorf("functions/%s links %v (only the API may link the HCL writer, and the API renders with it)", fn.Name, hclDeps)
		}
	}
}
