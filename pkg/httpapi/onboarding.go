package httpapi

import (
	"net/http"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/validation"
)

func (a *API) onboardingRoutes() []route {
	return []route{
		// Showing the instructions issues a new single-use link (only its hash is kept, so the old one cannot be
		// shown again), which invalidates the previous link: admins only.
		{method: http.MethodGet, pattern: "/v1/accounts/{accountId}/onboarding", write: true, handle: a.getOnboarding},
		{method: http.MethodPost, pattern: "/v1/accounts/{accountId}/connect", write: true, handle: a.connectAccount},
		{method: http.MethodPost, pattern: "/v1/accounts/{accountId}/verify", write: true, handle: a.verifyAccount},
		{method: http.MethodPost, pattern: "/v1/tenant/external-id/rotate", write: true, handle: a.rotateExternalID},
	}
}

// accountWithOnboarding is POST /v1/accounts's answer: the account, plus how to connect it.
type accountWithOnboarding struct {
	accounts.Account
	Onboarding onboarding.Instructions `json:"onboarding"`
}

func (a *API) getOnboarding(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	ins, err := a.cfg.Onboarding.IssueLink(r.Context(), p.TenantID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ins)
}

// ConnectRequest is the body of POST /v1/accounts/{accountId}/connect.
type ConnectRequest struct {
	RoleARN string `json:"roleArn"`
}

func (a *API) connectAccount(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	var req ConnectRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if _, err := awsid.ParseRoleARN(req.RoleARN); err != nil {
		return validation.Field("roleArn", "%s", err)
	}
	acct, err := a.cfg.Onboarding.Connect(r.Context(), p.TenantID, id, req.RoleARN)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", acct.ETag())
	return writeJSON(w, http.StatusOK, acct)
}

func (a *API) verifyAccount(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	acct, err := a.cfg.Onboarding.Verify(r.Context(), p.TenantID, id)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", acct.ETag())
	return writeJSON(w, http.StatusOK, acct)
}

func (a *API) rotateExternalID(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	tags, err := ifMatch(r)
	if err != nil {
		return err
	}
	t, err := a.cfg.Tenants.RotateExternalID(r.Context(), p.TenantID, tags)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", t.ETag())
	return writeJSON(w, http.StatusOK, t)
}
