package devserver

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/webconsole"
)

// LocalClientID is the console's client id at make local's sign-in.
const LocalClientID = "gangplank-console"

// Demo users of tenant demo that make local's sign-in offers.
var demoUsers = map[string]auth.Role{"demo-admin": auth.Admin, "demo-viewer": auth.Viewer}

// signIn is make local's stand-in for the identity provider: the same OAuth 2.0 authorization code flow with PKCE
// the console runs against Cognito, so the console has one sign-in path. It signs the user in as the demo admin at
// once; with prompt=login (after signing out) it lets the user choose the demo admin or the demo viewer, and
// remembers the choice in its own session cookie until its logout, as Cognito's hosted UI does (so a reload, which
// forgets the console's in-memory tokens, signs the same user in again). Codes are single-use, bound to the
// redirect URI and the PKCE challenge, and expire after a minute.
type signIn struct {
	key         *ecdsa.PrivateKey
	redirectURI string
	now         func() time.Time

	mu    sync.Mutex
	codes map[string]grant
}

type grant struct {
	subject   string
	challenge string
	expires   time.Time
}

func newSignIn(key *ecdsa.PrivateKey, consoleURL string) *signIn {
	return &signIn{key: key, redirectURI: consoleURL + webconsole.CallbackPath, now: time.Now, codes: map[string]grant{}}
}

// oidc is the console's sign-in configuration for this server.
func (s *signIn) oidc(consoleURL string) webconsole.OIDC {
	return webconsole.OIDC{
		Issuer: auth.LocalIssuer, ClientID: LocalClientID,
		AuthorizationEndpoint: consoleURL + "/local/oauth2/authorize", TokenEndpoint: consoleURL + "/local/oauth2/token",
		LogoutEndpoint: consoleURL + "/local/oauth2/logout",
		Scope:          "openid", TokenUse: "id", TenantClaim: auth.DefaultClaims.Tenant, RoleClaim: auth.DefaultClaims.Role,
	}
}

func (s *signIn) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /local/oauth2/authorize", s.authorize)
	mux.HandleFunc("POST /local/oauth2/authorize", s.authorize)
	mux.HandleFunc("POST /local/oauth2/token", s.token)
	mux.HandleFunc("GET /local/oauth2/logout", s.logout)
}

const sessionCookie = "gangplank_local_user"

func (s *signIn) logout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	back := strings.TrimSuffix(s.redirectURI, webconsole.CallbackPath) + webconsole.SignedOutPath
	if q.Get("client_id") != LocalClientID || q.Get("logout_uri") != back {
		http.Error(w, "logout_uri is not the console's "+back, http.StatusBadRequest)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/local/oauth2/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, back, http.StatusFound)
}

func (s *signIn) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		q = r.PostForm
	}
	switch {
	case q.Get("client_id") != LocalClientID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case q.Get("redirect_uri") != s.redirectURI:
		// Never redirect anywhere but the console's callback.
		http.Error(w, "redirect_uri is not the console's callback "+s.redirectURI, http.StatusBadRequest)
		return
	case q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43 || q.Get("state") == "":
		http.Error(w, "expected response_type=code with an S256 code_challenge and a state", http.StatusBadRequest)
		return
	}
	user := q.Get("user")
	if _, ok := demoUsers[user]; ok && r.Method == http.MethodPost {
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: user, Path: "/local/oauth2/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	} else {
		if q.Get("prompt") == "login" {
			s.chooser(w, q)
			return
		}
		user = "demo-admin"
		if c, err := r.Cookie(sessionCookie); err == nil {
			if _, ok := demoUsers[c.Value]; ok {
				user = c.Value
			}
		}
	}
	code := randomToken()
	s.mu.Lock()
	for c, g := range s.codes {
		if s.now().After(g.expires) {
			delete(s.codes, c)
		}
	}
	s.codes[code] = grant{subject: user, challenge: q.Get("code_challenge"), expires: s.now().Add(time.Minute)}
	s.mu.Unlock()
	http.Redirect(w, r, s.redirectURI+"?code="+code+"&state="+template.URLQueryEscaper(q.Get("state")), http.StatusFound)
}

var chooserPage = template.Must(template.New("chooser").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to Gangplank (local)</title></head>
<body><main><h1>Sign in to Gangplank</h1>
<p>make local's sign-in: choose a demo user of tenant demo.</p>
<form method="post" action="/local/oauth2/authorize">
{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<p><button type="submit" name="user" value="demo-admin">Continue as the demo admin</button></p>
<p><button type="submit" name="user" value="demo-viewer">Continue as the demo viewer (read only)</button></p>
</form></main></body></html>`))

func (s *signIn) chooser(w http.ResponseWriter, q map[string][]string) {
	params := map[string]string{}
	for _, k := range []string{"client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method"} {
		if v := q[k]; len(v) > 0 {
			params[k] = v[0]
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = chooserPage.Execute(w, map[string]any{"Params": params})
}

func (s *signIn) token(w http.ResponseWriter, r *http.Request) {
	fail := func(code, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	}
	if err := r.ParseForm(); err != nil {
		fail("invalid_request", "bad form")
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "authorization_code" || f.Get("client_id") != LocalClientID || f.Get("redirect_uri") != s.redirectURI {
		fail("invalid_request", "expected grant_type=authorization_code with the console's client_id and redirect_uri")
		return
	}
	s.mu.Lock()
	g, ok := s.codes[f.Get("code")]
	delete(s.codes, f.Get("code"))
	s.mu.Unlock()
	if !ok || s.now().After(g.expires) {
		fail("invalid_grant", "unknown, used or expired code")
		return
	}
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.challenge)) != 1 {
		fail("invalid_grant", "the code_verifier does not match the code_challenge")
		return
	}
	const ttl = time.Hour
	tok, err := LocalIssuer(s.key).Token(g.subject, "demo", demoUsers[g.subject], ttl, s.now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"id_token": tok, "access_token": tok, "token_type": "Bearer", "expires_in": int(ttl.Seconds())})
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
