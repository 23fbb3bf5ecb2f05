package webconsole_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gangplank/gangplank/pkg/webconsole"
)

func built(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"index.html":          "<!doctype html><title>Gangplank</title>",
		"assets/index-abc.js": "console.log(1)",
		"favicon.svg":         "<svg/>",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A file beside the build that must never be served.
	if err := os.WriteFile(filepath.Join(filepath.Dir(dir), "secret.txt"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestHandler: hashed assets are cached for a year, everything else revalidated; paths that name no file get the
// app (it routes in the browser), never a file outside the build; only GET and HEAD; every answer has the headers.
func TestHandler(t *testing.T) {
	h := webconsole.Handler(built(t), webconsole.Headers())
	tests := []struct {
		method, path string
		status       int
		body, cache  string
	}{
		{"GET", "/", 200, "<title>Gangplank</title>", "no-cache"},
		{"GET", "/accounts/123456789012/organization", 200, "<title>Gangplank</title>", "no-cache"},
		{"GET", "/assets/index-abc.js", 200, "console.log(1)", "public, max-age=31536000, immutable"},
		{"GET", "/favicon.svg", 200, "<svg/>", "no-cache"},
		// Dot segments are refused outright (net/http's ServeFile), never resolved outside the build.
		{"GET", "/../secret.txt", 400, "invalid URL path", ""},
		{"GET", "/assets/../../secret.txt", 400, "invalid URL path", ""},
		{"HEAD", "/", 200, "", "no-cache"},
		{"POST", "/", 405, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/", nil)
			r.URL.Path = tc.path
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.body) || w.Header().Get("Cache-Control") != tc.cache {
				t.Errorf("%d %q cache %q", w.Code, w.Body.String(), w.Header().Get("Cache-Control"))
			}
			if strings.Contains(w.Body.String(), "secret") {
				t.Error("served a file outside the build")
			}
			for _, k := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Strict-Transport-Security"} {
				if w.Header().Get(k) == "" {
					t.Errorf("no %s", k)
				}
			}
		})
	}
}

// TestNotBuilt: without a build the console says how to build it.
func TestNotBuilt(t *testing.T) {
	w := httptest.NewRecorder()
	webconsole.Handler(t.TempDir(), webconsole.Headers()).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "make console") {
		t.Errorf("%d %s", w.Code, w.Body.String())
	}
}

// TestCSP: scripts and styles from the console's origin only, nothing inline or evaluated, no framing; the named
// origins (an identity provider's token endpoint) may be called.
func TestCSP(t *testing.T) {
	csp := webconsole.CSP("https://b.example.com", "https://a.example.com")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'",
		"connect-src 'self' https://a.example.com https://b.example.com"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP allows unsafe sources: %q", csp)
	}
	if h := webconsole.Headers(); h["X-Content-Type-Options"] != "nosniff" || h["X-Frame-Options"] != "DENY" || !strings.Contains(h["Strict-Transport-Security"], "max-age=") {
		t.Errorf("headers: %v", h)
	}
}
