// Package httpapi is Gangplank's HTTP API: one net/http handler that the API Lambda serves through API Gateway and
// the local server serves on 127.0.0.1:8080. Errors are RFC 9457 problem+json documents, mapped from domain errors
// in problem.go and nowhere else.
package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/costsync"
	"github.com/gangplank/gangplank/pkg/cursor"
	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/identity"
	"github.com/gangplank/gangplank/pkg/inventory"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/requestid"
	"github.com/gangplank/gangplank/pkg/tenants"
)

// AuditLog reads a tenant's audit trail.
type AuditLog interface {
	List(ctx context.Context, tenantID string, limit int, cursor string) (audit.Page, error)
}

// Config holds the API's dependencies, built once per cold start.
type Config struct {
	Accounts   *accounts.Service
	Tenants    *tenants.Service
	Audit      AuditLog
	Onboarding *onboarding.Service
	CostSync   *costsync.Service
	Discovery  *discovery.Service
	Activation *activation.Service
	Inventory  *inventory.Service
	// Identity is the IAM integration (nil: its routes are served by another function, identity-api).
	Identity *identity.Service
	// Cursors signs the offsets of listings that are not DynamoDB pages.
	Cursors       *cursor.Signer
	Authenticator auth.Authenticator
}

// API is the HTTP handler.
type API struct {
	cfg    Config
	mux    *http.ServeMux
	routes []route
}

// handlerFunc serves one route for an authenticated principal (the zero Principal on public routes).
type handlerFunc func(w http.ResponseWriter, r *http.Request, p auth.Principal) error

type route struct {
	method, pattern string
	// public routes need no token; write routes need the admin role.
	public, write bool
	// query names the query parameters the route reads; any other is refused (see queryParams).
	query  []string
	handle handlerFunc
}

// New builds the API.
func New(cfg Config) *API {
	a := &API{cfg: cfg, mux: http.NewServeMux()}
	a.routes = slices.Concat(a.metaRoutes(), a.tenantRoutes(), a.accountRoutes(), a.onboardingRoutes(), a.auditRoutes(), a.costRoutes(), a.discoveryRoutes(), a.activationRoutes(), a.integrationRoutes(), a.connectionRoutes(), a.terraformRoutes(), a.inventoryRoutes())
	if cfg.Identity != nil {
		a.routes = append(a.routes, a.identityRoutes()...)
	}
	a.handleRoutes()
	return a
}

// NewIdentity builds the API of the identity-api function: the IAM integration's routes only (and the meta
// routes), over cfg.Identity, cfg.Tenants (a tenant's first request creates it), cfg.Cursors and cfg.Authenticator.
func NewIdentity(cfg Config) *API {
	a := &API{cfg: cfg, mux: http.NewServeMux()}
	a.routes = slices.Concat(a.metaRoutes(), a.identityRoutes())
	a.handleRoutes()
	return a
}

func (a *API) handleRoutes() {
	for _, rt := range a.routes {
		a.mux.Handle(rt.method+" "+rt.pattern, a.serve(rt))
	}
}

// Routes lists "METHOD pattern" for every route, for the test that keeps the OpenAPI document complete.
func (a *API) Routes() []string {
	out := make([]string, len(a.routes))
	for i, rt := range a.routes {
		out[i] = rt.method + " " + rt.pattern
	}
	return out
}

// ServeHTTP gives each request an id and a logger, routes it, and logs one line when it is done.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := gatewayRequestID(r)
	ctx := audit.WithActor(requestid.With(r.Context(), id), audit.Actor{Type: audit.User, ID: "anonymous"})
	r = r.WithContext(ctx)
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	h := rec.Header()
	h.Set("X-Request-Id", id)
	h.Set("X-Content-Type-Options", "nosniff")

	defer func() {
		if v := recover(); v != nil {
			slog.ErrorContext(ctx, "panic serving request", "panic", v)
			if !rec.wroteHeader {
				writeProblem(ctx, rec, r, errPanic)
			}
		}
		slog.InfoContext(ctx, "request", "method", r.Method, "path", loggedPath(r), "status", rec.status,
			"durationMs", time.Since(start).Milliseconds())
	}()

	if _, pattern := a.mux.Handler(r); pattern == "" {
		writeProblem(ctx, rec, r, a.unrouted(r))
		return
	}
	// ServeMux.ServeHTTP, unlike Handler, also fills in the request's path values.
	a.mux.ServeHTTP(rec, r)
}

var errPanic = &statusError{p: problem(http.StatusInternalServerError, "internal", "Internal error",
	"Something went wrong on our side. It has been logged; quote the requestId if you contact support.")}

// unrouted explains a request that matches no route: 405 with Allow when the path exists under other methods,
// 404 otherwise.
func (a *API) unrouted(r *http.Request) error {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := a.mux.Handler(probe); p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		return &statusError{allow: strings.Join(allow, ", "), p: problem(http.StatusMethodNotAllowed, "method-not-allowed",
			"Method not allowed", r.Method+" is not supported here; use "+strings.Join(allow, " or "))}
	}
	return &statusError{p: problem(http.StatusNotFound, "no-such-endpoint", "No such endpoint",
		"no endpoint answers "+r.URL.Path+"; see /v1/openapi.json for the API")}
}

// serve authenticates (unless the route is public), enforces the role, reads the query string, makes sure the
// tenant exists, and maps the handler's error to a problem. Public routes (health, the document) ignore queries, as
// load balancers and caches like to add their own.
func (a *API) serve(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var p auth.Principal
		if !rt.public {
			var err error
			if p, err = a.cfg.Authenticator.Authenticate(r); err != nil {
				writeProblem(ctx, w, r, err)
				return
			}
			ctx = audit.WithActor(auth.WithPrincipal(ctx, p), audit.Actor{Type: audit.User, ID: p.Subject, Role: string(p.Role)})
			r = r.WithContext(ctx)
			if rt.write && !p.CanWrite() {
				writeProblem(ctx, w, r, errViewerWrite)
				return
			}
			params, err := queryParams(r, rt.query...)
			if err != nil {
				writeProblem(ctx, w, r, err)
				return
			}
			r = withQuery(r, params)
			if err := a.cfg.Tenants.Ensure(ctx, p.TenantID); err != nil {
				writeProblem(ctx, w, r, err)
				return
			}
		}
		if err := rt.handle(w, r, p); err != nil {
			writeProblem(ctx, w, r, err)
		}
	})
}

var errViewerWrite = &statusError{p: problem(http.StatusForbidden, "forbidden", "Not allowed",
	"your role is viewer, which can read but not change anything; ask an admin of your tenant")}

// gatewayRequestID uses API Gateway's request id when the request came through it, so the id in logs, audit and
// error bodies is the one in API Gateway's access logs.
func gatewayRequestID(r *http.Request) string {
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && rc.RequestID != "" {
		return rc.RequestID
	}
	return requestid.New()
}

type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wroteHeader = true
	return s.ResponseWriter.Write(b)
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err = w.Write(body)
	return err
}
