package devserver

import (
	"crypto/ecdsa"
	"encoding/json"
	"net/http"

	"github.com/gangplank/gangplank/pkg/webconsole"
)

// consoleHandler serves the web console on its own port as CloudFront serves it in the cloud: the built files with
// the same security headers, its config.json, and the API under /v1 and /healthz on the same origin (the very
// handler the API port serves). It also plays the identity provider (signIn).
func consoleHandler(dir, consoleURL string, key *ecdsa.PrivateKey, api http.Handler) http.Handler {
	headers := webconsole.Headers()
	// HSTS means nothing over http://127.0.0.1; everything else is as in the cloud.
	delete(headers, "Strict-Transport-Security")
	si := newSignIn(key, consoleURL)
	cfg, _ := json.Marshal(webconsole.Config{APIBase: "", Auth: si.oidc(consoleURL)})

	mux := http.NewServeMux()
	mux.Handle("/v1/", api)
	mux.Handle("/healthz", api)
	si.register(mux)
	mux.HandleFunc("GET /"+webconsole.ConfigFile, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(cfg)
	})
	mux.Handle("/", webconsole.Handler(dir, headers))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		mux.ServeHTTP(w, r)
	})
}
