package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/testkit"
)

const connectionConfig = `
resource "gangplank_account" "solo" {
  account_id       = "{{.ID}}"
  name             = "Solo"
  type             = "standalone"
  region           = "us-east-1"
  integration_name = "solo"
  owners           = ["ops@example.com"]
}
{{if .Role}}
resource "gangplank_account_connection" "solo" {
  account_id = gangplank_account.solo.account_id
  role_arn   = "{{.Role}}"
  timeout    = "{{.Timeout}}"
}
{{end}}`

type connectionData struct{ ID, Role, Timeout string }

// role creates a role in standalone account id of the local AWS as the customer following the manual instructions
// would: trusting Gangplank's connector with externalID, with ViewOnlyAccess and the inline policies of the default
// access level (the local AWS enforces them: without Cost Explorer's, the first cost sync would degrade the
// account's health). Its name starts with Gangplank and is unique (moto outlives tests).
func (g *gangplank) role(t *testing.T, id, externalID string) string {
	t.Helper()
	name := testkit.UniqueName("GangplankAccess")
	arn := testkit.CreateRole(t, id, name, onboarding.TrustPolicy(g.Config.Onboarding.PlatformPrincipal, externalID),
		onboarding.PermissionPolicies(onboarding.RoleShape{Type: accounts.Standalone, AccessLevel: accounts.DefaultAccessLevel})...)
	if _, err := testkit.LocalAWS(t).AccountIAM(id).AttachRolePolicy(ctx(t), &iam.AttachRolePolicyInput{
		RoleName: aws.String(name), PolicyArn: aws.String(onboarding.ViewOnlyAccess)}); err != nil {
		t.Fatalf("attach ViewOnlyAccess to %s: %v", name, err)
	}
	return arn
}

// TestAccConnection: the connection waits until Gangplank has verified the role, shows drift when the account is
// disconnected in the console, imports, and disconnects the account when destroyed.
func TestAccConnection(t *testing.T) {
	g := startGangplank(t)
	api := g.api(t, "acme")
	tenant, err := api.GetTenant(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	const id = "802000000001"
	d := connectionData{ID: id, Role: g.role(t, id, tenant.ExternalID), Timeout: "2m"}
	addr := "gangplank_account_connection.solo"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{
				Config: g.config(t, "acme", connectionConfig, d),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "status", "active"),
					resource.TestCheckResourceAttr(addr, "role_arn", d.Role),
					resource.TestCheckResourceAttr(addr, "health_status", "healthy"),
					resource.TestCheckResourceAttrSet(addr, "activated_at"),
				),
			},
			// The account's own refresh sees it active with the role.
			{
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("gangplank_account.solo", "status", "active"),
					resource.TestCheckResourceAttr("gangplank_account.solo", "role_arn", d.Role),
				),
			},
			// Drift: disconnected in the console, the connection is planned again, and apply reconnects it.
			{
				PreConfig: func() {
					if _, err := api.Disconnect(ctx(t), id); err != nil {
						t.Fatal(err)
					}
				},
				Config: g.config(t, "acme", connectionConfig, d),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				}},
				Check: resource.TestCheckResourceAttr(addr, "status", "active"),
			},
			{ResourceName: addr, ImportState: true, ImportStateId: id, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"timeout"}},
			// Destroying the connection alone disconnects the account and keeps it.
			{
				Config: g.config(t, "acme", connectionConfig, connectionData{ID: id}),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroy),
				}},
				Check: func(*terraform.State) error {
					a, err := api.GetAccount(ctx(t), id)
					if err != nil || a.Status != "disconnected" || a.RoleARN != "" {
						return fmt.Errorf("after destroying the connection: %+v %v", a, err)
					}
					return nil
				},
			},
		},
	})
}

// TestAccConnectionFails: a role Gangplank cannot assume fails the apply with Gangplank's reason, within the
// timeout, and leaves no connection behind.
func TestAccConnectionFails(t *testing.T) {
	g := startGangplank(t)
	api := g.api(t, "acme")
	const id = "802000000002"
	// The role requires another External ID than the tenant's.
	d := connectionData{ID: id, Role: g.role(t, id, "gp-not-the-tenants-external-id"), Timeout: "1s"}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{
				Config:      g.config(t, "acme", connectionConfig, d),
				ExpectError: regexp.MustCompile(`(?s)invalid roleArn.*Could not connect account 802000000002:\s+Gangplank cannot assume\s+arn:aws:iam::802000000002:role/GangplankAccess.*External ID`),
			},
			{
				Config: g.config(t, "acme", connectionConfig, connectionData{ID: id}),
				Check: func(*terraform.State) error {
					a, err := api.GetAccount(ctx(t), id)
					if err != nil || a.Status != "pending" || a.RoleARN != "" {
						return fmt.Errorf("after the failed connection: %+v %v", a, err)
					}
					return nil
				},
			},
		},
	})
}
