package onboarding_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// addAccountIn adds a standalone account whose stack Gangplank expects in region.
func (w *world) addAccountIn(t *testing.T, accountID, region string) onboarding.Instructions {
	t.Helper()
	r := w.Do(t, testkit.Request{Method: http.MethodPost, Path: "/v1/accounts", Token: w.admin,
		Body: map[string]any{"name": "Account " + accountID, "accountId": accountID, "type": "standalone", "region": region}})
	if r.Status != http.StatusCreated {
		t.Fatalf("add account: %d %s", r.Status, r.Body)
	}
	var out struct {
		Onboarding onboarding.Instructions `json:"onboarding"`
	}
	r.JSON(t, &out)
	return out.Onboarding
}

// TestConnectStackRoleKeepsTheStack: pasting the RoleArn output of the stack that connected the account verifies
// the same role again; it does not forget the stack, so deleting that stack still disconnects the account.
func TestConnectStackRoleKeepsTheStack(t *testing.T) {
	w := newWorld(t)
	a, ins := w.connected(t, "131000000001")
	r := w.Do(t, testkit.Request{Method: http.MethodPost, Path: "/v1/accounts/131000000001/connect", Token: w.admin,
		Body: map[string]any{"roleArn": a.RoleARN}})
	if r.Status != http.StatusOK {
		t.Fatalf("connect: %d %s", r.Status, r.Body)
	}
	after := w.account(t, "acme", "131000000001")
	if after.Status != accounts.Active || after.StackID != a.StackID || after.GrantedAccessLevel != a.GrantedAccessLevel ||
		after.TemplateVersion != a.TemplateVersion || after.GrantedAccessLevel == "" {
		t.Errorf("after pasting the stack's role: stack %q granted %q template %q; before: stack %q granted %q template %q",
			after.StackID, after.GrantedAccessLevel, after.TemplateVersion, a.StackID, a.GrantedAccessLevel, a.TemplateVersion)
	}
	cfn := w.cfn("131000000001", ins.Region)
	if _, err := cfn.DeleteStack(t.Context(), &cloudformation.DeleteStackInput{StackName: aws.String(a.StackID)}); err != nil {
		t.Fatalf("delete stack: %v", err)
	}
	w.settle(t, "131000000001", ins.Region, a.StackID)
	if got := w.account(t, "acme", "131000000001"); got.Status != accounts.Disconnected {
		t.Errorf("after deleting the stack: %s %q", got.Status, got.StatusReason)
	}
}

// TestStackInAnotherRegion: an account Gangplank expects in us-east-1, launched in eu-west-1. AWS lets a stack
// reach only SNS topics of its own region, and the local AWS enforces the same rule; whichever way the customer
// changes the region, the account never becomes active through a stack where Gangplank does not expect it, and
// the customer reads why.
func TestStackInAnotherRegion(t *testing.T) {
	w := newWorld(t)
	t.Run("the CLI command run with --region eu-west-1", func(t *testing.T) {
		ins := w.addAccountIn(t, "132000000001", "us-east-1")
		in := parseCLI(t, ins.CLICommand+" --region eu-west-1")
		in.Parameters = withUniqueRole(in.Parameters)
		_, err := w.cfn("132000000001", in.region).CreateStack(t.Context(), in.CreateStackInput)
		if err == nil || !strings.Contains(err.Error(), "Invalid parameter: TopicArn") {
			t.Errorf("CreateStack in eu-west-1 notifying a us-east-1 topic: %v; AWS refuses it (Invalid parameter: TopicArn)", err)
		}
		if a := w.account(t, "acme", "132000000001"); a.Status != accounts.Pending {
			t.Errorf("account = %s %q", a.Status, a.StatusReason)
		}
	})
	t.Run("the console link opened in eu-west-1", func(t *testing.T) {
		ins := w.addAccountIn(t, "132000000002", "us-east-1")
		var params []cfntypes.Parameter
		for k, v := range ins.Parameters {
			params = append(params, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
		}
		out, err := w.cfn("132000000002", "eu-west-1").CreateStack(t.Context(), &cloudformation.CreateStackInput{
			StackName: aws.String(ins.StackName), TemplateURL: aws.String(ins.TemplateURL), Parameters: withUniqueRole(params),
			Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam}})
		if err != nil {
			t.Fatalf("create stack: %v", err)
		}
		stack := w.settle(t, "132000000002", "eu-west-1", aws.ToString(out.StackId)).Stacks[0]
		if stack.StackStatus != cfntypes.StackStatusRollbackComplete {
			t.Errorf("stack = %s, want ROLLBACK_COMPLETE", stack.StackStatus)
		}
		a := w.account(t, "acme", "132000000002")
		if a.Status == accounts.Active {
			t.Fatalf("the account became active through a stack in eu-west-1")
		}
		responses := w.env.CustomResourceResponses(aws.ToString(out.StackId))
		if len(responses) == 0 || responses[0].Status != "FAILED" || !strings.Contains(responses[0].Reason, "eu-west-1") ||
			!strings.Contains(responses[0].Reason, "us-east-1") {
			t.Fatalf("answers = %+v, want FAILED naming both regions", responses)
		}
		if a.Status != accounts.Failed || a.StatusReason != responses[0].Reason {
			t.Errorf("account = %s %q, want failed with the answer's reason", a.Status, a.StatusReason)
		}
	})
}

func withUniqueRole(params []cfntypes.Parameter) []cfntypes.Parameter {
	out := []cfntypes.Parameter{{ParameterKey: aws.String("RoleName"), ParameterValue: aws.String(testkit.UniqueName("GangplankAccess"))}}
	for _, p := range params {
		if aws.ToString(p.ParameterKey) != "RoleName" {
			out = append(out, p)
		}
	}
	return out
}

// cliCall is an `aws cloudformation create-stack|update-stack` command line read as the AWS CLI reads it.
type cliCall struct {
	*cloudformation.CreateStackInput
	operation, region string
}

// parseCLI reads a command as a POSIX shell and the AWS CLI would: shell variables assigned before the command
// are expanded, quotes removed, and a repeated option takes its last value.
func parseCLI(t *testing.T, command string) cliCall {
	t.Helper()
	vars := map[string]string{}
	var words []string
	for _, line := range strings.Split(strings.ReplaceAll(command, "\\\n", " "), "\n") {
		ws := shellWords(t, line, vars)
		if len(ws) == 1 && strings.Contains(ws[0], "=") && !strings.HasPrefix(ws[0], "-") {
			k, v, _ := strings.Cut(ws[0], "=")
			vars[k] = v
			continue
		}
		words = append(words, ws...)
	}
	if len(words) < 3 || words[0] != "aws" || words[1] != "cloudformation" {
		t.Fatalf("not an aws cloudformation command: %q", command)
	}
	c := cliCall{CreateStackInput: &cloudformation.CreateStackInput{}, operation: words[2]}
	for i := 3; i < len(words); i++ {
		opt := words[i]
		var values []string
		for i+1 < len(words) && !strings.HasPrefix(words[i+1], "--") {
			i++
			values = append(values, words[i])
		}
		switch opt {
		case "--region":
			c.region = values[len(values)-1]
		case "--stack-name":
			c.StackName = aws.String(values[0])
		case "--template-url":
			c.TemplateURL = aws.String(values[0])
		case "--capabilities":
			for _, v := range values {
				c.Capabilities = append(c.Capabilities, cfntypes.Capability(v))
			}
		case "--notification-arns":
			c.NotificationARNs = values
		case "--parameters":
			for _, v := range values {
				p := cfntypes.Parameter{}
				for _, kv := range strings.Split(v, ",") {
					k, val, _ := strings.Cut(kv, "=")
					switch k {
					case "ParameterKey":
						p.ParameterKey = aws.String(val)
					case "ParameterValue":
						p.ParameterValue = aws.String(val)
					case "UsePreviousValue":
						p.UsePreviousValue = aws.Bool(val == "true")
					}
				}
				c.Parameters = append(c.Parameters, p)
			}
		default:
			t.Fatalf("the test does not know the option %s", opt)
		}
	}
	return c
}

// shellWords splits a line into words: single quotes keep everything, double quotes expand $NAME and ${NAME}.
func shellWords(t *testing.T, line string, vars map[string]string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	expand := func(s string, i int) (string, int) {
		j := i + 1
		braced := j < len(s) && s[j] == '{'
		if braced {
			j++
		}
		k := j
		for k < len(s) && (s[k] == '_' || s[k] >= 'A' && s[k] <= 'Z' || s[k] >= 'a' && s[k] <= 'z' || s[k] >= '0' && s[k] <= '9') {
			k++
		}
		name := s[j:k]
		if braced {
			k++
		}
		return vars[name], k
	}
	for i := 0; i < len(line); {
		switch ch := line[i]; {
		case ch == ' ' || ch == '\t':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
			i++
		case ch == '#' && !inWord:
			i = len(line)
		case ch == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				t.Fatalf("unclosed quote in %q", line)
			}
			cur.WriteString(line[i+1 : i+1+end])
			inWord, i = true, i+end+2
		case ch == '"':
			i++
			for i < len(line) && line[i] != '"' {
				if line[i] == '$' {
					v, next := expand(line, i)
					cur.WriteString(v)
					i = next
					continue
				}
				cur.WriteByte(line[i])
				i++
			}
			inWord, i = true, i+1
		case ch == '$':
			v, next := expand(line, i)
			cur.WriteString(v)
			inWord, i = true, next
		default:
			cur.WriteByte(ch)
			inWord, i = true, i+1
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// run runs an `aws cloudformation create-stack|update-stack` command of the launch material in account, as the
// AWS CLI would, and waits until everything it set off has settled.
func (w *world) run(t *testing.T, account, command string) cfntypes.Stack {
	t.Helper()
	c := parseCLI(t, command)
	cfn := w.cfn(account, c.region)
	var stackID string
	switch c.operation {
	case "create-stack":
		c.Parameters = withUniqueRole(c.Parameters)
		out, err := cfn.CreateStack(t.Context(), c.CreateStackInput)
		if err != nil {
			t.Fatalf("create-stack: %v", err)
		}
		stackID = aws.ToString(out.StackId)
	case "update-stack":
		out, err := cfn.UpdateStack(t.Context(), &cloudformation.UpdateStackInput{StackName: c.StackName, TemplateURL: c.TemplateURL,
			Parameters: c.Parameters, Capabilities: c.Capabilities})
		if err != nil {
			t.Fatalf("update-stack: %v", err)
		}
		stackID = aws.ToString(out.StackId)
	default:
		t.Fatalf("the launch material runs %s", c.operation)
	}
	return w.settle(t, account, c.region, stackID).Stacks[0]
}

// onboarding issues a new link for an account (GET .../onboarding).
func (w *world) onboarding(t *testing.T, accountID string) onboarding.Instructions {
	t.Helper()
	var ins onboarding.Instructions
	r := w.Do(t, testkit.Request{Method: http.MethodGet, Path: "/v1/accounts/" + accountID + "/onboarding", Token: w.admin})
	if r.Status != http.StatusOK {
		t.Fatalf("onboarding: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &ins)
	return ins
}

// patchAccessLevel changes an account's access level through the API.
func (w *world) patchAccessLevel(t *testing.T, accountID, level string) {
	t.Helper()
	r := w.Do(t, testkit.Request{Method: http.MethodPatch, Path: "/v1/accounts/" + accountID, Token: w.admin,
		Header: map[string]string{"If-Match": "*"}, Body: map[string]any{"accessLevel": level}})
	if r.Status != http.StatusOK {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
}

// TestLaunchMaterialUpdatesTheConnectedStack: once a stack connects the account, the launch material updates that
// stack (console update page, update-stack command) instead of creating another that fails with AlreadyExists;
// running it moves the account to the new link and access level. Before the stack exists, and after it is
// deleted, the material creates one.
func TestLaunchMaterialUpdatesTheConnectedStack(t *testing.T) {
	w := newWorld(t)
	ins := w.addAccountIn(t, "133000000001", "eu-west-1")
	if ins.Action != onboarding.ActionCreate || !strings.Contains(ins.CLICommand, "create-stack") {
		t.Fatalf("a new account's material: %s\n%s", ins.Action, ins.CLICommand)
	}
	if stack := w.run(t, "133000000001", ins.CLICommand); stack.StackStatus != cfntypes.StackStatusCreateComplete {
		t.Fatalf("create: %s %s", stack.StackStatus, aws.ToString(stack.StackStatusReason))
	}
	connected := w.account(t, "acme", "133000000001")

	w.patchAccessLevel(t, "133000000001", "resources_tags")
	update := w.onboarding(t, "133000000001")
	if update.Action != onboarding.ActionUpdate || update.StackID != connected.StackID || update.QuickCreateURL != "" ||
		!strings.Contains(update.ConsoleURL, "#/stacks/update/template?") || !strings.Contains(update.CLICommand, "update-stack") {
		t.Fatalf("a connected account's material: action %s stack %s console %s\n%s", update.Action, update.StackID, update.ConsoleURL, update.CLICommand)
	}
	stack := w.run(t, "133000000001", update.CLICommand)
	if stack.StackStatus != cfntypes.StackStatusUpdateComplete {
		t.Fatalf("update: %s %s", stack.StackStatus, aws.ToString(stack.StackStatusReason))
	}
	a := w.account(t, "acme", "133000000001")
	if a.Status != accounts.Active || a.StackID != connected.StackID || a.RoleARN != connected.RoleARN || a.GrantedAccessLevel != accounts.ResourcesTags {
		t.Errorf("after the update: %s stack %s role %s granted %s", a.Status, a.StackID, a.RoleARN, a.GrantedAccessLevel)
	}

	// The console's update link does the same (here the local console, which plays the AWS one).
	w.patchAccessLevel(t, "133000000001", "resources")
	viaConsole := w.onboarding(t, "133000000001")
	stack = w.updateInConsole(t, viaConsole.ConsoleURL)
	if stack.StackStatus != cfntypes.StackStatusUpdateComplete {
		t.Fatalf("update in the console: %s %s", stack.StackStatus, aws.ToString(stack.StackStatusReason))
	}
	if a = w.account(t, "acme", "133000000001"); a.Status != accounts.Active || a.StackID != connected.StackID || a.GrantedAccessLevel != accounts.Resources {
		t.Errorf("after the update in the console: %s stack %s granted %s", a.Status, a.StackID, a.GrantedAccessLevel)
	}

	if _, err := w.cfn("133000000001", "eu-west-1").DeleteStack(t.Context(), &cloudformation.DeleteStackInput{StackName: aws.String(a.StackID)}); err != nil {
		t.Fatal(err)
	}
	w.settle(t, "133000000001", "eu-west-1", a.StackID)
	if again := w.onboarding(t, "133000000001"); again.Action != onboarding.ActionCreate || again.StackID != "" {
		t.Errorf("after the stack was deleted, the material still updates %s", again.StackID)
	}
}

// TestGrantedAccessLevelIsTheRolesWord: the stack says which access level its role grants; Gangplank believes the
// role. After the tenant raises the access level and the customer updates the stack, a role that still denies tag
// reads (here: the customer's own guardrail on the role) is reported as granting resources only, degraded, with
// the reason; POST /verify says the same, and once the role allows tag reads, both say resources_tags and healthy.
func TestGrantedAccessLevelIsTheRolesWord(t *testing.T) {
	w := newWorld(t)
	a, _ := w.connected(t, "134000000001")
	role := a.RoleARN[strings.LastIndexByte(a.RoleARN, '/')+1:]
	iamClient := w.env.AccountIAM("134000000001")
	guardrail := `{"Version":"2012-10-17","Statement":[{"Sid":"NoTagReads","Effect":"Deny","Action":"tag:GetResources","Resource":"*"}]}`
	if _, err := iamClient.PutRolePolicy(t.Context(), &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("CustomerGuardrail"),
		PolicyDocument: aws.String(guardrail)}); err != nil {
		t.Fatal(err)
	}
	w.patchAccessLevel(t, "134000000001", "resources_tags")
	if stack := w.run(t, "134000000001", w.onboarding(t, "134000000001").CLICommand); stack.StackStatus != cfntypes.StackStatusUpdateComplete {
		t.Fatalf("update: %s %s", stack.StackStatus, aws.ToString(stack.StackStatusReason))
	}
	check := func(when string, level accounts.AccessLevel, health accounts.HealthStatus, reason string) {
		t.Helper()
		got := w.account(t, "acme", "134000000001")
		if got.GrantedAccessLevel != level || got.Health.Status != health || !strings.Contains(got.Health.Reason, reason) {
			t.Errorf("%s: granted %q, health %s %q; want %q, %s, saying %q", when, got.GrantedAccessLevel, got.Health.Status, got.Health.Reason,
				level, health, reason)
		}
	}
	check("after the stack update", accounts.Resources, accounts.Degraded, "tag reads")
	verify := func() {
		if r := w.Do(t, testkit.Request{Method: http.MethodPost, Path: "/v1/accounts/134000000001/verify", Token: w.admin}); r.Status != http.StatusOK {
			t.Fatalf("verify: %d %s", r.Status, r.Body)
		}
	}
	verify()
	check("after POST /verify", accounts.Resources, accounts.Degraded, "tag reads")

	if _, err := iamClient.DeleteRolePolicy(t.Context(), &iam.DeleteRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("CustomerGuardrail")}); err != nil {
		t.Fatal(err)
	}
	verify()
	check("once the role allows tag reads", accounts.ResourcesTags, accounts.Healthy, "")
}

// updateInConsole presses "Update stack" on a console update link, as the local console's page does.
func (w *world) updateInConsole(t *testing.T, consoleURL string) cfntypes.Stack {
	t.Helper()
	link, err := url.Parse(consoleURL)
	if err != nil || !strings.HasPrefix(link.Fragment, "/stacks/update/template?") {
		t.Fatalf("not an update link: %s", consoleURL)
	}
	frag, _ := url.ParseQuery(strings.SplitN(link.Fragment, "?", 2)[1])
	params := map[string]string{}
	for k, v := range frag {
		if name, ok := strings.CutPrefix(k, "param_"); ok {
			params[name] = v[0]
		}
	}
	account, region := link.Query().Get("account"), link.Query().Get("region")
	body, _ := json.Marshal(map[string]any{"account": account, "region": region, "stackId": frag.Get("stackId"),
		"templateURL": frag.Get("templateURL"), "parameters": params})
	resp, err := http.Post(link.Scheme+"://"+link.Host+"/console/cloudformation/stacks", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ StackID, Error string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("console update: %d %s", resp.StatusCode, out.Error)
	}
	return w.settle(t, account, region, out.StackID).Stacks[0]
}
