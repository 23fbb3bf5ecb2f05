package httpapi

import (
	"net/http"

	"github.com/gangplank/gangplank/pkg/auth"
)

func (a *API) terraformRoutes() []route {
	return []route{
		// Read-only: it issues no activation link, so viewers may read it.
		{method: http.MethodGet, pattern: "/v1/accounts/{accountId}/terraform", handle: a.getTerraform},
	}
}

func (a *API) getTerraform(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	v, err := a.cfg.Onboarding.ViewAsCode(r.Context(), p.TenantID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}
