package httpapi

import (
	"net/http"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/auth"
)

func (a *API) activationRoutes() []route {
	return []route{
		{method: http.MethodPost, pattern: "/v1/accounts/{accountId}/activations", write: true, handle: a.startActivation},
		{method: http.MethodGet, pattern: "/v1/activations", handle: a.listActivations},
		{method: http.MethodGet, pattern: "/v1/activations/{activationId}", query: []string{"limit", "cursor"}, handle: a.getActivation},
		{method: http.MethodDelete, pattern: "/v1/activations/{activationId}", write: true, handle: a.cancelActivation},
	}
}

func (a *API) startActivation(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	var req activation.Request
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	actID, err := a.cfg.Activation.Start(r.Context(), p.TenantID, id, key, req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/activations/"+actID)
	return writeJSON(w, http.StatusAccepted, map[string]string{"activationId": actID})
}

func (a *API) listActivations(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	list, err := a.cfg.Activation.List(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	if list == nil {
		list = []activation.Activation{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (a *API) getActivation(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := activationParam(r)
	if err != nil {
		return err
	}
	params := query(r)
	limit, err := parseLimit(params, 100, 1000)
	if err != nil {
		return err
	}
	scope := "activation|" + p.TenantID + "|" + id
	offset := 0
	if c := params["cursor"]; c != "" {
		k, err := a.cfg.Cursors.Decode(scope, c)
		if err != nil {
			return err
		}
		if v, ok := k["offset"].(*types.AttributeValueMemberS); ok {
			offset, _ = strconv.Atoi(v.Value)
		}
	}
	progress, next, err := a.cfg.Activation.Get(r.Context(), p.TenantID, id, offset, limit)
	if err != nil {
		return err
	}
	if next > 0 {
		if progress.NextCursor, err = a.cfg.Cursors.Encode(scope, map[string]types.AttributeValue{"offset": &types.AttributeValueMemberS{Value: strconv.Itoa(next)}}); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, progress)
}

func (a *API) cancelActivation(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := activationParam(r)
	if err != nil {
		return err
	}
	progress, err := a.cfg.Activation.Cancel(r.Context(), p.TenantID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, progress)
}
