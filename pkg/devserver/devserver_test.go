package devserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	taggingtypes "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"

	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/devserver"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

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

	// The whole onboarding loop, as a person trying `make local` does it: add an account, open its quick-create
	// link in the local console, create the stack; the callback activates the account.
	quickCreate := createAccount(t, base, token)
	link, err := url.Parse(quickCreate)
	if err != nil || link.Path != "/console/cloudformation/home" {
		t.Fatalf("quick-create link %q", quickCreate)
	}
	if resp, err := http.Get(quickCreate); err != nil || resp.StatusCode != 200 {
		t.Fatalf("console page: %v %v", resp, err)
	}
	frag, _ := url.ParseQuery(strings.SplitN(link.Fragment, "?", 2)[1])
	params := map[string]string{}
	for k, v := range frag {
		if name, ok := strings.CutPrefix(k, "param_"); ok {
			params[name] = v[0]
		}
	}
	consoleBase := link.Scheme + "://" + link.Host + "/console/cloudformation/stacks"
	body, _ := json.Marshal(map[string]any{"account": link.Query().Get("account"), "region": link.Query().Get("region"),
		"stackName": frag.Get("stackName"), "templateURL": frag.Get("templateURL"), "parameters": params})
	resp, err := http.Post(consoleBase, "application/json", bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("console create stack: %v %v", resp, err)
	}
	var created struct{ StackID string }
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	status := ""
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		q := url.Values{"account": {link.Query().Get("account")}, "region": {link.Query().Get("region")}, "stackId": {created.StackID}}
		r, err := http.Get(consoleBase + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		var s struct{ Status, Reason string }
		_ = json.NewDecoder(r.Body).Decode(&s)
		r.Body.Close()
		if status = s.Status; !strings.HasSuffix(status, "IN_PROGRESS") {
			break
		}
	}
	if status != "CREATE_COMPLETE" {
		t.Fatalf("stack status %q", status)
	}
	if code, body := get("/v1/accounts/210987654321", token); code != 200 || body["status"] != "active" {
		t.Errorf("account after the stack: %d %v", code, body)
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

// createAccount adds a standalone account through the API and returns its quick-create link.
func createAccount(t *testing.T, base, token string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": "Sandbox", "accountId": "210987654321", "type": "standalone", "region": "eu-west-1"})
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/accounts", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Onboarding struct {
			QuickCreateURL string `json:"quickCreateUrl"`
		} `json:"onboarding"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 201 {
		t.Fatalf("create account: %d %v", resp.StatusCode, err)
	}
	return out.Onboarding.QuickCreateURL
}

// TestSeedDemo: `make local`'s demo organization holds tagged resources in each demo region of each of its
// accounts, and Resource Explorer is on in the management account.
func TestSeedDemo(t *testing.T) {
	env := testkit.LocalAWS(t)
	demo, err := devserver.SeedDemo(t.Context(), env)
	if err != nil {
		t.Fatal(err)
	}
	if len(demo.Accounts) != 1+len(demo.Members) || len(demo.Members) != 7 || demo.Accounts[0] != devserver.DemoManagementAccount ||
		demo.Resources != len(demo.Accounts)*len(devserver.DemoRegions)*devserver.DemoResourcesPerAccountRegion {
		t.Fatalf("demo = %+v", demo)
	}
	for _, acct := range demo.Accounts {
		cfg := env.AccountConfig(acct)
		cfg.Region = "eu-west-1"
		listed := 0
		for p := resourcegroupstaggingapi.NewGetResourcesPaginator(resourcegroupstaggingapi.NewFromConfig(cfg), &resourcegroupstaggingapi.GetResourcesInput{
			TagFilters: []taggingtypes.TagFilter{{Key: aws.String("team")}}}); p.HasMorePages(); {
			page, err := p.NextPage(t.Context())
			if err != nil {
				t.Fatalf("%s: %v", acct, err)
			}
			listed += len(page.ResourceTagMappingList)
		}
		if listed != devserver.DemoResourcesPerAccountRegion {
			t.Errorf("%s lists %d tagged resources in eu-west-1, want %d", acct, listed, devserver.DemoResourcesPerAccountRegion)
		}
	}
}
