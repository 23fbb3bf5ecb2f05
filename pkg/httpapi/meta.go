package httpapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/gangplank/gangplank/pkg/auth"
)

// OpenAPIYAML is the API's contract. Tests validate every response the suite sees against it.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

// openAPIJSON is the document as JSON, converted on first request: YAML to JSON needs no OpenAPI library (the
// contract is parsed and checked by the tests, pkg/httpapi/spec).
var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(OpenAPIYAML, &doc); err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	v, err := plain(&doc)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
})

// plain turns a YAML node into JSON values. Mapping keys are taken as written (OpenAPI's status codes are keys
// like 200, which YAML would read as numbers); merge keys (<<: *anchor) bring in the anchored mapping's entries,
// under the ones written beside them.
func plain(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		return plain(n.Content[0])
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for _, merging := range []bool{true, false} {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if (n.Content[i].Value == "<<" && n.Content[i].Tag == "!!merge") != merging {
					continue
				}
				v, err := plain(n.Content[i+1])
				if err != nil {
					return nil, err
				}
				if !merging {
					m[n.Content[i].Value] = v
					continue
				}
				merged, ok := v.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("openapi.yaml line %d: a merge key must name a mapping", n.Content[i].Line)
				}
				for k, mv := range merged {
					m[k] = mv
				}
			}
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := plain(c)
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return l, nil
	case yaml.AliasNode:
		return plain(n.Alias)
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, fmt.Errorf("openapi.yaml line %d: %w", n.Line, err)
	}
	return v, nil
}

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
	body, err := openAPIJSON()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err = w.Write(body)
	return err
}
