// Package viewascode writes an account's Terraform configuration (View as Code, and the onboarding material's
// Terraform) as HCL. It is apart from pkg/onboarding so that only the API links it, and it writes HCL itself
// (hcl.go) rather than with hashicorp/hcl, whose dependencies' package init would cost the API's every cold start
// about 3 ms; its tests check the output byte for byte against hashicorp/hcl's writer.
package viewascode

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gangplank/gangplank/pkg/onboarding"
)

// ProviderSource is the Gangplank provider's registry address in configurations.
const ProviderSource = "gangplank/gangplank"

// externalIDPlaceholder stands for the External ID while the trust policy is rendered, then becomes a reference.
const externalIDPlaceholder = "__gangplank_external_id__"

const (
	accountRef      = "gangplank_account.this"
	roleRef         = "aws_iam_role.gangplank"
	viewOnlyAttach  = "aws_iam_role_policy_attachment.view_only"
	providerComment = "Gangplank's API: set GANGPLANK_ENDPOINT and GANGPLANK_TOKEN (an admin token) in the environment."
)

// Renderer writes onboarding's TerraformSpec; every value is quoted and escaped as hashicorp/hcl does.
type Renderer struct{}

var _ onboarding.TerraformRenderer = Renderer{}

// Render writes the configuration: both halves, one main.tf, `terraform fmt` clean.
func (Renderer) Render(spec onboarding.TerraformSpec) (string, error) {
	a, roleName, policies := spec.Account, spec.RoleName, spec.Policies
	var f hclFile

	f.open("terraform")
	f.open("required_providers")
	f.attr("aws", object(map[string]string{"source": quoted("hashicorp/aws"), "version": quoted(">= 5.0")}))
	f.attr("gangplank", object(map[string]string{"source": quoted(ProviderSource)}))
	f.close()
	f.close()
	f.blank()

	f.comment(providerComment)
	f.emptyBlock("provider", "gangplank")
	f.blank()
	f.comment(fmt.Sprintf("The role lives in account %s: apply with credentials for it (a profile, or assume_role).", a.AccountID))
	f.open("provider", "aws")
	f.attr("region", quoted(a.Region))
	f.attr("allowed_account_ids", list([]string{a.AccountID}))
	f.close()
	f.blank()

	in := a.Integration
	variable(&f, "integration_name", "string", "The integration's stable handle in Gangplank: letters, digits, - and _, unique in your tenant.",
		stringDefault(in.Name))
	variable(&f, "owners", "list(string)", "The people responsible for the integration, by email (at least one).",
		listDefault(in.Owners))

	// The account exists in Gangplank (this configuration was read from it): the first apply adopts it.
	f.comment("Gangplank's half: the account (it exists in Gangplank already, so the first apply imports it) and its settings.")
	f.open("import")
	f.attr("to", accountRef)
	f.attr("id", quoted(a.AccountID))
	f.close()
	f.blank()
	f.open("resource", "gangplank_account", "this")
	f.attr("account_id", quoted(a.AccountID))
	f.attr("name", quoted(a.Name))
	f.attr("type", quoted(string(a.Type)))
	f.attr("region", quoted(a.Region))
	f.attr("access_level", quoted(string(a.AccessLevel)))
	f.attr("cost_sync", strconv.FormatBool(a.CostSync))
	if a.ManagementAccountID != "" {
		f.attr("management_account_id", quoted(a.ManagementAccountID))
	}
	f.attr("integration_name", "var.integration_name")
	f.attr("owners", "var.owners")
	if in.CustomAccessDetails != "" {
		f.attr("custom_access_details", quoted(in.CustomAccessDetails))
	}
	if in.CredentialRotationDays > 0 {
		f.attr("credential_rotation_days", strconv.Itoa(in.CredentialRotationDays))
	}
	if in.UserCleanupDays > 0 {
		f.attr("user_cleanup_days", strconv.Itoa(in.UserCleanupDays))
	}
	if len(in.ResourceTypes) > 0 {
		f.attr("resource_types", list(in.ResourceTypes))
	}
	if len(in.Regions) > 0 {
		f.attr("regions", list(in.Regions))
	}
	if in.SSORegion != "" {
		f.attr("sso_region", quoted(in.SSORegion))
	}
	f.close()
	f.blank()

	f.comment(fmt.Sprintf("Your half: Gangplank's role in account %s, trusting Gangplank with your tenant's External ID.", a.AccountID))
	if a.RoleARN != "" {
		f.comment(fmt.Sprintf("The account is connected through %s: import that role (terraform import "+
			"aws_iam_role.gangplank %s) unless a CloudFormation stack manages it.", a.RoleARN, roleName))
	}
	f.open("resource", "aws_iam_role", "gangplank")
	f.attr("name", quoted(roleName))
	f.attr("description", quoted("Lets Gangplank read this account at the access level you chose."))
	f.attr("max_session_duration", "3600")
	trust, err := jsonencode(onboarding.TrustPolicy(spec.PlatformPrincipal, externalIDPlaceholder),
		map[string]string{externalIDPlaceholder: accountRef + ".external_id"})
	if err != nil {
		return "", err
	}
	f.attr("assume_role_policy", trust)
	f.close()
	f.blank()

	f.open("resource", "aws_iam_role_policy_attachment", "view_only")
	f.attr("role", roleRef+".name")
	f.attr("policy_arn", quoted(onboarding.ViewOnlyAccess))
	f.close()

	dependsOn := []string{viewOnlyAttach}
	for _, p := range policies {
		f.blank()
		name := snake(p.Name)
		f.open("resource", "aws_iam_role_policy", name)
		f.attr("name", quoted(p.Name))
		f.attr("role", roleRef+".id")
		doc, err := jsonencode(p.Document, nil)
		if err != nil {
			return "", err
		}
		f.attr("policy", doc)
		f.close()
		dependsOn = append(dependsOn, "aws_iam_role_policy."+name)
	}
	f.blank()

	f.comment("Connects the role: waits until Gangplank has assumed it, or fails with Gangplank's reason.")
	f.open("resource", "gangplank_account_connection", "this")
	f.attr("account_id", accountRef+".account_id")
	f.attr("role_arn", roleRef+".arn")
	// Gangplank checks what the role may do once connected: every policy must be in place first.
	f.attr("depends_on", "[\n"+strings.Join(dependsOn, ",\n")+",\n]")
	f.close()
	f.blank()

	f.open("output", "gangplank_role_arn")
	f.attr("description", quoted("The role Gangplank assumes in the account."))
	f.attr("value", roleRef+".arn")
	f.close()
	return f.String(), nil
}

// variable appends a variable block; no default makes it one the user must fill in.
func variable(f *hclFile, name, typ, description, def string) {
	f.open("variable", name)
	f.attr("type", typ)
	f.attr("description", quoted(description))
	if def != "" {
		f.attr("default", def)
	}
	f.close()
	f.blank()
}

func stringDefault(s string) string {
	if s == "" {
		return ""
	}
	return quoted(s)
}

func listDefault(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return list(items)
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
