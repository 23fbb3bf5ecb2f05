package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

const accountConfig = `
resource "gangplank_account" "payer" {
  account_id       = "{{.ID}}"
  name             = "{{.Name}}"
  type             = "management"
  region           = "eu-west-1"
  access_level     = "{{.Level}}"
  integration_name = "{{.Handle}}"
  owners           = [{{range $i, $o := .Owners}}{{if $i}}, {{end}}"{{$o}}"{{end}}]
  {{- if .Details}}
  custom_access_details    = "{{.Details}}"
  credential_rotation_days = 90
  user_cleanup_days        = 30
  resource_types           = ["ec2:instance", "s3:bucket"]
  regions                  = ["eu-west-1", "us-east-1"]
  sso_region               = "eu-west-1"
  {{- end}}
}
`

type accountData struct {
	ID, Name, Level, Handle, Details string
	Owners                           []string
}

// TestAccAccount: plan, apply, refresh, update, drift, import and destroy of gangplank_account, with its
// integration settings and the onboarding outputs.
func TestAccAccount(t *testing.T) {
	g := startGangplank(t)
	api := g.api(t, "acme")
	const id = "801000000001"
	base := accountData{ID: id, Name: "Payer", Level: "resources", Handle: "payer", Owners: []string{"ops@example.com"}}
	full := base
	full.Name, full.Level, full.Handle, full.Details = "Payer (EU)", "resources_tags", "payer-eu", "Ask in #cloud-access."
	full.Owners = []string{"ops@example.com", "finops@example.com"}
	addr := "gangplank_account.payer"

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		CheckDestroy: func(*terraform.State) error {
			if _, err := api.GetAccount(ctx(t), id); !IsNotFound(err) {
				return fmt.Errorf("account %s still in Gangplank after destroy: %v", id, err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: g.config(t, "acme", accountConfig, base),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "id", id),
					resource.TestCheckResourceAttr(addr, "status", "pending"),
					resource.TestCheckResourceAttr(addr, "health_status", "unknown"),
					resource.TestCheckResourceAttr(addr, "cost_sync", "true"),
					resource.TestCheckResourceAttr(addr, "role_name", "GangplankAccess"),
					resource.TestMatchResourceAttr(addr, "external_id", regexp.MustCompile(`^gp-[0-9a-f]{32}$`)),
					resource.TestMatchResourceAttr(addr, "template_url", regexp.MustCompile(`/onboarding\.yaml$`)),
					resource.TestMatchResourceAttr(addr, "quick_create_url", regexp.MustCompile(`#/stacks/create/review\?.*param_ActivationToken=`)),
					resource.TestMatchResourceAttr(addr, "callback_topic", regexp.MustCompile(`^arn:aws:sns:eu-west-1:`)),
					resource.TestMatchResourceAttr(addr, "trusted_principal", regexp.MustCompile(`^arn:aws:iam::[0-9]{12}:role/.*-connector$`)),
					resource.TestCheckNoResourceAttr(addr, "sso_region"),
					// What Terraform wrote is what Gangplank has.
					func(*terraform.State) error {
						a, err := api.GetAccount(ctx(t), id)
						if err != nil {
							return err
						}
						if a.Integration.IntegrationName != "payer" || len(a.Integration.Owners) != 1 || a.Region != "eu-west-1" {
							return fmt.Errorf("in Gangplank: %+v", a)
						}
						return nil
					},
				),
			},
			// Refresh alone changes nothing.
			{RefreshState: true, RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
			// Every setting, and a rename: an update in place.
			{
				Config: g.config(t, "acme", accountConfig, full),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "name", "Payer (EU)"),
					resource.TestCheckResourceAttr(addr, "access_level", "resources_tags"),
					resource.TestCheckResourceAttr(addr, "integration_name", "payer-eu"),
					resource.TestCheckResourceAttr(addr, "owners.#", "2"),
					resource.TestCheckResourceAttr(addr, "credential_rotation_days", "90"),
					resource.TestCheckResourceAttrSet(addr, "next_credential_rotation_at"),
					resource.TestCheckResourceAttr(addr, "resource_types.#", "2"),
					resource.TestCheckResourceAttr(addr, "sso_region", "eu-west-1"),
					// Not connected: Gangplank could not look for Identity Center yet.
					resource.TestCheckResourceAttr(addr, "sso_region_check", "unverified"),
				),
			},
			// Drift: a change made in the console (through the API) shows in the plan, and apply puts it back.
			{
				PreConfig: func() {
					a, err := api.GetAccount(ctx(t), id)
					if err != nil {
						t.Fatal(err)
					}
					in := IntegrationRequest{IntegrationName: "renamed-in-console", Owners: []string{"someone@example.com"}}
					if _, err := api.PutIntegration(ctx(t), id, a.Version, in); err != nil {
						t.Fatal(err)
					}
				},
				Config:             g.config(t, "acme", accountConfig, full),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config: g.config(t, "acme", accountConfig, full),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.TestCheckResourceAttr(addr, "integration_name", "payer-eu"),
			},
			// Import: the same state from Gangplank alone (the quick-create link carries a single-use token and is
			// known only to the run that created the account).
			{
				ResourceName: addr, ImportState: true, ImportStateId: id, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"quick_create_url"},
			},
		},
	})
}

// TestAccAccountRemovedInConsole: an account deleted outside Terraform is planned for creation again.
func TestAccAccountRemovedInConsole(t *testing.T) {
	g := startGangplank(t)
	api := g.api(t, "acme")
	const id = "801000000002"
	d := accountData{ID: id, Name: "Gone", Level: "resources", Handle: "gone", Owners: []string{"ops@example.com"}}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{Config: g.config(t, "acme", accountConfig, d)},
			{
				PreConfig: func() {
					if err := api.DeleteAccount(ctx(t), id, "Gone"); err != nil {
						t.Fatal(err)
					}
				},
				Config: g.config(t, "acme", accountConfig, d),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("gangplank_account.payer", plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}
