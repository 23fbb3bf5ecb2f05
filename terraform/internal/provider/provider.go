// Package provider is Gangplank's Terraform provider: accounts with their integration settings, their
// connections, discovery settings, commitments and the tenant's settings, over Gangplank's HTTP API.
package provider

import (
	"context"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Environment variables the provider reads when its arguments are not set.
const (
	EnvEndpoint = "GANGPLANK_ENDPOINT"
	EnvToken    = "GANGPLANK_TOKEN"
)

// Address is where Terraform finds the provider.
const Address = "registry.terraform.io/gangplank/gangplank"

// New returns the provider factory for version.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &gangplankProvider{version: version} }
}

type gangplankProvider struct{ version string }

var _ provider.Provider = (*gangplankProvider)(nil)

type providerModel struct {
	Endpoint types.String `tfsdk:"endpoint"`
	Token    types.String `tfsdk:"token"`
}

func (p *gangplankProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "gangplank"
	resp.Version = p.version
}

func (p *gangplankProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Manage Gangplank accounts, their integration settings and connections, discovery settings, " +
			"commitments and the tenant's settings as code.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{Optional: true,
				Description: "Gangplank's API base URL, such as https://api.gangplank.example (default: " + EnvEndpoint + ")."},
			"token": schema.StringAttribute{Optional: true, Sensitive: true,
				Description: "A bearer token for the API; admin to change anything (default: " + EnvToken + ")."},
		},
	}
}

func (p *gangplankProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if cfg.Endpoint.IsUnknown() || cfg.Token.IsUnknown() {
		// A value another resource computes: Terraform configures the provider again once it is known.
		return
	}
	endpoint, token := os.Getenv(EnvEndpoint), os.Getenv(EnvToken)
	if v := cfg.Endpoint.ValueString(); v != "" {
		endpoint = v
	}
	if v := cfg.Token.ValueString(); v != "" {
		token = v
	}
	if endpoint == "" {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Gangplank's endpoint is not set",
			"Set the provider's endpoint argument or the "+EnvEndpoint+" environment variable to Gangplank's API base URL.")
	}
	if token == "" {
		resp.Diagnostics.AddAttributeError(path.Root("token"), "Gangplank's token is not set",
			"Set the provider's token argument or the "+EnvToken+" environment variable to a bearer token for Gangplank's API.")
	}
	if resp.Diagnostics.HasError() {
		return
	}
	client, err := NewClient(endpoint, token, nil)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Gangplank's endpoint is not valid", err.Error())
		return
	}
	client.UserAgent = "terraform-provider-gangplank/" + p.version
	resp.ResourceData, resp.DataSourceData = client, client
}

func (p *gangplankProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		newAccountResource, newConnectionResource, newDiscoverySettingsResource, newCommitmentResource, newTenantSettingsResource,
	}
}

func (p *gangplankProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{newAccountsDataSource, newOrganizationDataSource}
}

// clientFrom reads the configured client from a resource's or data source's ProviderData.
func clientFrom(data any, diags interface{ AddError(string, string) }) *Client {
	if data == nil {
		return nil // Not configured yet (validation); Terraform configures before any call.
	}
	c, ok := data.(*Client)
	if !ok {
		diags.AddError("Unexpected provider data", "This is a bug in the Gangplank provider: the configured client has the wrong type.")
		return nil
	}
	return c
}
