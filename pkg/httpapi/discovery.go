package httpapi

import (
	"net/http"

	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/discovery"
)

func (a *API) discoveryRoutes() []route {
	return []route{
		{method: http.MethodPost, pattern: "/v1/accounts/{accountId}/discovery", write: true, handle: a.discover},
		{method: http.MethodPut, pattern: "/v1/accounts/{accountId}/discovery/settings", write: true, handle: a.putDiscoverySettings},
		{method: http.MethodGet, pattern: "/v1/accounts/{accountId}/organization", handle: a.organization},
		{method: http.MethodGet, pattern: "/v1/discoveries/{discoveryId}", handle: a.getDiscovery},
	}
}

// discover starts a discovery job (or finds the account's running one) and answers at once.
func (a *API) discover(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	job, err := a.cfg.Discovery.Start(r.Context(), p.TenantID, id, discovery.TriggerAPI)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/discoveries/"+job.ID)
	return writeJSON(w, http.StatusAccepted, job)
}

func (a *API) getDiscovery(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if _, err := queryParams(r); err != nil {
		return err
	}
	job, err := a.cfg.Discovery.Job(r.Context(), p.TenantID, r.PathValue("discoveryId"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, job)
}

func (a *API) putDiscoverySettings(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	var req discovery.Settings
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	acct, err := a.cfg.Discovery.UpdateSettings(r.Context(), p.TenantID, id, req)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", acct.ETag())
	return writeJSON(w, http.StatusOK, acct)
}

func (a *API) organization(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	v, err := a.cfg.Discovery.Organization(r.Context(), p.TenantID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}
