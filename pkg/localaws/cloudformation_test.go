package localaws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// customResourceTemplate is a stack with one custom resource notifying topic.
func customResourceTemplate(topic string) string {
	return fmt.Sprintf(`{"Resources": {
  "Anything": {"Type": "AWS::SNS::Topic"},
  "Custom": {"Type": "Custom::Probe", "Properties": {"ServiceToken": %q, "ServiceTimeout": 30}}}}`, topic)
}

// provider is a custom resource provider subscribed to a topic of region: it answers every request as told.
type provider struct {
	topic string
	mu    sync.Mutex
	// answer PUTs the answer to a request; it returns the HTTP status S3 gave.
	answer   func(req localaws.CustomResourceRequest) int
	statuses []int
}

func newProvider(t *testing.T, env *localaws.Env, region string) *provider {
	t.Helper()
	client := sns.NewFromConfig(env.AccountConfig(localaws.PlatformAccountID), func(o *sns.Options) { o.Region = region })
	out, err := client.CreateTopic(t.Context(), &sns.CreateTopicInput{Name: aws.String(testkit.UniqueName("provider"))})
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{topic: aws.ToString(out.TopicArn)}
	if _, err := env.SubscribeLambda(t.Context(), localaws.SNSSubscription{TopicARN: p.topic, Name: testkit.UniqueName("provider"),
		Handler: func(ctx context.Context, e events.SNSEvent) error {
			var req localaws.CustomResourceRequest
			if err := json.Unmarshal([]byte(e.Records[0].SNS.Message), &req); err != nil {
				return nil
			}
			status := p.answer(req)
			p.mu.Lock()
			p.statuses = append(p.statuses, status)
			p.mu.Unlock()
			return nil
		}}); err != nil {
		t.Fatal(err)
	}
	return p
}

func put(t *testing.T, rawURL string, req localaws.CustomResourceRequest) int {
	body, _ := json.Marshal(map[string]any{"Status": "SUCCESS", "PhysicalResourceId": "probe", "StackId": req.StackID,
		"RequestId": req.RequestID, "LogicalResourceId": req.LogicalResourceID})
	r, _ := http.NewRequest(http.MethodPut, rawURL, bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Errorf("PUT %s: %v", rawURL, err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func createStack(t *testing.T, env *localaws.Env, account, region, body string, notify ...string) (string, error) {
	t.Helper()
	cfn := cloudformation.NewFromConfig(env.AccountConfig(account), func(o *cloudformation.Options) { o.Region = region })
	out, err := cfn.CreateStack(t.Context(), &cloudformation.CreateStackInput{StackName: aws.String(testkit.UniqueName("probe")),
		TemplateBody: aws.String(body), NotificationARNs: notify})
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := env.WaitIdle(ctx); err != nil {
		t.Fatalf("the local AWS did not settle: %v", err)
	}
	return aws.ToString(out.StackId), nil
}

func describe(t *testing.T, env *localaws.Env, account, region, stackID string) (cfntypes.Stack, []cfntypes.StackEvent) {
	t.Helper()
	cfn := cloudformation.NewFromConfig(env.AccountConfig(account), func(o *cloudformation.Options) { o.Region = region })
	stacks, err := cfn.DescribeStacks(t.Context(), &cloudformation.DescribeStacksInput{StackName: aws.String(stackID)})
	if err != nil {
		t.Fatal(err)
	}
	events, err := cfn.DescribeStackEvents(t.Context(), &cloudformation.DescribeStackEventsInput{StackName: aws.String(stackID)})
	if err != nil {
		t.Fatal(err)
	}
	return stacks.Stacks[0], events.StackEvents
}

// TestServiceTokenInTheStacksRegion: AWS delivers a custom resource's request only to an SNS topic of the stack's
// own region; a topic of another region fails the resource with SNS's refusal, and the request never reaches it.
// Notification topics must be of the stack's region too: CreateStack refuses others.
func TestServiceTokenInTheStacksRegion(t *testing.T) {
	env := testkit.LocalAWS(t)
	const account = "777000000001"
	p := newProvider(t, env, "us-east-1")
	p.answer = func(req localaws.CustomResourceRequest) int { return put(t, req.ResponseURL, req) }

	stackID, err := createStack(t, env, account, "eu-west-1", customResourceTemplate(p.topic))
	if err != nil {
		t.Fatal(err)
	}
	stack, events := describe(t, env, account, "eu-west-1", stackID)
	if stack.StackStatus != cfntypes.StackStatusRollbackComplete {
		t.Errorf("stack = %s, want ROLLBACK_COMPLETE", stack.StackStatus)
	}
	failed := false
	for _, e := range events {
		if aws.ToString(e.LogicalResourceId) == "Custom" && e.ResourceStatus == cfntypes.ResourceStatusCreateFailed &&
			strings.HasPrefix(aws.ToString(e.ResourceStatusReason), "Invalid parameter: TopicArn (Service: AmazonSNS; Status Code: 400; Error Code: InvalidParameter;") {
			failed = true
		}
	}
	if !failed {
		t.Errorf("no CREATE_FAILED with SNS's refusal among %d events", len(events))
	}
	if n := len(env.CustomResourceRequests(stackID)); n != 0 {
		t.Errorf("%d requests reached the other region's topic", n)
	}

	_, err = createStack(t, env, account, "eu-west-1", customResourceTemplate(p.topic), p.topic)
	if err == nil || !strings.Contains(err.Error(), "Invalid parameter: TopicArn") {
		t.Errorf("CreateStack in eu-west-1 notifying a us-east-1 topic: %v", err)
	}
}

// TestResponseURLIsThePresignedResponseBucket: a request's ResponseURL is an object of CloudFormation's response
// bucket of the stack's region, presigned; S3 takes the answer only there and only with the signature.
func TestResponseURLIsThePresignedResponseBucket(t *testing.T) {
	env := testkit.LocalAWS(t)
	const account = "777000000002"
	p := newProvider(t, env, "eu-west-1")
	p.answer = func(req localaws.CustomResourceRequest) int {
		u, _ := url.Parse(req.ResponseURL)
		unsigned := *u
		unsigned.RawQuery = ""
		wrongRegion := *u
		wrongRegion.Path = strings.Replace(u.Path, localaws.ResponseBucket("eu-west-1"), localaws.ResponseBucket("us-east-1"), 1)
		wrongRegion.RawPath = ""
		for _, bad := range []string{unsigned.String(), wrongRegion.String(), strings.Replace(req.ResponseURL, "X-Amz-Signature=", "X-Amz-Signature=x", 1)} {
			if status := put(t, bad, req); status != http.StatusForbidden {
				t.Errorf("PUT %s: %d, want 403", bad, status)
			}
		}
		return put(t, req.ResponseURL, req)
	}
	stackID, err := createStack(t, env, account, "eu-west-1", customResourceTemplate(p.topic))
	if err != nil {
		t.Fatal(err)
	}
	reqs := env.CustomResourceRequests(stackID)
	if len(reqs) != 1 {
		t.Fatalf("requests = %d", len(reqs))
	}
	u, err := url.Parse(reqs[0].ResponseURL)
	if err != nil || !strings.HasPrefix(u.Path, "/"+localaws.ResponseBucket("eu-west-1")+"/") || u.Query().Get("X-Amz-Signature") == "" {
		t.Errorf("ResponseURL %s is not a presigned object of the region's response bucket", reqs[0].ResponseURL)
	}
	if stack, _ := describe(t, env, account, "eu-west-1", stackID); stack.StackStatus != cfntypes.StackStatusCreateComplete {
		t.Errorf("stack = %s, want CREATE_COMPLETE", stack.StackStatus)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.statuses) != 1 || p.statuses[0] != http.StatusOK {
		t.Errorf("the signed PUT got %v", p.statuses)
	}
}

// TestUpdateReappliesConditionalProperties: a stack update whose new parameter values flip a condition changes the
// resources that use it, as CloudFormation re-evaluates the template (an access level change reaches the role's
// policy this way; moto alone kept the old policy), and changes only what the template manages: a policy someone
// else put on the role stays.
func TestUpdateReappliesConditionalProperties(t *testing.T) {
	env := testkit.LocalAWS(t)
	const account = "777000000003"
	role := testkit.UniqueName("ConditionalRole")
	body := fmt.Sprintf(`{
  "Parameters": {"Level": {"Type": "String"}},
  "Conditions": {"ReadsTags": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Level"}, "resources"]}]}},
  "Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
    "RoleName": %q,
    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]},
    "Policies": [{"PolicyName": "Tags", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
      {"Fn::If": ["ReadsTags",
        {"Sid": "ReadTags", "Effect": "Allow", "Action": "tag:GetResources", "Resource": "*"},
        {"Sid": "NoTagReads", "Effect": "Deny", "Action": "tag:GetResources", "Resource": "*"}]}]}}]}}}}`, role)
	cfn := cloudformation.NewFromConfig(env.AccountConfig(account))
	level := func(v string) []cfntypes.Parameter {
		return []cfntypes.Parameter{{ParameterKey: aws.String("Level"), ParameterValue: aws.String(v)}}
	}
	out, err := cfn.CreateStack(t.Context(), &cloudformation.CreateStackInput{StackName: aws.String(testkit.UniqueName("conditional")),
		TemplateBody: aws.String(body), Parameters: level("resources"), Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam}})
	if err != nil {
		t.Fatal(err)
	}
	sid := func() string {
		t.Helper()
		p, err := env.AccountIAM(account).GetRolePolicy(t.Context(), &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("Tags")})
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := url.QueryUnescape(aws.ToString(p.PolicyDocument))
		var v struct{ Statement []struct{ Sid string } }
		_ = json.Unmarshal([]byte(doc), &v)
		if len(v.Statement) != 1 {
			t.Fatalf("policy %s", doc)
		}
		return v.Statement[0].Sid
	}
	if got := sid(); got != "NoTagReads" {
		t.Fatalf("created with %s", got)
	}
	guardrail := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`
	if _, err := env.AccountIAM(account).PutRolePolicy(t.Context(), &iam.PutRolePolicyInput{RoleName: aws.String(role),
		PolicyName: aws.String("CustomerGuardrail"), PolicyDocument: aws.String(guardrail)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cfn.UpdateStack(t.Context(), &cloudformation.UpdateStackInput{StackName: out.StackId, TemplateBody: aws.String(body),
		Parameters: level("resources_tags"), Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam}}); err != nil {
		t.Fatal(err)
	}
	if got := sid(); got != "ReadTags" {
		t.Errorf("after the update the role's policy is still %s", got)
	}
	if _, err := env.AccountIAM(account).GetRolePolicy(t.Context(), &iam.GetRolePolicyInput{RoleName: aws.String(role),
		PolicyName: aws.String("CustomerGuardrail")}); err != nil {
		t.Errorf("the stack update removed a policy it does not manage: %v", err)
	}
}
