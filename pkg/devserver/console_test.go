package devserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gangplank/gangplank/pkg/webconsole"
)

// TestConsoleHandler: make local serves the console as CloudFront does (the same headers, but no HSTS over plain
// http), its config.json naming the local sign-in on the console's own origin, and the API on that origin.
func TestConsoleHandler(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html><title>Gangplank</title>"), 0o644); err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("api " + r.URL.Path)) })
	const origin = "http://127.0.0.1:8081"
	h := consoleHandler(dir, origin, key, api)

	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w
	}
	tests := []struct{ path, body string }{
		{"/", "<title>Gangplank</title>"},
		{"/accounts/123456789012", "<title>Gangplank</title>"},
		{"/v1/accounts", "api /v1/accounts"},
		{"/healthz", "api /healthz"},
	}
	for _, tc := range tests {
		w := get(tc.path)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), tc.body) {
			t.Errorf("GET %s: %d %q", tc.path, w.Code, w.Body.String())
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: CSP %q", tc.path, csp)
		}
		if w.Header().Get("Strict-Transport-Security") != "" {
			t.Errorf("GET %s: HSTS over plain http", tc.path)
		}
	}

	w := get("/" + webconsole.ConfigFile)
	var cfg webconsole.Config
	if err := json.Unmarshal(w.Body.Bytes(), &cfg); err != nil {
		t.Fatalf("config.json: %v %s", err, w.Body.String())
	}
	if cfg.APIBase != "" || cfg.Auth.ClientID != LocalClientID || cfg.Auth.AuthorizationEndpoint != origin+"/local/oauth2/authorize" ||
		cfg.Auth.TokenEndpoint != origin+"/local/oauth2/token" || cfg.Auth.TokenUse != "id" {
		t.Errorf("config.json: %+v", cfg)
	}
	if w.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("config.json may be cached: %q", w.Header().Get("Cache-Control"))
	}
}
