package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// The acceptance tests run the provider in this test binary, against a local Gangplank (pkg/testkit: moto behind
// the edge, fresh tables, the real HTTP API on a loopback port) started by each test, with a real Terraform CLI:
// terraform-plugin-testing runs the CLI, which reaches the provider through TF_REATTACH_PROVIDERS (the CLI's
// development override for providers it did not start), so nothing is downloaded from a registry.

// cli is the Terraform CLI the tests run, found by TestMain.
var cli struct{ path, name, version string }

func TestMain(m *testing.M) {
	if os.Getenv("TF_ACC") == "" {
		// terraform-plugin-testing would skip every test; these tests need nothing outside this machine, so a run
		// without TF_ACC is a mistake, not a choice.
		fmt.Fprintln(os.Stderr, "FAIL: the provider's tests are acceptance tests against a local Gangplank: run them with TF_ACC=1 (make test-terraform does)")
		os.Exit(1)
	}
	path, err := findCLI()
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	cli.path = path
	cli.name, cli.version, err = cliVersion(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "acceptance tests run with %s %s (%s)\n", cli.name, cli.version, cli.path)
	os.Setenv("TF_ACC_TERRAFORM_PATH", path)
	// The reattached provider's address: registry.terraform.io/gangplank/gangplank for Terraform, whose default
	// registry that is; OpenTofu resolves "gangplank/gangplank" in its own registry's namespace.
	os.Setenv("TF_ACC_PROVIDER_NAMESPACE", "gangplank")
	os.Setenv("TF_ACC_PROVIDER_HOST", registryHost())
	os.Setenv("CHECKPOINT_DISABLE", "1")
	// AWS managed policies (ViewOnlyAccess, which the role attaches) exist in AWS; moto has them only when asked.
	os.Setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
	// No CLI configuration from the machine: nothing may be installed from anywhere during these tests.
	empty := filepath.Join(os.TempDir(), fmt.Sprintf("gangplank-tfrc-%d", os.Getpid()))
	if err := os.WriteFile(empty, nil, 0o600); err == nil {
		os.Setenv("TF_CLI_CONFIG_FILE", empty)
		defer os.Remove(empty)
	}
	testkit.Main(m)
}

// findCLI returns the CLI to run: TF_ACC_TERRAFORM_PATH, else terraform or tofu on PATH, else the OpenTofu that
// `make terraform-cli` (and .ci/run) build into the cache.
func findCLI() (string, error) {
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("TF_ACC_TERRAFORM_PATH=%s: %v", p, err)
		}
		return p, nil
	}
	for _, name := range []string{"terraform", "tofu"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	if p := cachedTofu(); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Terraform CLI: none on PATH, TF_ACC_TERRAFORM_PATH unset, and no OpenTofu at %s; run `make terraform-cli` "+
		"(it builds OpenTofu from the Go module proxy, about 6 minutes)", cachedTofu())
}

// cachedTofu is where `make terraform-cli` puts OpenTofu (GANGPLANK_CACHE, default ~/.cache/gangplank).
func cachedTofu() string {
	dir := os.Getenv("GANGPLANK_CACHE")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".cache", "gangplank")
	}
	return filepath.Join(dir, "opentofu-v1.10.6", "tofu")
}

func cliVersion(path string) (name, version string, err error) {
	cmd := exec.Command(path, "version", "-json")
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("%s version: %v", path, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return "", "", fmt.Errorf("%s version -json: %v", path, err)
	}
	name = "Terraform"
	if strings.Contains(filepath.Base(path), "tofu") {
		name = "OpenTofu"
	}
	return name, v.Version, nil
}

// registryHost is the default registry of the CLI in use: it qualifies "gangplank/gangplank".
func registryHost() string {
	if cli.name == "OpenTofu" {
		return "registry.opentofu.org"
	}
	return "registry.terraform.io"
}

// factories serve the provider in-process for the CLI.
var factories = map[string]func() (tfprotov6.ProviderServer, error){
	"gangplank": providerserver.NewProtocol6WithError(New("test")()),
}

// gangplank is a local Gangplank for one test: the platform and its API on a loopback port.
type gangplank struct {
	*testkit.Platform
	URL    string
	client *http.Client
}

func startGangplank(t *testing.T) *gangplank {
	t.Helper()
	p := testkit.NewPlatform(t)
	srv := httptest.NewServer(p.API)
	t.Cleanup(srv.Close)
	return &gangplank{Platform: p, URL: srv.URL, client: srv.Client()}
}

// token is an admin token of tenant (or a token with role).
func (g *gangplank) token(t *testing.T, tenant string, role ...auth.Role) string {
	r := auth.Admin
	if len(role) > 0 {
		r = role[0]
	}
	return g.Token(t, tenant, r)
}

// api is a client of the local Gangplank for tenant, for changes "made in the console" and for checks.
func (g *gangplank) api(t *testing.T, tenant string) *Client {
	t.Helper()
	c, err := NewClient(g.URL, g.token(t, tenant), g.client)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// config renders a configuration: the provider block for tenant (with an admin token unless the data says
// otherwise), then body, a text/template over data.
func (g *gangplank) config(t *testing.T, tenant, body string, data any) string {
	t.Helper()
	return g.providerBlock(t, "", tenant, g.token(t, tenant)) + render(t, body, data)
}

func (g *gangplank) providerBlock(t *testing.T, alias, tenant, token string) string {
	t.Helper()
	var b strings.Builder
	if alias == "" {
		fmt.Fprintf(&b, "terraform {\n  required_providers {\n    gangplank = { source = %q }\n  }\n}\n\n", "gangplank/gangplank")
	}
	fmt.Fprintf(&b, "provider \"gangplank\" {\n")
	if alias != "" {
		fmt.Fprintf(&b, "  alias = %q\n", alias)
	}
	fmt.Fprintf(&b, "  endpoint = %q\n  token    = %q\n}\n\n", g.URL, token)
	return b.String()
}

func render(t *testing.T, body string, data any) string {
	t.Helper()
	tpl, err := template.New("config").Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tpl.Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// ctx is a bounded context for a test's own API calls.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}
