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
	// Demo seeds the demo organization (SeedDemo) before serving: `make local` does.
	Demo bool
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
	services, err := platform.NewServices(awsCfg, cfg, time.Now)
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
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	token, err := LocalIssuer(key).Token("demo-admin", "demo", auth.Admin, 24*time.Hour, time.Now())
	if err != nil {
		return err
	}
	printBanner(o.Out, baseURL, env.Endpoint, names.Tenants(), names.Accounts(), token, demo)
	if o.Ready != nil {
		o.Ready(baseURL)
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
	return srv.Shutdown(shutdown)
}

func printBanner(w io.Writer, baseURL, awsEndpoint, tenantsTable, accountsTable, token string, demo Demo) {
	lines := []string{
		"Gangplank is running locally.",
		"",
		"  API            " + baseURL + "   (OpenAPI: " + baseURL + "/v1/openapi.json)",
		"  Local AWS      " + awsEndpoint + "   (moto_server behind Gangplank's edge)",
		"  Tables         " + tenantsTable + ", " + accountsTable,
		"",
		"An admin token for tenant 'demo', valid 24 hours (make token TENANT=acme ROLE=viewer for others):",
		"",
		"export TOKEN=" + token,
		"",
		"Try:",
		"  curl -s -H \"Authorization: Bearer $TOKEN\" " + baseURL + "/v1/tenant",
		"  curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\",
		"       -d '{\"name\":\"Payer\",\"accountId\":\"111111111111\",\"type\":\"management\",\"region\":\"us-east-1\"}' " + baseURL + "/v1/accounts",
		"  AWS_ENDPOINT_URL=" + awsEndpoint + " AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \\",
		"       aws dynamodb scan --region us-east-1 --table-name " + accountsTable,
		"",
		"Act in a customer's account with the plain AWS CLI: an access key id that is the account's id is its root user",
		"(create IAM users and their keys with it); see docs/onboarding.md, \"Locally\".",
		"  AWS_ENDPOINT_URL=" + awsEndpoint + " AWS_ACCESS_KEY_ID=111111111111 AWS_SECRET_ACCESS_KEY=local \\",
		"       aws sts get-caller-identity --region us-east-1",
		"",
	}
	if len(demo.Accounts) > 0 {
		lines = append(lines, fmt.Sprintf("A demo organization is ready: management account %s, members %s, with %d tagged resources in %s",
			demo.Accounts[0], strings.Join(demo.Accounts[1:], " and "), demo.Resources, strings.Join(DemoRegions, ", ")),
			"(Resource Explorer is on in the management account). Add and connect one of them: its inventory appears at once",
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
