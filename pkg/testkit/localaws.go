// Package testkit is what Gangplank's tests share: one local AWS per test binary (moto_server behind the edge),
// fresh tables per test, a token issuer, and an HTTP client that checks every response against the OpenAPI
// document. It fails tests loudly when moto is missing; it never skips them.
package testkit

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/gangplank/gangplank/pkg/awsx"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/tables"
)

var (
	envOnce  sync.Once
	env      *localaws.Env
	envErr   error
	tableSeq atomic.Int64
)

// Main runs a test binary's tests and stops the shared local AWS afterwards. Use it from TestMain:
//
//	func TestMain(m *testing.M) { testkit.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if env != nil {
		env.Stop()
	}
	if code == 0 {
		code = afterRun()
	}
	os.Exit(code)
}

// afterRun holds checks that need the whole run (such as OpenAPI coverage); they set a non-zero exit code.
var afterRunChecks []func() error

func afterRun() int {
	for _, check := range afterRunChecks {
		if err := check(); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL:", err)
			return 1
		}
	}
	return 0
}

// LocalAWS returns the test binary's local AWS, starting it on first use.
func LocalAWS(t testing.TB) *localaws.Env {
	t.Helper()
	envOnce.Do(func() {
		// Longer than moto's own start (ReadyTimeout: a busy machine may take minutes).
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		env, envErr = localaws.Start(ctx, localaws.Options{MotoLog: motoLog(), ReadyTimeout: 3 * time.Minute})
	})
	if envErr != nil {
		t.Fatalf("local AWS unavailable: %v", envErr)
	}
	return env
}

// motoLog sends moto's output to stderr when GANGPLANK_MOTO_LOG=1, for debugging a failing test.
func motoLog() *os.File {
	if os.Getenv("GANGPLANK_MOTO_LOG") == "1" {
		return os.Stderr
	}
	return nil
}

// AWSConfig returns a configuration for clients of the local AWS whose calls are counted by calls (may be nil).
func AWSConfig(t testing.TB, calls *awsx.CallCounter, extra ...func(*config.LoadOptions) error) aws.Config {
	t.Helper()
	cfg, err := LocalAWS(t).Config(context.Background(), extra...)
	if err != nil {
		t.Fatalf("AWS config: %v", err)
	}
	if calls != nil {
		calls.Instrument(&cfg)
	}
	return cfg
}

// Tables creates a fresh set of Gangplank's tables for one test, so tests sharing a moto never see each other's data.
func Tables(t testing.TB, cfg aws.Config) tables.Names {
	t.Helper()
	names, err := localaws.CreateTables(context.Background(), dynamodb.NewFromConfig(cfg), uniquePrefix())
	if err != nil {
		t.Fatalf("create tables: %v", err)
	}
	return names
}

// uniquePrefix names one test's resources in the shared local AWS.
func uniquePrefix() string { return fmt.Sprintf("t%d-%d", os.Getpid(), tableSeq.Add(1)) }

// UniqueName returns a name no other test in any test binary sharing this machine uses: moto's state outlives tests.
func UniqueName(prefix string) string { return prefix + "-" + uniquePrefix() }

// Organizations returns an Organizations client acting in accountID of the local AWS (for building organizations
// in tests: moto keeps one organization per management account).
func Organizations(t testing.TB, accountID string) *organizations.Client {
	return organizations.NewFromConfig(LocalAWS(t).AccountConfig(accountID))
}

// NewOrganization creates an organization managed by managementID in the local AWS with n member accounts and
// returns the members' IDs (moto gives each an OrganizationAccountAccessRole trusting the management account).
func NewOrganization(t testing.TB, managementID string, n int) []string {
	t.Helper()
	org := Organizations(t, managementID)
	if _, err := org.CreateOrganization(t.Context(), &organizations.CreateOrganizationInput{FeatureSet: "ALL"}); err != nil {
		t.Fatalf("create organization: %v", err)
	}
	ids := make([]string, 0, n)
	for i := range n {
		out, err := org.CreateAccount(t.Context(), &organizations.CreateAccountInput{
			AccountName: aws.String(fmt.Sprintf("member-%04d", i)), Email: aws.String(fmt.Sprintf("member-%04d@example.com", i))})
		if err != nil {
			t.Fatalf("create account: %v", err)
		}
		ids = append(ids, aws.ToString(out.CreateAccountStatus.AccountId))
	}
	return ids
}

// WaitIdle waits (at most two minutes) until the local AWS has delivered everything in flight: callbacks, queued
// messages and what they set off. A failed delivery fails the test.
func WaitIdle(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := LocalAWS(t).WaitIdle(ctx); err != nil {
		t.Fatalf("the local AWS did not settle: %v", err)
	}
}
