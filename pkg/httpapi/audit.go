package httpapi

import (
	"net/http"

	"github.com/gangplank/gangplank/pkg/auth"
)

// Audit pages hold up to maxAuditPage entries.
const (
	defaultAuditPage = 50
	maxAuditPage     = 100
)

func (a *API) auditRoutes() []route {
	return []route{{method: http.MethodGet, pattern: "/v1/audit", query: []string{"limit", "cursor"}, handle: a.listAudit}}
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	params := query(r)
	limit, err := parseLimit(params, defaultAuditPage, maxAuditPage)
	if err != nil {
		return err
	}
	page, err := a.cfg.Audit.List(r.Context(), p.TenantID, limit, params["cursor"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}
