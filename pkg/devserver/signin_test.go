package devserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gangplank/gangplank/pkg/auth"
)

// signInServer is make local's sign-in on a test server whose clock the test moves.
func signInServer(t *testing.T) (*httptest.Server, *signIn, *time.Time) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	si := newSignIn(key, srv.URL)
	si.now = func() time.Time { return now }
	si.register(mux)
	return srv, si, &now
}

func pkce() (verifier, challenge string) {
	verifier = randomToken()
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize starts a sign-in and returns the code the console's callback would receive (or the refusal).
func authorize(t *testing.T, srv *httptest.Server, q url.Values) (code string, status int, body string) {
	t.Helper()
	res, err := noRedirects.Get(srv.URL + "/local/oauth2/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(res.Body)
		return "", res.StatusCode, string(b)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != srv.URL+"/auth/callback" {
		t.Fatalf("redirected to %s, not the console's callback", got)
	}
	if loc.Query().Get("state") != q.Get("state") {
		t.Fatalf("state %q came back as %q", q.Get("state"), loc.Query().Get("state"))
	}
	return loc.Query().Get("code"), res.StatusCode, ""
}

func exchange(t *testing.T, srv *httptest.Server, f url.Values) (int, map[string]any) {
	t.Helper()
	res, err := http.PostForm(srv.URL+"/local/oauth2/token", f)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, out
}

// TestLocalSignIn: make local's identity provider runs the authorization code flow with PKCE as Cognito does:
// it redirects only to the console's callback, and a code is good once, within a minute, with its verifier.
func TestLocalSignIn(t *testing.T) {
	srv, si, now := signInServer(t)
	verifier, challenge := pkce()
	good := url.Values{"client_id": {LocalClientID}, "redirect_uri": {srv.URL + "/auth/callback"}, "response_type": {"code"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"s-1"}, "scope": {"openid"}}
	with := func(k, v string) url.Values {
		q := url.Values{}
		for kk, vv := range good {
			q[kk] = vv
		}
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return q
	}

	refused := []struct {
		name string
		q    url.Values
	}{
		{"another client", with("client_id", "someone-else")},
		{"a redirect elsewhere", with("redirect_uri", "https://evil.example.com/auth/callback")},
		{"a redirect to another path", with("redirect_uri", srv.URL+"/elsewhere")},
		{"implicit flow", with("response_type", "token")},
		{"plain PKCE", with("code_challenge_method", "plain")},
		{"no challenge", with("code_challenge", "")},
		{"no state", with("state", "")},
	}
	for _, tc := range refused {
		t.Run("authorize refuses "+tc.name, func(t *testing.T) {
			if _, status, _ := authorize(t, srv, tc.q); status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", status)
			}
		})
	}

	tokenForm := func(code, verifier string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "client_id": {LocalClientID}, "redirect_uri": {srv.URL + "/auth/callback"},
			"code": {code}, "code_verifier": {verifier}}
	}
	t.Run("a code with the wrong verifier is refused and spent", func(t *testing.T) {
		code, _, _ := authorize(t, srv, good)
		if status, out := exchange(t, srv, tokenForm(code, randomToken())); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
			t.Errorf("wrong verifier: %d %v", status, out)
		}
		if status, _ := exchange(t, srv, tokenForm(code, verifier)); status != http.StatusBadRequest {
			t.Errorf("the code was good again after a failed exchange: %d", status)
		}
	})
	t.Run("an expired code is refused", func(t *testing.T) {
		code, _, _ := authorize(t, srv, good)
		*now = now.Add(61 * time.Second)
		if status, out := exchange(t, srv, tokenForm(code, verifier)); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
			t.Errorf("expired code: %d %v", status, out)
		}
	})
	t.Run("the demo admin signs in once per code; the token is the local issuer's", func(t *testing.T) {
		code, _, _ := authorize(t, srv, good)
		status, out := exchange(t, srv, tokenForm(code, verifier))
		if status != http.StatusOK || out["token_type"] != "Bearer" {
			t.Fatalf("exchange: %d %v", status, out)
		}
		v := &auth.Verifier{Key: &si.key.PublicKey, Issuer: auth.LocalIssuer, Audience: auth.LocalAudience, Now: func() time.Time { return *now }}
		r := httptest.NewRequest(http.MethodGet, "/v1/accounts", nil)
		r.Header.Set("Authorization", "Bearer "+out["id_token"].(string))
		p, err := v.Authenticate(r)
		if err != nil {
			t.Fatal(err)
		}
		if p.TenantID != "demo" || p.Role != auth.Admin || p.Subject != "demo-admin" {
			t.Errorf("signed in as %+v", p)
		}
		if status, _ := exchange(t, srv, tokenForm(code, verifier)); status != http.StatusBadRequest {
			t.Errorf("a code was exchanged twice: %d", status)
		}
	})
	t.Run("the token endpoint refuses another redirect_uri", func(t *testing.T) {
		code, _, _ := authorize(t, srv, good)
		f := tokenForm(code, verifier)
		f.Set("redirect_uri", "https://evil.example.com/auth/callback")
		if status, _ := exchange(t, srv, f); status != http.StatusBadRequest {
			t.Errorf("status %d", status)
		}
	})
	t.Run("prompt=login offers the demo users and escapes what it echoes", func(t *testing.T) {
		q := with("state", `"><script>alert(1)</script>`)
		q.Set("prompt", "login")
		_, status, body := authorize(t, srv, q)
		if status != http.StatusOK || !strings.Contains(body, "demo viewer") || strings.Contains(body, "<script>") {
			t.Errorf("chooser: %d %s", status, body)
		}
	})
}
