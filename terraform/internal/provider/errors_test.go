package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/gangplank/gangplank/pkg/auth"
)

const soloConfig = `
resource "gangplank_account" "solo" {
  account_id       = "{{.ID}}"
  name             = "Solo"
  type             = "standalone"
  region           = "us-east-1"
  integration_name = "{{.Handle}}"
  owners           = ["ops@example.com"]
}
`

// TestAccErrors: what the API refuses becomes a diagnostic that keeps the API's message and points at the
// attribute; a bad token and a viewer's token say what to fix.
func TestAccErrors(t *testing.T) {
	g := startGangplank(t)
	api := g.api(t, "acme")
	type data struct{ ID, Handle string }
	bad := func(token string) string {
		return g.providerBlock(t, "", "acme", token) + render(t, soloConfig, data{ID: "806000000001", Handle: "solo"})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{
				// The API's field error, on integration_name (the CLI quotes the configuration line), with its message.
				Config: g.config(t, "acme", soloConfig, data{ID: "806000000001", Handle: "prod payer"}),
				ExpectError: regexp.MustCompile(`(?s)Error: Gangplank: invalid integration\.integrationName \(validation-failed\).*` +
					`integration_name\s+= "prod payer".*Could\s+not\s+link\s+account\s+806000000001:\s+must\s+be\s+1-64\s+letters,\s+digits,\s+-\s+or\s+_`),
			},
			{
				Config:      bad("not-a-token"),
				ExpectError: regexp.MustCompile(`(?s)Gangplank rejected the token \(401 Unauthorized\).*GANGPLANK_TOKEN`),
			},
			{
				Config:      bad(g.token(t, "acme", auth.Viewer)),
				ExpectError: regexp.MustCompile(`(?s)Gangplank refused the request \(403 Forbidden\).*your\s+role\s+is\s+viewer.*must\s+be\s+admin`),
			},
			// Nothing was created by any of them; a correct configuration then applies.
			{
				Config: g.config(t, "acme", soloConfig, data{ID: "806000000001", Handle: "solo"}),
				Check: func(*terraform.State) error {
					page, err := api.ListAccounts(ctx(t), nil)
					if err != nil || len(page.Items) != 1 {
						return fmt.Errorf("accounts after the refusals: %+v %v", page.Items, err)
					}
					return nil
				},
			},
			// The handle is taken: the conflict is on integration_name too.
			{
				Config: g.config(t, "acme", soloConfig+`
resource "gangplank_account" "other" {
  account_id       = "806000000002"
  name             = "Other"
  type             = "standalone"
  region           = "us-east-1"
  integration_name = "SOLO"
  owners           = ["ops@example.com"]
}
`, data{ID: "806000000001", Handle: "solo"}),
				ExpectError: regexp.MustCompile(`(?s)invalid integration.integrationName \(integration-name-taken\).*integration_name\s+= "SOLO"`),
			},
		},
	})
}

const acmeListConfig = `
data "gangplank_accounts" "standalone" {
  type = "standalone"
}

data "gangplank_accounts" "by_handle" {
  integration_name = "PAYER"
}
`

const globexConfig = `
data "gangplank_accounts" "all" {}
{{.}}`

// TestAccTenantIsolation: two tenants never see each other's accounts through the provider: acme's filters find
// its accounts, while globex lists none of them, cannot import one, and cannot link one (the refusal names no
// tenant). Each tenant has its own configuration: in these tests every provider block is served by the one
// in-process provider, where Terraform would start one per block.
func TestAccTenantIsolation(t *testing.T) {
	g := startGangplank(t)
	acme := g.api(t, "acme")
	for _, a := range []CreateAccountRequest{
		{Name: "Payer", AccountID: "807000000001", Type: "management", Region: "us-east-1", Integration: &IntegrationRequest{IntegrationName: "payer", Owners: []string{"ops@example.com"}}},
		{Name: "Solo", AccountID: "807000000002", Type: "standalone", Region: "us-east-1", Integration: &IntegrationRequest{IntegrationName: "solo", Owners: []string{"ops@example.com"}}},
	} {
		if _, err := acme.CreateAccount(ctx(t), a); err != nil {
			t.Fatal(err)
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			Config: g.config(t, "acme", acmeListConfig, nil),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("data.gangplank_accounts.standalone", "ids.#", "1"),
				resource.TestCheckResourceAttr("data.gangplank_accounts.standalone", "ids.0", "807000000002"),
				resource.TestCheckResourceAttr("data.gangplank_accounts.by_handle", "accounts.#", "1"),
				resource.TestCheckResourceAttr("data.gangplank_accounts.by_handle", "accounts.0.account_id", "807000000001"),
				resource.TestCheckResourceAttr("data.gangplank_accounts.by_handle", "accounts.0.owners.0", "ops@example.com"),
			),
		}},
	})
	steal := `
resource "gangplank_account" "stolen" {
  account_id       = "807000000001"
  name             = "Mine"
  type             = "management"
  region           = "us-east-1"
  integration_name = "mine"
  owners           = ["evil@example.com"]
}`
	imported := `
resource "gangplank_account" "imported" {
  account_id       = "807000000002"
  name             = "Solo"
  type             = "standalone"
  integration_name = "solo"
  owners           = ["ops@example.com"]
}`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{
				Config: g.config(t, "globex", globexConfig, ""),
				Check:  resource.TestCheckResourceAttr("data.gangplank_accounts.all", "ids.#", "0"),
			},
			{
				Config:      g.config(t, "globex", globexConfig, steal),
				ExpectError: regexp.MustCompile(`(?s)already\s+connected\s+to\s+Gangplank\s+by\s+another\s+organisation`),
			},
			{
				Config:        g.config(t, "globex", globexConfig, imported),
				ResourceName:  "gangplank_account.imported",
				ImportState:   true,
				ImportStateId: "807000000002",
				ExpectError:   regexp.MustCompile(`Cannot import non-existent remote object`),
			},
		},
		CheckDestroy: func(*terraform.State) error {
			page, err := g.api(t, "globex").ListAccounts(ctx(t), nil)
			if err != nil || len(page.Items) != 0 {
				return fmt.Errorf("globex's accounts: %+v %v", page.Items, err)
			}
			// acme's accounts are untouched by globex's runs.
			for _, id := range []string{"807000000001", "807000000002"} {
				if a, err := acme.GetAccount(ctx(t), id); err != nil || a.Version != 1 {
					return fmt.Errorf("acme's %s after globex's runs: %+v %v", id, a, err)
				}
			}
			return nil
		},
	})
}
