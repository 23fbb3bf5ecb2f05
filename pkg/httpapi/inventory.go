package httpapi

import (
	"errors"
	"net/http"

	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/inventory"
	"github.com/gangplank/gangplank/pkg/validation"
)

func (a *API) inventoryRoutes() []route {
	return []route{
		{method: http.MethodGet, pattern: "/v1/accounts/{accountId}/resources", query: listingParams, handle: a.listAccountResources},
		{method: http.MethodGet, pattern: "/v1/resources", query: append([]string{"accountId"}, listingParams...), handle: a.listResources},
		{method: http.MethodGet, pattern: "/v1/resources/{resourceArn}", handle: a.getResource},
		{method: http.MethodPatch, pattern: "/v1/resources/{resourceArn}", write: true, handle: a.patchResourceTags},
		{method: http.MethodGet, pattern: "/v1/accounts/{accountId}/resources/sync", handle: a.inventoryStatus},
		{method: http.MethodPost, pattern: "/v1/accounts/{accountId}/resources/sync", write: true, handle: a.syncInventory},
		{method: http.MethodGet, pattern: "/v1/tags", query: []string{"accountId"}, handle: a.tagKeys},
		{method: http.MethodGet, pattern: "/v1/tags/{key}", query: []string{"accountId"}, handle: a.tagValues},
	}
}

// listingParams are the filters and paging of the resource listings (tenant-wide ones also take accountId).
var listingParams = []string{"region", "type", "tag", "limit", "cursor"}

// inventoryQuery reads a listing's filters (the router has refused unknown parameters); a malformed one is a 400
// naming it, as for every listing.
func inventoryQuery(r *http.Request, accountID string) (inventory.Query, error) {
	params := query(r)
	q := inventory.Query{AccountID: accountID, Region: params["region"], Type: params["type"], Cursor: params["cursor"]}
	if id, ok := params["accountId"]; ok {
		q.AccountID = id
	}
	var fields []validation.FieldError
	tag, err := inventory.ParseTagFilter(params["tag"])
	if err != nil {
		fields = append(fields, validation.FieldError{Field: "tag", Message: err.Error()})
	}
	q.Tag = tag
	if q.Limit, err = parseLimit(params, inventory.DefaultPageSize, inventory.MaxPageSize); err != nil {
		return inventory.Query{}, err
	}
	if err := inventory.CheckQuery(q); err != nil {
		var ve *validation.Error
		if errors.As(err, &ve) {
			fields = append(fields, ve.Fields...)
		}
	}
	if len(fields) > 0 {
		return inventory.Query{}, badRequest("some query parameters are not valid", fields...)
	}
	return q, nil
}

func (a *API) listAccountResources(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	q, err := inventoryQuery(r, id)
	if err != nil {
		return err
	}
	page, err := a.cfg.Inventory.List(r.Context(), p.TenantID, q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

func (a *API) listResources(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q, err := inventoryQuery(r, "")
	if err != nil {
		return err
	}
	page, err := a.cfg.Inventory.List(r.Context(), p.TenantID, q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

// resourceParam is the {resourceArn} of the path (URL-encoded by the client: an ARN holds "/" and ":").
func resourceParam(r *http.Request) (string, error) {
	arn := r.PathValue("resourceArn")
	if len(arn) < 8 || arn[:4] != "arn:" {
		return "", inventory.ErrNotFound
	}
	return arn, nil
}

func (a *API) getResource(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	arn, err := resourceParam(r)
	if err != nil {
		return err
	}
	res, err := a.cfg.Inventory.Get(r.Context(), p.TenantID, arn)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", res.ETag)
	return writeJSON(w, http.StatusOK, res)
}

// PatchTagsRequest is the body of PATCH /v1/resources/{resourceArn}: each key set to a value, or removed with null;
// keys not named are left as they are.
type PatchTagsRequest struct {
	Tags map[string]*string `json:"tags"`
}

func (a *API) patchResourceTags(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	arn, err := resourceParam(r)
	if err != nil {
		return err
	}
	tags, err := ifMatch(r)
	if err != nil {
		return err
	}
	var req PatchTagsRequest
	if err := decodeJSON(w, r, &req, "application/merge-patch+json"); err != nil {
		return err
	}
	res, err := a.cfg.Inventory.PatchTags(r.Context(), p.TenantID, arn, tags, inventory.TagPatch(req.Tags), p.Subject)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", res.ETag)
	return writeJSON(w, http.StatusOK, res)
}

func (a *API) inventoryStatus(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	st, err := a.cfg.Inventory.AccountStatus(r.Context(), p.TenantID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (a *API) syncInventory(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	st, err := a.cfg.Inventory.RequestSync(r.Context(), p.TenantID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, st)
}

func (a *API) tagKeys(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	params := query(r)
	keys, err := a.cfg.Inventory.TagKeys(r.Context(), p.TenantID, params["accountId"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": keys})
}

func (a *API) tagValues(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	params := query(r)
	vals, err := a.cfg.Inventory.TagValues(r.Context(), p.TenantID, r.PathValue("key"), params["accountId"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, vals)
}
