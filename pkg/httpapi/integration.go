package httpapi

import (
	"net/http"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/auth"
)

func (a *API) integrationRoutes() []route {
	return []route{
		{method: http.MethodPut, pattern: "/v1/accounts/{accountId}/integration", write: true, handle: a.putIntegration},
	}
}

// IntegrationRequest is the body of PUT /v1/accounts/{accountId}/integration (and the integration member of
// POST /v1/accounts): the whole set of integration settings. Absent optional members are unset; the settings are
// replaced as a whole, as declarative clients (Terraform) state them.
type IntegrationRequest struct {
	IntegrationName        string   `json:"integrationName"`
	Owners                 []string `json:"owners"`
	CustomAccessDetails    string   `json:"customAccessDetails"`
	CredentialRotationDays *int     `json:"credentialRotationDays"`
	UserCleanupDays        *int     `json:"userCleanupDays"`
	ResourceTypes          []string `json:"resourceTypes"`
	Regions                []string `json:"regions"`
	SSORegion              string   `json:"ssoRegion"`
}

func (r IntegrationRequest) input() accounts.IntegrationInput {
	return accounts.IntegrationInput{Name: r.IntegrationName, Owners: r.Owners, CustomAccessDetails: r.CustomAccessDetails,
		CredentialRotationDays: r.CredentialRotationDays, UserCleanupDays: r.UserCleanupDays,
		ResourceTypes: r.ResourceTypes, Regions: r.Regions, SSORegion: r.SSORegion}
}

func (a *API) putIntegration(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	tags, err := ifMatch(r)
	if err != nil {
		return err
	}
	var req IntegrationRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	acct, err := a.cfg.Accounts.SetIntegration(r.Context(), p.TenantID, id, tags, req.input())
	if err != nil {
		return err
	}
	w.Header().Set("ETag", acct.ETag())
	return writeJSON(w, http.StatusOK, acct)
}
