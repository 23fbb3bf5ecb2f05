package httpapi

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/costsync"
	"github.com/gangplank/gangplank/pkg/validation"
)

func (a *API) costRoutes() []route {
	return []route{
		{method: http.MethodPost, pattern: "/v1/accounts/{accountId}/recommendations/sync", write: true, handle: a.syncRecommendations},
		{method: http.MethodGet, pattern: "/v1/accounts/{accountId}/recommendations", query: filterParams, handle: a.accountRecommendations},
		{method: http.MethodGet, pattern: "/v1/recommendations", query: slices.Concat(filterParams, []string{"limit", "cursor"}), handle: a.tenantRecommendations},
		{method: http.MethodPut, pattern: "/v1/accounts/{accountId}/commitment", write: true, handle: a.putCommitment},
		{method: http.MethodGet, pattern: "/v1/accounts/{accountId}/commitment", query: []string{"spend"}, handle: a.getCommitment},
		{method: http.MethodDelete, pattern: "/v1/accounts/{accountId}/commitment", write: true, handle: a.deleteCommitment},
	}
}

func (a *API) syncRecommendations(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	if err := a.cfg.CostSync.RequestSync(r.Context(), p.TenantID, id); err != nil {
		return err
	}
	st, err := a.cfg.CostSync.Store.Status(r.Context(), p.TenantID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]any{"accountId": id, "sync": st})
}

// filterParams filter recommendation listings.
var filterParams = []string{"service", "term", "paymentOption"}

// filterFrom reads the filter from the query; an unknown value is a 400, like any other value of the query.
func filterFrom(r *http.Request) (costsync.Filter, error) {
	params := query(r)
	f := costsync.Filter{Service: params["service"], Term: params["term"], PaymentOption: params["paymentOption"]}
	if fields, ok := validation.As(f.Validate()); ok {
		return costsync.Filter{}, badRequest("some query parameters are not valid", fields...)
	}
	return f, nil
}

func (a *API) accountRecommendations(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	f, err := filterFrom(r)
	if err != nil {
		return err
	}
	out, err := a.cfg.CostSync.AccountRecommendations(r.Context(), p.TenantID, id, f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

const (
	defaultRecommendationsPage = 50
	maxRecommendationsPage     = 500
	recommendationsScope       = "recommendations"
)

func (a *API) tenantRecommendations(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	f, err := filterFrom(r)
	if err != nil {
		return err
	}
	params := query(r)
	limit, err := parseLimit(params, defaultRecommendationsPage, maxRecommendationsPage)
	if err != nil {
		return err
	}
	// The cursor is a signed offset, bound to the tenant and the filter, so it cannot be replayed elsewhere.
	scope := recommendationsScope + "|" + p.TenantID + "|" + f.Service + "|" + f.Term + "|" + f.PaymentOption
	offset := 0
	if c := params["cursor"]; c != "" {
		k, err := a.cfg.Cursors.Decode(scope, c)
		if err != nil {
			return err
		}
		if n, ok := k["offset"].(*types.AttributeValueMemberS); ok {
			offset, _ = strconv.Atoi(n.Value)
		}
	}
	page, err := a.cfg.CostSync.TenantRecommendations(r.Context(), p.TenantID, f, offset, limit)
	if err != nil {
		return err
	}
	out := map[string]any{"totals": page.Totals, "items": page.Items}
	if page.Next > 0 {
		next, err := a.cfg.Cursors.Encode(scope, map[string]types.AttributeValue{"offset": &types.AttributeValueMemberS{Value: strconv.Itoa(page.Next)}})
		if err != nil {
			return err
		}
		out["nextCursor"] = next
	}
	return writeJSON(w, http.StatusOK, out)
}

// CommitmentRequest is the body of PUT /v1/accounts/{accountId}/commitment.
type CommitmentRequest struct {
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency"`
	Start    string  `json:"start"`
	End      string  `json:"end"`
}

func (a *API) putCommitment(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	var req CommitmentRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	c, err := a.cfg.CostSync.SetCommitment(r.Context(), p.TenantID, id, costsync.CommitmentInput{Amount: req.Amount, Currency: req.Currency, Start: req.Start, End: req.End})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (a *API) getCommitment(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	switch query(r)["spend"] {
	case "", "true":
	case "false":
		// The commitment alone: no Cost Explorer request ($0.01 each), works before the account is connected.
		c, err := a.cfg.CostSync.Commitment(r.Context(), p.TenantID, id)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]any{"commitment": c})
	default:
		return badRequest("spend is true or false", validation.FieldError{Field: "spend", Message: "must be true or false"})
	}
	rep, err := a.cfg.CostSync.CommitmentReport(r.Context(), p.TenantID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

func (a *API) deleteCommitment(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	if err := a.cfg.CostSync.DeleteCommitment(r.Context(), p.TenantID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
