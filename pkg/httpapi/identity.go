package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/identity"
	"github.com/gangplank/gangplank/pkg/validation"
)

// The IAM integration's routes. In the cloud the identity-api function serves them (the OpenAPI document marks
// them x-gangplank-function: identity-api), so that only it, and not the main API, may read stored keys.
func (a *API) identityRoutes() []route {
	return []route{
		{method: http.MethodGet, pattern: "/v1/accounts/{accountId}/iam", handle: a.getIdentity},
		{method: http.MethodDelete, pattern: "/v1/accounts/{accountId}/iam", write: true, handle: a.removeIdentity},
		{method: http.MethodPut, pattern: "/v1/accounts/{accountId}/iam/key", write: true, handle: a.setIdentityKey},
		{method: http.MethodPost, pattern: "/v1/accounts/{accountId}/iam/key/rotate", write: true, handle: a.rotateIdentityKey},
		{method: http.MethodPost, pattern: "/v1/accounts/{accountId}/iam/verify", write: true, handle: a.verifyIdentity},
		{method: http.MethodPost, pattern: "/v1/accounts/{accountId}/iam/sync", write: true, handle: a.syncIdentity},
		{method: http.MethodGet, pattern: "/v1/accounts/{accountId}/iam/users", query: []string{"limit", "cursor"}, handle: a.listIAMUsers},
		{method: http.MethodPost, pattern: "/v1/accounts/{accountId}/iam/users", write: true, handle: a.onboardIAMUser},
		{method: http.MethodGet, pattern: "/v1/accounts/{accountId}/iam/users/{userName}", handle: a.getIAMUser},
		{method: http.MethodDelete, pattern: "/v1/accounts/{accountId}/iam/users/{userName}", write: true, handle: a.offboardIAMUser},
		{method: http.MethodGet, pattern: "/v1/accounts/{accountId}/iam/users/{userName}/offboarding", handle: a.getOffboarding},
		{method: http.MethodPut, pattern: "/v1/accounts/{accountId}/iam/users/{userName}/person", write: true, handle: a.linkPerson},
		{method: http.MethodDelete, pattern: "/v1/accounts/{accountId}/iam/users/{userName}/person", write: true, handle: a.unlinkPerson},
		{method: http.MethodGet, pattern: "/v1/accounts/{accountId}/iam/groups", handle: a.listIAMGroups},
		{method: http.MethodPost, pattern: "/v1/accounts/{accountId}/iam/invitations", write: true, handle: a.inviteIAMUser},
		{method: http.MethodGet, pattern: "/v1/iam-invitations/{token}", public: true, handle: a.openInvitation},
		{method: http.MethodPost, pattern: "/v1/iam-invitations/{token}", public: true, handle: a.acceptInvitation},
		{method: http.MethodGet, pattern: "/v1/people/{email}/iam-users", handle: a.personIAMUsers},
	}
}

func (a *API) getIdentity(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	v, err := a.cfg.Identity.Get(r.Context(), p.TenantID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (a *API) removeIdentity(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	if err := a.cfg.Identity.Remove(r.Context(), p.TenantID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// SetKeyRequest is the body of PUT /v1/accounts/{accountId}/iam/key.
type SetKeyRequest struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

func (a *API) setIdentityKey(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	var req SetKeyRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	v, err := a.cfg.Identity.SetKey(r.Context(), p.TenantID, id, crossaccount.AccessKey{AccessKeyID: req.AccessKeyID, SecretAccessKey: req.SecretAccessKey})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (a *API) rotateIdentityKey(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	v, err := a.cfg.Identity.Rotate(r.Context(), p.TenantID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (a *API) verifyIdentity(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	v, err := a.cfg.Identity.Verify(identity.WithCaller(r.Context()), p.TenantID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (a *API) syncIdentity(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	v, err := a.cfg.Identity.RequestSync(r.Context(), p.TenantID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, v)
}

func (a *API) listIAMUsers(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	params := query(r)
	limit, err := parseLimit(params, 50, identity.MaxUsersPage)
	if err != nil {
		return err
	}
	page, err := a.cfg.Identity.Users(r.Context(), p.TenantID, id, limit, params["cursor"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

// OnboardRequest is the body of POST /v1/accounts/{accountId}/iam/users.
type OnboardRequest struct {
	UserName          string   `json:"userName"`
	Password          string   `json:"password"`
	Groups            []string `json:"groups"`
	ManagedPolicyARNs []string `json:"managedPolicyArns"`
}

func (a *API) onboardIAMUser(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	var req OnboardRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	out, err := a.cfg.Identity.Onboard(r.Context(), p.TenantID, id, identity.NewUser{UserName: req.UserName, Password: req.Password,
		Groups: req.Groups, ManagedPolicyARNs: req.ManagedPolicyARNs})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/accounts/"+id+"/iam/users/"+out.User.UserName)
	return writeJSON(w, http.StatusCreated, out)
}

func (a *API) getIAMUser(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	u, err := a.cfg.Identity.User(r.Context(), p.TenantID, id, r.PathValue("userName"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

func (a *API) offboardIAMUser(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	rec, err := a.cfg.Identity.Offboard(r.Context(), p.TenantID, id, r.PathValue("userName"))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if rec.Status != identity.OffboardingDeleted {
		status = http.StatusAccepted // access removed; the user itself is deleted later
	}
	return writeJSON(w, status, rec)
}

func (a *API) getOffboarding(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	rec, err := a.cfg.Identity.OffboardingOf(r.Context(), p.TenantID, id, r.PathValue("userName"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rec)
}

// PersonRequest is the body of PUT /v1/accounts/{accountId}/iam/users/{userName}/person.
type PersonRequest struct {
	Email string `json:"email"`
}

func (a *API) linkPerson(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	var req PersonRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	l, err := a.cfg.Identity.LinkPerson(r.Context(), p.TenantID, id, r.PathValue("userName"), req.Email)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, l)
}

func (a *API) unlinkPerson(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	if err := a.cfg.Identity.UnlinkPerson(r.Context(), p.TenantID, id, r.PathValue("userName")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listIAMGroups(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	groups, err := a.cfg.Identity.Groups(r.Context(), p.TenantID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": groups})
}

// InviteRequest is the body of POST /v1/accounts/{accountId}/iam/invitations.
type InviteRequest struct {
	Groups            []string `json:"groups"`
	ManagedPolicyARNs []string `json:"managedPolicyArns"`
	Email             string   `json:"email"`
	ValidHours        int      `json:"validHours"`
}

func (a *API) inviteIAMUser(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := accountParam(r)
	if err != nil {
		return err
	}
	var req InviteRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	inv, err := a.cfg.Identity.Invite(r.Context(), p.TenantID, id, identity.InviteInput{Groups: req.Groups, ManagedPolicyARNs: req.ManagedPolicyARNs,
		Email: req.Email, ValidHours: req.ValidHours})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, inv)
}

func (a *API) openInvitation(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	v, err := a.cfg.Identity.OpenInvitation(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// AcceptInvitationRequest is the body of POST /v1/iam-invitations/{token}.
type AcceptInvitationRequest struct {
	UserName string `json:"userName"`
	Password string `json:"password"`
}

func (a *API) acceptInvitation(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	var req AcceptInvitationRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	out, err := a.cfg.Identity.AcceptInvitation(r.Context(), r.PathValue("token"), req.UserName, req.Password)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (a *API) personIAMUsers(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	users, err := a.cfg.Identity.PersonUsers(r.Context(), p.TenantID, r.PathValue("email"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": users})
}

// loggedPath is the request's path as logs and problems show it: a self-service link's token is a secret, so its
// path shows the route's placeholder instead.
func loggedPath(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/v1/iam-invitations/") {
		return "/v1/iam-invitations/{token}"
	}
	return r.URL.Path
}

// identityProblem maps the IAM integration's errors; ok is false for other errors.
func identityProblem(err error) (Problem, bool) {
	var (
		readOnly   *identity.ReadOnlyError
		outside    *identity.OutsidePrefixError
		busy       *identity.BusyError
		incomplete *identity.IncompleteError
		perm       *identity.PermissionError
		limited    *identity.RateLimitedError
		invitation *identity.InvitationError
		keyErr     *crossaccount.KeyError
		keyMissing *crossaccount.KeyMissingError
	)
	switch {
	case errors.Is(err, identity.ErrNotFound):
		return problem(http.StatusNotFound, "no-identity-integration", "The account has no IAM integration", err.Error()), true
	case errors.Is(err, identity.ErrUserNotFound):
		return problem(http.StatusNotFound, "iam-user-not-found", "IAM user not found", err.Error()), true
	case errors.Is(err, identity.ErrPersonNotFound):
		return problem(http.StatusNotFound, "not-found", "Person not found", err.Error()), true
	case errors.Is(err, identity.ErrNoPerson):
		return problem(http.StatusNotFound, "no-person-link", "The user is linked to no person", err.Error()), true
	case errors.As(err, &readOnly):
		return problem(http.StatusConflict, "identity-read-only", "The IAM integration may only read", readOnly.Reason), true
	case errors.As(err, &outside):
		p := problem(http.StatusForbidden, "outside-path-prefix", "The user is outside the integration's path prefix", outside.Error())
		p.Extra = map[string]any{"pathPrefix": outside.Prefix, "userPath": outside.Path}
		return p, true
	case errors.Is(err, identity.ErrUserExists):
		p := problem(http.StatusConflict, "iam-user-exists", "The IAM user already exists", err.Error())
		p.Errors = []validation.FieldError{{Field: "userName", Message: err.Error()}}
		return p, true
	case errors.Is(err, identity.ErrRemoving):
		return problem(http.StatusConflict, "identity-integration-removing", "The IAM integration is being removed", err.Error()), true
	case errors.Is(err, identity.ErrNoKey):
		return problem(http.StatusConflict, "no-key", "The IAM integration has no key", err.Error()), true
	case errors.As(err, &busy):
		return problem(http.StatusConflict, "in-progress", "Another request is at work on this user", busy.Error()), true
	case errors.As(err, &incomplete):
		p := problem(http.StatusBadGateway, "incomplete", "AWS refused or failed a step; what was done is kept", incomplete.Reason)
		switch {
		case incomplete.Offboarding != nil:
			p.Extra = map[string]any{"offboarding": incomplete.Offboarding}
		case incomplete.Onboarding != nil:
			p.Extra = map[string]any{"onboarding": incomplete.Onboarding}
		}
		return p, true
	case errors.As(err, &perm):
		p := problem(http.StatusConflict, "identity-permission-missing", "The account refused an IAM permission", perm.Reason)
		p.Extra = map[string]any{"action": perm.Action}
		return p, true
	case errors.As(err, &limited):
		p := problem(http.StatusTooManyRequests, "sync-rate-limited", "A sync was requested moments ago", err.Error())
		p.Extra = map[string]any{"retryAfterSeconds": int(limited.RetryAfter.Seconds()) + 1}
		return p, true
	case errors.As(err, &invitation) && invitation.Gone:
		return problem(http.StatusGone, "invitation-gone", "The link can no longer be used", invitation.Reason), true
	case errors.As(err, &invitation):
		return problem(http.StatusNotFound, "invitation-not-found", "No such link", invitation.Reason), true
	case errors.As(err, &keyErr):
		p := problem(http.StatusUnprocessableEntity, "key-refused", "The access key was refused", keyErr.Reason)
		p.Errors = []validation.FieldError{{Field: "accessKeyId", Message: keyErr.Reason}}
		return p, true
	case errors.As(err, &keyMissing):
		return problem(http.StatusConflict, "key-missing", "The stored key is gone", keyMissing.Error()), true
	}
	return Problem{}, false
}
