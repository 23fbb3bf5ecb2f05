package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// fixture is a platform with an admin and a viewer token for tenant acme, and an admin token for tenant globex.
type fixture struct {
	*testkit.Platform
	admin, viewer, other string
}

func newFixture(t *testing.T) *fixture {
	p := testkit.NewPlatform(t)
	return &fixture{Platform: p, admin: p.Token(t, "acme", auth.Admin), viewer: p.Token(t, "acme", auth.Viewer),
		other: p.Token(t, "globex", auth.Admin)}
}

func (f *fixture) do(t *testing.T, method, path, token string, body any, header ...string) *testkit.Response {
	t.Helper()
	h := map[string]string{}
	for i := 0; i+1 < len(header); i += 2 {
		h[header[i]] = header[i+1]
	}
	return f.Do(t, testkit.Request{Method: method, Path: path, Token: token, Body: body, Header: h})
}

func account(name, id, typ string, extra ...string) map[string]any {
	m := map[string]any{"name": name, "accountId": id, "type": typ, "region": "us-east-1"}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

// mustCreate links an account for tenant acme and returns it.
func (f *fixture) mustCreate(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	r := f.do(t, http.MethodPost, "/v1/accounts", f.admin, body)
	if r.Status != http.StatusCreated {
		t.Fatalf("create %v: %d %s", body["accountId"], r.Status, r.Body)
	}
	return r.Map(t)
}

// wantProblem checks a problem+json answer: status, type suffix, and (optionally) the fields it names.
func wantProblem(t *testing.T, r *testkit.Response, status int, typ string, fields ...string) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q", ct)
	}
	p := r.Map(t)
	if got := p["type"]; got != "https://gangplank.dev/problems/"+typ {
		t.Errorf("type = %v, want %s", got, typ)
	}
	if p["status"] != float64(status) || p["title"] == "" || p["requestId"] == "" {
		t.Errorf("incomplete problem: %s", r.Body)
	}
	var got []string
	if errs, ok := p["errors"].([]any); ok {
		for _, e := range errs {
			got = append(got, e.(map[string]any)["field"].(string))
		}
	}
	if len(fields) > 0 && strings.Join(got, ",") != strings.Join(fields, ",") {
		t.Errorf("fields = %v, want %v: %s", got, fields, r.Body)
	}
	return p
}
