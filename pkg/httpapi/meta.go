package httpapi

import (
	_ "embed"
	"net/http"

	"github.com/gangplank/gangplank/pkg/auth"
)

// OpenAPIYAML is the API's contract. Tests validate every response the suite sees against it.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

// openAPIJSON is the document as JSON, served at /v1/openapi.json: converted from openapi.yaml by
// `go generate ./pkg/httpapi` (internal/openapijson) rather than at run time, so the API links no YAML parser (its
// package init was half a millisecond of every cold start). TestOpenAPIJSONIsTheDocument fails when it is stale.
//
//go:generate go run ./internal/openapijson openapi.yaml openapi.json
//go:embed openapi.json
var openAPIJSON []byte

func (a *API) metaRoutes() []route {
	return []route{
		{method: http.MethodGet, pattern: "/healthz", public: true, handle: a.health},
		{method: http.MethodGet, pattern: "/v1/openapi.json", public: true, handle: a.openAPI},
	}
}

func (a *API) health(w http.ResponseWriter, _ *http.Request, _ auth.Principal) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *API) openAPI(w http.ResponseWriter, _ *http.Request, _ auth.Principal) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err := w.Write(openAPIJSON)
	return err
}
