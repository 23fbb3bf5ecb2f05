package provider

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// accountResource is gangplank_account: an AWS account linked to the tenant, with its integration settings, and
// what the customer's side needs to connect it (External ID, role name, template and quick-create link, callback
// topic) as outputs.
type accountResource struct{ client *Client }

func newAccountResource() resource.Resource { return &accountResource{} }

var (
	_ resource.ResourceWithConfigure   = (*accountResource)(nil)
	_ resource.ResourceWithImportState = (*accountResource)(nil)
)

type accountModel struct {
	ID                       types.String `tfsdk:"id"`
	AccountID                types.String `tfsdk:"account_id"`
	Name                     types.String `tfsdk:"name"`
	Type                     types.String `tfsdk:"type"`
	Region                   types.String `tfsdk:"region"`
	AccessLevel              types.String `tfsdk:"access_level"`
	CostSync                 types.Bool   `tfsdk:"cost_sync"`
	ManagementAccountID      types.String `tfsdk:"management_account_id"`
	IntegrationName          types.String `tfsdk:"integration_name"`
	Owners                   types.Set    `tfsdk:"owners"`
	CustomAccessDetails      types.String `tfsdk:"custom_access_details"`
	CredentialRotationDays   types.Int64  `tfsdk:"credential_rotation_days"`
	UserCleanupDays          types.Int64  `tfsdk:"user_cleanup_days"`
	ResourceTypes            types.Set    `tfsdk:"resource_types"`
	Regions                  types.Set    `tfsdk:"regions"`
	SSORegion                types.String `tfsdk:"sso_region"`
	Status                   types.String `tfsdk:"status"`
	StatusReason             types.String `tfsdk:"status_reason"`
	HealthStatus             types.String `tfsdk:"health_status"`
	RoleARN                  types.String `tfsdk:"role_arn"`
	ExternalID               types.String `tfsdk:"external_id"`
	RoleName                 types.String `tfsdk:"role_name"`
	TemplateURL              types.String `tfsdk:"template_url"`
	QuickCreateURL           types.String `tfsdk:"quick_create_url"`
	CallbackTopic            types.String `tfsdk:"callback_topic"`
	TrustedPrincipal         types.String `tfsdk:"trusted_principal"`
	NextCredentialRotationAt types.String `tfsdk:"next_credential_rotation_at"`
	SSORegionCheck           types.String `tfsdk:"sso_region_check"`
	Version                  types.Int64  `tfsdk:"version"`
}

// accountFields maps the API's field names (of POST /v1/accounts, PATCH and PUT .../integration) to attributes.
var accountFields = fieldPaths{
	"name": path.Root("name"), "accountId": path.Root("account_id"), "type": path.Root("type"), "region": path.Root("region"),
	"accessLevel": path.Root("access_level"), "costSync": path.Root("cost_sync"), "managementAccountId": path.Root("management_account_id"),
	"integrationName": path.Root("integration_name"), "owners": path.Root("owners"), "customAccessDetails": path.Root("custom_access_details"),
	"credentialRotationDays": path.Root("credential_rotation_days"), "userCleanupDays": path.Root("user_cleanup_days"),
	"resourceTypes": path.Root("resource_types"), "regions": path.Root("regions"), "ssoRegion": path.Root("sso_region"),
	"confirm": path.Root("name"),
}

func (r *accountResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_account"
}

func (r *accountResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		Description: "An AWS account linked to your Gangplank tenant, with its integration settings. Its outputs are what " +
			"the account's side needs: the External ID and role name for the role, or the template and quick-create link " +
			"for the onboarding stack. Connect a role with gangplank_account_connection.",
		Attributes: map[string]schema.Attribute{
			"id":         schema.StringAttribute{Computed: true, PlanModifiers: keep, Description: "The AWS account ID."},
			"account_id": schema.StringAttribute{Required: true, PlanModifiers: replace, Description: "The 12-digit AWS account ID."},
			"name":       schema.StringAttribute{Required: true, Description: "Display name, unique in the tenant ignoring case (free text)."},
			"type": schema.StringAttribute{Required: true, PlanModifiers: replace,
				Description: "management, linked or standalone."},
			"region": schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: append(replace, keep...),
				Description: "Where the onboarding stack goes (default: the tenant's default region)."},
			"access_level": schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: keep,
				Description: "resources (default), resources_tags or tags_write."},
			"cost_sync": schema.BoolAttribute{Optional: true, Computed: true,
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
				Description:   "Sync Cost Explorer recommendations (default: the tenant's cost-sync default)."},
			"management_account_id": schema.StringAttribute{Optional: true, PlanModifiers: replace,
				Description: "For a linked account: its management account, linked in the same tenant."},
			"integration_name": schema.StringAttribute{Required: true,
				Description: "The stable handle used in code and access flows: letters, digits, - and _, unique in the tenant."},
			"owners": schema.SetAttribute{Required: true, ElementType: types.StringType,
				Description: "The people responsible for the integration, by email (at least one)."},
			"custom_access_details": schema.StringAttribute{Optional: true,
				Description: "Plain text shown to end users who access the account's resources (at most 400 characters, no markup)."},
			"credential_rotation_days": schema.Int64Attribute{Optional: true,
				Description: "Rotates the account's IAM access key (identity integration) every so many days (1-365)."},
			"user_cleanup_days": schema.Int64Attribute{Optional: true,
				Description: "Deletes offboarded IAM users this many days after their access was removed (1-365)."},
			"resource_types": schema.SetAttribute{Optional: true, ElementType: types.StringType,
				Description: "The inventory's resource types, such as ec2:instance (default: all)."},
			"regions": schema.SetAttribute{Optional: true, ElementType: types.StringType,
				Description: "The inventory's regions (default: every region enabled in the account)."},
			"sso_region": schema.StringAttribute{Optional: true,
				Description: "Management accounts: the region of the organization's IAM Identity Center, checked through the role."},

			"status":        schema.StringAttribute{Computed: true, PlanModifiers: keep, Description: "pending, active, failed, not_activated, activating or disconnected."},
			"status_reason": schema.StringAttribute{Computed: true, PlanModifiers: keep, Description: "Why the account is in its status."},
			"health_status": schema.StringAttribute{Computed: true, PlanModifiers: keep, Description: "The role's latest check: unknown, healthy, degraded or unhealthy."},
			"role_arn":      schema.StringAttribute{Computed: true, PlanModifiers: keep, Description: "The connected role, once verified."},
			"external_id": schema.StringAttribute{Computed: true, Sensitive: true, PlanModifiers: keep,
				Description: "The tenant's External ID, which the account's role must require."},
			"role_name": schema.StringAttribute{Computed: true, PlanModifiers: keep, Description: "The role name the onboarding material uses."},
			"template_url": schema.StringAttribute{Computed: true, PlanModifiers: keep,
				Description: "The onboarding CloudFormation template."},
			"quick_create_url": schema.StringAttribute{Computed: true, Sensitive: true, PlanModifiers: keep,
				Description: "The console link that launches the onboarding stack, with a single-use activation token " +
					"(known when the account is created by Terraform; null after an import)."},
			"callback_topic": schema.StringAttribute{Computed: true, PlanModifiers: keep,
				Description: "The SNS topic the onboarding stack's custom resource calls (in the account's region)."},
			"trusted_principal": schema.StringAttribute{Computed: true, PlanModifiers: keep,
				Description: "The ARN the account's role must trust (Gangplank's connector), together with external_id."},
			"next_credential_rotation_at": schema.StringAttribute{Computed: true, Description: "When the next credential rotation is due."},
			"sso_region_check":            schema.StringAttribute{Computed: true, Description: "verified, unverified or not_found."},
			"version":                     schema.Int64Attribute{Computed: true, Description: "The account's version (its ETag)."},
		},
	}
}

func (r *accountResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (m accountModel) integration(ctx context.Context, diags *diag.Diagnostics) IntegrationRequest {
	return IntegrationRequest{
		IntegrationName: m.IntegrationName.ValueString(), Owners: stringsOf(ctx, m.Owners, diags),
		CustomAccessDetails: m.CustomAccessDetails.ValueString(), CredentialRotationDays: int64Ptr(m.CredentialRotationDays),
		UserCleanupDays: int64Ptr(m.UserCleanupDays), ResourceTypes: stringsOf(ctx, m.ResourceTypes, diags),
		Regions: stringsOf(ctx, m.Regions, diags), SSORegion: m.SSORegion.ValueString(),
	}
}

// fill copies what the API shows of the account into the model; configured sets keep the form the configuration
// gave them (empty or null).
func (m *accountModel) fill(a Account) {
	m.ID, m.AccountID, m.Name, m.Type = types.StringValue(a.AccountID), types.StringValue(a.AccountID), types.StringValue(a.Name), types.StringValue(a.Type)
	m.Region, m.AccessLevel, m.CostSync = types.StringValue(a.Region), types.StringValue(a.AccessLevel), types.BoolValue(a.CostSync)
	m.ManagementAccountID = stringOrNull(a.ManagementAccountID)
	i := a.Integration
	m.IntegrationName = stringOrNull(i.IntegrationName)
	m.Owners = setOf(i.Owners, m.Owners)
	m.CustomAccessDetails = stringOrNull(i.CustomAccessDetails)
	m.CredentialRotationDays, m.UserCleanupDays = int64OrNull(i.CredentialRotationDays), int64OrNull(i.UserCleanupDays)
	m.ResourceTypes, m.Regions = setOf(i.ResourceTypes, m.ResourceTypes), setOf(i.Regions, m.Regions)
	m.SSORegion = stringOrNull(i.SSORegion)
	m.SSORegionCheck = types.StringNull()
	if i.SSORegionCheck != nil {
		m.SSORegionCheck = types.StringValue(i.SSORegionCheck.Status)
	}
	m.NextCredentialRotationAt = timeOrNull(i.NextCredentialRotationAt)
	m.Status, m.StatusReason, m.HealthStatus = types.StringValue(a.Status), types.StringValue(a.StatusReason), types.StringValue(a.Health.Status)
	m.RoleARN = types.StringValue(a.RoleARN)
	m.Version = types.Int64Value(a.Version)
}

func (r *accountResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan accountModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	integration := plan.integration(ctx, &resp.Diagnostics)
	in := CreateAccountRequest{Name: plan.Name.ValueString(), AccountID: plan.AccountID.ValueString(), Type: plan.Type.ValueString(),
		Region: plan.Region.ValueString(), AccessLevel: plan.AccessLevel.ValueString(), ManagementAccountID: plan.ManagementAccountID.ValueString(),
		Integration: &integration}
	if !plan.CostSync.IsNull() && !plan.CostSync.IsUnknown() {
		v := plan.CostSync.ValueBool()
		in.CostSync = &v
	}
	a, err := r.client.CreateAccount(ctx, in)
	if err != nil {
		var e *APIError
		if errors.As(err, &e) && e.Kind() == "account-taken" && e.Detail != "" && strings.Contains(e.Detail, "your tenant") {
			e.Detail += ". To manage it with Terraform, import it: terraform import <address> " + in.AccountID
		}
		addAPIError(&resp.Diagnostics, "link account "+in.AccountID, err, accountFields)
		return
	}
	plan.fill(a)
	if o := a.Onboarding; o != nil {
		plan.ExternalID = types.StringValue(o.Parameters["ExternalId"])
		plan.RoleName = types.StringValue(o.Manual.RoleName)
		plan.TemplateURL = types.StringValue(o.TemplateURL)
		plan.QuickCreateURL = types.StringValue(o.QuickCreateURL)
		plan.CallbackTopic = types.StringValue(o.Parameters["CallbackTopicArn"])
		plan.TrustedPrincipal = types.StringValue(o.Parameters["PlatformPrincipal"])
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *accountResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state accountModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.AccountID.ValueString()
	if id == "" {
		id = state.ID.ValueString()
	}
	a, err := r.client.GetAccount(ctx, id)
	if IsNotFound(err) {
		// Removed outside Terraform: plan shows it created again.
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "read account "+id, err, nil)
		return
	}
	state.fill(a)
	if !r.readOutputs(ctx, &state, &resp.Diagnostics) {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// readOutputs refreshes the External ID (it changes when the tenant rotates it, and the role must follow) and fills
// the onboarding outputs an imported account has not got yet.
func (r *accountResource) readOutputs(ctx context.Context, m *accountModel, diags *diag.Diagnostics) bool {
	t, err := r.client.GetTenant(ctx)
	if err != nil {
		addAPIError(diags, "read the tenant's External ID", err, nil)
		return false
	}
	m.ExternalID = types.StringValue(t.ExternalID)
	if m.RoleName.IsNull() || m.RoleName.IsUnknown() || m.TemplateURL.IsNull() || m.TemplateURL.IsUnknown() ||
		m.CallbackTopic.IsNull() || m.CallbackTopic.IsUnknown() || m.TrustedPrincipal.IsNull() || m.TrustedPrincipal.IsUnknown() {
		v, err := r.client.Terraform(ctx, m.AccountID.ValueString())
		if err != nil {
			addAPIError(diags, "read account "+m.AccountID.ValueString()+"'s onboarding facts", err, nil)
			return false
		}
		m.RoleName, m.TemplateURL, m.CallbackTopic = types.StringValue(v.RoleName), types.StringValue(v.TemplateURL), types.StringValue(v.CallbackTopicARN)
		m.TrustedPrincipal = types.StringValue(v.TrustedPrincipal)
	}
	if m.QuickCreateURL.IsUnknown() {
		m.QuickCreateURL = types.StringNull()
	}
	return true
}

func (r *accountResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state accountModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id, version := state.AccountID.ValueString(), state.Version.ValueInt64()
	var patch PatchAccountRequest
	changed := false
	if !plan.Name.Equal(state.Name) {
		patch.Name, changed = plan.Name.ValueStringPointer(), true
	}
	if !plan.AccessLevel.IsUnknown() && !plan.AccessLevel.Equal(state.AccessLevel) {
		patch.AccessLevel, changed = plan.AccessLevel.ValueStringPointer(), true
	}
	if !plan.CostSync.IsUnknown() && !plan.CostSync.Equal(state.CostSync) {
		patch.CostSync, changed = plan.CostSync.ValueBoolPointer(), true
	}
	var a Account
	var err error
	if changed {
		if a, err = r.client.PatchAccount(ctx, id, version, patch); err != nil {
			addAPIError(&resp.Diagnostics, "change account "+id, stale(err), accountFields)
			return
		}
		version = a.Version
	}
	integration := plan.integration(ctx, &resp.Diagnostics)
	if a, err = r.client.PutIntegration(ctx, id, version, integration); err != nil {
		addAPIError(&resp.Diagnostics, "set account "+id+"'s integration settings", stale(err), accountFields)
		return
	}
	plan.fill(a)
	for _, keep := range []struct {
		dst *types.String
		src types.String
	}{
		{&plan.ExternalID, state.ExternalID}, {&plan.RoleName, state.RoleName}, {&plan.TemplateURL, state.TemplateURL},
		{&plan.QuickCreateURL, state.QuickCreateURL}, {&plan.CallbackTopic, state.CallbackTopic}, {&plan.TrustedPrincipal, state.TrustedPrincipal},
	} {
		if keep.dst.IsUnknown() {
			*keep.dst = keep.src
		}
	}
	if !r.readOutputs(ctx, &plan, &resp.Diagnostics) {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *accountResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state accountModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.AccountID.ValueString()
	// Confirm with the name as Gangplank has it now: a rename made in the console since the last refresh must not
	// make the deletion fail.
	name := state.Name.ValueString()
	if a, err := r.client.GetAccount(ctx, id); err == nil {
		name = a.Name
	} else if IsNotFound(err) {
		return
	}
	if err := r.client.DeleteAccount(ctx, id, name); err != nil && !IsNotFound(err) {
		addAPIError(&resp.Diagnostics, "remove account "+id, err, accountFields)
	}
}

func (r *accountResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("account_id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}

// stale explains a 412: the object changed in Gangplank since Terraform last read it.
func stale(err error) error {
	var e *APIError
	if errors.As(err, &e) && e.Status == http.StatusPreconditionFailed {
		e.Detail = "it was changed in Gangplank (console, API or another run) since Terraform last read it. " +
			"Run terraform plan to see the change, then apply again."
	}
	return err
}
