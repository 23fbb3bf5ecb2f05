package httpapi

import (
	"net/http"

	"github.com/gangplank/gangplank/pkg/auth"
)

func (a *API) connectionRoutes() []route {
	return []route{
		{method: http.MethodPost, pattern: "/v1/accounts/{accountId}/disconnect", write: true, handle: a.disconnectAccount},
	}
}

func (a *API) disconnectAccount(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	acct, err := a.cfg.Accounts.Disconnect(r.Context(), p.TenantID, id)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", acct.ETag())
	return writeJSON(w, http.StatusOK, acct)
}
