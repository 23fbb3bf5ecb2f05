// Package webconsole is what Gangplank's web console needs from the platform: its runtime configuration
// (config.json), the security headers every response of it carries (the CDK app sets the same ones on CloudFront),
// and a handler serving the built files, which `make local` uses.
package webconsole

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Config is the console's runtime configuration, served as /config.json beside it (console/src/config.ts reads it).
// Nothing in it is secret.
type Config struct {
	// APIBase is where the API is: "" for the console's own origin.
	APIBase string `json:"apiBase"`
	Auth    OIDC   `json:"auth"`
}

// OIDC is the sign-in: OAuth 2.0 authorization code with PKCE against Cognito, another provider, or make local's.
type OIDC struct {
	Issuer                string `json:"issuer"`
	ClientID              string `json:"clientId"`
	AuthorizationEndpoint string `json:"authorizationEndpoint"`
	TokenEndpoint         string `json:"tokenEndpoint"`
	LogoutEndpoint        string `json:"logoutEndpoint,omitempty"`
	Scope                 string `json:"scope"`
	// TokenUse is which token the API takes: "id" (Cognito's ID token carries the tenant and role) or "access".
	TokenUse    string `json:"tokenUse"`
	TenantClaim string `json:"tenantClaim"`
	RoleClaim   string `json:"roleClaim"`
}

// ConfigFile is the configuration's path beside the console's files.
const ConfigFile = "config.json"

// CallbackPath and SignedOutPath are the console's sign-in redirect and sign-out landing pages (console/src/auth).
const (
	CallbackPath  = "/auth/callback"
	SignedOutPath = "/signed-out"
)

// Headers are the security headers of every console response. connect lists the origins besides the console's
// own that the console calls (the identity provider's token endpoint, an API on another origin); forms those it
// may send a form to (none: sign-in is a navigation, not a form post).
func Headers(connect ...string) map[string]string {
	return map[string]string{
		"Content-Security-Policy":    CSP(connect...),
		"Strict-Transport-Security":  "max-age=63072000; includeSubDomains; preload",
		"X-Content-Type-Options":     "nosniff",
		"X-Frame-Options":            "DENY",
		"Referrer-Policy":            "no-referrer",
		"Permissions-Policy":         "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
		"Cross-Origin-Opener-Policy": "same-origin-allow-popups",
	}
}

// CSP is the console's Content Security Policy: scripts and styles from its own origin only (nothing inline, no
// eval), no framing, no plugins; connections to its own origin and the named ones.
func CSP(connect ...string) string {
	c := append([]string{"'self'"}, connect...)
	sort.Strings(c[1:])
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"font-src 'self'",
		"connect-src " + strings.Join(c, " "),
		"manifest-src 'self'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
		"object-src 'none'",
	}, "; ")
}

// Handler serves the built console from dir: files as they are (hashed assets cached for a year), every other path
// the app's index.html (the console routes in the browser), with headers on every answer. It does not serve
// config.json: the caller mounts its own.
func Handler(dir string, headers map[string]string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		clean := path.Clean("/" + r.URL.Path)
		if clean != "/" {
			if fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(clean))); err == nil && !fi.IsDir() {
				if strings.HasPrefix(clean, "/assets/") {
					w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				} else {
					w.Header().Set("Cache-Control", "no-cache")
				}
				files.ServeHTTP(w, r)
				return
			}
		}
		index := filepath.Join(dir, "index.html")
		if _, err := os.Stat(index); err != nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("The console is not built: run `make console` (npm ci and npm run build in console/).\n"))
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFile(w, r, index)
	})
}
