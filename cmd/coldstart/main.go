// Command coldstart measures each function's initialisation the way Lambda sees it: the time from exec to the
// binary's first request for work (GET /runtime/invocation/next) on a local stand-in for the Lambda Runtime API,
// side by side, in the same run, with a hello-world aws-lambda-go function built with the same flags, and with the
// floor every Gangplank function shares (hello-world, its AWS configuration from Lambda's environment and a
// DynamoDB client). It prints, per function, the median of -runs starts, its ratios to the hello-world's and to the
// floor's, and the zipped package size.
//
//	go run ./cmd/coldstart -runs 25
//
// Every function starts with the configuration its wiring reads (pkg/platform), pointing at addresses that are never
// called: nothing but configuration and client construction may happen before the first /next, so a function that
// reaches the network at init fails here.
package main

import (
	"archive/zip"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/tables"
)

func main() {
	runs := flag.Int("runs", 25, "starts per function")
	max := flag.Float64("max-ratio", 0, "fail if a function's median exceeds this multiple of the hello-world's (0: report only)")
	flag.Parse()
	if err := run(*runs, *max); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

type target struct {
	name, pkg string
	env       []string
	bin       string
	size      int64
	times     []time.Duration
}

func run(runs int, maxRatio float64) error {
	dir, err := os.MkdirTemp("", "gangplank-coldstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	targets := []*target{{name: "hello-world", pkg: "./cmd/coldstart/hello"}, {name: "sdk-floor", pkg: "./cmd/coldstart/floor"}}
	for _, f := range platform.Functions() {
		targets = append(targets, &target{name: f.Name, pkg: "./functions/" + f.Name, env: environment(f.Needs)})
	}
	for _, t := range targets {
		t.bin = filepath.Join(dir, t.name)
		build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", t.bin, t.pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", t.pkg, err, out)
		}
		if t.size, err = zippedSize(t.bin); err != nil {
			return err
		}
	}
	// Round-robin, so that whatever else the machine does weighs on every function alike.
	for range runs {
		for _, t := range targets {
			d, err := start(t)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			t.times = append(t.times, d)
		}
	}
	hello, floor := median(targets[0].times), median(targets[1].times)
	fmt.Printf("%-20s %12s %8s %8s %14s\n", "function", "init (median)", "× hello", "× floor", "package (zip)")
	var over []string
	for _, t := range targets {
		m := median(t.times)
		ratio := float64(m) / float64(hello)
		fmt.Printf("%-20s %10.1f ms %7.1f× %7.1f× %11.1f MB\n", t.name, float64(m)/float64(time.Millisecond), ratio,
			float64(m)/float64(floor), float64(t.size)/(1<<20))
		if maxRatio > 0 && ratio > maxRatio {
			over = append(over, fmt.Sprintf("%s (%.1f×)", t.name, ratio))
		}
	}
	fmt.Printf("(%d starts each, round-robin; exec to the first GET /runtime/invocation/next)\n", runs)
	if len(over) > 0 {
		return fmt.Errorf("over %.1f× the hello-world function: %s", maxRatio, strings.Join(over, ", "))
	}
	return nil
}

// start runs the binary once against a fresh stand-in for the Runtime API and returns the time until its first
// request for work; the process is then killed (a cold start is all that is measured).
func start(t *target) (time.Duration, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	first := make(chan time.Time, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/runtime/invocation/next") {
			select {
			case first <- time.Now():
			default:
			}
			<-r.Context().Done() // hold the request: no invocation ever comes
			return
		}
		// An init error report (/runtime/init/error): the function failed to start.
		body, _ := io.ReadAll(r.Body)
		http.Error(w, string(body), http.StatusAccepted)
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	cmd := exec.Command(t.bin)
	cmd.Env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(), "AWS_LAMBDA_FUNCTION_NAME=gangplank-" + t.name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST", "AWS_LAMBDA_LOG_FORMAT=JSON",
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDCOLDSTART", "AWS_SECRET_ACCESS_KEY=coldstart",
		"AWS_SESSION_TOKEN=coldstart", "HOME=" + os.TempDir(), "PATH=/usr/bin:/bin",
	}, t.env...)
	// A function that cannot start logs why (JSON, on stdout) before it exits: keep both streams for the error.
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill(); <-exited }()
	select {
	case at := <-first:
		return at.Sub(began), nil
	case err := <-exited:
		exited <- err
		return 0, fmt.Errorf("exited before asking for work (%v): %s", err, output.String())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		err := <-exited // the output is complete only once the process is gone
		exited <- err
		return 0, fmt.Errorf("no request for work within 30 s: %s", output.String())
	}
}

// environment is the configuration a function's wiring reads (what the CDK stack gives it), with addresses that
// are never called: the cursor key inline rather than from Secrets Manager, so that init makes no request.
func environment(n platform.Needs) []string {
	var env []string
	for _, t := range tables.All() {
		if _, ok := n.Tables[t.ID]; ok {
			env = append(env, t.EnvVar+"=gangplank-"+t.ID)
		}
	}
	if n.CursorKey {
		env = append(env, "CURSOR_KEY="+strings.Repeat("k", 64))
	}
	if n.Customers {
		env = append(env, "CONNECTOR_ROLE_ARN=arn:aws:iam::123456789012:role/gangplank-platform-connector")
	}
	if n.Onboarding {
		env = append(env, "ONBOARDING_TEMPLATE_URL=https://gangplank-templates.s3.us-east-1.amazonaws.com/onboarding/1.0.0/onboarding.yaml",
			"PLATFORM_PRINCIPAL_ARN=arn:aws:iam::123456789012:role/gangplank-platform-connector",
			"CALLBACK_TOPIC_ARN_PATTERN=arn:aws:sns:{region}:123456789012:gangplank-onboarding")
	}
	for _, q := range platform.Queues() {
		if n.Queues[q.ID].Sends() {
			env = append(env, q.EnvVar+"=https://sqs.us-east-1.amazonaws.com/123456789012/gangplank-"+q.ID)
		}
	}
	if len(n.Workflow) > 0 {
		env = append(env, "BULK_ACTIVATION_STATE_MACHINE_ARN=arn:aws:states:us-east-1:123456789012:stateMachine:gangplank-bulk-activation")
	}
	if n.IdentityKeys == platform.ReadWrite {
		env = append(env, "IDENTITY_SECRET_PREFIX=gangplank/identity",
			"IDENTITY_KMS_KEY_ID=arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000")
	}
	if n.Scheduler {
		env = append(env, "IDENTITY_SCHEDULE_GROUP=gangplank-identity", "IDENTITY_SCHEDULE_ROLE_ARN=arn:aws:iam::123456789012:role/gangplank-identity-scheduler",
			"IDENTITY_QUEUE_ARN=arn:aws:sqs:us-east-1:123456789012:gangplank-identity")
	}
	return env
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// zippedSize is the binary's size in a deflated zip, as Lambda receives the package.
func zippedSize(path string) (int64, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Deflate})
	if err != nil {
		return 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return int64(buf.Len()), nil
}
