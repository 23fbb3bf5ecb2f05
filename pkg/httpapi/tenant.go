package httpapi

import (
	"net/http"

	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/tenants"
)

func (a *API) tenantRoutes() []route {
	return []route{
		{method: http.MethodGet, pattern: "/v1/tenant", handle: a.getTenant},
		{method: http.MethodPatch, pattern: "/v1/tenant", write: true, handle: a.patchTenant},
	}
}

func (a *API) getTenant(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	t, err := a.cfg.Tenants.Get(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", t.ETag())
	return writeJSON(w, http.StatusOK, t)
}

type patchTenantRequest struct {
	Settings *struct {
		DefaultRegion       *string `json:"defaultRegion"`
		CostSyncDefault     *bool   `json:"costSyncDefault"`
		ExternalIDGraceDays *int    `json:"externalIdGraceDays"`
		// Recommendations replaces the whole recommendation settings.
		Recommendations *tenants.RecommendationSettings `json:"recommendations"`
		// Inventory replaces the inventory's schedule.
		Inventory *tenants.InventorySettings `json:"inventory"`
		// CredentialRotationDays rotates the External ID on a schedule (0: off).
		CredentialRotationDays *int `json:"credentialRotationDays"`
		// ActivationStacksInFlight is bulk activation's stacks in flight for the tenant's requests.
		ActivationStacksInFlight *int `json:"activationStacksInFlight"`
	} `json:"settings"`
}

func (a *API) patchTenant(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	tags, err := ifMatch(r)
	if err != nil {
		return err
	}
	var req patchTenantRequest
	if err := decodeJSON(w, r, &req, "application/merge-patch+json"); err != nil {
		return err
	}
	var patch tenants.SettingsPatch
	if req.Settings != nil {
		patch = tenants.SettingsPatch{DefaultRegion: req.Settings.DefaultRegion, CostSyncDefault: req.Settings.CostSyncDefault,
			ExternalIDGraceDays: req.Settings.ExternalIDGraceDays, Recommendations: req.Settings.Recommendations,
			Inventory: req.Settings.Inventory, CredentialRotationDays: req.Settings.CredentialRotationDays,
			ActivationStacksInFlight: req.Settings.ActivationStacksInFlight}
	}
	t, err := a.cfg.Tenants.UpdateSettings(r.Context(), p.TenantID, tags, patch)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", t.ETag())
	return writeJSON(w, http.StatusOK, t)
}
