package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// tenantSettingsResource is gangplank_tenant_settings: the settings of the token's tenant (one per tenant).
// Attributes left out of the configuration keep whatever Gangplank has; destroying the resource puts the defaults
// back.
type tenantSettingsResource struct{ client *Client }

func newTenantSettingsResource() resource.Resource { return &tenantSettingsResource{} }

var (
	_ resource.ResourceWithConfigure   = (*tenantSettingsResource)(nil)
	_ resource.ResourceWithImportState = (*tenantSettingsResource)(nil)
)

type tenantSettingsModel struct {
	ID                     types.String `tfsdk:"id"`
	DefaultRegion          types.String `tfsdk:"default_region"`
	CostSyncDefault        types.Bool   `tfsdk:"cost_sync_default"`
	ExternalIDGraceDays    types.Int64  `tfsdk:"external_id_grace_days"`
	CredentialRotationDays types.Int64  `tfsdk:"credential_rotation_days"`
	Terms                  types.Set    `tfsdk:"recommendation_terms"`
	PaymentOptions         types.Set    `tfsdk:"recommendation_payment_options"`
	LookbackDays           types.Int64  `tfsdk:"recommendation_lookback_days"`
	ExternalID             types.String `tfsdk:"external_id"`
	NextRotationAt         types.String `tfsdk:"next_external_id_rotation_at"`
}

var tenantFields = fieldPaths{
	"defaultRegion": path.Root("default_region"), "costSyncDefault": path.Root("cost_sync_default"),
	"externalIdGraceDays": path.Root("external_id_grace_days"), "credentialRotationDays": path.Root("credential_rotation_days"),
	"recommendations.terms": path.Root("recommendation_terms"), "recommendations.paymentOptions": path.Root("recommendation_payment_options"),
	"recommendations.lookbackDays": path.Root("recommendation_lookback_days"),
}

func (r *tenantSettingsResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_tenant_settings"
}

func (r *tenantSettingsResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keepS := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	keepI := []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		Description: "The settings of the token's tenant. Attributes left out keep Gangplank's value; destroying the " +
			"resource restores the defaults.",
		Attributes: map[string]schema.Attribute{
			"id":             schema.StringAttribute{Computed: true, PlanModifiers: keepS, Description: "The tenant's ID."},
			"default_region": schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: keepS, Description: "Region of new accounts that name none (empty: none)."},
			"cost_sync_default": schema.BoolAttribute{Optional: true, Computed: true,
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()}, Description: "Whether new accounts sync Cost Explorer recommendations."},
			"external_id_grace_days": schema.Int64Attribute{Optional: true, Computed: true, PlanModifiers: keepI,
				Description: "How long a rotated-out External ID keeps working (0-365 days)."},
			"credential_rotation_days": schema.Int64Attribute{Optional: true, Computed: true, PlanModifiers: keepI,
				Description: "Rotate the External ID every so many days (7-365; 0: only when asked), warning a week before."},
			"recommendation_terms":           schema.SetAttribute{Optional: true, ElementType: types.StringType, Description: "ONE_YEAR, THREE_YEARS (empty: ONE_YEAR)."},
			"recommendation_payment_options": schema.SetAttribute{Optional: true, ElementType: types.StringType, Description: "NO_UPFRONT, PARTIAL_UPFRONT, ALL_UPFRONT (empty: NO_UPFRONT)."},
			"recommendation_lookback_days":   schema.Int64Attribute{Optional: true, Computed: true, PlanModifiers: keepI, Description: "7, 30 or 60 (0: 30)."},
			"external_id": schema.StringAttribute{Computed: true, Sensitive: true,
				Description: "The tenant's current External ID."},
			"next_external_id_rotation_at": schema.StringAttribute{Computed: true, Description: "When the next scheduled rotation is due."},
		},
	}
}

func (r *tenantSettingsResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (m *tenantSettingsModel) fill(t Tenant) {
	s := t.Settings
	m.ID, m.DefaultRegion, m.CostSyncDefault = types.StringValue(t.TenantID), types.StringValue(s.DefaultRegion), types.BoolValue(s.CostSyncDefault)
	m.ExternalIDGraceDays, m.CredentialRotationDays = types.Int64Value(s.ExternalIDGraceDays), types.Int64Value(s.CredentialRotationDays)
	m.Terms, m.PaymentOptions = setOf(s.Recommendations.Terms, m.Terms), setOf(s.Recommendations.PaymentOptions, m.PaymentOptions)
	m.LookbackDays = types.Int64Value(s.Recommendations.LookbackDays)
	m.ExternalID, m.NextRotationAt = types.StringValue(t.ExternalID), timeOrNull(t.Rotation.NextRotationAt)
}

// patch sends the configured settings (unknown ones are left as Gangplank has them).
func (r *tenantSettingsResource) patch(ctx context.Context, m *tenantSettingsModel, diags *diag.Diagnostics) {
	t, err := r.client.GetTenant(ctx)
	if err != nil {
		addAPIError(diags, "read the tenant", err, nil)
		return
	}
	settings := map[string]any{}
	if v := m.DefaultRegion; !v.IsUnknown() && !v.IsNull() {
		settings["defaultRegion"] = v.ValueString()
	}
	if v := m.CostSyncDefault; !v.IsUnknown() && !v.IsNull() {
		settings["costSyncDefault"] = v.ValueBool()
	}
	if v := m.ExternalIDGraceDays; !v.IsUnknown() && !v.IsNull() {
		settings["externalIdGraceDays"] = v.ValueInt64()
	}
	if v := m.CredentialRotationDays; !v.IsUnknown() && !v.IsNull() {
		settings["credentialRotationDays"] = v.ValueInt64()
	}
	recs := t.Settings.Recommendations
	if !m.Terms.IsUnknown() {
		recs.Terms = stringsOf(ctx, m.Terms, diags)
	}
	if !m.PaymentOptions.IsUnknown() {
		recs.PaymentOptions = stringsOf(ctx, m.PaymentOptions, diags)
	}
	if v := m.LookbackDays; !v.IsUnknown() && !v.IsNull() {
		recs.LookbackDays = v.ValueInt64()
	}
	settings["recommendations"] = recs
	t, err = r.client.PatchTenant(ctx, t.Version, settings)
	if err != nil {
		addAPIError(diags, "change the tenant's settings", stale(err), tenantFields)
		return
	}
	m.fill(t)
}

func (r *tenantSettingsResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan tenantSettingsModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.patch(ctx, &plan, &resp.Diagnostics)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

func (r *tenantSettingsResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state tenantSettingsModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	t, err := r.client.GetTenant(ctx)
	if err != nil {
		addAPIError(&resp.Diagnostics, "read the tenant", err, nil)
		return
	}
	state.fill(t)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *tenantSettingsResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan tenantSettingsModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.patch(ctx, &plan, &resp.Diagnostics)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

// Delete restores the defaults a new tenant starts with.
func (r *tenantSettingsResource) Delete(ctx context.Context, _ resource.DeleteRequest, resp *resource.DeleteResponse) {
	t, err := r.client.GetTenant(ctx)
	if err != nil {
		addAPIError(&resp.Diagnostics, "read the tenant", err, nil)
		return
	}
	_, err = r.client.PatchTenant(ctx, t.Version, map[string]any{"defaultRegion": "", "costSyncDefault": true, "externalIdGraceDays": 30,
		"credentialRotationDays": 0, "recommendations": RecommendationSettings{Terms: []string{}, PaymentOptions: []string{}}})
	if err != nil {
		addAPIError(&resp.Diagnostics, "restore the tenant's default settings", stale(err), nil)
	}
}

// ImportState accepts any ID (the tenant is the token's); "tenant" reads well.
func (r *tenantSettingsResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
