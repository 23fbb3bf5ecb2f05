package testkit

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/gangplank/gangplank/pkg/httpapi/spec"
)

// The contract check: every response a test sees must match the OpenAPI document (status documented, headers and
// body valid), and every request the API accepted (2xx) must be valid by the document too, so the document is
// neither looser nor stricter than the code.

var (
	contractOnce   sync.Once
	contractRouter routers.Router
	contractDoc    *openapi3.T
	contractErr    error

	seenMu sync.Mutex
	seen   = map[string]bool{} // "METHOD /path/template status"
)

func loadContract() {
	contractDoc, contractErr = spec.Load()
	if contractErr != nil {
		return
	}
	if contractErr = contractDoc.Validate(context.Background()); contractErr != nil {
		return
	}
	// Match on paths alone, whatever host the test request names.
	contractDoc.Servers = nil
	contractRouter, contractErr = gorillamux.NewRouter(contractDoc)
}

func checkContract(t testing.TB, method, target string, header http.Header, body []byte, resp *Response) {
	t.Helper()
	contractOnce.Do(loadContract)
	if contractErr != nil {
		t.Fatalf("OpenAPI document: %v", contractErr)
	}
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	req.Header = header.Clone()
	route, params, err := contractRouter.FindRoute(req)
	if err != nil {
		// Unrouted requests (404/405) are answered before any documented operation; they must still be problems.
		if resp.Status != http.StatusNotFound && resp.Status != http.StatusMethodNotAllowed {
			t.Errorf("contract: %s %s is not in the OpenAPI document but answered %d", method, target, resp.Status)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("contract: unrouted %s %s answered with Content-Type %q, want application/problem+json", method, target, ct)
		}
		return
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if resp.Status >= 200 && resp.Status < 300 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Errorf("contract: the API accepted %s %s (%d) but the OpenAPI document rejects the request: %v",
				method, target, resp.Status, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.Status,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(resp.Body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("contract: %s %s answered %d with a response the OpenAPI document does not allow: %s\nbody: %s",
			method, target, resp.Status, firstLine(err.Error()), clip(resp.Body, 1500))
	}
	seenMu.Lock()
	seen[fmt.Sprintf("%s %s", method, route.Path)] = true
	seenMu.Unlock()
}

// RequireFullCoverage makes the test binary fail unless every operation in the OpenAPI document was exercised by
// at least one request. Call it from the TestMain of the package that tests the whole API.
func RequireFullCoverage() {
	afterRunChecks = append(afterRunChecks, func() error {
		if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
			return nil // A filtered run exercises part of the API by design.
		}
		contractOnce.Do(loadContract)
		if contractErr != nil {
			return contractErr
		}
		var missing []string
		for path, item := range contractDoc.Paths.Map() {
			for method := range item.Operations() {
				if !seen[method+" "+path] {
					missing = append(missing, method+" "+path)
				}
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return fmt.Errorf("OpenAPI operations no test exercised: %s", strings.Join(missing, ", "))
		}
		return nil
	})
}

// firstLine keeps the reason of a validation error and drops the schema dump that follows it.
func firstLine(s string) string {
	if i := strings.Index(s, "\n"); i >= 0 {
		return s[:i]
	}
	return s
}

func clip(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
