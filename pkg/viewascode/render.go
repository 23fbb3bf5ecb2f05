// Package viewascode writes an account's Terraform configuration (View as Code, and the onboarding material's
// Terraform) as HCL. It is apart from pkg/onboarding so that only the API links the HCL writer: hashicorp/hcl pulls
// go-cmp's init into every binary that imports it, and no other function renders Terraform.
package viewascode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/gangplank/gangplank/pkg/onboarding"
)

// ProviderSource is the Gangplank provider's registry address in configurations.
const ProviderSource = "gangplank/gangplank"

// externalIDPlaceholder stands for the External ID while the trust policy is rendered, then becomes a reference.
const externalIDPlaceholder = "__gangplank_external_id__"

var (
	accountRef      = hcl.Traversal{hcl.TraverseRoot{Name: "gangplank_account"}, hcl.TraverseAttr{Name: "this"}}
	roleRef         = hcl.Traversal{hcl.TraverseRoot{Name: "aws_iam_role"}, hcl.TraverseAttr{Name: "gangplank"}}
	externalIDRef   = append(append(hcl.Traversal{}, accountRef...), hcl.TraverseAttr{Name: "external_id"})
	accountIDRef    = append(append(hcl.Traversal{}, accountRef...), hcl.TraverseAttr{Name: "account_id"})
	roleNameRef     = append(append(hcl.Traversal{}, roleRef...), hcl.TraverseAttr{Name: "name"})
	roleIDRef       = append(append(hcl.Traversal{}, roleRef...), hcl.TraverseAttr{Name: "id"})
	roleARNRef      = append(append(hcl.Traversal{}, roleRef...), hcl.TraverseAttr{Name: "arn"})
	integrationVar  = hcl.Traversal{hcl.TraverseRoot{Name: "var"}, hcl.TraverseAttr{Name: "integration_name"}}
	ownersVar       = hcl.Traversal{hcl.TraverseRoot{Name: "var"}, hcl.TraverseAttr{Name: "owners"}}
	viewOnlyAttach  = hcl.Traversal{hcl.TraverseRoot{Name: "aws_iam_role_policy_attachment"}, hcl.TraverseAttr{Name: "view_only"}}
	providerComment = "Gangplank's API: set GANGPLANK_ENDPOINT and GANGPLANK_TOKEN (an admin token) in the environment."
)

// Renderer writes onboarding's TerraformSpec with hclwrite, so every value is quoted and escaped by the HCL library.
type Renderer struct{}

var _ onboarding.TerraformRenderer = Renderer{}

// Render writes the configuration: both halves, one main.tf, `terraform fmt` clean.
func (Renderer) Render(spec onboarding.TerraformSpec) (string, error) {
	a, roleName, policies := spec.Account, spec.RoleName, spec.Policies
	f := hclwrite.NewEmptyFile()
	body := f.Body()

	providers := body.AppendNewBlock("terraform", nil).Body().AppendNewBlock("required_providers", nil).Body()
	providers.SetAttributeValue("aws", cty.ObjectVal(map[string]cty.Value{
		"source": cty.StringVal("hashicorp/aws"), "version": cty.StringVal(">= 5.0"),
	}))
	providers.SetAttributeValue("gangplank", cty.ObjectVal(map[string]cty.Value{"source": cty.StringVal(ProviderSource)}))
	body.AppendNewline()

	body.AppendUnstructuredTokens(comment(providerComment))
	body.AppendNewBlock("provider", []string{"gangplank"})
	body.AppendNewline()
	body.AppendUnstructuredTokens(comment(fmt.Sprintf("The role lives in account %s: apply with credentials for it (a profile, or assume_role).", a.AccountID)))
	aws := body.AppendNewBlock("provider", []string{"aws"}).Body()
	aws.SetAttributeValue("region", cty.StringVal(a.Region))
	aws.SetAttributeValue("allowed_account_ids", cty.ListVal([]cty.Value{cty.StringVal(a.AccountID)}))
	body.AppendNewline()

	in := a.Integration
	variable(body, "integration_name", "string", "The integration's stable handle in Gangplank: letters, digits, - and _, unique in your tenant.",
		stringDefault(in.Name))
	variable(body, "owners", "list(string)", "The people responsible for the integration, by email (at least one).",
		listDefault(in.Owners))

	// The account exists in Gangplank (this configuration was read from it): the first apply adopts it.
	body.AppendUnstructuredTokens(comment("Gangplank's half: the account (it exists in Gangplank already, so the first apply imports it) and its settings."))
	imp := body.AppendNewBlock("import", nil).Body()
	imp.SetAttributeTraversal("to", accountRef)
	imp.SetAttributeValue("id", cty.StringVal(a.AccountID))
	body.AppendNewline()
	acct := body.AppendNewBlock("resource", []string{"gangplank_account", "this"}).Body()
	acct.SetAttributeValue("account_id", cty.StringVal(a.AccountID))
	acct.SetAttributeValue("name", cty.StringVal(a.Name))
	acct.SetAttributeValue("type", cty.StringVal(string(a.Type)))
	acct.SetAttributeValue("region", cty.StringVal(a.Region))
	acct.SetAttributeValue("access_level", cty.StringVal(string(a.AccessLevel)))
	acct.SetAttributeValue("cost_sync", cty.BoolVal(a.CostSync))
	if a.ManagementAccountID != "" {
		acct.SetAttributeValue("management_account_id", cty.StringVal(a.ManagementAccountID))
	}
	acct.SetAttributeTraversal("integration_name", integrationVar)
	acct.SetAttributeTraversal("owners", ownersVar)
	if in.CustomAccessDetails != "" {
		acct.SetAttributeValue("custom_access_details", cty.StringVal(in.CustomAccessDetails))
	}
	if in.CredentialRotationDays > 0 {
		acct.SetAttributeValue("credential_rotation_days", cty.NumberIntVal(int64(in.CredentialRotationDays)))
	}
	if in.UserCleanupDays > 0 {
		acct.SetAttributeValue("user_cleanup_days", cty.NumberIntVal(int64(in.UserCleanupDays)))
	}
	if len(in.ResourceTypes) > 0 {
		acct.SetAttributeValue("resource_types", stringList(in.ResourceTypes))
	}
	if len(in.Regions) > 0 {
		acct.SetAttributeValue("regions", stringList(in.Regions))
	}
	if in.SSORegion != "" {
		acct.SetAttributeValue("sso_region", cty.StringVal(in.SSORegion))
	}
	body.AppendNewline()

	body.AppendUnstructuredTokens(comment(fmt.Sprintf("Your half: Gangplank's role in account %s, trusting Gangplank with your tenant's External ID.", a.AccountID)))
	if a.RoleARN != "" {
		body.AppendUnstructuredTokens(comment(fmt.Sprintf("The account is connected through %s: import that role (terraform import "+
			"aws_iam_role.gangplank %s) unless a CloudFormation stack manages it.", a.RoleARN, roleName)))
	}
	role := body.AppendNewBlock("resource", []string{"aws_iam_role", "gangplank"}).Body()
	role.SetAttributeValue("name", cty.StringVal(roleName))
	role.SetAttributeValue("description", cty.StringVal("Lets Gangplank read this account at the access level you chose."))
	role.SetAttributeValue("max_session_duration", cty.NumberIntVal(3600))
	trust, err := jsonencodeWith(onboarding.TrustPolicy(spec.PlatformPrincipal, externalIDPlaceholder), externalIDPlaceholder, externalIDRef)
	if err != nil {
		return "", err
	}
	role.SetAttributeRaw("assume_role_policy", trust)
	body.AppendNewline()

	attach := body.AppendNewBlock("resource", []string{"aws_iam_role_policy_attachment", "view_only"}).Body()
	attach.SetAttributeTraversal("role", roleNameRef)
	attach.SetAttributeValue("policy_arn", cty.StringVal(onboarding.ViewOnlyAccess))

	dependsOn := []hcl.Traversal{viewOnlyAttach}
	for _, p := range policies {
		body.AppendNewline()
		name := snake(p.Name)
		block := body.AppendNewBlock("resource", []string{"aws_iam_role_policy", name}).Body()
		block.SetAttributeValue("name", cty.StringVal(p.Name))
		block.SetAttributeTraversal("role", roleIDRef)
		doc, err := jsonencode(p.Document)
		if err != nil {
			return "", err
		}
		block.SetAttributeRaw("policy", doc)
		dependsOn = append(dependsOn, hcl.Traversal{hcl.TraverseRoot{Name: "aws_iam_role_policy"}, hcl.TraverseAttr{Name: name}})
	}
	body.AppendNewline()

	body.AppendUnstructuredTokens(comment("Connects the role: waits until Gangplank has assumed it, or fails with Gangplank's reason."))
	conn := body.AppendNewBlock("resource", []string{"gangplank_account_connection", "this"}).Body()
	conn.SetAttributeTraversal("account_id", accountIDRef)
	conn.SetAttributeTraversal("role_arn", roleARNRef)
	// Gangplank checks what the role may do once connected: every policy must be in place first.
	deps := hclwrite.Tokens{{Type: hclsyntax.TokenOBrack, Bytes: []byte("[")}, {Type: hclsyntax.TokenNewline, Bytes: []byte("\n")}}
	for _, d := range dependsOn {
		deps = append(deps, hclwrite.TokensForTraversal(d)...)
		deps = append(deps, &hclwrite.Token{Type: hclsyntax.TokenComma, Bytes: []byte(",")}, &hclwrite.Token{Type: hclsyntax.TokenNewline, Bytes: []byte("\n")})
	}
	deps = append(deps, &hclwrite.Token{Type: hclsyntax.TokenCBrack, Bytes: []byte("]")})
	conn.SetAttributeRaw("depends_on", deps)
	body.AppendNewline()

	out := body.AppendNewBlock("output", []string{"gangplank_role_arn"}).Body()
	out.SetAttributeValue("description", cty.StringVal("The role Gangplank assumes in the account."))
	out.SetAttributeTraversal("value", roleARNRef)
	return string(hclwrite.Format(f.Bytes())), nil
}

// variable appends a variable block; a nil default makes it one the user must fill in.
func variable(body *hclwrite.Body, name, typ, description string, def *cty.Value) {
	v := body.AppendNewBlock("variable", []string{name}).Body()
	v.SetAttributeRaw("type", hclwrite.Tokens{{Type: hclsyntax.TokenIdent, Bytes: []byte(typ)}})
	v.SetAttributeValue("description", cty.StringVal(description))
	if def != nil {
		v.SetAttributeValue("default", *def)
	}
	body.AppendNewline()
}

func stringDefault(s string) *cty.Value {
	if s == "" {
		return nil
	}
	v := cty.StringVal(s)
	return &v
}

func listDefault(items []string) *cty.Value {
	if len(items) == 0 {
		return nil
	}
	v := stringList(items)
	return &v
}

func stringList(items []string) cty.Value {
	vals := make([]cty.Value, len(items))
	for i, s := range items {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

// jsonencodeWith is jsonencode(v) where the string placeholder becomes a reference to ref.
func jsonencodeWith(v any, placeholder string, ref hcl.Traversal) (hclwrite.Tokens, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	ty, err := ctyjson.ImpliedType(raw)
	if err != nil {
		return nil, err
	}
	val, err := ctyjson.Unmarshal(raw, ty)
	if err != nil {
		return nil, err
	}
	tokens := hclwrite.TokensForValue(val)
	var out hclwrite.Tokens
	replaced := 0
	for i := 0; i < len(tokens); i++ {
		if i+2 < len(tokens) && tokens[i].Type == hclsyntax.TokenOQuote && tokens[i+1].Type == hclsyntax.TokenQuotedLit &&
			bytes.Equal(tokens[i+1].Bytes, []byte(placeholder)) && tokens[i+2].Type == hclsyntax.TokenCQuote {
			out = append(out, hclwrite.TokensForTraversal(ref)...)
			i += 2
			replaced++
			continue
		}
		out = append(out, tokens[i])
	}
	if replaced == 0 {
		return nil, fmt.Errorf("placeholder %q not found in the rendered value", placeholder)
	}
	return hclwrite.TokensForFunctionCall("jsonencode", out), nil
}

// jsonencode returns the tokens of jsonencode(<v as an HCL object>).
func jsonencode(v any) (hclwrite.Tokens, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	ty, err := ctyjson.ImpliedType(raw)
	if err != nil {
		return nil, err
	}
	val, err := ctyjson.Unmarshal(raw, ty)
	if err != nil {
		return nil, err
	}
	return hclwrite.TokensForFunctionCall("jsonencode", hclwrite.TokensForValue(val)), nil
}

func comment(text string) hclwrite.Tokens {
	return hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte("# " + text + "\n")}}
}

// snake turns "GangplankTags" into "gangplank_tags" for Terraform resource names.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
