package viewascode

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/gangplank/gangplank/pkg/onboarding"
)

// The oracle: the configuration as hashicorp/hcl's writer renders it (how Renderer rendered it before it wrote HCL
// itself). Renderer's output must be the same, byte for byte.
var (
	oracleAccountRef      = hcl.Traversal{hcl.TraverseRoot{Name: "gangplank_account"}, hcl.TraverseAttr{Name: "this"}}
	oracleRoleRef         = hcl.Traversal{hcl.TraverseRoot{Name: "aws_iam_role"}, hcl.TraverseAttr{Name: "gangplank"}}
	oracleExternalIDRef   = append(append(hcl.Traversal{}, oracleAccountRef...), hcl.TraverseAttr{Name: "external_id"})
	oracleAccountIDRef    = append(append(hcl.Traversal{}, oracleAccountRef...), hcl.TraverseAttr{Name: "account_id"})
	oracleRoleNameRef     = append(append(hcl.Traversal{}, oracleRoleRef...), hcl.TraverseAttr{Name: "name"})
	oracleRoleIDRef       = append(append(hcl.Traversal{}, oracleRoleRef...), hcl.TraverseAttr{Name: "id"})
	oracleRoleARNRef      = append(append(hcl.Traversal{}, oracleRoleRef...), hcl.TraverseAttr{Name: "arn"})
	oracleIntegrationVar  = hcl.Traversal{hcl.TraverseRoot{Name: "var"}, hcl.TraverseAttr{Name: "integration_name"}}
	oracleOwnersVar       = hcl.Traversal{hcl.TraverseRoot{Name: "var"}, hcl.TraverseAttr{Name: "owners"}}
	oracleViewOnlyAttach  = hcl.Traversal{hcl.TraverseRoot{Name: "aws_iam_role_policy_attachment"}, hcl.TraverseAttr{Name: "view_only"}}
	oracleProviderComment = "Gangplank's API: set GANGPLANK_ENDPOINT and GANGPLANK_TOKEN (an admin token) in the environment."
)

func hclwriteRender(spec onboarding.TerraformSpec) (string, error) {
	a, roleName, policies := spec.Account, spec.RoleName, spec.Policies
	f := hclwrite.NewEmptyFile()
	body := f.Body()

	providers := body.AppendNewBlock("terraform", nil).Body().AppendNewBlock("required_providers", nil).Body()
	providers.SetAttributeValue("aws", cty.ObjectVal(map[string]cty.Value{
		"source": cty.StringVal("hashicorp/aws"), "version": cty.StringVal(">= 5.0"),
	}))
	providers.SetAttributeValue("gangplank", cty.ObjectVal(map[string]cty.Value{"source": cty.StringVal(ProviderSource)}))
	body.AppendNewline()

	body.AppendUnstructuredTokens(oracleComment(oracleProviderComment))
	body.AppendNewBlock("provider", []string{"gangplank"})
	body.AppendNewline()
	body.AppendUnstructuredTokens(oracleComment(fmt.Sprintf("The role lives in account %s: apply with credentials for it (a profile, or assume_role).", a.AccountID)))
	aws := body.AppendNewBlock("provider", []string{"aws"}).Body()
	aws.SetAttributeValue("region", cty.StringVal(a.Region))
	aws.SetAttributeValue("allowed_account_ids", cty.ListVal([]cty.Value{cty.StringVal(a.AccountID)}))
	body.AppendNewline()

	in := a.Integration
	oracleVariable(body, "integration_name", "string", "The integration's stable handle in Gangplank: letters, digits, - and _, unique in your tenant.",
		oracleStringDefault(in.Name))
	oracleVariable(body, "owners", "list(string)", "The people responsible for the integration, by email (at least one).",
		oracleListDefault(in.Owners))

	// The account exists in Gangplank (this configuration was read from it): the first apply adopts it.
	body.AppendUnstructuredTokens(oracleComment("Gangplank's half: the account (it exists in Gangplank already, so the first apply imports it) and its settings."))
	imp := body.AppendNewBlock("import", nil).Body()
	imp.SetAttributeTraversal("to", oracleAccountRef)
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
	acct.SetAttributeTraversal("integration_name", oracleIntegrationVar)
	acct.SetAttributeTraversal("owners", oracleOwnersVar)
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
		acct.SetAttributeValue("resource_types", oracleStringList(in.ResourceTypes))
	}
	if len(in.Regions) > 0 {
		acct.SetAttributeValue("regions", oracleStringList(in.Regions))
	}
	if in.SSORegion != "" {
		acct.SetAttributeValue("sso_region", cty.StringVal(in.SSORegion))
	}
	body.AppendNewline()

	body.AppendUnstructuredTokens(oracleComment(fmt.Sprintf("Your half: Gangplank's role in account %s, trusting Gangplank with your tenant's External ID.", a.AccountID)))
	if a.RoleARN != "" {
		body.AppendUnstructuredTokens(oracleComment(fmt.Sprintf("The account is connected through %s: import that role (terraform import "+
			"aws_iam_role.gangplank %s) unless a CloudFormation stack manages it.", a.RoleARN, roleName)))
	}
	role := body.AppendNewBlock("resource", []string{"aws_iam_role", "gangplank"}).Body()
	role.SetAttributeValue("name", cty.StringVal(roleName))
	role.SetAttributeValue("description", cty.StringVal("Lets Gangplank read this account at the access level you chose."))
	role.SetAttributeValue("max_session_duration", cty.NumberIntVal(3600))
	trust, err := oracleJsonencodeWith(onboarding.TrustPolicy(spec.PlatformPrincipal, externalIDPlaceholder), externalIDPlaceholder, oracleExternalIDRef)
	if err != nil {
		return "", err
	}
	role.SetAttributeRaw("assume_role_policy", trust)
	body.AppendNewline()

	attach := body.AppendNewBlock("resource", []string{"aws_iam_role_policy_attachment", "view_only"}).Body()
	attach.SetAttributeTraversal("role", oracleRoleNameRef)
	attach.SetAttributeValue("policy_arn", cty.StringVal(onboarding.ViewOnlyAccess))

	dependsOn := []hcl.Traversal{oracleViewOnlyAttach}
	for _, p := range policies {
		body.AppendNewline()
		name := snake(p.Name)
		block := body.AppendNewBlock("resource", []string{"aws_iam_role_policy", name}).Body()
		block.SetAttributeValue("name", cty.StringVal(p.Name))
		block.SetAttributeTraversal("role", oracleRoleIDRef)
		doc, err := oracleJsonencode(p.Document)
		if err != nil {
			return "", err
		}
		block.SetAttributeRaw("policy", doc)
		dependsOn = append(dependsOn, hcl.Traversal{hcl.TraverseRoot{Name: "aws_iam_role_policy"}, hcl.TraverseAttr{Name: name}})
	}
	body.AppendNewline()

	body.AppendUnstructuredTokens(oracleComment("Connects the role: waits until Gangplank has assumed it, or fails with Gangplank's reason."))
	conn := body.AppendNewBlock("resource", []string{"gangplank_account_connection", "this"}).Body()
	conn.SetAttributeTraversal("account_id", oracleAccountIDRef)
	conn.SetAttributeTraversal("role_arn", oracleRoleARNRef)
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
	out.SetAttributeTraversal("value", oracleRoleARNRef)
	return string(hclwrite.Format(f.Bytes())), nil
}

// oracleVariable appends a variable block; a nil default makes it one the user must fill in.
func oracleVariable(body *hclwrite.Body, name, typ, description string, def *cty.Value) {
	v := body.AppendNewBlock("variable", []string{name}).Body()
	v.SetAttributeRaw("type", hclwrite.Tokens{{Type: hclsyntax.TokenIdent, Bytes: []byte(typ)}})
	v.SetAttributeValue("description", cty.StringVal(description))
	if def != nil {
		v.SetAttributeValue("default", *def)
	}
	body.AppendNewline()
}

func oracleStringDefault(s string) *cty.Value {
	if s == "" {
		return nil
	}
	v := cty.StringVal(s)
	return &v
}

func oracleListDefault(items []string) *cty.Value {
	if len(items) == 0 {
		return nil
	}
	v := oracleStringList(items)
	return &v
}

func oracleStringList(items []string) cty.Value {
	vals := make([]cty.Value, len(items))
	for i, s := range items {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

// oracleValue is v as cty reads its JSON.
func oracleValue(v any) (cty.Value, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return cty.NilVal, err
	}
	ty, err := ctyjson.ImpliedType(raw)
	if err != nil {
		return cty.NilVal, err
	}
	return ctyjson.Unmarshal(raw, ty)
}

// oracleJsonencodeWith is oracleJsonencode(v) where the string placeholder becomes a reference to ref.
func oracleJsonencodeWith(v any, placeholder string, ref hcl.Traversal) (hclwrite.Tokens, error) {
	val, err := oracleValue(v)
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

// oracleJsonencode returns the tokens of jsonencode(<v as an HCL object>).
func oracleJsonencode(v any) (hclwrite.Tokens, error) {
	val, err := oracleValue(v)
	if err != nil {
		return nil, err
	}
	return hclwrite.TokensForFunctionCall("jsonencode", hclwrite.TokensForValue(val)), nil
}

func oracleComment(text string) hclwrite.Tokens {
	return hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte("# " + text + "\n")}}
}
