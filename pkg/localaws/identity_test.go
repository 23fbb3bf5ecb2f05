package localaws_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// Managed policies the tests attach, as AWS names them.
const (
	viewOnlyAccess    = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
	iamReadOnlyAccess = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
	iamFullAccess     = "arn:aws:iam::aws:policy/IAMFullAccess"
)

// iamUser is an IAM user of a customer account with its own access key, created through the edge as the
// account's root, as a customer would in the console.
type iamUser struct {
	name, arn, keyID string
	cfg              aws.Config // signed with the user's key, with no account header
}

func newUser(t *testing.T, account, path string, managed []string, inline ...string) iamUser {
	t.Helper()
	root := testkit.LocalAWS(t).AccountIAM(account)
	ctx := t.Context()
	name := testkit.UniqueName("user")
	out, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name), Path: aws.String(path)})
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	for _, arn := range managed {
		if _, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: aws.String(arn)}); err != nil {
			t.Fatalf("attach %s: %v", arn, err)
		}
	}
	for i, doc := range inline {
		if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(name + "-" + string(rune('a'+i))),
			PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatalf("put user policy: %v", err)
		}
	}
	key, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("create access key: %v", err)
	}
	return iamUser{name: name, arn: aws.ToString(out.User.Arn), keyID: aws.ToString(key.AccessKey.AccessKeyId),
		cfg: withKeys(t, aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")}
}

// withKeys is a configuration for the edge signed with the given credentials (no account header: the key alone
// says who calls).
func withKeys(t *testing.T, id, secret, token string) aws.Config {
	cfg := testkit.AWSConfig(t, nil)
	cfg.Credentials = credentials.NewStaticCredentialsProvider(id, secret, token)
	return cfg
}

// roleSession creates a role in account trusting the platform, with managed and inline policies, and returns a
// configuration signed with a session of it.
func roleSession(t *testing.T, account string, managed []string, inline ...string) (aws.Config, string) {
	t.Helper()
	env := testkit.LocalAWS(t)
	name := testkit.UniqueName("Role")
	arn := createRole(t, env.AccountIAM(account), name, policy(map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole",
		"Principal": map[string]any{"AWS": "arn:aws:iam::" + localaws.PlatformAccountID + ":root"}}), inline...)
	for _, m := range managed {
		if _, err := env.AccountIAM(account).AttachRolePolicy(t.Context(), &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(m)}); err != nil {
			t.Fatalf("attach %s: %v", m, err)
		}
	}
	out, err := sts.NewFromConfig(testkit.AWSConfig(t, nil)).AssumeRole(t.Context(), &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s")})
	if err != nil {
		t.Fatalf("assume %s: %v", arn, err)
	}
	c := out.Credentials
	return withKeys(t, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)), aws.ToString(out.AssumedRoleUser.Arn)
}

// apiError returns the code and message of an AWS error ("", "" for none).
func apiError(err error) (code, message string) {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode(), apiErr.ErrorMessage()
	}
	if err != nil {
		return "not an API error", err.Error()
	}
	return "", ""
}

// TestUserKeysActInTheirAccount: an IAM user's key created in a customer account acts there as that user,
// including CloudFormation stacks with custom resources (which rolled back when the edge took the key for the
// platform account while moto took it for the customer's).
func TestUserKeysActInTheirAccount(t *testing.T) {
	env := testkit.LocalAWS(t)
	ctx := t.Context()
	const account = "710987654321"
	u := newUser(t, account, "/team/", nil, policy(map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"}))

	id, err := sts.NewFromConfig(u.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Account) != account || aws.ToString(id.Arn) != "arn:aws:iam::"+account+":user/team/"+u.name {
		t.Fatalf("identity = %s in %s", aws.ToString(id.Arn), aws.ToString(id.Account))
	}
	// Another account named in moto's header does not move the key out of its own account.
	hijack := u.cfg.Copy()
	hijack.HTTPClient = &http.Client{Transport: headerTransport{"x-moto-account-id", "810987654321"}}
	if id, err := sts.NewFromConfig(hijack).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("identity with another account's header: %v", err)
	} else if aws.ToString(id.Account) != account {
		t.Errorf("identity with another account's header = %s, want account %s", aws.ToString(id.Arn), account)
	}

	// A stack with a custom resource, answered by a function subscribed to the account's topic.
	topic, err := sns.NewFromConfig(u.cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(testkit.UniqueName("cr"))})
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	if !strings.Contains(aws.ToString(topic.TopicArn), ":"+account+":") {
		t.Fatalf("topic %s is not in the user's account", aws.ToString(topic.TopicArn))
	}
	if _, err := env.SubscribeLambda(ctx, localaws.SNSSubscription{TopicARN: aws.ToString(topic.TopicArn), Name: testkit.UniqueName("answer"),
		Handler: answerSuccess}); err != nil {
		t.Fatal(err)
	}
	tpl, _ := json.Marshal(map[string]any{"Resources": map[string]any{
		"Queue":  map[string]any{"Type": "AWS::SNS::Topic"},
		"Custom": map[string]any{"Type": "Custom::Thing", "Properties": map[string]any{"ServiceToken": aws.ToString(topic.TopicArn), "ServiceTimeout": 30}},
	}})
	cfn := cloudformation.NewFromConfig(u.cfg)
	out, err := cfn.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(testkit.UniqueName("stack")), TemplateBody: aws.String(string(tpl))})
	if err != nil {
		t.Fatalf("create stack: %v", err)
	}
	wait, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := env.WaitIdle(wait); err != nil {
		t.Fatalf("the local AWS did not settle: %v", err)
	}
	stacks, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: out.StackId})
	if err != nil {
		t.Fatalf("describe stack: %v", err)
	}
	s := stacks.Stacks[0]
	if s.StackStatus != cfntypes.StackStatusCreateComplete || !strings.Contains(aws.ToString(s.StackId), ":"+account+":stack/") {
		t.Errorf("stack %s: %s %q", aws.ToString(s.StackId), s.StackStatus, aws.ToString(s.StackStatusReason))
	}
}

// answerSuccess is a custom resource that always succeeds.
func answerSuccess(ctx context.Context, ev events.SNSEvent) error {
	var req localaws.CustomResourceRequest
	if err := json.Unmarshal([]byte(ev.Records[0].SNS.Message), &req); err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"Status": "SUCCESS", "PhysicalResourceId": "thing-1", "StackId": req.StackID,
		"RequestId": req.RequestID, "LogicalResourceId": req.LogicalResourceID})
	put, _ := http.NewRequestWithContext(ctx, http.MethodPut, req.ResponseURL, bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(put)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

type headerTransport struct{ name, value string }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.name, h.value)
	return http.DefaultTransport.RoundTrip(r)
}

// TestKeysThatStopWorking: keys AWS would not know are refused as invalid security tokens, in each protocol.
func TestKeysThatStopWorking(t *testing.T) {
	env := testkit.LocalAWS(t)
	ctx := t.Context()
	const account = "720987654321"
	root := env.AccountIAM(account)
	deleted := newUser(t, account, "/", []string{"arn:aws:iam::aws:policy/AdministratorAccess"})
	if _, err := root.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(deleted.name), AccessKeyId: aws.String(deleted.keyID)}); err != nil {
		t.Fatal(err)
	}
	inactive := newUser(t, account, "/", []string{"arn:aws:iam::aws:policy/AdministratorAccess"})
	setStatus := func(status iamtypes.StatusType) {
		if _, err := root.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(inactive.name), AccessKeyId: aws.String(inactive.keyID), Status: status}); err != nil {
			t.Fatal(err)
		}
	}
	setStatus(iamtypes.StatusTypeInactive)
	// A key made in moto behind the edge's back (moto's own endpoint) is no key of this local AWS.
	direct := iam.NewFromConfig(aws.Config{Region: localaws.Region, BaseEndpoint: aws.String(env.MotoEndpoint),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""), HTTPClient: &http.Client{Transport: headerTransport{"x-moto-account-id", account}}})
	backdoor, err := direct.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(inactive.name)})
	if err != nil {
		t.Fatal(err)
	}

	keys := []struct {
		name string
		cfg  aws.Config
	}{
		{"deleted key", deleted.cfg},
		{"deactivated key", inactive.cfg},
		{"key created directly in moto", withKeys(t, aws.ToString(backdoor.AccessKey.AccessKeyId), aws.ToString(backdoor.AccessKey.SecretAccessKey), "")},
		{"key never issued", withKeys(t, "AKIAABCDEFGHIJKLMNOP", "secret", "")},
		{"session never issued", withKeys(t, "ASIAABCDEFGHIJKLMNOP", "secret", "token")},
	}
	calls := []struct {
		protocol string
		call     func(aws.Config) error
		wantCode string
	}{
		{"query (STS)", func(c aws.Config) error {
			_, err := sts.NewFromConfig(c).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}, "InvalidClientTokenId"},
		{"query (IAM)", func(c aws.Config) error {
			_, err := iam.NewFromConfig(c).ListUsers(ctx, &iam.ListUsersInput{})
			return err
		}, "InvalidClientTokenId"},
		{"JSON 1.1 (Organizations)", func(c aws.Config) error {
			_, err := organizations.NewFromConfig(c).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
			return err
		}, "UnrecognizedClientException"},
		{"JSON 1.0 (DynamoDB)", func(c aws.Config) error {
			_, err := dynamodb.NewFromConfig(c).ListTables(ctx, &dynamodb.ListTablesInput{})
			return err
		}, "UnrecognizedClientException"},
		{"REST-XML (S3)", func(c aws.Config) error {
			_, err := s3.NewFromConfig(c, func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(ctx, &s3.ListBucketsInput{})
			return err
		}, "InvalidAccessKeyId"},
	}
	for _, k := range keys {
		for _, c := range calls {
			t.Run(k.name+"/"+c.protocol, func(t *testing.T) {
				if code, msg := apiError(c.call(k.cfg)); code != c.wantCode {
					t.Errorf("error = %s %q, want %s", code, msg, c.wantCode)
				}
			})
		}
	}

	// Reactivated, the key works again.
	setStatus(iamtypes.StatusTypeActive)
	if id, err := sts.NewFromConfig(inactive.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("reactivated key: %v", err)
	} else if aws.ToString(id.Arn) != inactive.arn {
		t.Errorf("reactivated key acts as %s, want %s", aws.ToString(id.Arn), inactive.arn)
	}
}

// TestIAMUserPolicies: the edge enforces a user's identity policies (managed, inline, its groups'), Deny over
// Allow, and resource ARNs with the user's IAM path, with IAM's own AccessDenied.
func TestIAMUserPolicies(t *testing.T) {
	env := testkit.LocalAWS(t)
	ctx := t.Context()
	const account = "730987654321"
	root := env.AccountIAM(account)
	reader := newUser(t, account, "/", []string{iamReadOnlyAccess})
	full := newUser(t, account, "/", []string{iamFullAccess})
	denied := newUser(t, account, "/", []string{iamFullAccess}, policy(map[string]any{"Effect": "Deny", "Action": "iam:delete*", "Resource": "*"}))
	// Team A's administrator may manage users under /team-a/ only, and list everyone.
	teamAdmin := newUser(t, account, "/admins/", nil, policy(
		map[string]any{"Effect": "Allow", "Action": []string{"iam:CreateUser", "iam:DeleteUser", "iam:CreateLoginProfile", "iam:DeleteLoginProfile"},
			"Resource": "arn:aws:iam::*:user/team-a/*"},
		map[string]any{"Effect": "Allow", "Action": "iam:List*", "Resource": "*"}))
	groupMember := newUser(t, account, "/", nil)
	group := testkit.UniqueName("readers")
	if _, err := root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(group), PolicyArn: aws.String(iamReadOnlyAccess)}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(group), UserName: aws.String(groupMember.name)}); err != nil {
		t.Fatal(err)
	}
	// Targets made by the account's root: one under /team-a/, one outside it.
	target := func(path string) string {
		name := testkit.UniqueName("target")
		if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name), Path: aws.String(path)}); err != nil {
			t.Fatal(err)
		}
		return name
	}
	inTeam, outside := target("/team-a/"), target("/other/")
	leaving := target("/team-a/") // no console password: AWS refuses DeleteUser while one exists (DeleteConflict)
	userARN := func(path, name string) string { return "arn:aws:iam::" + account + ":user" + path + name }

	listUsers := func(u iamUser) error {
		_, err := iam.NewFromConfig(u.cfg).ListUsers(ctx, &iam.ListUsersInput{})
		return err
	}
	createUser := func(path string) (func(iamUser) error, string) {
		name := testkit.UniqueName("new")
		return func(u iamUser) error {
			_, err := iam.NewFromConfig(u.cfg).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name), Path: aws.String(path)})
			return err
		}, userARN(path, name)
	}
	createLogin := func(name string) func(iamUser) error {
		return func(u iamUser) error {
			_, err := iam.NewFromConfig(u.cfg).CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(name),
				Password: aws.String("Correct-Horse-9"), PasswordResetRequired: true})
			return err
		}
	}
	deleteUser := func(name string) func(iamUser) error {
		return func(u iamUser) error {
			_, err := iam.NewFromConfig(u.cfg).DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(name)})
			return err
		}
	}
	readerCreate, readerCreateARN := createUser("/")
	fullCreate, _ := createUser("/")
	teamCreate, _ := createUser("/team-a/")
	teamCreateOutside, teamCreateOutsideARN := createUser("/")
	deniedCreate, _ := createUser("/")

	const noAllow, explicit = "because no identity-based policy allows the ", "with an explicit deny in an identity-based policy"
	tests := []struct {
		name string
		user iamUser
		call func(iamUser) error
		// wantDenied is the AccessDenied message's tail ("" for allowed).
		wantDenied string
	}{
		{"IAMReadOnlyAccess lists users", reader, listUsers, ""},
		{"IAMReadOnlyAccess cannot create a user", reader, readerCreate, "iam:CreateUser on resource: " + readerCreateARN + " " + noAllow + "iam:CreateUser action"},
		{"IAMReadOnlyAccess cannot set a password", reader, createLogin(inTeam), "iam:CreateLoginProfile on resource: " + userARN("/team-a/", inTeam) + " " + noAllow + "iam:CreateLoginProfile action"},
		{"IAMReadOnlyAccess cannot delete a user", reader, deleteUser(outside), "iam:DeleteUser on resource: " + userARN("/other/", outside) + " " + noAllow + "iam:DeleteUser action"},
		{"a group's policies apply to its members", groupMember, listUsers, ""},
		{"a user without policies may do nothing", newUser(t, account, "/", nil), listUsers, "iam:ListUsers on resource: arn:aws:iam::" + account + ":user/ " + noAllow + "iam:ListUsers action"},
		{"IAMFullAccess creates a user", full, fullCreate, ""},
		{"IAMFullAccess sets a password", full, createLogin(outside), ""},
		{"an explicit deny beats IAMFullAccess", denied, deleteUser(outside), "iam:DeleteUser on resource: " + userARN("/other/", outside) + " " + explicit},
		{"what the deny does not name is still allowed", denied, deniedCreate, ""},
		{"path prefix: creates a user under it", teamAdmin, teamCreate, ""},
		{"path prefix: sets the password of a user under it", teamAdmin, createLogin(inTeam), ""},
		{"path prefix: cannot create a user outside it", teamAdmin, teamCreateOutside, "iam:CreateUser on resource: " + teamCreateOutsideARN + " " + noAllow + "iam:CreateUser action"},
		{"path prefix: cannot delete a user outside it", teamAdmin, deleteUser(outside), "iam:DeleteUser on resource: " + userARN("/other/", outside) + " " + noAllow + "iam:DeleteUser action"},
		{"path prefix: lists everyone", teamAdmin, listUsers, ""},
		{"IAMFullAccess deletes a user", full, deleteUser(leaving), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := apiError(tc.call(tc.user))
			if tc.wantDenied == "" {
				if code != "" {
					t.Fatalf("error = %s %q, want allowed", code, msg)
				}
				return
			}
			want := "User: " + tc.user.arn + " is not authorized to perform: " + tc.wantDenied
			if code != "AccessDenied" || msg != want {
				t.Errorf("error = %s %q\nwant AccessDenied %q", code, msg, want)
			}
		})
	}
}

// TestRoleSessionPolicies: a role session is held to its role's policies across services and protocols:
// ViewOnlyAccess reads work, writes and a denied action are refused in each service's error shape.
func TestRoleSessionPolicies(t *testing.T) {
	ctx := t.Context()
	const account = "740987654321"
	cfg, sessionARN := roleSession(t, account, []string{viewOnlyAccess},
		policy(map[string]any{"Sid": "NoTagReads", "Effect": "Deny", "Action": []string{"tag:GetResources", "tag:GetTagKeys"}, "Resource": "*"}))
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := testkit.UniqueName("bucket")

	const noAllow, explicit = "because no identity-based policy allows the ", "with an explicit deny in an identity-based policy"
	tests := []struct {
		name string
		call func() error
		// wantCode and wantMessage describe the refusal ("" for allowed).
		wantCode, wantMessage string
	}{
		{"ec2 DescribeInstances (query, ViewOnlyAccess)", func() error {
			return rawStatus(t, cfg, "ec2", "POST", "/", "application/x-www-form-urlencoded", "", "Action=DescribeInstances&Version=2016-11-15")
		}, "", ""},
		{"ec2 RunInstances is refused in EC2's shape", func() error {
			return rawStatus(t, cfg, "ec2", "POST", "/", "application/x-www-form-urlencoded", "", "Action=RunInstances&Version=2016-11-15&ImageId=ami-1&MinCount=1&MaxCount=1")
		}, "UnauthorizedOperation", "You are not authorized to perform this operation. User: " + sessionARN + " is not authorized to perform: ec2:RunInstances " + noAllow + "ec2:RunInstances action"},
		{"tag:GetResources denied by the role's inline policy", func() error {
			return rawStatus(t, cfg, "tagging", "POST", "/", "application/x-amz-json-1.1", "ResourceGroupsTaggingAPI_20170126.GetResources", "{}")
		}, "AccessDeniedException", "User: " + sessionARN + " is not authorized to perform: tag:GetResources " + explicit},
		{"iam ListRoles (iam:List*)", func() error {
			_, err := iam.NewFromConfig(cfg).ListRoles(ctx, &iam.ListRolesInput{})
			return err
		}, "", ""},
		{"iam CreateUser refused", func() error {
			_, err := iam.NewFromConfig(cfg).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("intruder")})
			return err
		}, "AccessDenied", "User: " + sessionARN + " is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::" + account + ":user/intruder " + noAllow + "iam:CreateUser action"},
		{"s3 ListBuckets (s3:ListAllMyBuckets)", func() error {
			_, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{})
			return err
		}, "", ""},
		{"s3 CreateBucket refused in S3's shape", func() error {
			_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
			return err
		}, "AccessDenied", "User: " + sessionARN + ` is not authorized to perform: s3:CreateBucket on resource: "arn:aws:s3:::` + bucket + `" ` + noAllow + "s3:CreateBucket action"},
		{"sns ListTopics (sns:List*)", func() error {
			_, err := sns.NewFromConfig(cfg).ListTopics(ctx, &sns.ListTopicsInput{})
			return err
		}, "", ""},
		{"sns CreateTopic refused as SNS refuses", func() error {
			_, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("t")})
			return err
		}, "AuthorizationError", "User: " + sessionARN + " is not authorized to perform: sns:CreateTopic on resource: arn:aws:sns:us-east-1:" + account + ":t " + noAllow + "sns:CreateTopic action"},
		{"dynamodb ListTables (JSON 1.0)", func() error {
			_, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
			return err
		}, "", ""},
		{"dynamodb DeleteTable refused", func() error {
			_, err := dynamodb.NewFromConfig(cfg).DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("accounts")})
			return err
		}, "AccessDeniedException", "User: " + sessionARN + " is not authorized to perform: dynamodb:DeleteTable on resource: arn:aws:dynamodb:us-east-1:" + account + ":table/accounts " + noAllow + "dynamodb:DeleteTable action"},
		{"Cost Explorer is ce:, and not in ViewOnlyAccess", func() error {
			_, err := costexplorer.NewFromConfig(cfg).GetCostAndUsage(ctx, &costexplorer.GetCostAndUsageInput{Granularity: cetypes.GranularityMonthly,
				Metrics: []string{"UnblendedCost"}, TimePeriod: &cetypes.DateInterval{Start: aws.String("2026-01-01"), End: aws.String("2026-02-01")}})
			return err
		}, "AccessDeniedException", "User: " + sessionARN + " is not authorized to perform: ce:GetCostAndUsage " + noAllow + "ce:GetCostAndUsage action"},
		{"Resource Explorer is resource-explorer-2: (REST-JSON)", func() error {
			return rawStatus(t, cfg, "resource-explorer-2", "POST", "/Search", "application/json", "", `{"QueryString":"service:ec2"}`)
		}, "AccessDeniedException", "User: " + sessionARN + " is not authorized to perform: resource-explorer-2:Search " + noAllow + "resource-explorer-2:Search action"},
		{"the platform's functions are not the session's to invoke", func() error {
			return rawStatus(t, cfg, "lambda", "POST", "/2015-03-31/functions/platform-fn/invocations", "application/json", "", "{}")
		}, "AccessDeniedException", "User: " + sessionARN + " is not authorized to perform: lambda:InvokeFunction on resource: platform-fn because no resource-based policy allows the lambda:InvokeFunction action"},
		{"GetCallerIdentity needs no permission", func() error {
			_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := apiError(tc.call())
			if tc.wantCode == "" {
				if code == "AccessDenied" || code == "AccessDeniedException" || code == "UnauthorizedOperation" || code == "AuthorizationError" || code == "not an API error" {
					t.Fatalf("error = %s %q, want allowed", code, msg)
				}
				return
			}
			if code != tc.wantCode || msg != tc.wantMessage {
				t.Errorf("error = %s %q\nwant %s %q", code, msg, tc.wantCode, tc.wantMessage)
			}
		})
	}
}

// rawStatus sends a SigV4-signed request for services without an SDK module in this repository and returns
// the error AWS's SDKs would see (nil for a 2xx answer).
func rawStatus(t *testing.T, cfg aws.Config, service, method, path, contentType, target, body string) error {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, testkit.LocalAWS(t).Endpoint+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), service, localaws.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode < 300 {
		return nil
	}
	return parseRawError(resp, raw)
}

// parseRawError reads an AWS error in any of the protocols the edge speaks.
func parseRawError(resp *http.Response, raw []byte) error {
	var code, message string
	if strings.Contains(resp.Header.Get("Content-Type"), "json") {
		var v struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &v)
		code, message = v.Type, v.Message
		if h := resp.Header.Get("X-Amzn-ErrorType"); h != "" {
			code = strings.SplitN(h, ":", 2)[0]
		}
	} else {
		s := string(raw)
		between := func(open, close string) string {
			i := strings.Index(s, open)
			j := strings.Index(s, close)
			if i < 0 || j < i {
				return ""
			}
			return s[i+len(open) : j]
		}
		code, message = between("<Code>", "</Code>"), between("<Message>", "</Message>")
	}
	return &smithy.GenericAPIError{Code: code, Message: message}
}

// TestPolicyChangesApplyAtOnce: a principal's policies are read once and cached (repeated calls cost no IAM
// lookups), and every change to them applies to the very next call, whichever way it is made: through the edge,
// in moto behind the edge's back, or by a CloudFormation stack update.
func TestPolicyChangesApplyAtOnce(t *testing.T) {
	env := testkit.LocalAWS(t)
	ctx := t.Context()
	const account = "750987654321"
	roleName := testkit.UniqueName("StackRole")
	stackName := testkit.UniqueName("roles")
	template := func(listActions ...string) string {
		statements := []any{map[string]any{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}}
		for _, a := range listActions {
			statements = append(statements, map[string]any{"Effect": "Allow", "Action": a, "Resource": "*"})
		}
		tpl, _ := json.Marshal(map[string]any{"Resources": map[string]any{"Role": map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{
			"RoleName": roleName,
			"AssumeRolePolicyDocument": map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole",
				"Principal": map[string]any{"AWS": "arn:aws:iam::" + localaws.PlatformAccountID + ":root"}}}},
			"Policies": []any{map[string]any{"PolicyName": "lists", "PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": statements}}},
		}}}})
		return string(tpl)
	}
	cfn := cloudformation.NewFromConfig(env.AccountConfig(account))
	if _, err := cfn.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(stackName), TemplateBody: aws.String(template("iam:ListRoles")),
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam}}); err != nil {
		t.Fatalf("create stack: %v", err)
	}
	out, err := sts.NewFromConfig(testkit.AWSConfig(t, nil)).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/" + roleName), RoleSessionName: aws.String("cache")})
	if err != nil {
		t.Fatalf("assume the stack's role: %v", err)
	}
	client := iam.NewFromConfig(withKeys(t, aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken)))
	listRoles := func() string {
		code, _ := apiError(func() error { _, err := client.ListRoles(ctx, &iam.ListRolesInput{}); return err }())
		return code
	}
	if code := listRoles(); code != "" {
		t.Fatalf("first call: %s", code)
	}

	before := env.IdentityLookups()
	for range 50 {
		if code := listRoles(); code != "" {
			t.Fatalf("repeated call: %s", code)
		}
	}
	if n := env.IdentityLookups() - before; n != 0 {
		t.Errorf("50 calls by a cached principal made %d IAM lookups, want 0", n)
	}

	deny := policy(map[string]any{"Effect": "Deny", "Action": "iam:ListRoles", "Resource": "*"})
	direct := iam.NewFromConfig(aws.Config{Region: localaws.Region, BaseEndpoint: aws.String(env.MotoEndpoint),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""), HTTPClient: &http.Client{Transport: headerTransport{"x-moto-account-id", account}}})
	changes := []struct {
		name   string
		change func() error
		want   string // the next call's error code ("" for allowed)
	}{
		{"deny added through the edge", func() error {
			_, err := env.AccountIAM(account).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String("deny"), PolicyDocument: aws.String(deny)})
			return err
		}, "AccessDenied"},
		{"deny removed in moto behind the edge", func() error {
			_, err := direct.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String("deny")})
			return err
		}, ""},
		{"allow removed by a stack update", func() error {
			_, err := cfn.UpdateStack(ctx, &cloudformation.UpdateStackInput{StackName: aws.String(stackName), TemplateBody: aws.String(template()),
				Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam}})
			return err
		}, "AccessDenied"},
		{"allow restored by a stack update", func() error {
			_, err := cfn.UpdateStack(ctx, &cloudformation.UpdateStackInput{StackName: aws.String(stackName), TemplateBody: aws.String(template("iam:List*")),
				Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam}})
			return err
		}, ""},
	}
	for _, tc := range changes {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.change(); err != nil {
				t.Fatal(err)
			}
			before := env.IdentityLookups()
			if code := listRoles(); code != tc.want {
				t.Fatalf("next call: %q, want %q", code, tc.want)
			}
			// Re-reading a role with one inline policy: GetRole, ListRolePolicies, GetRolePolicy per policy,
			// ListAttachedRolePolicies.
			if n := env.IdentityLookups() - before; n == 0 || n > 5 {
				t.Errorf("the change cost %d IAM lookups, want 1..5", n)
			}
		})
	}
}

// TestUsersAssumeRoles: an IAM user assumes a role when its own policies allow sts:AssumeRole on it and the role
// trusts it; the session then acts in the role's account.
func TestUsersAssumeRoles(t *testing.T) {
	env := testkit.LocalAWS(t)
	ctx := t.Context()
	const account = "760987654321"
	allowed := newUser(t, account, "/", nil, policy(map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/Deploy*"}))
	unprivileged := newUser(t, account, "/", nil)
	trustsUsers := policy(map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": map[string]any{"AWS": []string{allowed.arn, unprivileged.arn}}})
	deploy := createRole(t, env.AccountIAM(account), testkit.UniqueName("Deploy"), trustsUsers)
	other := createRole(t, env.AccountIAM(account), testkit.UniqueName("Deploy"), policy(map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole",
		"Principal": map[string]any{"AWS": "arn:aws:iam::" + localaws.PlatformAccountID + ":root"}}))

	tests := []struct {
		name     string
		user     iamUser
		role     string
		wantCode string
		wantIn   string // a part of the refusal's message
	}{
		{"allowed and trusted", allowed, deploy, "", ""},
		{"trusted, but no identity policy allows it", unprivileged, deploy, "AccessDenied", "because no identity-based policy allows the sts:AssumeRole action"},
		{"allowed, but the role trusts someone else", allowed, other, "AccessDenied", "the role's trust policy does not allow this principal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := sts.NewFromConfig(tc.user.cfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(tc.role), RoleSessionName: aws.String("u")})
			code, msg := apiError(err)
			if code != tc.wantCode || !strings.Contains(msg, tc.wantIn) || tc.wantCode != "" && !strings.HasPrefix(msg, "User: "+tc.user.arn+" ") {
				t.Fatalf("error = %s %q, want %s containing %q", code, msg, tc.wantCode, tc.wantIn)
			}
			if err != nil {
				return
			}
			session := withKeys(t, aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
			id, err := sts.NewFromConfig(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil || aws.ToString(id.Account) != account || !strings.Contains(aws.ToString(id.Arn), ":assumed-role/") {
				t.Errorf("session identity: %v", err)
			}
		})
	}
}

// TestRootCredentials: an account's root (the local stand-in for a customer's root credentials: an access key id
// that is the 12-digit account id; or the tests' and local console's account header) acts in that account, is not
// restricted, and creates IAM users whose keys the edge then knows.
func TestRootCredentials(t *testing.T) {
	env := testkit.LocalAWS(t)
	ctx := t.Context()
	const account = "770987654321"
	byKey := withKeys(t, account, "any-secret", "")
	byHeader := env.AccountConfig(account)
	for name, cfg := range map[string]aws.Config{"root access key": byKey, "account header": byHeader} {
		t.Run(name, func(t *testing.T) {
			id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(id.Account) != account || aws.ToString(id.Arn) != "arn:aws:iam::"+account+":root" {
				t.Errorf("identity = %s in %s", aws.ToString(id.Arn), aws.ToString(id.Account))
			}
			client := iam.NewFromConfig(cfg)
			userName := testkit.UniqueName("alice")
			if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(userName)}); err != nil {
				t.Fatal(err)
			}
			key, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(userName)})
			if err != nil {
				t.Fatal(err)
			}
			alice := withKeys(t, aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")
			if id, err := sts.NewFromConfig(alice).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
				t.Errorf("the new user's key: %v", err)
			} else if aws.ToString(id.Arn) != "arn:aws:iam::"+account+":user/"+userName {
				t.Errorf("the new user's key acts as %s", aws.ToString(id.Arn))
			}
		})
	}
	// The platform's default credentials still act as the platform account.
	if id, err := sts.NewFromConfig(testkit.AWSConfig(t, nil)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil || aws.ToString(id.Account) != localaws.PlatformAccountID {
		t.Errorf("platform credentials: %v", err)
	}
}

// BenchmarkIdentityEnforcement: the edge's cost per call for a role session held to ViewOnlyAccess (373 action
// patterns) and an inline policy, against the same call by the platform's unrestricted credentials. iam-lookups/op
// is what the policy cache leaves of the IAM reads (0 once warm).
func BenchmarkIdentityEnforcement(b *testing.B) {
	env := testkit.LocalAWS(b)
	ctx := b.Context()
	role := testkit.UniqueName("Bench")
	arn := createRoleTB(b, env.AccountIAM("780987654321"), role)
	if _, err := env.AccountIAM("780987654321").AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(viewOnlyAccess)}); err != nil {
		b.Fatal(err)
	}
	out, err := sts.NewFromConfig(testkit.AWSConfig(b, nil)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	session := testkit.AWSConfig(b, nil)
	session.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	for name, cfg := range map[string]aws.Config{"platform": testkit.AWSConfig(b, nil), "role session": session} {
		b.Run(name, func(b *testing.B) {
			client := iam.NewFromConfig(cfg)
			if _, err := client.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{}); err != nil { // warm
				b.Fatal(err)
			}
			before := env.IdentityLookups()
			b.ResetTimer()
			for range b.N {
				if _, err := client.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(env.IdentityLookups()-before)/float64(b.N), "iam-lookups/op")
		})
	}
}

func createRoleTB(b *testing.B, client *iam.Client, name string) string {
	out, err := client.CreateRole(b.Context(), &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(policy(map[string]any{
		"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": map[string]any{"AWS": "arn:aws:iam::" + localaws.PlatformAccountID + ":root"}}))})
	if err != nil {
		b.Fatal(err)
	}
	return aws.ToString(out.Role.Arn)
}

// TestAWSManagedPolicies: AWS managed policies exist in every account with their real documents, and
// GetAccountAuthorizationDetails lists those attached in the account (not all of AWS's), besides the account's own.
func TestAWSManagedPolicies(t *testing.T) {
	env := testkit.LocalAWS(t)
	ctx := t.Context()
	const account = "790987654321"
	root := env.AccountIAM(account)
	for _, arn := range []string{viewOnlyAccess, iamReadOnlyAccess, iamFullAccess, "arn:aws:iam::aws:policy/ReadOnlyAccess"} {
		p, err := root.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("%s: %v", arn, err)
		}
		v, err := root.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
		if err != nil || !strings.Contains(aws.ToString(v.PolicyVersion.Document), "Statement") {
			t.Errorf("%s has no document: %v", arn, err)
		}
	}
	u := newUser(t, account, "/", []string{viewOnlyAccess})
	own, err := root.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(testkit.UniqueName("own")),
		PolicyDocument: aws.String(policy(map[string]any{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}))})
	if err != nil {
		t.Fatal(err)
	}
	details, err := root.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range details.Policies {
		got = append(got, aws.ToString(p.Arn))
	}
	if len(got) != 2 || !strings.Contains(strings.Join(got, " "), viewOnlyAccess) || !strings.Contains(strings.Join(got, " "), aws.ToString(own.Policy.Arn)) {
		t.Errorf("policies in the account's authorization details = %v, want %s (attached to %s) and %s", got, viewOnlyAccess, u.name, aws.ToString(own.Policy.Arn))
	}
}

// TestParameterChangeReachesTheRole: a stack update that changes only a parameter reaches a role whose inline
// policy depends on it through a Condition (the onboarding template's access level: Deny or Allow of tag reads),
// and the role's sessions are held to the new policy at once.
func TestParameterChangeReachesTheRole(t *testing.T) {
	env := testkit.LocalAWS(t)
	ctx := t.Context()
	const account = "800987654321"
	roleName := testkit.UniqueName("GangplankLevels")
	tagReads := []string{"tag:GetResources", "tag:GetTagKeys", "tag:GetTagValues"}
	tpl, _ := json.Marshal(map[string]any{
		"Parameters": map[string]any{"AccessLevel": map[string]any{"Type": "String"}},
		"Conditions": map[string]any{
			"Tags":      map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "AccessLevel"}, "resources"}}}},
			"ReadsTags": map[string]any{"Fn::And": []any{map[string]any{"Condition": "Tags"}, map[string]any{"Fn::Equals": []any{"a", "a"}}}},
		},
		"Resources": map[string]any{"Role": map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{
			"RoleName": roleName,
			"AssumeRolePolicyDocument": map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole",
				"Principal": map[string]any{"AWS": "arn:aws:iam::" + localaws.PlatformAccountID + ":root"}}}},
			"Policies": []any{map[string]any{"PolicyName": "GangplankTags", "PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{
				map[string]any{"Fn::If": []any{"ReadsTags",
					map[string]any{"Sid": "ReadTags", "Effect": "Allow", "Action": tagReads, "Resource": "*"},
					map[string]any{"Sid": "NoTagReads", "Effect": "Deny", "Action": tagReads, "Resource": "*"}}},
			}}}},
		}}},
	})
	cfn := cloudformation.NewFromConfig(env.AccountConfig(account))
	stack := testkit.UniqueName("levels")
	level := func(v string) []cfntypes.Parameter {
		return []cfntypes.Parameter{{ParameterKey: aws.String("AccessLevel"), ParameterValue: aws.String(v)}}
	}
	if _, err := cfn.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(stack), TemplateBody: aws.String(string(tpl)),
		Parameters: level("resources"), Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam}}); err != nil {
		t.Fatal(err)
	}
	out, err := sts.NewFromConfig(testkit.AWSConfig(t, nil)).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/" + roleName), RoleSessionName: aws.String("probe")})
	if err != nil {
		t.Fatal(err)
	}
	session := withKeys(t, aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	readTags := func() string {
		code, _ := apiError(rawStatus(t, session, "tagging", "POST", "/", "application/x-amz-json-1.1", "ResourceGroupsTaggingAPI_20170126.GetResources", "{}"))
		return code
	}
	if code := readTags(); code != "AccessDeniedException" {
		t.Fatalf("at level resources, tag reads: %q, want AccessDeniedException", code)
	}
	for _, tc := range []struct{ level, want string }{{"resources_tags", ""}, {"tags_write", ""}, {"resources", "AccessDeniedException"}} {
		t.Run(tc.level, func(t *testing.T) {
			if _, err := cfn.UpdateStack(ctx, &cloudformation.UpdateStackInput{StackName: aws.String(stack), UsePreviousTemplate: aws.Bool(true),
				Parameters: level(tc.level), Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam}}); err != nil {
				t.Fatal(err)
			}
			if code := readTags(); code != tc.want {
				t.Errorf("tag reads: %q, want %q", code, tc.want)
			}
		})
	}
}

// TestStackRoleManagedPolicies: a role a stack creates carries its template's ManagedPolicyArns (the onboarding
// role's ViewOnlyAccess), its sessions are held to them, and deleting the stack deletes the role.
func TestStackRoleManagedPolicies(t *testing.T) {
	env := testkit.LocalAWS(t)
	ctx := t.Context()
	const account = "810987654321"
	roleName := testkit.UniqueName("GangplankView")
	tpl, _ := json.Marshal(map[string]any{"Resources": map[string]any{"Role": map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{
		"RoleName": roleName,
		"AssumeRolePolicyDocument": map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole",
			"Principal": map[string]any{"AWS": "arn:aws:iam::" + localaws.PlatformAccountID + ":root"}}}},
		"ManagedPolicyArns": []string{viewOnlyAccess},
	}}}})
	cfn := cloudformation.NewFromConfig(env.AccountConfig(account))
	stack := testkit.UniqueName("view")
	if _, err := cfn.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(stack), TemplateBody: aws.String(string(tpl)),
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam}}); err != nil {
		t.Fatal(err)
	}
	out, err := sts.NewFromConfig(testkit.AWSConfig(t, nil)).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/" + roleName), RoleSessionName: aws.String("view")})
	if err != nil {
		t.Fatal(err)
	}
	session := withKeys(t, aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	if code, msg := apiError(rawStatus(t, session, "ec2", "POST", "/", "application/x-www-form-urlencoded", "", "Action=DescribeInstances&Version=2016-11-15")); code != "" {
		t.Errorf("ViewOnlyAccess read: %s %s", code, msg)
	}
	if code, _ := apiError(func() error {
		_, err := iam.NewFromConfig(session).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("x")})
		return err
	}()); code != "AccessDenied" {
		t.Errorf("a write outside ViewOnlyAccess: %q, want AccessDenied", code)
	}

	if _, err := cfn.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String(stack)}); err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := env.WaitIdle(wait); err != nil {
		t.Fatal(err)
	}
	if _, err := env.AccountIAM(account).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(roleName)}); !strings.Contains(fmt.Sprint(err), "NoSuchEntity") {
		t.Errorf("after the stack's deletion, GetRole: %v, want NoSuchEntity", err)
	}
}
