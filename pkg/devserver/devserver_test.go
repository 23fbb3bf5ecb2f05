package devserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/devserver"
)

// TestRun runs `make local`'s server as a developer would: the banner's token works, state persists in the state
// directory, and cancelling stops everything.
func TestRun(t *testing.T) {
	state := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	var banner bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- devserver.Run(ctx, devserver.Options{Addr: "127.0.0.1:0", StateDir: state, Out: &banner,
			Ready: func(u string) { ready <- u }})
	}()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("the local platform did not start within 60 s")
	}
	token := ""
	for _, line := range strings.Split(banner.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "export TOKEN="); ok {
			token = v
		}
	}
	if token == "" || !strings.Contains(banner.String(), base) {
		t.Fatalf("banner lacks the URL or token:\n%s", banner.String())
	}
	get := func(path, tok string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if status, _ := get("/healthz", ""); status != 200 {
		t.Errorf("healthz = %d", status)
	}
	if status, body := get("/v1/tenant", token); status != 200 || body["tenantId"] != "demo" {
		t.Errorf("tenant with the banner's token = %d %v", status, body)
	}
	// `make token` signs with the key in the state directory; the server accepts its tokens.
	key, err := devserver.SigningKey(state)
	if err != nil {
		t.Fatal(err)
	}
	viewer, _ := devserver.LocalIssuer(key).Token("v", "acme", auth.Viewer, time.Hour, time.Now())
	if status, body := get("/v1/tenant", viewer); status != 200 || body["tenantId"] != "acme" {
		t.Errorf("tenant with a make-token token = %d %v", status, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not stop")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the API still answers after stopping")
	}
}
