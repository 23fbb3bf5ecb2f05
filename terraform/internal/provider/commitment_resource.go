package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// commitmentResource is gangplank_commitment: a payer's EDP commitment. Reading it never calls Cost Explorer
// (GET .../commitment?spend=false), so a refresh costs nothing and works before the account is connected.
type commitmentResource struct{ client *Client }

func newCommitmentResource() resource.Resource { return &commitmentResource{} }

var (
	_ resource.ResourceWithConfigure   = (*commitmentResource)(nil)
	_ resource.ResourceWithImportState = (*commitmentResource)(nil)
)

type commitmentModel struct {
	ID        types.String  `tfsdk:"id"`
	AccountID types.String  `tfsdk:"account_id"`
	Amount    types.Float64 `tfsdk:"amount"`
	Currency  types.String  `tfsdk:"currency"`
	Start     types.String  `tfsdk:"start"`
	End       types.String  `tfsdk:"end"`
}

var commitmentFields = fieldPaths{"amount": path.Root("amount"), "currency": path.Root("currency"), "start": path.Root("start"), "end": path.Root("end")}

func (r *commitmentResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_commitment"
}

func (r *commitmentResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A payer's Enterprise Discount Program commitment: Gangplank reports spend to date against its straight-line target.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"account_id": schema.StringAttribute{Required: true, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Description: "The payer: a management or standalone account."},
			"amount": schema.Float64Attribute{Required: true, Description: "Committed spend over the whole term."},
			"currency": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("USD"),
				Description: "ISO 4217 code (default USD)."},
			"start": schema.StringAttribute{Required: true, Description: "First day, YYYY-MM-DD."},
			"end":   schema.StringAttribute{Required: true, Description: "Last day, YYYY-MM-DD."},
		},
	}
}

func (r *commitmentResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (m *commitmentModel) fill(id string, c Commitment) {
	m.ID, m.AccountID = types.StringValue(id), types.StringValue(id)
	m.Amount, m.Currency = types.Float64Value(c.Amount), types.StringValue(c.Currency)
	m.Start, m.End = types.StringValue(c.Start.UTC().Format("2006-01-02")), types.StringValue(c.End.UTC().Format("2006-01-02"))
}

func (r *commitmentResource) put(ctx context.Context, m *commitmentModel, diags *diag.Diagnostics) {
	id := m.AccountID.ValueString()
	c, err := r.client.PutCommitment(ctx, id, CommitmentRequest{Amount: m.Amount.ValueFloat64(), Currency: m.Currency.ValueString(),
		Start: m.Start.ValueString(), End: m.End.ValueString()})
	if err != nil {
		addAPIError(diags, "record account "+id+"'s commitment", err, commitmentFields)
		return
	}
	m.fill(id, c)
}

func (r *commitmentResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan commitmentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.put(ctx, &plan, &resp.Diagnostics)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

func (r *commitmentResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state commitmentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.AccountID.ValueString()
	c, err := r.client.GetCommitment(ctx, id)
	if IsNotFound(err) {
		// No commitment (or no account) any more.
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "read account "+id+"'s commitment", err, nil)
		return
	}
	state.fill(id, c)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *commitmentResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan commitmentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.put(ctx, &plan, &resp.Diagnostics)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

func (r *commitmentResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state commitmentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.client.DeleteCommitment(ctx, state.AccountID.ValueString()); err != nil && !IsNotFound(err) {
		addAPIError(&resp.Diagnostics, "remove account "+state.AccountID.ValueString()+"'s commitment", err, nil)
	}
}

func (r *commitmentResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("account_id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
