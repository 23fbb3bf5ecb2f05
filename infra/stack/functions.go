package stack

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Trigger says what invokes a function, and with it whether the invocation is asynchronous (and so needs a
// failure destination) or synchronous (its caller sees the error and retries).
type Trigger string

const (
	// HTTP: the HTTP API, synchronously.
	HTTP Trigger = "http"
	// CallbackTopics: the callback topic of every served region, asynchronously (SNS → Lambda).
	CallbackTopics Trigger = "callback-topics"
	// Schedule: EventBridge Scheduler, asynchronously, at Function.Schedule.
	Schedule Trigger = "schedule"
	// Workflow: a task of the bulk-activation state machine, synchronously (the workflow's Retry/Catch handle errors).
	Workflow Trigger = "workflow"
	// Queue: an SQS queue (with its own dead-letter queue) that other functions feed (Function.Feeds).
	Queue Trigger = "queue"
)

// Function is one row of the function table: everything the stack needs to deploy functions/<Name>.
type Function struct {
	Name    string // the folder under functions/ (and the function's name after the prefix)
	Memory  int    // MB; Go needs little, but CPU scales with memory
	Timeout time.Duration
	// ReservedConcurrency caps (and reserves) concurrent executions. Set where it protects customers' APIs and
	// quotas (Organizations allows a handful of calls per second per account; Cost Explorer charges per call). 0:
	// unreserved.
	ReservedConcurrency int
	Trigger             Trigger
	// Schedule is the Scheduler expression of a Schedule-triggered function.
	Schedule string
	// CustomerAccess: the function reaches customers' accounts through the connector role.
	CustomerAccess bool
	// StartsWorkflow: the function starts bulk-activation executions.
	StartsWorkflow bool
	// Feeds names the Queue-triggered function whose queue this function sends to.
	Feeds string
	// Why explains the sizing, for reviewers.
	Why string
}

// Functions is the function table. A folder under functions/ without a row fails the synth (so a new function
// cannot be forgotten); a row without a folder is skipped (its function is not on this branch yet).
var Functions = []Function{
	{Name: "api", Memory: 512, Timeout: 29 * time.Second, Trigger: HTTP, CustomerAccess: true, StartsWorkflow: true,
		Why: "API Gateway gives up after 30 s; 512 MB for fast cold starts; unreserved so the API never throttles on the " +
			"account's other functions' reservations"},
	{Name: "callback", Memory: 256, Timeout: 2 * time.Minute, ReservedConcurrency: 10, Trigger: CallbackTopics,
		CustomerAccess: true, StartsWorkflow: true,
		Why: "role verification retries through IAM propagation for up to 90 s (onboarding.DefaultCallbackBudget) plus " +
			"a 15 s margin to answer CloudFormation; 10 at once bounds STS calls into customers' accounts"},
	{Name: "discovery", Memory: 512, Timeout: 15 * time.Minute, ReservedConcurrency: 2, Trigger: Schedule,
		Schedule: "cron(0 2 * * ? *)", CustomerAccess: true,
		Why: "daily walk of every management account's organization; 2 at once keeps Organizations calls under its " +
			"per-account rate (ListAccounts 8 TPS)"},
	{Name: "activation", Memory: 256, Timeout: 5 * time.Minute, ReservedConcurrency: 10, Trigger: Workflow,
		CustomerAccess: true,
		Why: "one member account per task (launch the stack, wait, verify); the workflow's Map concurrency is the " +
			"real bound, the reservation a backstop"},
	{Name: "costsync-scheduler", Memory: 256, Timeout: 5 * time.Minute, ReservedConcurrency: 1, Trigger: Schedule,
		Schedule: "cron(0 6 * * ? *)", Feeds: "costsync-worker",
		Why: "daily: enqueues one message per payer account; one at a time so runs never overlap"},
	{Name: "costsync-worker", Memory: 512, Timeout: 5 * time.Minute, ReservedConcurrency: 5, Trigger: Queue,
		CustomerAccess: true,
		Why: "one payer account's Cost Explorer pages per message; Cost Explorer charges per request and throttles, " +
			"so 5 at once"},
}

// Deployed returns the rows of the folders that exist under repoRoot/functions, and fails if a folder has no row.
func Deployed(repoRoot string) ([]Function, error) {
	folders, err := FunctionFolders(repoRoot)
	if err != nil {
		return nil, err
	}
	var out []Function
	for _, name := range folders {
		i := slices.IndexFunc(Functions, func(f Function) bool { return f.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("functions/%s has no row in infra/stack/functions.go (Functions): add one "+
				"(memory, timeout, concurrency, trigger) so the stack deploys it", name)
		}
		out = append(out, Functions[i])
	}
	for _, f := range out {
		if f.Feeds != "" && !slices.ContainsFunc(out, func(g Function) bool { return g.Name == f.Feeds }) {
			return nil, fmt.Errorf("functions/%s feeds %s, which is not in functions/", f.Name, f.Feeds)
		}
	}
	return out, nil
}

// FunctionFolders lists the folders under repoRoot/functions that hold a main package.
func FunctionFolders(repoRoot string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(repoRoot, "functions"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(repoRoot, "functions", e.Name(), "main.go")); err == nil {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// BuildBinaries compiles each function for provided.al2023 on arm64 into buildDir/<name>/bootstrap and returns the folders,
// which become the functions' code assets. It runs the Go toolchain directly (no Docker): static binaries
// (CGO_ENABLED=0), no RPC shim (lambda.norpc, which provided.* runtimes do not use), stripped (-s -w) and
// reproducible (-trimpath, -buildvcs=false), so an unchanged function keeps its asset hash and is not redeployed.
func BuildBinaries(repoRoot, buildDir string, fns []Function) (map[string]string, error) {
	dirs := map[string]string{}
	for _, f := range fns {
		dir := filepath.Join(buildDir, f.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false",
			"-ldflags=-s -w", "-o", filepath.Join(dir, "bootstrap"), "./functions/"+f.Name)
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build functions/%s: %v\n%s", f.Name, err, strings.TrimSpace(string(out)))
		}
		dirs[f.Name] = dir
	}
	return dirs, nil
}

// camel turns "costsync-worker" into "CostsyncWorker", for construct IDs and ASL substitution names.
func camel(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
