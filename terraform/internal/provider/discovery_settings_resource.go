package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// discoverySettingsResource is gangplank_discovery_settings: a management account's discovery filters, member
// access role and auto-enrolment. Destroying it puts the defaults back (every OU, no exclusions,
// OrganizationAccountAccessRole, no auto-enrolment).
type discoverySettingsResource struct{ client *Client }

func newDiscoverySettingsResource() resource.Resource { return &discoverySettingsResource{} }

var (
	_ resource.ResourceWithConfigure   = (*discoverySettingsResource)(nil)
	_ resource.ResourceWithImportState = (*discoverySettingsResource)(nil)
)

type discoverySettingsModel struct {
	ID              types.String `tfsdk:"id"`
	AccountID       types.String `tfsdk:"account_id"`
	IncludeOUs      types.Set    `tfsdk:"include_ou_ids"`
	ExcludeOUs      types.Set    `tfsdk:"exclude_ou_ids"`
	ExcludeAccounts types.Set    `tfsdk:"exclude_account_ids"`
	MemberRoleName  types.String `tfsdk:"member_role_name"`
	AutoEnroll      types.Bool   `tfsdk:"auto_enroll"`
}

var discoveryFields = fieldPaths{
	"includeOuIds": path.Root("include_ou_ids"), "excludeOuIds": path.Root("exclude_ou_ids"),
	"excludeAccountIds": path.Root("exclude_account_ids"), "memberRoleName": path.Root("member_role_name"), "autoEnroll": path.Root("auto_enroll"),
}

const defaultMemberRole = "OrganizationAccountAccessRole"

func (r *discoverySettingsResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_discovery_settings"
}

func (r *discoverySettingsResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A management account's discovery settings: which OUs and accounts discovery adds, the role bulk " +
			"activation assumes in member accounts, and whether new accounts of included OUs are activated as they appear.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"account_id": schema.StringAttribute{Required: true, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Description: "The management account."},
			"include_ou_ids": schema.SetAttribute{Optional: true, ElementType: types.StringType,
				Description: "Only accounts under these OUs (nested OUs included); empty for the whole organization."},
			"exclude_ou_ids":      schema.SetAttribute{Optional: true, ElementType: types.StringType, Description: "Never accounts under these OUs."},
			"exclude_account_ids": schema.SetAttribute{Optional: true, ElementType: types.StringType, Description: "Never these accounts."},
			"member_role_name": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(defaultMemberRole),
				Description: "The role bulk activation assumes in member accounts (default OrganizationAccountAccessRole)."},
			"auto_enroll": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				Description: "Activate new accounts of included OUs as discovery finds them."},
		},
	}
}

func (r *discoverySettingsResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (m *discoverySettingsModel) fill(a Account) {
	d := Discovery{MemberRoleName: defaultMemberRole}
	if a.Discovery != nil {
		d = *a.Discovery
	}
	m.ID, m.AccountID = types.StringValue(a.AccountID), types.StringValue(a.AccountID)
	m.IncludeOUs, m.ExcludeOUs, m.ExcludeAccounts = setOf(d.IncludeOUs, m.IncludeOUs), setOf(d.ExcludeOUs, m.ExcludeOUs), setOf(d.ExcludeAccounts, m.ExcludeAccounts)
	m.MemberRoleName, m.AutoEnroll = types.StringValue(d.MemberRoleName), types.BoolValue(d.AutoEnroll)
}

func (r *discoverySettingsResource) put(ctx context.Context, m *discoverySettingsModel, diags *diag.Diagnostics) {
	in := Discovery{IncludeOUs: stringsOf(ctx, m.IncludeOUs, diags), ExcludeOUs: stringsOf(ctx, m.ExcludeOUs, diags),
		ExcludeAccounts: stringsOf(ctx, m.ExcludeAccounts, diags), MemberRoleName: m.MemberRoleName.ValueString(), AutoEnroll: m.AutoEnroll.ValueBool()}
	a, err := r.client.PutDiscoverySettings(ctx, m.AccountID.ValueString(), in)
	if err != nil {
		addAPIError(diags, "set account "+m.AccountID.ValueString()+"'s discovery settings", err, discoveryFields)
		return
	}
	m.fill(a)
}

func (r *discoverySettingsResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan discoverySettingsModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.put(ctx, &plan, &resp.Diagnostics)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

func (r *discoverySettingsResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state discoverySettingsModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	a, err := r.client.GetAccount(ctx, state.AccountID.ValueString())
	if IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "read account "+state.AccountID.ValueString(), err, nil)
		return
	}
	state.fill(a)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *discoverySettingsResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan discoverySettingsModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.put(ctx, &plan, &resp.Diagnostics)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

func (r *discoverySettingsResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state discoverySettingsModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	_, err := r.client.PutDiscoverySettings(ctx, state.AccountID.ValueString(), Discovery{IncludeOUs: []string{}, ExcludeOUs: []string{},
		ExcludeAccounts: []string{}, MemberRoleName: defaultMemberRole})
	if err != nil && !IsNotFound(err) {
		addAPIError(&resp.Diagnostics, "reset account "+state.AccountID.ValueString()+"'s discovery settings", err, nil)
	}
}

func (r *discoverySettingsResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("account_id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
