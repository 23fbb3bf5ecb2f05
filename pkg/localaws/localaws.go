// Package localaws runs AWS on this machine: moto_server for the AWS APIs, behind an "edge" HTTP server that every
// client talks to. The edge forwards each call to moto unless an Interceptor answers it first, which is how the
// local AWS is made more faithful than moto alone (STS trust-policy checks, Cost Explorer, CloudFormation custom
// resources, Lambda tasks of Step Functions) and how tests inject faults (throttling, missing roles).
//
// Tests and `make local` use it the same way: Start, then build clients from Env.Config.
package localaws

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region of the local AWS.
const Region = "us-east-1"

// PlatformAccountID is the account moto acts in by default: the platform's own account.
const PlatformAccountID = "123456789012"

// InstallHint tells a developer how to get moto_server.
const InstallHint = `moto_server is required for Gangplank's local AWS: install it with pip install "moto[server]==5.2.1" ` +
	`(Python 3.9+), or point GANGPLANK_PYTHON at a Python that has it`

// ErrMotoMissing is returned by Start when moto cannot be found.
var ErrMotoMissing = errors.New(InstallHint)

//go:embed moto_launcher.py
var launcherScript []byte

// Options configure Start.
type Options struct {
	// Addr is the edge's listen address (default 127.0.0.1:0, a free port). `make local` fixes it, so that AWS CLI
	// profiles naming the local AWS's endpoint outlive a restart.
	Addr string
	// Interceptors answer calls before moto sees them, in order.
	Interceptors []Interceptor
	// MotoLog receives moto's own output; nil discards it.
	MotoLog io.Writer
	// ReadyTimeout bounds the wait for moto to answer (default 2 minutes: moto takes about 2 s to start on an idle
	// machine, and 25-35 s on two cores running several test binaries at once).
	ReadyTimeout time.Duration
}

// Env is a running local AWS.
type Env struct {
	// Endpoint is the edge's URL: what every client's BaseEndpoint (or AWS_ENDPOINT_URL) should be.
	Endpoint string
	// MotoEndpoint reaches moto directly, bypassing interceptors; interceptors use it to read moto's state.
	MotoEndpoint string

	cmd   *exec.Cmd
	edge  *http.Server
	proxy *httputil.ReverseProxy

	// dynamoMu serializes DynamoDB calls: moto applies concurrent requests without isolation (two transactions can
	// both pass the same condition), whereas DynamoDB isolates every item write and runs transactions serializably.
	dynamoMu sync.Mutex

	mu           sync.RWMutex
	interceptors []*registration
	routes       *http.ServeMux
	routed       bool
	stopOnce     sync.Once
	tmpDir       string
	creds        *credentialStore
	policies     *policyStore
	generations  *generations
	trust        *trustEnforcer
	cfn          *cfnEmulator
	ce           *costExplorer
	acct         *accountEdge
	re           *resourceExplorer
	sso          *identityCenter
	lambdas      lambdas
	invocations  invocations
	consumers    queueConsumers
}

// Start launches moto_server and the edge on free loopback ports and waits until moto answers.
func Start(ctx context.Context, opts Options) (*Env, error) {
	python, err := findPython(ctx)
	if err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	edgeLn, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the edge: %w", err)
	}
	motoPort, err := freePort()
	if err != nil {
		edgeLn.Close()
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "gangplank-localaws-")
	if err != nil {
		edgeLn.Close()
		return nil, err
	}
	launcher := filepath.Join(tmp, "moto_launcher.py")
	if err := os.WriteFile(launcher, launcherScript, 0o600); err != nil {
		edgeLn.Close()
		return nil, err
	}

	motoURL := fmt.Sprintf("http://127.0.0.1:%d", motoPort)
	edgePort := edgeLn.Addr().(*net.TCPAddr).Port
	target, _ := url.Parse(motoURL)
	e := &Env{
		Endpoint:     fmt.Sprintf("http://127.0.0.1:%d", edgePort),
		MotoEndpoint: motoURL,
		proxy:        httputil.NewSingleHostReverseProxy(target),
		routes:       http.NewServeMux(),
		tmpDir:       tmp,
	}
	gens, err := newGenerations(filepath.Join(tmp, "iam-generations"))
	if err != nil {
		edgeLn.Close()
		return nil, err
	}
	e.generations, e.creds = gens, newCredentialStore()
	e.policies = newPolicyStore(e, gens)
	// AWS's own rules come after the caller's interceptors, so a test can still inject a fault ahead of them; IAM's
	// (who is calling, may it) come first.
	e.trust = &trustEnforcer{env: e}
	e.cfn = newCFNEmulator(e)
	e.ce = newCostExplorer(e)
	e.acct = newAccountEdge(e)
	e.re = newResourceExplorer(e)
	e.sso = newIdentityCenter(e)
	e.serveConsole()
	e.interceptors = register(append(append([]Interceptor{}, opts.Interceptors...), &identityEnforcer{env: e}, e.trust, e.cfn, e.ce, e.sso, e.acct, e.re, newIAMEmulator(e), schedulerGuard{}))
	e.edge = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.edge.Serve(edgeLn) }()

	cmd := exec.Command(python, launcher, "-H", "127.0.0.1", "-p", fmt.Sprint(motoPort))
	cmd.Env = motoEnv(edgePort, gens.f.Name())
	logSink := opts.MotoLog
	if logSink == nil {
		logSink = io.Discard
	}
	tail := &tailBuffer{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = io.MultiWriter(logSink, tail), io.MultiWriter(logSink, tail)
	cmd.SysProcAttr = processAttributes()
	if err := cmd.Start(); err != nil {
		e.edge.Close()
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	e.cmd = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	timeout := opts.ReadyTimeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	if err := waitReady(ctx, motoURL, timeout, exited); err != nil {
		e.Stop()
		return nil, fmt.Errorf("moto_server did not start: %w\n%s", err, tail.String())
	}
	if err := e.enableStepFunctions(ctx); err != nil {
		e.Stop()
		return nil, fmt.Errorf("enable Step Functions: %w", err)
	}
	return e, nil
}

// motoEnv is moto's environment: ours, without endpoint overrides (boto3 inside moto would honour them and call
// itself in a loop), with MOTO_PORT pointing at the edge so that moto's Step Functions interpreter invokes Lambda
// tasks through the edge, where Go handlers answer them; AWS managed policies loaded (the edge evaluates them);
// and the file in which moto counts IAM changes for the edge's policy cache.
func motoEnv(edgePort int, iamGenerations string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_ENDPOINT_URL") || strings.HasPrefix(kv, "MOTO_PORT=") ||
			strings.HasPrefix(kv, "MOTO_IAM_LOAD_MANAGED_POLICIES=") || strings.HasPrefix(kv, "MOTO_ACCOUNT_ID=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		fmt.Sprintf("MOTO_PORT=%d", edgePort),
		"MOTO_IAM_LOAD_MANAGED_POLICIES=true",
		"GANGPLANK_IAM_GENERATIONS="+iamGenerations,
		"AWS_DEFAULT_REGION="+Region,
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
	)
}

func findPython(ctx context.Context) (string, error) {
	candidates := []string{os.Getenv("GANGPLANK_PYTHON"), "python3", "python"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		path, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		check := exec.CommandContext(ctx, path, "-c", "import moto.server, flask, werkzeug")
		if check.Run() == nil {
			return path, nil
		}
	}
	return "", ErrMotoMissing
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitReady(ctx context.Context, motoURL string, timeout time.Duration, exited <-chan error) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("moto_server exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := client.Get(motoURL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no answer within %s", timeout)
}

// Stop ends moto (its whole process group) and the edge. It is safe to call more than once.
func (e *Env) Stop() {
	e.stopOnce.Do(func() {
		if e.cmd != nil && e.cmd.Process != nil {
			_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGTERM)
			done := make(chan struct{})
			go func() {
				// Wait is already running in Start's goroutine; poll for the process to go.
				for i := 0; i < 50; i++ {
					if syscall.Kill(e.cmd.Process.Pid, 0) != nil {
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
				close(done)
			}()
			<-done
			_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
		}
		if e.edge != nil {
			_ = e.edge.Close()
		}
		if e.generations != nil {
			e.generations.close()
		}
		if e.tmpDir != "" {
			_ = os.RemoveAll(e.tmpDir)
		}
	})
}

// Reset clears all of moto's state (every account, region and service).
func (e *Env) Reset(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.MotoEndpoint+"/moto-api/reset", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto reset: %s", resp.Status)
	}
	// Every credential moto issued is gone with its state.
	e.creds.reset()
	e.policies.reset()
	return nil
}

// Config returns an AWS configuration whose clients talk to the edge as the platform account, in Region.
// Clients fail fast by default (one attempt), so an unsupported call fails at once; pass
// config.WithRetryMaxAttempts to change that.
func (e *Env) Config(ctx context.Context, extra ...func(*config.LoadOptions) error) (aws.Config, error) {
	opts := append([]func(*config.LoadOptions) error{
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("testing", "testing", "")),
		config.WithBaseEndpoint(e.Endpoint),
		config.WithRetryMaxAttempts(1),
		// Do not read the developer's ~/.aws files: local runs must never reach a real account.
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	}, extra...)
	return config.LoadDefaultConfig(ctx, opts...)
}

// Intercept adds an interceptor at run time (ahead of those given to Start) and returns a function that removes
// it. Tests use it to inject faults for the duration of one test.
func (e *Env) Intercept(i Interceptor) (remove func()) {
	reg := &registration{i}
	e.mu.Lock()
	e.interceptors = append([]*registration{reg}, e.interceptors...)
	e.mu.Unlock()
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		for n, x := range e.interceptors {
			if x == reg {
				e.interceptors = append(e.interceptors[:n:n], e.interceptors[n+1:]...)
				return
			}
		}
	}
}

// Handle serves a plain HTTP route on the edge (a CloudFormation ResponseURL, a console page, Lambda Invoke).
// Routes take precedence over AWS API calls.
func (e *Env) Handle(pattern string, h http.Handler) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.routes.Handle(pattern, h)
	e.routed = true
}

// ServeHTTP routes a request: an edge route if one matches, else the first interceptor that answers, else moto.
func (e *Env) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.RLock()
	routed, interceptors := e.routed, e.interceptors
	e.mu.RUnlock()
	if routed {
		if _, pattern := e.routes.Handler(r); pattern != "" {
			e.routes.ServeHTTP(w, r) // through the mux, which sets the pattern's path values
			return
		}
	}
	if service, _, _ := parseAuthorization(r.Header.Get("Authorization")); service == "dynamodb" {
		e.dynamoMu.Lock()
		defer e.dynamoMu.Unlock()
	}
	call, err := ParseCall(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, reg := range interceptors {
		if reg.Intercept(w, call) {
			return
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(call.Body))
	r.ContentLength = int64(len(call.Body))
	e.proxy.ServeHTTP(w, r)
}

// registration gives each added interceptor an identity, so it can be removed even when it is a func value
// (which Go cannot compare).
type registration struct{ Interceptor }

func register(list []Interceptor) []*registration {
	regs := make([]*registration, len(list))
	for i, x := range list {
		regs[i] = &registration{x}
	}
	return regs
}

// tailBuffer keeps the last max bytes written, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
