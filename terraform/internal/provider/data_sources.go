package provider

import (
	"context"
	"net/url"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// accountsDataSource is gangplank_accounts: the tenant's accounts, filtered. type, status and
// management_account_id are answered by Gangplank (one query a page); integration_name and name_regex are applied
// to what it returns.
type accountsDataSource struct{ client *Client }

func newAccountsDataSource() datasource.DataSource { return &accountsDataSource{} }

var _ datasource.DataSourceWithConfigure = (*accountsDataSource)(nil)

type accountsModel struct {
	ID                  types.String       `tfsdk:"id"`
	Type                types.String       `tfsdk:"type"`
	Status              types.String       `tfsdk:"status"`
	ManagementAccountID types.String       `tfsdk:"management_account_id"`
	IntegrationName     types.String       `tfsdk:"integration_name"`
	NameRegex           types.String       `tfsdk:"name_regex"`
	Accounts            []accountItemModel `tfsdk:"accounts"`
	IDs                 []types.String     `tfsdk:"ids"`
}

type accountItemModel struct {
	AccountID           types.String `tfsdk:"account_id"`
	Name                types.String `tfsdk:"name"`
	Type                types.String `tfsdk:"type"`
	Status              types.String `tfsdk:"status"`
	Region              types.String `tfsdk:"region"`
	AccessLevel         types.String `tfsdk:"access_level"`
	ManagementAccountID types.String `tfsdk:"management_account_id"`
	RoleARN             types.String `tfsdk:"role_arn"`
	IntegrationName     types.String `tfsdk:"integration_name"`
	Owners              []string     `tfsdk:"owners"`
	OrganizationPath    types.String `tfsdk:"organization_path"`
	HealthStatus        types.String `tfsdk:"health_status"`
}

func (d *accountsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_accounts"
}

func accountItemAttributes() map[string]schema.Attribute {
	s := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, Description: desc}
	}
	return map[string]schema.Attribute{
		"account_id": s("The AWS account ID."), "name": s("Display name."), "type": s("management, linked or standalone."),
		"status": s("The connection status."), "region": s("The onboarding region."), "access_level": s("The access level."),
		"management_account_id": s("A linked account's management account."), "role_arn": s("The connected role."),
		"integration_name":  s("The integration's stable handle."),
		"owners":            schema.ListAttribute{Computed: true, ElementType: types.StringType, Description: "The integration's owners."},
		"organization_path": s("The member account's OU path, as discovery last read it."),
		"health_status":     s("The role's latest check."),
	}
}

func (d *accountsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "The tenant's accounts, optionally filtered.",
		Attributes: map[string]schema.Attribute{
			"id":                    schema.StringAttribute{Computed: true},
			"type":                  schema.StringAttribute{Optional: true, Description: "Only accounts of this type."},
			"status":                schema.StringAttribute{Optional: true, Description: "Only accounts in this status."},
			"management_account_id": schema.StringAttribute{Optional: true, Description: "Only the linked accounts of this management account."},
			"integration_name":      schema.StringAttribute{Optional: true, Description: "Only the account with this integration name (ignoring case)."},
			"name_regex":            schema.StringAttribute{Optional: true, Description: "Only accounts whose display name matches this RE2 expression."},
			"ids":                   schema.ListAttribute{Computed: true, ElementType: types.StringType, Description: "The accounts' IDs, in order."},
			"accounts": schema.ListNestedAttribute{Computed: true, Description: "The accounts, sorted by account ID.",
				NestedObject: schema.NestedAttributeObject{Attributes: accountItemAttributes()}},
		},
	}
}

func (d *accountsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *accountsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m accountsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var re *regexp.Regexp
	if v := m.NameRegex.ValueString(); v != "" {
		var err error
		if re, err = regexp.Compile(v); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("name_regex"), "Invalid regular expression", err.Error())
			return
		}
	}
	q := url.Values{"limit": {"100"}}
	for k, v := range map[string]types.String{"type": m.Type, "status": m.Status, "managementAccountId": m.ManagementAccountID} {
		if v.ValueString() != "" {
			q.Set(k, v.ValueString())
		}
	}
	fields := fieldPaths{"type": path.Root("type"), "status": path.Root("status"), "managementAccountId": path.Root("management_account_id")}
	m.Accounts, m.IDs = []accountItemModel{}, []types.String{}
	for pages := 0; ; pages++ {
		page, err := d.client.ListAccounts(ctx, q)
		if err != nil {
			addAPIError(&resp.Diagnostics, "list accounts", err, fields)
			return
		}
		for _, a := range page.Items {
			if n := m.IntegrationName.ValueString(); n != "" && !equalFold(n, a.Integration.IntegrationName) {
				continue
			}
			if re != nil && !re.MatchString(a.Name) {
				continue
			}
			item := accountItemModel{AccountID: types.StringValue(a.AccountID), Name: types.StringValue(a.Name), Type: types.StringValue(a.Type),
				Status: types.StringValue(a.Status), Region: types.StringValue(a.Region), AccessLevel: types.StringValue(a.AccessLevel),
				ManagementAccountID: types.StringValue(a.ManagementAccountID), RoleARN: types.StringValue(a.RoleARN),
				IntegrationName: types.StringValue(a.Integration.IntegrationName), Owners: a.Integration.Owners,
				OrganizationPath: types.StringValue(""), HealthStatus: types.StringValue(a.Health.Status)}
			if item.Owners == nil {
				item.Owners = []string{}
			}
			if a.Organization != nil {
				item.OrganizationPath = types.StringValue(a.Organization.Path)
			}
			m.Accounts = append(m.Accounts, item)
			m.IDs = append(m.IDs, types.StringValue(a.AccountID))
		}
		if page.NextCursor == "" {
			break
		}
		q.Set("cursor", page.NextCursor)
	}
	m.ID = types.StringValue("accounts?" + q.Encode())
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// equalFold compares integration names as Gangplank does (ASCII, ignoring case).
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// organizationDataSource is gangplank_organization: a management account's organization as discovery last read it.
type organizationDataSource struct{ client *Client }

func newOrganizationDataSource() datasource.DataSource { return &organizationDataSource{} }

var _ datasource.DataSourceWithConfigure = (*organizationDataSource)(nil)

type organizationModel struct {
	ID                  types.String        `tfsdk:"id"`
	ManagementAccountID types.String        `tfsdk:"management_account_id"`
	RootID              types.String        `tfsdk:"root_id"`
	DiscoveredAt        types.String        `tfsdk:"discovered_at"`
	OUs                 []ouModel           `tfsdk:"organizational_units"`
	Accounts            []memberModel       `tfsdk:"accounts"`
	OUIDsByPath         map[string]string   `tfsdk:"ou_ids_by_path"`
	AccountIDsByPath    map[string][]string `tfsdk:"account_ids_by_path"`
}

type ouModel struct {
	ID       types.String `tfsdk:"id"`
	Name     types.String `tfsdk:"name"`
	ParentID types.String `tfsdk:"parent_id"`
	Path     types.String `tfsdk:"path"`
}

type memberModel struct {
	AccountID types.String `tfsdk:"account_id"`
	Name      types.String `tfsdk:"name"`
	Email     types.String `tfsdk:"email"`
	Status    types.String `tfsdk:"status"`
	OrgStatus types.String `tfsdk:"organization_status"`
	Path      types.String `tfsdk:"path"`
}

func (d *organizationDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_organization"
}

func (d *organizationDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	s := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, Description: desc}
	}
	resp.Schema = schema.Schema{
		Description: "A management account's organization as Gangplank's latest discovery read it: OUs and member accounts with their Gangplank status.",
		Attributes: map[string]schema.Attribute{
			"id":                    s("The management account ID."),
			"management_account_id": schema.StringAttribute{Required: true, Description: "The management account."},
			"root_id":               s("The organization's root."),
			"discovered_at":         s("When discovery last read the tree."),
			"organizational_units": schema.ListNestedAttribute{Computed: true, NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"id": s("OU ID."), "name": s("OU name."), "parent_id": s("Parent OU or root."), "path": s("Root/…/Name."),
			}}},
			"accounts": schema.ListNestedAttribute{Computed: true, NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"account_id": s("The member account."), "name": s("Its name in Organizations."), "email": s("Its email in Organizations."),
				"status": s("Its Gangplank status."), "organization_status": s("ACTIVE, SUSPENDED, PENDING_CLOSURE or LEFT."),
				"path": s("Its OU path."),
			}}},
			"ou_ids_by_path": schema.MapAttribute{Computed: true, ElementType: types.StringType,
				Description: "OU IDs by path (\"Root/Workloads/Prod\"), for discovery settings written by name."},
			"account_ids_by_path": schema.MapAttribute{Computed: true, ElementType: types.ListType{ElemType: types.StringType},
				Description: "Member account IDs by OU path."},
		},
	}
}

func (d *organizationDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *organizationDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m organizationModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := m.ManagementAccountID.ValueString()
	o, err := d.client.Organization(ctx, id)
	if err != nil {
		addAPIError(&resp.Diagnostics, "read the organization of "+id, err, fieldPaths{})
		return
	}
	m.ID, m.RootID, m.DiscoveredAt = types.StringValue(id), types.StringValue(o.RootID), types.StringValue(o.DiscoveredAt.UTC().Format(time.RFC3339))
	m.OUs, m.Accounts = []ouModel{}, []memberModel{}
	m.OUIDsByPath, m.AccountIDsByPath = map[string]string{}, map[string][]string{}
	for _, ou := range o.OUs {
		m.OUs = append(m.OUs, ouModel{ID: types.StringValue(ou.ID), Name: types.StringValue(ou.Name), ParentID: types.StringValue(ou.ParentID), Path: types.StringValue(ou.Path)})
		m.OUIDsByPath[ou.Path] = ou.ID
	}
	for _, a := range o.Accounts {
		m.Accounts = append(m.Accounts, memberModel{AccountID: types.StringValue(a.AccountID), Name: types.StringValue(a.Organization.Name),
			Email: types.StringValue(a.Organization.Email), Status: types.StringValue(a.Status), OrgStatus: types.StringValue(a.Organization.Status),
			Path: types.StringValue(a.Organization.Path)})
		m.AccountIDsByPath[a.Organization.Path] = append(m.AccountIDsByPath[a.Organization.Path], a.AccountID)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
