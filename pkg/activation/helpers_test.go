package activation_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// executionBound is how long a test waits for a workflow to end. It is generous on purpose: the tests wait for the
// execution's own end (not for a guess of how long it takes), so a slow, busy machine makes them slower, never
// wrong; the bound only turns a workflow that never ends into a clear failure.
const executionBound = 10 * time.Minute

// newPlatform is a test platform with production's batch deadline and callback timeout: a test that is not about
// the deadline must not depend on the machine being fast enough to beat it (tests that are set their own).
func newPlatform(t testing.TB, opts ...testkit.PlatformOptions) *testkit.Platform {
	t.Helper()
	o := testkit.PlatformOptions{CallbackTimeout: 120 * time.Second}
	if len(opts) > 0 {
		o = opts[0]
		if o.CallbackTimeout == 0 {
			o.CallbackTimeout = 120 * time.Second
		}
	}
	p := testkit.NewPlatform(t, o)
	p.Services.Activation.Deadline = 10 * time.Minute
	return p
}

// executionARN is the workflow execution of an activation (named by its id).
func executionARN(p *testkit.Platform, id string) string {
	return strings.Replace(p.Config.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + id
}

// waitExecution waits until the activation's execution has ended (DescribeExecution) and returns its status.
func waitExecution(t testing.TB, p *testkit.Platform, id string) sfntypes.ExecutionStatus {
	t.Helper()
	return waitExecutionFor(t, p, id, executionBound)
}

// waitExecutionFor is waitExecution with another bound (a benchmark's grows with its size).
func waitExecutionFor(t testing.TB, p *testkit.Platform, id string, bound time.Duration) sfntypes.ExecutionStatus {
	t.Helper()
	client := sfn.NewFromConfig(testkit.AWSConfig(t, nil))
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	for {
		out, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(executionARN(p, id))})
		if err != nil && ctx.Err() == nil {
			t.Fatalf("describe the execution of %s: %v", id, err)
		}
		if err == nil && out.Status != sfntypes.ExecutionStatusRunning {
			return out.Status
		}
		select {
		case <-ctx.Done():
			pr, _, _ := p.Services.Activation.Get(context.Background(), "acme", id, 0, 0)
			t.Fatalf("the execution of activation %s was still running after %v (activation: %s, %d succeeded, %d failed, "+
				"%d in progress, %d pending)", id, bound, pr.Status, pr.Succeeded, pr.Failed, pr.InProgress, pr.Pending)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// finished waits for the activation's execution to end, then for the callbacks still in flight, and returns the
// activation's progress with every item.
func finished(t testing.TB, p *testkit.Platform, id string) (activation.Progress, sfntypes.ExecutionStatus) {
	t.Helper()
	status := waitExecution(t, p, id)
	idle(t)
	pr, _, err := p.Services.Activation.Get(context.Background(), "acme", id, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return pr, status
}

// idle waits until no callback or task is running in the local AWS (late stack notifications, redeliveries).
func idle(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), executionBound)
	defer cancel()
	if err := testkit.LocalAWS(t).WaitIdle(ctx); err != nil && ctx.Err() != nil {
		t.Fatalf("the local AWS did not become idle: %v", err)
	}
}

// waitFor polls cond until it holds, failing with what after the bound.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(executionBound); ; time.Sleep(200 * time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, executionBound)
		}
	}
}

// removeMemberRole deletes an account's OrganizationAccountAccessRole (an invited account has none) and returns a
// function that creates it again as Organizations does: the trust policy it had, AdministratorAccess attached.
func removeMemberRole(t testing.TB, env *localaws.Env, accountID string) (restore func()) {
	t.Helper()
	client := env.AccountIAM(accountID)
	role, err := client.GetRole(t.Context(), &iam.GetRoleInput{RoleName: aws.String("OrganizationAccountAccessRole")})
	if err != nil {
		t.Fatal(err)
	}
	trust, err := url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument))
	if err != nil || !json.Valid([]byte(trust)) {
		trust = aws.ToString(role.Role.AssumeRolePolicyDocument)
	}
	testkit.DeleteRole(t, accountID, "OrganizationAccountAccessRole")
	return func() {
		ctx := context.Background()
		if _, err := client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("OrganizationAccountAccessRole"),
			AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			t.Fatalf("create the member role again: %v", err)
		}
		if _, err := client.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("OrganizationAccountAccessRole"),
			PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}); err != nil {
			t.Fatalf("attach AdministratorAccess to the member role again: %v", err)
		}
	}
}

// registerTask replaces the activation function of the platform's workflow with wrap around the real one.
func registerTask(t testing.TB, p *testkit.Platform, wrap func(ctx context.Context, b activation.Batch, real func(context.Context, activation.Batch) (activation.Batch, error)) (activation.Batch, error)) {
	testkit.LocalAWS(t).RegisterLambda(p.Provisioned.ActivationFunction, 5*time.Minute, func(ctx context.Context, payload json.RawMessage) (any, error) {
		var b activation.Batch
		if err := json.Unmarshal(payload, &b); err != nil {
			return nil, err
		}
		return wrap(ctx, b, p.Services.Activation.Handle)
	})
}
