package provider

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/gangplank/gangplank/pkg/testkit"
)

// connectedOrganization is a management account of tenant acme, connected (which runs its first discovery), whose
// organization has an OU "Workloads" holding one of its n members. It returns the OU's ID and the members.
func (g *gangplank) connectedOrganization(t *testing.T, managementID string, n int) (string, []string) {
	t.Helper()
	members := testkit.NewOrganization(t, managementID, n)
	org := testkit.Organizations(t, managementID)
	roots, err := org.ListRoots(ctx(t), &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	ou, err := org.CreateOrganizationalUnit(ctx(t), &organizations.CreateOrganizationalUnitInput{ParentId: roots.Roots[0].Id, Name: aws.String("Workloads")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := org.MoveAccount(ctx(t), &organizations.MoveAccountInput{AccountId: aws.String(members[0]),
		SourceParentId: roots.Roots[0].Id, DestinationParentId: ou.OrganizationalUnit.Id}); err != nil {
		t.Fatal(err)
	}
	g.ConnectManagement(t, "acme", managementID)
	return aws.ToString(ou.OrganizationalUnit.Id), members
}

const discoveryConfig = `
data "gangplank_organization" "org" {
  management_account_id = "{{.ID}}"
}

resource "gangplank_discovery_settings" "org" {
  account_id          = "{{.ID}}"
  include_ou_ids      = [data.gangplank_organization.org.ou_ids_by_path["Root/Workloads"]]
  exclude_account_ids = ["{{.Excluded}}"]
  member_role_name    = "{{.Role}}"
  auto_enroll         = {{.AutoEnroll}}
}
`

// TestAccDiscoverySettings: settings written by OU path through the organization data source; drift, import, and a
// destroy that restores the defaults.
func TestAccDiscoverySettings(t *testing.T) {
	g := startGangplank(t)
	api := g.api(t, "acme")
	const id = "803000000001"
	ou, members := g.connectedOrganization(t, id, 2)
	type data struct {
		ID, Excluded, Role string
		AutoEnroll         bool
	}
	d := data{ID: id, Excluded: members[1], Role: "OrganizationAccountAccessRole", AutoEnroll: true}
	addr := "gangplank_discovery_settings.org"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		CheckDestroy: func(*terraform.State) error {
			a, err := api.GetAccount(ctx(t), id)
			if err != nil {
				return err
			}
			if dd := a.Discovery; dd == nil || len(dd.IncludeOUs) != 0 || len(dd.ExcludeAccounts) != 0 || dd.AutoEnroll || dd.MemberRoleName != defaultMemberRole {
				return fmt.Errorf("defaults not restored: %+v", a.Discovery)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: g.config(t, "acme", discoveryConfig, d),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckTypeSetElemAttr(addr, "include_ou_ids.*", ou),
					resource.TestCheckTypeSetElemAttr(addr, "exclude_account_ids.*", members[1]),
					resource.TestCheckResourceAttr(addr, "auto_enroll", "true"),
					resource.TestCheckResourceAttr("data.gangplank_organization.org", "account_ids_by_path.Root/Workloads.0", members[0]),
					func(*terraform.State) error {
						a, err := api.GetAccount(ctx(t), id)
						if err != nil || a.Discovery == nil || len(a.Discovery.IncludeOUs) != 1 || a.Discovery.IncludeOUs[0] != ou || !a.Discovery.AutoEnroll {
							return fmt.Errorf("in Gangplank: %+v %v", a.Discovery, err)
						}
						return nil
					},
				),
			},
			{RefreshState: true, RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
			{
				Config: g.config(t, "acme", discoveryConfig, data{ID: id, Excluded: members[0], Role: "GangplankMemberAccess", AutoEnroll: false}),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.TestCheckResourceAttr(addr, "member_role_name", "GangplankMemberAccess"),
			},
			// Drift: auto-enrolment switched on in the console.
			{
				PreConfig: func() {
					if _, err := api.PutDiscoverySettings(ctx(t), id, Discovery{AutoEnroll: true, MemberRoleName: "GangplankMemberAccess"}); err != nil {
						t.Fatal(err)
					}
				},
				Config:             g.config(t, "acme", discoveryConfig, data{ID: id, Excluded: members[0], Role: "GangplankMemberAccess", AutoEnroll: false}),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{Config: g.config(t, "acme", discoveryConfig, data{ID: id, Excluded: members[0], Role: "GangplankMemberAccess", AutoEnroll: false})},
			{ResourceName: addr, ImportState: true, ImportStateId: id, ImportStateVerify: true},
		},
	})
}

const commitmentConfig = `
resource "gangplank_account" "payer" {
  account_id       = "{{.ID}}"
  name             = "Payer"
  type             = "management"
  region           = "us-east-1"
  integration_name = "payer"
  owners           = ["finops@example.com"]
}

resource "gangplank_commitment" "edp" {
  account_id = gangplank_account.payer.account_id
  amount     = {{.Amount}}
  {{- if .Currency}}
  currency   = "{{.Currency}}"
  {{- end}}
  start      = "2026-01-01"
  end        = "{{.End}}"
}
`

// TestAccCommitment: a commitment on an account not connected yet (reading it needs no Cost Explorer), updated,
// drifted, imported and destroyed.
func TestAccCommitment(t *testing.T) {
	g := startGangplank(t)
	api := g.api(t, "acme")
	const id = "804000000001"
	type data struct {
		ID, Currency, End string
		Amount            int
	}
	addr := "gangplank_commitment.edp"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		CheckDestroy: func(*terraform.State) error {
			if _, err := api.GetAccount(ctx(t), id); !IsNotFound(err) {
				return fmt.Errorf("account still there: %v", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: g.config(t, "acme", commitmentConfig, data{ID: id, Amount: 1200000, End: "2028-12-31"}),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "currency", "USD"),
					resource.TestCheckResourceAttr(addr, "end", "2028-12-31"),
				),
			},
			{RefreshState: true, RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
			{
				Config: g.config(t, "acme", commitmentConfig, data{ID: id, Amount: 1500000, Currency: "EUR", End: "2029-06-30"}),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "amount", "1500000"),
					resource.TestCheckResourceAttr(addr, "currency", "EUR"),
				),
			},
			// Drift: the amount changed in the console.
			{
				PreConfig: func() {
					if _, err := api.PutCommitment(ctx(t), id, CommitmentRequest{Amount: 1, Currency: "EUR", Start: "2026-01-01", End: "2029-06-30"}); err != nil {
						t.Fatal(err)
					}
				},
				Config:             g.config(t, "acme", commitmentConfig, data{ID: id, Amount: 1500000, Currency: "EUR", End: "2029-06-30"}),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			// Removed in the console: planned for creation again.
			{
				PreConfig: func() {
					if err := api.DeleteCommitment(ctx(t), id); err != nil {
						t.Fatal(err)
					}
				},
				Config: g.config(t, "acme", commitmentConfig, data{ID: id, Amount: 1500000, Currency: "EUR", End: "2029-06-30"}),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				}},
			},
			{ResourceName: addr, ImportState: true, ImportStateId: id, ImportStateVerify: true},
			// Destroying the commitment alone removes it from Gangplank.
			{
				Config: g.config(t, "acme", `
resource "gangplank_account" "payer" {
  account_id       = "{{.ID}}"
  name             = "Payer"
  type             = "management"
  region           = "us-east-1"
  integration_name = "payer"
  owners           = ["finops@example.com"]
}`, data{ID: id}),
				Check: func(*terraform.State) error {
					if _, err := api.GetCommitment(ctx(t), id); !IsNotFound(err) {
						return fmt.Errorf("commitment still there after destroy: %v", err)
					}
					return nil
				},
			},
		},
	})
}

const tenantConfig = `
resource "gangplank_tenant_settings" "this" {
  default_region           = "{{.Region}}"
  cost_sync_default        = false
  external_id_grace_days   = 14
  credential_rotation_days = {{.Rotation}}
  recommendation_terms     = ["ONE_YEAR", "THREE_YEARS"]
  recommendation_lookback_days = 60
}
`

// TestAccTenantSettings: the tenant's settings, with the External ID schedule; drift, import, and a destroy that
// restores the defaults.
func TestAccTenantSettings(t *testing.T) {
	g := startGangplank(t)
	api := g.api(t, "acme")
	type data struct {
		Region   string
		Rotation int
	}
	addr := "gangplank_tenant_settings.this"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		CheckDestroy: func(*terraform.State) error {
			tn, err := api.GetTenant(ctx(t))
			if err != nil {
				return err
			}
			if s := tn.Settings; s.DefaultRegion != "" || !s.CostSyncDefault || s.ExternalIDGraceDays != 30 || s.CredentialRotationDays != 0 ||
				len(s.Recommendations.Terms) != 0 || tn.Rotation.NextRotationAt != nil {
				return fmt.Errorf("defaults not restored: %+v", tn)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: g.config(t, "acme", tenantConfig, data{Region: "eu-west-1", Rotation: 90}),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "id", "acme"),
					resource.TestCheckResourceAttr(addr, "default_region", "eu-west-1"),
					resource.TestCheckResourceAttr(addr, "cost_sync_default", "false"),
					resource.TestCheckResourceAttr(addr, "credential_rotation_days", "90"),
					resource.TestCheckResourceAttrSet(addr, "next_external_id_rotation_at"),
					resource.TestCheckResourceAttr(addr, "recommendation_terms.#", "2"),
				),
			},
			{RefreshState: true, RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
			{
				Config: g.config(t, "acme", tenantConfig, data{Region: "us-west-2", Rotation: 0}),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "default_region", "us-west-2"),
					resource.TestCheckNoResourceAttr(addr, "next_external_id_rotation_at"),
				),
			},
			{
				PreConfig: func() {
					tn, err := api.GetTenant(ctx(t))
					if err != nil {
						t.Fatal(err)
					}
					if _, err := api.PatchTenant(ctx(t), tn.Version, map[string]any{"defaultRegion": "ap-south-1"}); err != nil {
						t.Fatal(err)
					}
				},
				Config:             g.config(t, "acme", tenantConfig, data{Region: "us-west-2", Rotation: 0}),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{Config: g.config(t, "acme", tenantConfig, data{Region: "us-west-2", Rotation: 0})},
			{ResourceName: addr, ImportState: true, ImportStateId: "tenant", ImportStateVerify: true},
		},
	})
}
