// Package devserver runs the whole platform on this machine: the local AWS (moto behind the edge), Gangplank's
// tables, and the HTTP API on a loopback address, with tokens signed by a key kept in the state directory.
// `make local` runs it; its test runs it the same way.
package devserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/platform/awsadapters"
	"github.com/gangplank/gangplank/pkg/platform/web"
)

// Options configure Run.
type Options struct {
	// Addr is the API's listen address (default 127.0.0.1:8080; port 0 picks a free one).
	Addr string
	// AWSAddr is the local AWS's listen address (default 127.0.0.1:0, a free port; `make local` uses
	// 127.0.0.1:4566 so that AWS CLI profiles for customer accounts keep working across restarts).
	AWSAddr string
	// StateDir holds the signing keys and moto's log (default .local).
	StateDir string
	// Out receives the banner: the URL, a ready token and example commands.
	Out io.Writer
	// Ready, if set, receives the API's base URL once it serves.
	Ready func(baseURL string)
	// ConsoleAddr is the web console's listen address (port 0 picks a free one; empty serves no console).
	ConsoleAddr string
	// ConsoleDir holds the built console (default console/dist).
	ConsoleDir string
	// Demo seeds the demo organization (SeedDemo) before serving, for a person to add and discover: `make local`
	// does.
	Demo bool
	// Started, if set, is told where everything is once it all serves (the console's end-to-end tests read it).
	Started func(Started)
}

// Started says where the running platform is.
type Started struct {
	APIURL      string `json:"apiUrl"`
	ConsoleURL  string `json:"consoleUrl,omitempty"`
	AWSEndpoint string `json:"awsEndpoint"`
	Demo        *Demo  `json:"demo,omitempty"`
}

// Key files in the state directory.
const (
	SigningKeyFile = "jwt-signing-key.pem"
	cursorKeyFile  = "cursor.key"
	tablePrefix    = "gangplank-local"
)

// SigningKey loads (or creates) the local token signing key, shared by the server and `make token`.
func SigningKey(stateDir string) (*ecdsa.PrivateKey, error) {
	return auth.LoadOrCreateKey(filepath.Join(stateDir, SigningKeyFile))
}

// LocalIssuer signs tokens the local server accepts.
func LocalIssuer(key *ecdsa.PrivateKey) auth.Issuer {
	return auth.Issuer{Key: key, Issuer: auth.LocalIssuer, Audience: auth.LocalAudience}
}

// Run serves until ctx ends, then stops everything it started.
func Run(ctx context.Context, o Options) error {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8080"
	}
	if o.StateDir == "" {
		o.StateDir = ".local"
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.ConsoleDir == "" {
		o.ConsoleDir = filepath.Join("console", "dist")
	}
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return err
	}
	key, err := SigningKey(o.StateDir)
	if err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	cursorKey, err := loadOrCreateSecret(filepath.Join(o.StateDir, cursorKeyFile))
	if err != nil {
		return fmt.Errorf("cursor key: %w", err)
	}
	motoLog, err := os.Create(filepath.Join(o.StateDir, "moto.log"))
	if err != nil {
		return err
	}
	defer motoLog.Close()

	env, err := localaws.Start(ctx, localaws.Options{MotoLog: motoLog, Addr: o.AWSAddr})
	if err != nil {
		return err
	}
	defer env.Stop()
	awsCfg, err := env.Config(ctx, config.WithRetryMaxAttempts(3))
	if err != nil {
		return err
	}
	prov, err := Provision(ctx, env, awsCfg, tablePrefix, LocalRegions())
	if err != nil {
		return err
	}
	var demo Demo
	if o.Demo {
		if demo, err = SeedDemo(ctx, env); err != nil {
			return err
		}
	}
	cfg := prov.Config
	cfg.CursorKey, cfg.Claims = cursorKey, auth.DefaultClaims
	services, err := platform.NewServices(awsCfg, cfg, awsadapters.All(), time.Now)
	if err != nil {
		return err
	}
	RegisterActivation(env, prov, services)
	stopFunctions, err := ServeFunctions(ctx, env, awsCfg, prov, cfg, "local", FunctionOptions{CallbackTimeout: 120 * time.Second})
	if err != nil {
		return err
	}
	defer stopFunctions()
	go runSchedules(ctx, env)
	names := prov.Tables
	verifier := &auth.Verifier{Key: &key.PublicKey, Issuer: auth.LocalIssuer, Audience: auth.LocalAudience}
	api := web.NewAPI(services.Builder, verifier)

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.Addr, err)
	}
	baseURL := "http://" + ln.Addr().String()
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 2)
	go func() { served <- srv.Serve(ln) }()
	servers := []*http.Server{srv}

	consoleURL := ""
	if o.ConsoleAddr != "" {
		cln, err := net.Listen("tcp", o.ConsoleAddr)
		if err != nil {
			return fmt.Errorf("listen on %s (the console): %w", o.ConsoleAddr, err)
		}
		consoleURL = "http://" + cln.Addr().String()
		csrv := &http.Server{Handler: consoleHandler(o.ConsoleDir, consoleURL, key, api), ReadHeaderTimeout: 10 * time.Second}
		go func() { served <- csrv.Serve(cln) }()
		servers = append(servers, csrv)
	}

	token, err := LocalIssuer(key).Token("demo-admin", "demo", auth.Admin, 24*time.Hour, time.Now())
	if err != nil {
		return err
	}
	printBanner(o.Out, baseURL, consoleURL, env.Endpoint, names.Tenants(), names.Accounts(), token, demo)
	if o.Ready != nil {
		o.Ready(baseURL)
	}
	if o.Started != nil {
		started := Started{APIURL: baseURL, ConsoleURL: consoleURL, AWSEndpoint: env.Endpoint}
		if o.Demo {
			started.Demo = &demo
		}
		o.Started(started)
	}

	select {
	case <-ctx.Done():
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, s := range servers {
		errs = append(errs, s.Shutdown(shutdown))
	}
	return errors.Join(errs...)
}

func printBanner(w io.Writer, baseURL, consoleURL, awsEndpoint, tenantsTable, accountsTable, token string, demo Demo) {
	lines := []string{
		"Gangplank is running locally.",
		"",
	}
	if consoleURL != "" {
		lines = append(lines, "  Console        "+consoleURL+"   (open it in a browser: signed in as the demo admin)")
	}
	lines = append(lines,
		"  API            "+baseURL+"   (OpenAPI: "+baseURL+"/v1/openapi.json)",
		"  Local AWS      "+awsEndpoint+"   (moto_server behind Gangplank's edge)",
		"  Tables         "+tenantsTable+", "+accountsTable,
		"",
		"An admin token for tenant 'demo', valid 24 hours (make token TENANT=acme ROLE=viewer for others):",
		"",
		"export TOKEN="+token,
		"",
		"Try:",
		"  curl -s -H \"Authorization: Bearer $TOKEN\" "+baseURL+"/v1/tenant",
		"  curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\",
		"       -d '{\"name\":\"Payer\",\"accountId\":\"111111111111\",\"type\":\"management\",\"region\":\"us-east-1\"}' "+baseURL+"/v1/accounts",
		"  AWS_ENDPOINT_URL="+awsEndpoint+" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \\",
		"       aws dynamodb scan --region us-east-1 --table-name "+accountsTable,
		"",
		"Act in a customer's account with the plain AWS CLI: an access key id that is the account's id is its root user",
		"(create IAM users and their keys with it); see docs/onboarding.md, \"Locally\".",
		"  AWS_ENDPOINT_URL="+awsEndpoint+" AWS_ACCESS_KEY_ID=111111111111 AWS_SECRET_ACCESS_KEY=local \\",
		"       aws sts get-caller-identity --region us-east-1",
		"",
	)
	if len(demo.Accounts) > 0 {
		lines = append(lines, fmt.Sprintf("A demo organization is ready: management account %s with %d members in OUs Workloads (Prod, Dev) and",
			demo.ManagementAccountID, len(demo.Members)),
			fmt.Sprintf("Sandbox, and %d tagged resources in %s (Resource Explorer is on in the management account).",
				demo.Resources, strings.Join(DemoRegions, ", ")),
			"Add the management account (Add Cloud Account, type Management) to discover and activate its members;",
			"a connected account's inventory appears at once:",
			"  curl -s -H \"Authorization: Bearer $TOKEN\" "+baseURL+"/v1/resources", "")
	}
	lines = append(lines, "State lives in memory: stopping (Ctrl-C) forgets it.")
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}

// runSchedules plays EventBridge Scheduler on the wall clock: every few seconds it fires the schedules that are due
// (delayed deletions of offboarded IAM users), which moto stores but never fires.
func runSchedules(ctx context.Context, env *localaws.Env) {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if _, err := env.FireDueSchedules(ctx, now); err != nil && ctx.Err() == nil {
				slog.WarnContext(ctx, "local scheduler", "error", err.Error())
			}
		}
	}
}

// loadOrCreateSecret reads a secret from path, creating a random one (64 hex characters, mode 0600) if it is missing.
func loadOrCreateSecret(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		key := hex.EncodeToString(b)
		return []byte(key), os.WriteFile(path, []byte(key+"\n"), 0o600)
	}
	if err != nil {
		return nil, err
	}
	return []byte(strings.TrimSpace(string(raw))), nil
}
