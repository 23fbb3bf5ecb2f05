package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// connectionResource is gangplank_account_connection: the account's role, connected by ARN. Creating it waits
// until Gangplank has verified the role (a new role takes a while to become assumable) or fails with Gangplank's
// reason; destroying it disconnects the account. A connection Gangplank no longer has (the role stopped working,
// the account was disconnected) is gone at the next refresh, so plan shows it connected again.
type connectionResource struct{ client *Client }

func newConnectionResource() resource.Resource { return &connectionResource{} }

var (
	_ resource.ResourceWithConfigure   = (*connectionResource)(nil)
	_ resource.ResourceWithImportState = (*connectionResource)(nil)
)

type connectionModel struct {
	ID           types.String `tfsdk:"id"`
	AccountID    types.String `tfsdk:"account_id"`
	RoleARN      types.String `tfsdk:"role_arn"`
	Timeout      types.String `tfsdk:"timeout"`
	Status       types.String `tfsdk:"status"`
	HealthStatus types.String `tfsdk:"health_status"`
	ActivatedAt  types.String `tfsdk:"activated_at"`
}

var connectionFields = fieldPaths{"roleArn": path.Root("role_arn")}

// defaultConnectTimeout leaves IAM a few minutes to make a new role assumable (AWS documents up to a minute).
const defaultConnectTimeout = 5 * time.Minute

func (r *connectionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_account_connection"
}

func (r *connectionResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		Description: "Connects an account's role (made with hashicorp/aws, or by hand) to Gangplank. Creation waits until " +
			"Gangplank has assumed the role with the tenant's External ID, or fails with Gangplank's reason. Destroying it " +
			"disconnects the account.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, PlanModifiers: keep, Description: "The AWS account ID."},
			"account_id": schema.StringAttribute{Required: true, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Description: "The account (gangplank_account.<name>.account_id)."},
			"role_arn": schema.StringAttribute{Required: true,
				Description: "The role's ARN: in that account, named Gangplank*, trusting Gangplank with the tenant's External ID."},
			"timeout": schema.StringAttribute{Optional: true,
				Description: "How long to wait for the role to become assumable, as a Go duration (default 5m)."},
			"status":        schema.StringAttribute{Computed: true, Description: "The account's status once connected (active)."},
			"health_status": schema.StringAttribute{Computed: true, Description: "healthy, or degraded with a reason on the account."},
			"activated_at":  schema.StringAttribute{Computed: true, Description: "When the account became active."},
		},
	}
}

func (r *connectionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, &resp.Diagnostics)
}

func (m *connectionModel) fill(a Account) {
	m.ID, m.AccountID, m.RoleARN = types.StringValue(a.AccountID), types.StringValue(a.AccountID), types.StringValue(a.RoleARN)
	m.Status, m.HealthStatus, m.ActivatedAt = types.StringValue(a.Status), types.StringValue(a.Health.Status), timeOrNull(a.ActivatedAt)
}

// connect asks Gangplank to verify and connect the role until it succeeds, fails for a reason waiting cannot fix,
// or the timeout passes; each attempt already retries for a few seconds inside Gangplank.
func (r *connectionResource) connect(ctx context.Context, m *connectionModel) error {
	timeout := defaultConnectTimeout
	if v := m.Timeout.ValueString(); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("timeout %q is not a positive Go duration such as 5m", v)
		}
		timeout = d
	}
	deadline := time.Now().Add(timeout)
	wait := 2 * time.Second
	for attempt := 1; ; attempt++ {
		a, err := r.client.Connect(ctx, m.AccountID.ValueString(), m.RoleARN.ValueString())
		if err == nil {
			m.fill(a)
			return nil
		}
		var e *APIError
		retryable := errors.As(err, &e) && (e.Kind() == "role-verification-failed" || e.Status == 503)
		if !retryable || time.Now().Add(wait).After(deadline) {
			if retryable {
				e.Detail = fmt.Sprintf("%s (still failing after %d attempts over %s)", e.Detail, attempt, timeout)
			}
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(wait*2, 30*time.Second)
	}
}

func (r *connectionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.apply(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

// apply connects the planned role (Create and Update alike: connecting again is how a role ARN changes) and records
// the connection, keeping the configured timeout.
func (r *connectionResource) apply(ctx context.Context, planned tfsdk.Plan, state *tfsdk.State, diags *diag.Diagnostics) {
	var plan connectionModel
	diags.Append(planned.Get(ctx, &plan)...)
	if diags.HasError() {
		return
	}
	timeout := plan.Timeout
	if err := r.connect(ctx, &plan); err != nil {
		addAPIError(diags, "connect account "+plan.AccountID.ValueString(), err, connectionFields)
		return
	}
	plan.Timeout = timeout
	diags.Append(state.Set(ctx, &plan)...)
}

func (r *connectionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state connectionModel
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
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "read account "+id, err, nil)
		return
	}
	if a.RoleARN == "" || a.Status != "active" {
		// Gangplank has no working connection: the account was disconnected (in the console, or its role stopped
		// working) or never connected. A plan connects it again.
		resp.State.RemoveResource(ctx)
		return
	}
	timeout := state.Timeout
	state.fill(a)
	state.Timeout = timeout
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *connectionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.apply(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (r *connectionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state connectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if _, err := r.client.Disconnect(ctx, state.AccountID.ValueString()); err != nil && !IsNotFound(err) {
		addAPIError(&resp.Diagnostics, "disconnect account "+state.AccountID.ValueString(), err, nil)
	}
}

func (r *connectionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("account_id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
