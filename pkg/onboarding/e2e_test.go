package onboarding_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// world is a platform with tenant acme, whose customer launches onboarding stacks in their own AWS accounts.
type world struct {
	*testkit.Platform
	env   *localaws.Env
	admin string
}

func newWorld(t *testing.T, opts ...testkit.PlatformOptions) *world {
	p := testkit.NewPlatform(t, opts...)
	return &world{Platform: p, env: testkit.LocalAWS(t), admin: p.Token(t, "acme", auth.Admin)}
}

// addAccount adds an account to tenant (through the API) and returns its launch instructions.
func (w *world) addAccount(t *testing.T, tenant, accountID, typ string) onboarding.Instructions {
	t.Helper()
	r := w.Do(t, testkit.Request{Method: http.MethodPost, Path: "/v1/accounts", Token: w.Token(t, tenant, auth.Admin),
		Body: map[string]any{"name": "Account " + accountID, "accountId": accountID, "type": typ, "region": "eu-west-1"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("add account: %d %s", r.Status, r.Body)
	}
	var out struct {
		Onboarding onboarding.Instructions `json:"onboarding"`
	}
	r.JSON(t, &out)
	return out.Onboarding
}

// launch is the customer running the CLI command of the instructions in account inAccount (normally the
// instructions' own), with some parameters changed, and waits until everything it set off has settled.
func (w *world) launch(t *testing.T, inAccount string, ins onboarding.Instructions, change map[string]string) *cloudformation.DescribeStacksOutput {
	t.Helper()
	params := map[string]string{}
	for k, v := range ins.Parameters {
		params[k] = v
	}
	params["RoleName"] = testkit.UniqueName("GangplankAccess") // moto's IAM outlives the test
	for k, v := range change {
		params[k] = v
	}
	var list []cfntypes.Parameter
	for k, v := range params {
		list = append(list, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
	}
	cfn := w.cfn(inAccount, ins.Region)
	out, err := cfn.CreateStack(t.Context(), &cloudformation.CreateStackInput{
		StackName: aws.String(ins.StackName), TemplateURL: aws.String(ins.TemplateURL), Parameters: list,
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam}, NotificationARNs: []string{params["CallbackTopicArn"]},
	})
	if err != nil {
		t.Fatalf("create stack: %v", err)
	}
	return w.settle(t, inAccount, ins.Region, aws.ToString(out.StackId))
}

func (w *world) cfn(account, region string) *cloudformation.Client {
	return cloudformation.NewFromConfig(w.env.AccountConfig(account), func(o *cloudformation.Options) { o.Region = region })
}

// settle waits until the local AWS is idle and returns the stack as the customer's console shows it.
func (w *world) settle(t *testing.T, account, region, stackID string) *cloudformation.DescribeStacksOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := w.env.WaitIdle(ctx); err != nil {
		t.Fatalf("the local AWS did not settle: %v", err)
	}
	out, err := w.cfn(account, region).DescribeStacks(t.Context(), &cloudformation.DescribeStacksInput{StackName: aws.String(stackID)})
	if err != nil {
		t.Fatalf("describe stack: %v", err)
	}
	return out
}

func (w *world) account(t *testing.T, tenant, accountID string) accounts.Account {
	t.Helper()
	a, err := w.Services.Accounts.Get(t.Context(), tenant, accountID)
	if err != nil {
		t.Fatalf("get account: %v", err)
	}
	return a
}

// TestStackActivatesAccount: the customer launches the stack; the custom resource reaches the callback through SNS,
// the role is verified, the account is active and CloudFormation got a SUCCESS it accepts.
func TestStackActivatesAccount(t *testing.T) {
	w := newWorld(t)
	ins := w.addAccount(t, "acme", "111111111111", "standalone")
	stack := w.launch(t, "111111111111", ins, nil).Stacks[0]
	if stack.StackStatus != cfntypes.StackStatusCreateComplete {
		w.dumpEvents(t, "111111111111", ins.Region, aws.ToString(stack.StackId))
		t.Fatalf("stack %s: %s", stack.StackStatus, aws.ToString(stack.StackStatusReason))
	}
	a := w.account(t, "acme", "111111111111")
	roleOutput := ""
	for _, o := range stack.Outputs {
		if aws.ToString(o.OutputKey) == "RoleArn" {
			roleOutput = aws.ToString(o.OutputValue)
		}
	}
	if a.Status != accounts.Active || a.RoleARN != roleOutput || a.StackID != aws.ToString(stack.StackId) ||
		a.TemplateVersion != onboarding.TemplateVersion || a.ActivatedAt == nil || a.Health.Status != accounts.Healthy {
		t.Errorf("account = %+v, stack role output %s", a, roleOutput)
	}
	responses := w.env.CustomResourceResponses(aws.ToString(stack.StackId))
	if len(responses) != 1 {
		t.Fatalf("responses = %d, want 1", len(responses))
	}
	r := responses[0]
	if r.Status != "SUCCESS" || r.Invalid != "" || r.PhysicalResourceID == "" || r.Data["RoleArn"] != roleOutput || len(r.Body) > 4096 {
		t.Errorf("response = %+v", r)
	}
	for _, field := range []string{`"Status"`, `"PhysicalResourceId"`, `"StackId"`, `"RequestId"`, `"LogicalResourceId"`, `"NoEcho"`} {
		if !strings.Contains(string(r.Body), field) {
			t.Errorf("response body lacks %s: %s", field, r.Body)
		}
	}
}

// TestStackFailures: every way a launch can go wrong ends with a FAILED answer the customer can act on in their
// console, the stack rolled back, and the account showing the same reason (or untouched, when the request proves
// nothing about the account).
func TestStackFailures(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name      string
		account   string // the account Gangplank knows
		inAccount string // where the customer launches the stack ("" = the same)
		change    func(t *testing.T, ins onboarding.Instructions) map[string]string
		reason    string
		status    accounts.Status // the account afterwards
	}{
		{name: "forged token", account: "210000000001",
			change: func(*testing.T, onboarding.Instructions) map[string]string {
				return map[string]string{"ActivationToken": "gpa_forged-token-that-gangplank-never-issued-00000"}
			},
			reason: "not valid for the account this stack runs in", status: accounts.Pending},
		{name: "replaced token", account: "210000000002",
			change: func(t *testing.T, ins onboarding.Instructions) map[string]string {
				w.Do(t, testkit.Request{Method: http.MethodGet, Path: "/v1/accounts/210000000002/onboarding", Token: w.admin})
				return nil
			},
			// A replaced link proves nothing about who launched it: the answer explains, the account stays as it is.
			reason: "replaced by a newer one", status: accounts.Pending},
		{name: "another tenant's token", account: "210000000003",
			change: func(t *testing.T, ins onboarding.Instructions) map[string]string {
				theirs := w.addAccount(t, "globex", "310000000003", "standalone")
				return map[string]string{"ActivationToken": theirs.Parameters["ActivationToken"]}
			},
			reason: "not valid for the account this stack runs in", status: accounts.Pending},
		// The same answer as a forged token: it must not tell which accounts the tenant holds.
		{name: "stack launched in another account", account: "210000000004", inAccount: "310000000004",
			reason: "not valid for the account this stack runs in", status: accounts.Pending},
		{name: "wrong External ID", account: "210000000005",
			change: func(*testing.T, onboarding.Instructions) map[string]string {
				return map[string]string{"ExternalId": "someone-elses-external-id"}
			},
			reason: "sts:ExternalId", status: accounts.Failed},
		{name: "account type changed", account: "210000000006",
			change: func(*testing.T, onboarding.Instructions) map[string]string {
				return map[string]string{"AccountType": "management"}
			},
			reason: "made for a standalone account", status: accounts.Failed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ins := w.addAccount(t, "acme", tc.account, "standalone")
			var change map[string]string
			if tc.change != nil {
				change = tc.change(t, ins)
			}
			in := tc.inAccount
			if in == "" {
				in = tc.account
			}
			stack := w.launch(t, in, ins, change).Stacks[0]
			if stack.StackStatus != cfntypes.StackStatusRollbackComplete {
				t.Errorf("stack status = %s, want ROLLBACK_COMPLETE", stack.StackStatus)
			}
			responses := w.env.CustomResourceResponses(aws.ToString(stack.StackId))
			if len(responses) == 0 || responses[0].Status != "FAILED" || !strings.Contains(responses[0].Reason, tc.reason) {
				t.Fatalf("first answer = %+v, want FAILED with %q", responses, tc.reason)
			}
			if responses[0].Invalid != "" {
				t.Errorf("CloudFormation would reject the answer: %s", responses[0].Invalid)
			}
			a := w.account(t, "acme", tc.account)
			if a.Status != tc.status {
				t.Errorf("account status = %s (%s), want %s", a.Status, a.StatusReason, tc.status)
			}
			if tc.status == accounts.Failed && !strings.Contains(a.StatusReason, tc.reason) {
				t.Errorf("account reason = %q, want it to say %q", a.StatusReason, tc.reason)
			}
		})
	}
}

// TestDuplicateDeliveries: SNS delivers every request three times at once; the account makes one transition and
// every delivery sends the same answer.
func TestDuplicateDeliveries(t *testing.T) {
	w := newWorld(t, testkit.PlatformOptions{ExtraDeliveries: 2})
	ins := w.addAccount(t, "acme", "111111111111", "standalone")
	stack := w.launch(t, "111111111111", ins, nil).Stacks[0]
	if stack.StackStatus != cfntypes.StackStatusCreateComplete {
		t.Fatalf("stack %s: %s", stack.StackStatus, aws.ToString(stack.StackStatusReason))
	}
	responses := w.env.CustomResourceResponses(aws.ToString(stack.StackId))
	if len(responses) != 3 {
		t.Fatalf("answers = %d, want 3", len(responses))
	}
	for _, r := range responses[1:] {
		if string(r.Body) != string(responses[0].Body) {
			t.Errorf("answers differ:\n%s\n%s", responses[0].Body, r.Body)
		}
	}
	page, err := w.Services.Audit.List(t.Context(), "acme", 50, "")
	if err != nil {
		t.Fatal(err)
	}
	activations := 0
	for _, e := range page.Items {
		if strings.HasPrefix(e.Action, "account.callback") {
			activations++
		}
	}
	if activations != 1 {
		t.Errorf("audit shows %d activations, want 1: %+v", activations, page.Items)
	}
}

// TestStackLifecycle: an update with a new link after rotating the External ID keeps the account active on the new
// ID; deleting the stack disconnects it, and CloudFormation always gets SUCCESS for the Delete.
func TestStackLifecycle(t *testing.T) {
	w := newWorld(t)
	ins := w.addAccount(t, "acme", "111111111111", "standalone")
	stack := w.launch(t, "111111111111", ins, nil).Stacks[0]
	stackID := aws.ToString(stack.StackId)
	if stack.StackStatus != cfntypes.StackStatusCreateComplete {
		t.Fatalf("stack %s: %s", stack.StackStatus, aws.ToString(stack.StackStatusReason))
	}

	if r := w.Do(t, testkit.Request{Method: http.MethodPost, Path: "/v1/tenant/external-id/rotate", Token: w.admin}); r.Status != 200 {
		t.Fatalf("rotate: %d %s", r.Status, r.Body)
	}
	var fresh onboarding.Instructions
	w.Do(t, testkit.Request{Method: http.MethodGet, Path: "/v1/accounts/111111111111/onboarding", Token: w.admin}).JSON(t, &fresh)
	var params []cfntypes.Parameter
	for k, v := range fresh.Parameters {
		params = append(params, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
	}
	params = append(params, cfntypes.Parameter{ParameterKey: aws.String("RoleName"), UsePreviousValue: aws.Bool(true)})
	cfn := w.cfn("111111111111", ins.Region)
	if _, err := cfn.UpdateStack(t.Context(), &cloudformation.UpdateStackInput{StackName: aws.String(stackID), UsePreviousTemplate: aws.Bool(true),
		Parameters: params, Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam}}); err != nil {
		t.Fatalf("update stack: %v", err)
	}
	updated := w.settle(t, "111111111111", ins.Region, stackID).Stacks[0]
	if updated.StackStatus != cfntypes.StackStatusUpdateComplete {
		t.Fatalf("update: %s %s", updated.StackStatus, aws.ToString(updated.StackStatusReason))
	}
	a := w.account(t, "acme", "111111111111")
	if a.Status != accounts.Active || a.Health.Status != accounts.Healthy {
		t.Errorf("after the update: %s, health %+v", a.Status, a.Health)
	}
	requests := w.env.CustomResourceRequests(stackID)
	if last := requests[len(requests)-1]; last.RequestType != "Update" || last.OldResourceProperties == nil {
		t.Errorf("last request = %+v, want an Update with OldResourceProperties", last)
	}

	if _, err := cfn.DeleteStack(t.Context(), &cloudformation.DeleteStackInput{StackName: aws.String(stackID)}); err != nil {
		t.Fatalf("delete stack: %v", err)
	}
	deleted := w.settle(t, "111111111111", ins.Region, stackID).Stacks[0]
	if deleted.StackStatus != cfntypes.StackStatusDeleteComplete {
		t.Errorf("delete: %s %s", deleted.StackStatus, aws.ToString(deleted.StackStatusReason))
	}
	a = w.account(t, "acme", "111111111111")
	if a.Status != accounts.Disconnected || !strings.Contains(a.StatusReason, "was deleted") {
		t.Errorf("after the delete: %s %q", a.Status, a.StatusReason)
	}
	responses := w.env.CustomResourceResponses(stackID)
	if last := responses[len(responses)-1]; last.Request.RequestType != "Delete" || last.Status != "SUCCESS" || last.Invalid != "" {
		t.Errorf("Delete answer = %+v", last)
	}
}

// TestStackFailsBeforeCustomResource: the role name is already taken in the customer's account, so the stack fails
// before its custom resource runs; the stack notification tells Gangplank, which shows CloudFormation's reason.
func TestStackFailsBeforeCustomResource(t *testing.T) {
	w := newWorld(t)
	ins := w.addAccount(t, "acme", "111111111111", "standalone")
	taken := testkit.UniqueName("GangplankAccess")
	testkit.CreateRole(t, "111111111111", taken, ins.Manual.TrustPolicy)
	stack := w.launch(t, "111111111111", ins, map[string]string{"RoleName": taken}).Stacks[0]
	if stack.StackStatus != cfntypes.StackStatusRollbackComplete {
		t.Errorf("stack = %s", stack.StackStatus)
	}
	if n := len(w.env.CustomResourceRequests(aws.ToString(stack.StackId))); n != 0 {
		t.Errorf("the custom resource ran %d times", n)
	}
	a := w.account(t, "acme", "111111111111")
	if a.Status != accounts.Failed || !strings.Contains(a.StatusReason, "already exists") {
		t.Errorf("account = %s %q", a.Status, a.StatusReason)
	}
}

// TestLostAnswer: the callback never answers (its messages are lost); CloudFormation fails the custom resource at
// its ServiceTimeout, and the stack notification marks the account failed with that reason.
func TestLostAnswer(t *testing.T) {
	w := newWorld(t)
	ins := w.addAccount(t, "acme", "111111111111", "standalone")
	defer w.env.SetCustomResourceTimeoutCap(time.Second)()
	defer w.env.Intercept(localaws.InterceptorFunc(func(rw http.ResponseWriter, c *localaws.Call) bool {
		if c.Is("sns", "Publish") && strings.Contains(c.Form("Message"), `"RequestType":"Create"`) {
			rw.Header().Set("Content-Type", "text/xml")
			_, _ = rw.Write([]byte(`<PublishResponse><PublishResult><MessageId>lost</MessageId></PublishResult></PublishResponse>`))
			return true
		}
		return false
	}))()
	stack := w.launch(t, "111111111111", ins, nil).Stacks[0]
	if stack.StackStatus != cfntypes.StackStatusRollbackComplete {
		t.Errorf("stack = %s", stack.StackStatus)
	}
	a := w.account(t, "acme", "111111111111")
	if a.Status != accounts.Failed || !strings.Contains(a.StatusReason, "did not receive a response") {
		t.Errorf("account = %s %q", a.Status, a.StatusReason)
	}
}

// TestRoleBecomesAssumableLate: IAM's propagation delay: the first AssumeRole calls are refused; the callback keeps
// trying within its budget and activates the account.
func TestRoleBecomesAssumableLate(t *testing.T) {
	w := newWorld(t)
	ins := w.addAccount(t, "acme", "111111111111", "standalone")
	refusals := 2
	defer w.env.Intercept(localaws.InterceptorFunc(func(rw http.ResponseWriter, c *localaws.Call) bool {
		if c.Is("sts", "AssumeRole") && strings.Contains(c.Form("RoleArn"), ":111111111111:") && refusals > 0 {
			refusals--
			localaws.WriteQueryError(rw, http.StatusForbidden, "AccessDenied", "not yet")
			return true
		}
		return false
	}))()
	stack := w.launch(t, "111111111111", ins, nil).Stacks[0]
	if stack.StackStatus != cfntypes.StackStatusCreateComplete || refusals != 0 {
		t.Errorf("stack %s (%s), refusals left %d", stack.StackStatus, aws.ToString(stack.StackStatusReason), refusals)
	}
	if a := w.account(t, "acme", "111111111111"); a.Status != accounts.Active {
		t.Errorf("account = %s %q", a.Status, a.StatusReason)
	}
}

func (w *world) dumpEvents(t *testing.T, account, region, stackID string) {
	out, err := w.cfn(account, region).DescribeStackEvents(t.Context(), &cloudformation.DescribeStackEventsInput{StackName: aws.String(stackID)})
	if err != nil {
		t.Logf("events: %v", err)
		return
	}
	for i := len(out.StackEvents) - 1; i >= 0; i-- {
		e := out.StackEvents[i]
		t.Logf("event %s %s %s %s", aws.ToString(e.LogicalResourceId), aws.ToString(e.ResourceType), e.ResourceStatus, aws.ToString(e.ResourceStatusReason))
	}
}

// TestTemplateMatchesManualPolicies: for every account type, access level and identity access option, the role the
// template creates has exactly the trust and permission policies the manual instructions (and the Terraform, built
// from the same policies) describe: whichever way a customer connects, Gangplank gets the same access.
func TestTemplateMatchesManualPolicies(t *testing.T) {
	w := newWorld(t)
	cases := []struct{ account, typ, level, identity, prefix string }{
		{"410000000001", "standalone", "resources", "", ""},
		{"410000000002", "management", "resources_tags", "read", ""},
		{"410000000003", "management", "tags_write", "readwrite", ""},
		{"410000000004", "linked", "resources", "readwrite", "/engineering/contractors/"},
	}
	for _, tc := range cases {
		t.Run(tc.typ+"/"+tc.level+"/"+tc.identity+tc.prefix, func(t *testing.T) {
			body := map[string]any{"name": "P " + tc.account, "accountId": tc.account, "type": tc.typ, "region": "us-east-1", "accessLevel": tc.level}
			if tc.typ == "linked" {
				mgmt := "410000000099"
				if _, err := w.Services.Accounts.Get(t.Context(), "acme", mgmt); err != nil {
					w.addAccount(t, "acme", mgmt, "management")
				}
				body["managementAccountId"] = mgmt
			}
			if tc.identity != "" {
				body["identityAccess"] = tc.identity
			}
			if tc.prefix != "" {
				body["identityPathPrefix"] = tc.prefix
			}
			r := w.Do(t, testkit.Request{Method: http.MethodPost, Path: "/v1/accounts", Token: w.admin, Body: body})
			var created struct {
				Onboarding onboarding.Instructions `json:"onboarding"`
			}
			r.JSON(t, &created)
			ins := created.Onboarding
			stack := w.launch(t, tc.account, ins, nil).Stacks[0]
			if stack.StackStatus != cfntypes.StackStatusCreateComplete {
				t.Fatalf("stack %s %s", stack.StackStatus, aws.ToString(stack.StackStatusReason))
			}
			a := w.account(t, "acme", tc.account)
			name := a.RoleARN[strings.LastIndexByte(a.RoleARN, '/')+1:]
			client := w.env.AccountIAM(tc.account)
			role, err := client.GetRole(t.Context(), &iam.GetRoleInput{RoleName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := normalize(t, aws.ToString(role.Role.AssumeRolePolicyDocument)), normalize(t, ins.Manual.TrustPolicy); got != want {
				t.Errorf("trust policy:\n template %s\n manual   %s", got, want)
			}
			listed, err := client.ListRolePolicies(t.Context(), &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, p := range listed.PolicyNames {
				out, err := client.GetRolePolicy(t.Context(), &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(p)})
				if err != nil {
					t.Fatal(err)
				}
				got[p] = normalize(t, aws.ToString(out.PolicyDocument))
			}
			want := map[string]string{}
			for _, p := range ins.Manual.PermissionPolicies {
				want[p.Name] = normalize(t, p.Document)
			}
			if len(got) != len(want) {
				t.Errorf("template policies %v, manual policies %v", keys(got), keys(want))
			}
			for n, doc := range want {
				if got[n] != doc {
					t.Errorf("policy %s:\n template %s\n manual   %s", n, got[n], doc)
				}
			}
			if _, ok := got[onboarding.IdentityPolicyName]; ok != (tc.identity != "") {
				t.Errorf("identity access %q: the role has %s = %v", tc.identity, onboarding.IdentityPolicyName, ok)
			}
			if tc.prefix != "" && !strings.Contains(got[onboarding.IdentityPolicyName], "user"+tc.prefix+"*") {
				t.Errorf("the readwrite statement is not limited to %s: %s", tc.prefix, got[onboarding.IdentityPolicyName])
			}
		})
	}
}

// normalize renders a policy (JSON text, URL-encoded JSON, or a value) canonically: single values as lists, no
// empty fields, keys sorted.
func normalize(t *testing.T, policy any) string {
	t.Helper()
	var raw []byte
	switch p := policy.(type) {
	case string:
		if u, err := url.QueryUnescape(p); err == nil && strings.HasPrefix(p, "%7B") {
			p = u
		}
		raw = []byte(p)
	default:
		raw, _ = json.Marshal(p)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("policy is not JSON: %s", raw)
	}
	out, _ := json.Marshal(canonical(v, ""))
	return string(out)
}

func canonical(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, c := range x {
			if c == nil || c == "" {
				continue
			}
			m[k] = canonical(c, k)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, c := range x {
			l[i] = canonical(c, "")
		}
		return l
	case string:
		if key == "Action" || key == "Resource" || key == "Statement" {
			return []any{x}
		}
	}
	return v
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
