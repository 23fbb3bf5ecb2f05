package onboarding_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// The callback topic accepts messages from anyone: customers' accounts are not known in advance. These tests play
// the attacker, who publishes to it directly, with what a viewer of the tenant can read (GET /v1/accounts/{id}).

// attacker is the AWS account forged messages are published from.
const attacker = "666666666666"

// publish sends a message to the callback topic of region as the attacker would, and waits until the callback
// has handled it.
func (w *world) publish(t *testing.T, region, message string) {
	t.Helper()
	client := sns.NewFromConfig(w.env.AccountConfig(attacker), func(o *sns.Options) { o.Region = region })
	if _, err := client.Publish(t.Context(), &sns.PublishInput{TopicArn: aws.String(w.Provisioned.TopicARNs[region]),
		Message: aws.String(message)}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := w.env.WaitIdle(ctx); err != nil {
		t.Fatalf("the local AWS did not settle: %v", err)
	}
}

// forgedResponseURL is a ResponseURL in the local equivalent of CloudFormation's response bucket of region: the
// attacker may name it, and nothing answers there for a request CloudFormation never made.
func (w *world) forgedResponseURL(region string) string {
	return w.env.Endpoint + "/cloudformation-custom-resource-response-" + strings.ReplaceAll(region, "-", "") + "/forged-" + testkit.UniqueName("r")
}

// forgedRequest is a custom resource request as an attacker writes it.
func (w *world) forgedRequest(region, requestType, stackID string, props, old map[string]any) string {
	req := map[string]any{
		"RequestType": requestType, "ServiceToken": w.Provisioned.TopicARNs[region], "ResponseURL": w.forgedResponseURL(region),
		"StackId": stackID, "RequestId": testkit.UniqueName("forged"), "LogicalResourceId": onboarding.ConnectionResource,
		"ResourceType": "Custom::GangplankConnection", "PhysicalResourceId": "gangplank-connection", "ResourceProperties": props,
	}
	if old != nil {
		req["OldResourceProperties"] = old
	}
	b, _ := json.Marshal(req)
	return string(b)
}

// stackNotification is a stack event in CloudFormation's notification format.
func stackNotification(stackID, stackName, logical, typ, status, reason string) string {
	quote := func(v string) string { return strings.ReplaceAll(v, "'", `\'`) }
	return fmt.Sprintf("StackId='%s'\nTimestamp='%s'\nEventId='%s'\nLogicalResourceId='%s'\nNamespace='%s'\nPhysicalResourceId=''\n"+
		"PrincipalId='AROA:cloudformation'\nResourceProperties='null'\nResourceStatus='%s'\nResourceStatusReason='%s'\n"+
		"ResourceType='%s'\nStackName='%s'\nClientRequestToken='null'\n",
		stackID, time.Now().UTC().Add(time.Second).Format("2006-01-02T15:04:05.000Z"), testkit.UniqueName("event"), logical,
		strings.Split(stackID, ":")[4], status, quote(reason), typ, stackName)
}

// viewed is the account as a viewer of the tenant reads it through the API.
func (w *world) viewed(t *testing.T, accountID string) map[string]any {
	t.Helper()
	r := w.Do(t, testkit.Request{Method: http.MethodGet, Path: "/v1/accounts/" + accountID, Token: w.Token(t, "acme", auth.Viewer)})
	if r.Status != http.StatusOK {
		t.Fatalf("get account: %d %s", r.Status, r.Body)
	}
	return r.Map(t)
}

// connected adds an account and connects it through a real stack; it returns the account and the instructions.
func (w *world) connected(t *testing.T, accountID string) (accounts.Account, onboarding.Instructions) {
	t.Helper()
	ins := w.addAccount(t, "acme", accountID, "standalone")
	stack := w.launch(t, accountID, ins, nil).Stacks[0]
	if stack.StackStatus != cfntypes.StackStatusCreateComplete {
		t.Fatalf("stack %s: %s", stack.StackStatus, aws.ToString(stack.StackStatusReason))
	}
	return w.account(t, "acme", accountID), ins
}

func unchanged(t *testing.T, before, after accounts.Account) {
	t.Helper()
	if after.Version != before.Version || after.Status != before.Status || after.StatusReason != before.StatusReason ||
		after.GrantedAccessLevel != before.GrantedAccessLevel || after.TemplateVersion != before.TemplateVersion {
		t.Errorf("an unauthenticated message changed the account:\nbefore %s v%d %q granted %q template %q\nafter  %s v%d %q granted %q template %q",
			before.Status, before.Version, before.StatusReason, before.GrantedAccessLevel, before.TemplateVersion,
			after.Status, after.Version, trim(after.StatusReason), after.GrantedAccessLevel, after.TemplateVersion)
	}
}

func trim(s string) string {
	if len(s) > 200 {
		return s[:200] + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return s
}

// TestForgedRequestsChangeNothing: requests that carry no activation token bound to the account and its stack
// change nothing, whatever they name: an Update whose old and new properties carry the same made-up token, a
// Delete naming the account's StackId (which any viewer reads), a Create with a made-up token.
func TestForgedRequestsChangeNothing(t *testing.T) {
	w := newWorld(t)
	a, _ := w.connected(t, "121000000001")
	stackID, _ := w.viewed(t, a.AccountID)["stackId"].(string)
	if stackID == "" {
		t.Fatal("a viewer cannot read the stack id: the attack below is not the one the issue describes")
	}
	region := strings.Split(stackID, ":")[3]
	madeUp := "gpa_made-up-by-a-viewer-000000000000000000000"
	props := func(mod map[string]any) map[string]any {
		p := map[string]any{"ServiceToken": w.Provisioned.TopicARNs[region], "TenantId": "acme", "AccountId": a.AccountID,
			"AccountType": "standalone", "AccessLevel": "resources", "BulkActivation": "disabled", "RoleArn": a.RoleARN,
			"ActivationToken": madeUp, "TemplateVersion": onboarding.TemplateVersion}
		for k, v := range mod {
			p[k] = v
		}
		return p
	}
	tests := []struct {
		name    string
		message string
	}{
		{"update with the same made-up token, rewriting the access level and version",
			w.forgedRequest(region, "Update", stackID, props(map[string]any{"AccessLevel": "tags_write", "TemplateVersion": "<b>9.9.9</b>"}), props(nil))},
		{"update with the same made-up token, naming a role that does not work",
			w.forgedRequest(region, "Update", stackID, props(map[string]any{"RoleArn": "arn:aws:iam::" + a.AccountID + ":role/GangplankNothing"}),
				props(map[string]any{"RoleArn": "arn:aws:iam::" + a.AccountID + ":role/GangplankNothing"}))},
		{"delete naming the account's stack", w.forgedRequest(region, "Delete", stackID, props(map[string]any{"ActivationToken": ""}), nil)},
		{"delete naming the account's stack with a made-up token", w.forgedRequest(region, "Delete", stackID, props(nil), nil)},
		{"create with a made-up token", w.forgedRequest(region, "Create", stackID, props(nil), nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := w.account(t, "acme", a.AccountID)
			w.publish(t, region, tc.message)
			unchanged(t, before, w.account(t, "acme", a.AccountID))
		})
	}
}

// TestForgedStackNotificationsChangeNothing: a stack notification proves nothing by naming an account: a forged
// CREATE_FAILED for a pending account, or for an account a bulk activation is creating a stack in, changes nothing
// and stores none of the sender's text.
func TestForgedStackNotificationsChangeNothing(t *testing.T) {
	w := newWorld(t)
	huge := strings.Repeat("<script>alert(1)</script>\x1b[2J", 150<<10/34)
	t.Run("pending account", func(t *testing.T) {
		ins := w.addAccount(t, "acme", "122000000001", "standalone")
		before := w.account(t, "acme", "122000000001")
		// The link names the stack with a suffix the attacker cannot know: the base name, or a guessed suffix.
		for _, name := range []string{onboarding.StackName, onboarding.StackName + "-abcdefghijklmnop"} {
			stackID := fmt.Sprintf("arn:aws:cloudformation:%s:122000000001:stack/%s/forged-1", ins.Region, name)
			w.publish(t, ins.Region, stackNotification(stackID, name, "GangplankRole", "AWS::IAM::Role", "CREATE_FAILED", huge))
		}
		unchanged(t, before, w.account(t, "acme", "122000000001"))
	})
	t.Run("account a bulk activation is creating a stack in", func(t *testing.T) {
		ins := w.addAccount(t, "acme", "122000000002", "standalone")
		if _, err := w.Services.Accounts.Mutate(t.Context(), "acme", "122000000002", "test.activating", func(a *accounts.Account) error {
			a.Status, a.Activation = accounts.Activating, &accounts.ActivationRef{ActivationID: "forged-test", Batch: 0}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		before := w.account(t, "acme", "122000000002")
		stackID := fmt.Sprintf("arn:aws:cloudformation:%s:122000000002:stack/%s/forged-2", ins.Region, onboarding.StackName)
		w.publish(t, ins.Region, stackNotification(stackID, onboarding.StackName, "AWS::CloudFormation::Stack", "AWS::CloudFormation::Stack",
			"ROLLBACK_IN_PROGRESS", huge))
		unchanged(t, before, w.account(t, "acme", "122000000002"))
	})
}

// TestStackReportedReasonIsBounded: the reason a stack of the current link reports (here as long and hostile as
// its owner can make it) reaches the tenant bounded, without control characters, and marked as the stack's word.
func TestStackReportedReasonIsBounded(t *testing.T) {
	w := newWorld(t)
	ins := w.addAccount(t, "acme", "123000000001", "standalone")
	long := "Role GangplankAccess already exists\x00\x1b[31m\u202e<b>" + strings.Repeat(" and more", 15000)
	stackID := fmt.Sprintf("arn:aws:cloudformation:%s:123000000001:stack/%s/5b3c", ins.Region, ins.StackName)
	w.publish(t, ins.Region, stackNotification(stackID, ins.StackName, "GangplankRole", "AWS::IAM::Role", "CREATE_FAILED", long))
	a := w.account(t, "acme", "123000000001")
	if a.Status != accounts.Failed {
		t.Fatalf("account = %s %q", a.Status, trim(a.StatusReason))
	}
	for _, text := range []string{a.StatusReason, a.Health.Reason} {
		if len(text) > 1024 {
			t.Errorf("reason is %d bytes", len(text))
		}
		if strings.IndexFunc(text, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0 {
			t.Errorf("reason carries control characters: %q", trim(text))
		}
		if !strings.Contains(text, "CloudFormation reported") || !strings.Contains(text, "already exists") {
			t.Errorf("reason is not marked as the stack's word: %q", trim(text))
		}
	}
}

// TestUnauthenticatedAnswersAreUniform: a token that proves nothing gets the same answer whether or not the tenant
// holds the account the stack runs in, so the answer tells nothing about the tenant's accounts.
func TestUnauthenticatedAnswersAreUniform(t *testing.T) {
	w := newWorld(t)
	held := w.addAccount(t, "acme", "124000000001", "standalone")
	forged := w.launch(t, "124000000001", held, map[string]string{"ActivationToken": "gpa_forged-token-that-gangplank-never-issued-00000"}).Stacks[0]
	notHeld := w.launch(t, "124000000002", held, map[string]string{"ActivationToken": "gpa_forged-token-that-gangplank-never-issued-00000"}).Stacks[0]
	reason := func(stackID string) string {
		responses := w.env.CustomResourceResponses(stackID)
		if len(responses) == 0 {
			t.Fatalf("no answer for %s", stackID)
		}
		return strings.ReplaceAll(responses[0].Reason, stackID, "<stack>")
	}
	if a, b := reason(aws.ToString(forged.StackId)), reason(aws.ToString(notHeld.StackId)); a != b {
		t.Errorf("the answers tell a held account from one the tenant does not hold:\n held:     %s\n not held: %s", a, b)
	}
}

// TestForgedResponseURLCannotWriteLocalObjects: the local ResponseURL allow-list is CloudFormation's response
// bucket, not the whole local AWS: a forged request cannot make the callback PUT anywhere else in it (an S3 object
// such as the onboarding template, or any other endpoint of the local AWS).
func TestForgedResponseURLCannotWriteLocalObjects(t *testing.T) {
	w := newWorld(t)
	ins := w.addAccount(t, "acme", "125000000001", "standalone")
	key := "onboarding/" + onboarding.TemplateVersion + "/onboarding.yaml"
	var mu sync.Mutex
	var reached []string
	other := "/" + testkit.UniqueName("elsewhere")
	w.env.Handle("PUT "+other+"/", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reached = append(reached, r.URL.Path)
		mu.Unlock()
	}))
	for _, target := range []string{
		w.env.Endpoint + "/" + w.Provisioned.TemplateBucket + "/" + key,
		w.env.Endpoint + other + "/cloudformation-custom-resource-response-euwest1/x",
		w.env.Endpoint + other + "/x",
	} {
		req := map[string]any{"RequestType": "Create", "ServiceToken": ins.Parameters["CallbackTopicArn"], "ResponseURL": target,
			"StackId": "arn:aws:cloudformation:" + ins.Region + ":125000000001:stack/x/y", "RequestId": "r1", "LogicalResourceId": "GangplankConnection",
			"ResourceProperties": map[string]any{"TenantId": "acme", "AccountId": "125000000001", "ActivationToken": "gpa_nothing"}}
		body, _ := json.Marshal(req)
		w.publish(t, ins.Region, string(body))
	}
	out, err := s3.NewFromConfig(w.AWS, func(o *s3.Options) { o.UsePathStyle = true }).GetObject(t.Context(),
		&s3.GetObjectInput{Bucket: aws.String(w.Provisioned.TemplateBucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("the template is gone: %v", err)
	}
	defer out.Body.Close()
	if got, _ := io.ReadAll(out.Body); !bytes.Equal(got, onboarding.Template) {
		t.Errorf("a forged request overwrote the onboarding template with %q", trim(string(got)))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reached) > 0 {
		t.Errorf("a forged request made the callback PUT to the local AWS at %v", reached)
	}
}

// TestJunkCostsOneRead: a flood of messages that prove nothing costs at most one DynamoDB read each and no write,
// and every one of them is counted in the rejected-messages metric (CloudWatch embedded metric format).
func TestJunkCostsOneRead(t *testing.T) {
	w := newWorld(t)
	a, ins := w.connected(t, "126000000001")
	w.addAccount(t, "acme", "126000000002", "standalone")
	region := ins.Region
	props := map[string]any{"TenantId": "acme", "AccountId": a.AccountID, "AccountType": "standalone", "AccessLevel": "resources",
		"RoleArn": a.RoleARN, "ActivationToken": "gpa_junk-junk-junk-junk-junk-junk-junk-junk", "TemplateVersion": onboarding.TemplateVersion}
	junk := []string{
		w.forgedRequest(region, "Create", a.StackID, props, nil),
		w.forgedRequest(region, "Update", a.StackID, props, props),
		w.forgedRequest(region, "Delete", a.StackID, props, nil),
		// The pending account's link names its stack with a suffix the attacker cannot know.
		stackNotification(fmt.Sprintf("arn:aws:cloudformation:%s:126000000002:stack/%s-aaaaaaaaaaaaaaaa/junk", region, onboarding.StackName),
			onboarding.StackName+"-aaaaaaaaaaaaaaaa", "GangplankRole", "AWS::IAM::Role", "CREATE_FAILED", "junk"),
		stackNotification(fmt.Sprintf("arn:aws:cloudformation:%s:126000000001:stack/%s-x/junk", region, onboarding.StackName), onboarding.StackName+"-x",
			"AWS::CloudFormation::Stack", "AWS::CloudFormation::Stack", "ROLLBACK_IN_PROGRESS", "junk"),
	}
	metrics := captureMetrics(t)
	w.Calls.Reset()
	const rounds = 4
	for range rounds {
		for _, m := range junk {
			w.publish(t, region, m)
		}
	}
	n := int64(rounds * len(junk))
	reads, writes := int64(0), int64(0)
	for _, op := range w.Calls.Operations() {
		if !strings.HasPrefix(op, "DynamoDB.") {
			continue
		}
		c := w.Calls.Calls("DynamoDB", strings.TrimPrefix(op, "DynamoDB."))
		switch strings.TrimPrefix(op, "DynamoDB.") {
		case "GetItem", "Query", "BatchGetItem":
			reads += c
		default:
			writes += c
		}
	}
	t.Logf("%d junk messages: %d DynamoDB reads, %d writes (%v)", n, reads, writes, w.Calls.Snapshot())
	if reads == 0 {
		t.Fatal("the call counter saw none of the callback's DynamoDB requests")
	}
	if reads > n || writes != 0 {
		t.Errorf("%d junk messages cost %d DynamoDB reads and %d writes; want at most %d reads and no write", n, reads, writes, n)
	}
	if got := metrics.count("CallbackRejected"); got != n {
		t.Errorf("rejected-messages metric counted %d, want %d", got, n)
	}
}

// metricLines collects the CloudWatch embedded-metric-format lines logged while a test runs.
type metricLines struct {
	mu    sync.Mutex
	lines []map[string]any
}

func (m *metricLines) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, line := range bytes.Split(p, []byte("\n")) {
		var v map[string]any
		if json.Unmarshal(line, &v) == nil {
			if _, ok := v["_aws"]; ok {
				m.lines = append(m.lines, v)
			}
		}
	}
	return len(p), nil
}

// count sums a metric over the collected lines whose _aws directive declares it.
func (m *metricLines) count(name string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, l := range m.lines {
		raw, _ := json.Marshal(l["_aws"])
		var directive struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		}
		if json.Unmarshal(raw, &directive) != nil || directive.Timestamp == 0 {
			continue
		}
		for _, d := range directive.CloudWatchMetrics {
			for _, metric := range d.Metrics {
				if metric.Name == name {
					v, _ := l[name].(float64)
					n += int64(v)
				}
			}
		}
	}
	return n
}

// captureMetrics routes the default logger through a collector for the test's duration.
func captureMetrics(t *testing.T) *metricLines {
	m := &metricLines{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(io.MultiWriter(m), nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return m
}
