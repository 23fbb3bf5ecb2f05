package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/costsync"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/cursor"
	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/inventory"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/requestid"
	"github.com/gangplank/gangplank/pkg/tenants"
	"github.com/gangplank/gangplank/pkg/validation"
)

// ProblemBase prefixes every problem type URI; docs/errors.md describes each type.
const ProblemBase = "https://gangplank.dev/problems/"

// Problem is an RFC 9457 problem detail. Extension members specific to one problem type go in Extra.
type Problem struct {
	Type      string                  `json:"type"`
	Title     string                  `json:"title"`
	Status    int                     `json:"status"`
	Detail    string                  `json:"detail,omitempty"`
	Instance  string                  `json:"instance,omitempty"`
	RequestID string                  `json:"requestId,omitempty"`
	Errors    []validation.FieldError `json:"errors,omitempty"`
	Extra     map[string]any          `json:"-"`
}

// MarshalJSON writes the standard members and the extensions side by side, as RFC 9457 wants.
func (p Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	base, err := json.Marshal(plain(p))
	if err != nil || len(p.Extra) == 0 {
		return base, err
	}
	var merged map[string]any
	if err := json.Unmarshal(base, &merged); err != nil {
		return nil, err
	}
	for k, v := range p.Extra {
		if _, taken := merged[k]; !taken {
			merged[k] = v
		}
	}
	return json.Marshal(merged)
}

func problem(status int, slug, title, detail string) Problem {
	return Problem{Type: ProblemBase + slug, Title: title, Status: status, Detail: detail}
}

// requestError is a request the API could not read: malformed JSON, an unknown field or query parameter, a value
// of the wrong type. It answers 400, where field validation of a well-formed request answers 422.
type requestError struct {
	detail string
	fields []validation.FieldError
}

func (e *requestError) Error() string { return e.detail }

func badRequest(detail string, fields ...validation.FieldError) error {
	return &requestError{detail: detail, fields: fields}
}

// statusError is an HTTP-level refusal with a fixed status (413, 415, 404, 405).
type statusError struct {
	p     Problem
	allow string
}

func (e *statusError) Error() string { return e.p.Detail }

// problemFor maps an error to the problem the client sees. This is the only place domain errors meet HTTP.
func problemFor(err error) Problem {
	var (
		ve      *validation.Error
		re      *requestError
		se      *statusError
		linked  *accounts.LinkedAccountsError
		roleErr *onboarding.RoleError
		limited *costsync.RateLimitedError
		denied  *costsync.AccessDeniedError
		invRate *inventory.RateLimitedError
		taken   *accounts.IntegrationNameTakenError
	)
	if p, ok := identityProblem(err); ok {
		return p
	}
	switch {
	case errors.As(err, &se):
		return se.p
	case errors.As(err, &re):
		p := problem(http.StatusBadRequest, "malformed-request", "The request could not be read", re.detail)
		p.Errors = re.fields
		return p
	case errors.As(err, &ve):
		p := problem(http.StatusUnprocessableEntity, "validation-failed", "Some fields are not valid",
			"Correct the fields listed in errors and send the request again.")
		p.Errors = ve.Fields
		return p
	case errors.Is(err, cursor.ErrInvalid):
		p := problem(http.StatusBadRequest, "invalid-cursor", "The cursor is not valid", err.Error())
		p.Errors = []validation.FieldError{{Field: "cursor", Message: err.Error()}}
		return p
	case errors.Is(err, auth.ErrUnauthenticated):
		return problem(http.StatusUnauthorized, "unauthenticated", "Authentication required", err.Error())
	case errors.Is(err, auth.ErrForbidden):
		return problem(http.StatusForbidden, "forbidden", "Not allowed", err.Error())
	case errors.Is(err, accounts.ErrNotFound):
		return problem(http.StatusNotFound, "not-found", "Account not found", err.Error())
	case errors.As(err, &linked):
		p := problem(http.StatusConflict, "has-linked-accounts", "The management account still has linked accounts", err.Error())
		p.Extra = map[string]any{"linkedAccounts": linked.Linked, "linkedAccountCount": linked.Total}
		return p
	case errors.Is(err, accounts.ErrHasIdentityIntegration):
		return problem(http.StatusConflict, "has-identity-integration", "The account still has an IAM integration", err.Error())
	case errors.Is(err, accounts.ErrAlreadyLinked), errors.Is(err, accounts.ErrClaimedElsewhere):
		return problem(http.StatusConflict, "account-taken", "The AWS account is already linked", err.Error())
	case errors.As(err, &taken):
		p := problem(http.StatusConflict, "integration-name-taken", "The integration name is already used", err.Error())
		p.Errors = []validation.FieldError{{Field: taken.Field, Message: err.Error()}}
		return p
	case errors.Is(err, accounts.ErrNameTaken):
		p := problem(http.StatusConflict, "name-taken", "The name is already used", err.Error())
		p.Errors = []validation.FieldError{{Field: "name", Message: err.Error()}}
		return p
	case errors.Is(err, accounts.ErrVersionMismatch), errors.Is(err, tenants.ErrVersionMismatch):
		return problem(http.StatusPreconditionFailed, "precondition-failed", "The resource changed", err.Error())
	case errors.Is(err, accounts.ErrPreconditionRequired), errors.Is(err, tenants.ErrPreconditionRequired):
		return problem(http.StatusPreconditionRequired, "precondition-required", "If-Match is required", err.Error())
	case errors.As(err, &roleErr):
		p := problem(http.StatusUnprocessableEntity, "role-verification-failed", "The role could not be verified", roleErr.Reason)
		p.Errors = []validation.FieldError{{Field: "roleArn", Message: roleErr.Reason}}
		return p
	case errors.Is(err, onboarding.ErrUnreachable):
		return problem(http.StatusServiceUnavailable, "aws-unreachable", "AWS could not be reached", err.Error())
	case errors.Is(err, onboarding.ErrNotConnected):
		return problem(http.StatusConflict, "not-connected", "The account is not connected yet", err.Error())
	case errors.As(err, &limited):
		p := problem(http.StatusTooManyRequests, "sync-rate-limited", "A sync was requested moments ago", err.Error())
		p.Extra = map[string]any{"retryAfterSeconds": int(limited.RetryAfter.Seconds()) + 1}
		return p
	case errors.As(err, &invRate):
		p := problem(http.StatusTooManyRequests, "sync-rate-limited", "A sync was requested moments ago", err.Error())
		p.Extra = map[string]any{"retryAfterSeconds": int(invRate.RetryAfter.Seconds()) + 1}
		return p
	case errors.Is(err, inventory.ErrNotFound):
		return problem(http.StatusNotFound, "not-found", "Resource not found", err.Error())
	case errors.Is(err, inventory.ErrTagsUnavailable):
		return problem(http.StatusConflict, "tags-unavailable", "Tags are not read at this account's access level", err.Error())
	case errors.Is(err, inventory.ErrVersionMismatch):
		return problem(http.StatusPreconditionFailed, "precondition-failed", "The resource changed", err.Error())
	case errors.Is(err, inventory.ErrPreconditionRequired):
		return problem(http.StatusPreconditionRequired, "precondition-required", "If-Match is required", err.Error())
	case errors.Is(err, activation.ErrNotFound):
		return problem(http.StatusNotFound, "not-found", "Activation not found", err.Error())
	case errors.Is(err, activation.ErrNothingSelected):
		return problem(http.StatusUnprocessableEntity, "nothing-selected", "No account to activate", err.Error())
	case errors.Is(err, activation.ErrNotManagement):
		return problem(http.StatusUnprocessableEntity, "not-a-management-account", "Not a management account", err.Error())
	case errors.Is(err, activation.ErrRequestRaced):
		return problem(http.StatusConflict, "concurrent-request", "The same request is being started", err.Error()+"; retry it to get its activation")
	case errors.Is(err, activation.ErrNotConfigured):
		return problem(http.StatusServiceUnavailable, "not-configured", "Bulk activation is not configured", err.Error())
	case errors.Is(err, discovery.ErrNotManagement):
		return problem(http.StatusUnprocessableEntity, "not-a-management-account", "Not a management account", err.Error())
	case errors.Is(err, crossaccount.ErrNotConnected):
		return problem(http.StatusConflict, "not-connected", "The account is not connected yet", err.Error())
	case errors.Is(err, crossaccount.ErrAccessDenied):
		return problem(http.StatusConflict, "role-refused", "The account's role refused Gangplank", err.Error())
	case errors.Is(err, discovery.ErrNeverDiscovered):
		return problem(http.StatusNotFound, "never-discovered", "The organization has not been discovered yet", err.Error())
	case errors.Is(err, discovery.ErrJobNotFound):
		return problem(http.StatusNotFound, "not-found", "Discovery not found", err.Error())
	case errors.Is(err, discovery.ErrQueueNotWired):
		return problem(http.StatusServiceUnavailable, "not-configured", "Discovery is not configured", err.Error())
	case errors.Is(err, discovery.ErrConcurrentRun):
		return problem(http.StatusConflict, "concurrent-discovery", "Another discovery ran at the same time", err.Error())
	case errors.Is(err, costsync.ErrNotPayer), errors.Is(err, costsync.ErrNotManagement):
		return problem(http.StatusUnprocessableEntity, "not-a-payer", "Not a payer account", err.Error())
	case errors.Is(err, costsync.ErrSyncOff):
		return problem(http.StatusConflict, "cost-sync-off", "Cost sync is off for this account", err.Error())
	case errors.Is(err, costsync.ErrCommitmentChanged):
		return problem(http.StatusConflict, "commitment-changed", "The commitment changed concurrently", err.Error())
	case errors.Is(err, costsync.ErrNoCommitment):
		return problem(http.StatusNotFound, "no-commitment", "No commitment recorded", err.Error())
	case errors.As(err, &denied):
		return problem(http.StatusConflict, "permission-missing", "The role lacks a Cost Explorer permission", err.Error())
	case errors.Is(err, accounts.ErrConfirmationMismatch):
		p := problem(http.StatusUnprocessableEntity, "confirmation-required", "Confirm the deletion", err.Error())
		p.Errors = []validation.FieldError{{Field: "confirm", Message: "must be the account's exact name"}}
		return p
	}
	return problem(http.StatusInternalServerError, "internal", "Internal error",
		"Something went wrong on our side. It has been logged; quote the requestId if you contact support.")
}

// writeProblem answers with err as problem+json, logging server-side failures with their cause.
func writeProblem(ctx context.Context, w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(err)
	p.Instance = loggedPath(r)
	p.RequestID = requestid.From(ctx)
	switch {
	case p.Status >= 500 && errors.Is(err, context.Canceled):
		slog.WarnContext(ctx, "request cancelled", "error", err.Error())
	case p.Status >= 500:
		slog.ErrorContext(ctx, "request failed", "error", err.Error())
	}
	var se *statusError
	if errors.As(err, &se) && se.allow != "" {
		w.Header().Set("Allow", se.allow)
	}
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "60")
	}
	if v, ok := p.Extra["retryAfterSeconds"].(int); ok {
		w.Header().Set("Retry-After", strconv.Itoa(v))
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gangplank"`)
	}
	body, mErr := json.Marshal(p)
	if mErr != nil {
		body = []byte(`{"type":"` + ProblemBase + `internal","title":"Internal error","status":500}`)
		p.Status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
}
