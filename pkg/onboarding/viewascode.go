package onboarding

import (
	"context"
	"errors"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/awsid"
)

// View as Code: the account as one Terraform configuration holding both halves. Gangplank's half is the
// gangplank_account (with its integration settings) and the gangplank_account_connection; the customer's half is
// the role (hashicorp/aws), whose trust policy takes the External ID from the gangplank_account, so the role follows
// a rotation at the next apply. One `terraform apply` onboards the account end to end: the account (which exists in
// Gangplank, since the configuration is read from it) is imported by an import block, the role is created, and the
// connection waits until Gangplank has verified it.
//
// This package says what the configuration holds (TerraformSpec); pkg/viewascode writes it as HCL. The HCL writer
// (hashicorp/hcl, and go-cmp's init through it) stays out of every function but the API, which wires the renderer
// with RenderTerraformWith: the callback, discovery, activation, cost sync and rotation never render Terraform.

// TerraformSpec is what an account's Terraform configuration is made of.
type TerraformSpec struct {
	Account accounts.Account
	// RoleName is the role's name: the deployed role's for a connected account, so an import finds it.
	RoleName string
	// PlatformPrincipal is the ARN the role trusts, with the tenant's External ID (a reference to the
	// gangplank_account's external_id in the configuration).
	PlatformPrincipal string
	// Policies are the role's inline policies, as the manual instructions give them (ViewOnlyAccess is attached too).
	Policies []NamedPolicy
}

// TerraformRenderer writes a TerraformSpec as one Terraform configuration (a main.tf, `terraform fmt` clean).
type TerraformRenderer interface {
	Render(TerraformSpec) (string, error)
}

// ErrNoTerraformRenderer: this function was not wired to render Terraform (only the API is).
var ErrNoTerraformRenderer = errors.New("onboarding: no Terraform renderer is wired in this function (only the API renders Terraform)")

// RenderTerraformWith makes the launch material and View as Code carry Terraform written by r. It is called while
// the API is wired, before the service serves any request; without it, launch material has no Terraform (bulk
// activation, which only deploys stacks, needs none) and ViewAsCode fails.
func (s *Service) RenderTerraformWith(r TerraformRenderer) { s.terraform = r }

// TerraformView is GET /v1/accounts/{id}/terraform: the configuration, and the facts it is built from.
type TerraformView struct {
	AccountID        string `json:"accountId"`
	RoleName         string `json:"roleName"`
	TemplateURL      string `json:"templateUrl"`
	CallbackTopicARN string `json:"callbackTopicArn"`
	// TrustedPrincipal is the ARN the role must trust (Gangplank's connector), with the tenant's External ID.
	TrustedPrincipal string `json:"trustedPrincipal"`
	Configuration    string `json:"configuration"`
}

// ViewAsCode renders the account's configuration. It issues no activation link (the Terraform path connects the
// role by ARN), so it has no side effect and any role may read it.
func (s *Service) ViewAsCode(ctx context.Context, tenantID, accountID string) (TerraformView, error) {
	if s.terraform == nil {
		return TerraformView{}, ErrNoTerraformRenderer
	}
	a, err := s.accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return TerraformView{}, err
	}
	roleName := DefaultRoleName
	if r, err := awsid.ParseRoleARN(a.RoleARN); err == nil {
		roleName = r.Name // The deployed role, so `terraform import aws_iam_role.gangplank` finds it.
	}
	conf, err := s.terraform.Render(TerraformSpec{Account: a, RoleName: roleName, PlatformPrincipal: s.cfg.PlatformPrincipal,
		Policies: PermissionPolicies(shapeOf(a, ""))})
	if err != nil {
		return TerraformView{}, err
	}
	return TerraformView{AccountID: a.AccountID, RoleName: roleName, TemplateURL: s.cfg.TemplateURL,
		CallbackTopicARN: s.cfg.CallbackTopic(a.Region), TrustedPrincipal: s.cfg.PlatformPrincipal, Configuration: conf}, nil
}

// shapeOf is the role an account's onboarding material describes: management accounts are set up for bulk
// activation with the member role of their discovery settings.
func shapeOf(a accounts.Account, memberRole string) RoleShape {
	if memberRole == "" && a.Discovery != nil {
		memberRole = a.Discovery.MemberRoleName
	}
	if memberRole == "" {
		memberRole = DefaultMemberAccessRole
	}
	return RoleShape{AccessLevel: a.AccessLevel, Type: a.Type, BulkActivation: a.Type == accounts.Management, MemberAccessRole: memberRole}
}
