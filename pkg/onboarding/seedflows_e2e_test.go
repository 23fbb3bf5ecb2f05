package onboarding_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

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
