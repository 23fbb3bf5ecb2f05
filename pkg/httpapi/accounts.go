package httpapi

import (
	"net/http"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/validation"
)

func (a *API) accountRoutes() []route {
	return []route{
		{method: http.MethodGet, pattern: "/v1/accounts", query: []string{"type", "status", "managementAccountId", "limit", "cursor"}, handle: a.listAccounts},
		{method: http.MethodPost, pattern: "/v1/accounts", write: true, handle: a.createAccount},
		{method: http.MethodGet, pattern: "/v1/accounts/{accountId}", handle: a.getAccount},
		{method: http.MethodPatch, pattern: "/v1/accounts/{accountId}", write: true, handle: a.patchAccount},
		{method: http.MethodDelete, pattern: "/v1/accounts/{accountId}", write: true, query: []string{"confirm"}, handle: a.deleteAccount},
	}
}

// CreateAccountRequest is the body of POST /v1/accounts.
type CreateAccountRequest struct {
	Name                string `json:"name"`
	AccountID           string `json:"accountId"`
	Type                string `json:"type"`
	Region              string `json:"region"`
	AccessLevel         string `json:"accessLevel"`
	CostSync            *bool  `json:"costSync"`
	ManagementAccountID string `json:"managementAccountId"`
	IdentityAccess      string `json:"identityAccess"`
	IdentityPathPrefix  string `json:"identityPathPrefix"`
	// Integration, when present, sets the integration settings in the same write as the account.
	Integration *IntegrationRequest `json:"integration"`
}

func (a *API) createAccount(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req CreateAccountRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	in := accounts.CreateInput{
		Name: req.Name, AccountID: req.AccountID, Type: req.Type, Region: req.Region,
		AccessLevel: req.AccessLevel, CostSync: req.CostSync, ManagementAccountID: req.ManagementAccountID,
		IdentityAccess: req.IdentityAccess, IdentityPathPrefix: req.IdentityPathPrefix,
	}
	if req.Integration != nil {
		integration := req.Integration.input()
		in.Integration = &integration
	}
	created, err := a.cfg.Onboarding.CreateAccount(r.Context(), p.TenantID, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/accounts/"+created.Account.AccountID)
	w.Header().Set("ETag", created.Account.ETag())
	return writeJSON(w, http.StatusCreated, accountWithOnboarding{Account: created.Account, Onboarding: created.Instructions})
}

func (a *API) listAccounts(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	params := query(r)
	q := accounts.ListQuery{Cursor: params["cursor"]}
	var fields []validation.FieldError
	if v, ok := params["type"]; ok {
		t, err := accounts.ParseType(v)
		if err != nil {
			fields = append(fields, validation.FieldError{Field: "type", Message: err.Error()})
		}
		q.Type = t
	}
	if v, ok := params["status"]; ok {
		s, err := accounts.ParseStatus(v)
		if err != nil {
			fields = append(fields, validation.FieldError{Field: "status", Message: err.Error()})
		}
		q.Status = s
	}
	if v, ok := params["managementAccountId"]; ok {
		if _, err := awsid.ParseAccountID(v); err != nil {
			fields = append(fields, validation.FieldError{Field: "managementAccountId", Message: err.Error()})
		}
		q.ManagementAccountID = v
	}
	if len(fields) > 0 {
		return badRequest("some query parameters are not valid", fields...)
	}
	var err error
	if q.Limit, err = parseLimit(params, accounts.DefaultPageSize, accounts.MaxPageSize); err != nil {
		return err
	}
	page, err := a.cfg.Accounts.List(r.Context(), p.TenantID, q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

func (a *API) getAccount(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	acct, err := a.cfg.Accounts.Get(r.Context(), p.TenantID, id)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", acct.ETag())
	return writeJSON(w, http.StatusOK, acct)
}

// PatchAccountRequest is the body of PATCH /v1/accounts/{accountId}: absent fields keep their values.
type PatchAccountRequest struct {
	Name               *string `json:"name"`
	AccessLevel        *string `json:"accessLevel"`
	CostSync           *bool   `json:"costSync"`
	IdentityAccess     *string `json:"identityAccess"`
	IdentityPathPrefix *string `json:"identityPathPrefix"`
}

func (a *API) patchAccount(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	tags, err := ifMatch(r)
	if err != nil {
		return err
	}
	var req PatchAccountRequest
	if err := decodeJSON(w, r, &req, "application/merge-patch+json"); err != nil {
		return err
	}
	acct, err := a.cfg.Accounts.Update(r.Context(), p.TenantID, id, tags,
		accounts.Patch{Name: req.Name, AccessLevel: req.AccessLevel, CostSync: req.CostSync,
			IdentityAccess: req.IdentityAccess, IdentityPathPrefix: req.IdentityPathPrefix})
	if err != nil {
		return err
	}
	w.Header().Set("ETag", acct.ETag())
	return writeJSON(w, http.StatusOK, acct)
}

func (a *API) deleteAccount(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	tags, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := a.cfg.Accounts.Delete(r.Context(), p.TenantID, id, query(r)["confirm"], tags); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
