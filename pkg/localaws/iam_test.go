package localaws_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/gangplank/gangplank/pkg/testkit"
)

// TestAuthorizationDetailsPages: GetAccountAuthorizationDetails answers pages of MaxItems entities with a Marker,
// as AWS does (moto answers everything at once), every entity exactly once across the pages.
func TestAuthorizationDetailsPages(t *testing.T) {
	env := testkit.LocalAWS(t)
	ctx := t.Context()
	const acct = "520000000001"
	c := iam.NewFromConfig(env.AccountConfig(acct))
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("pager-user-%d", i)
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	for i := range 3 {
		if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(fmt.Sprintf("pager-group-%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	in := &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(4),
		Filter: []iamtypes.EntityType{iamtypes.EntityTypeUser, iamtypes.EntityTypeGroup}}
	var users, groups []string
	pages := 0
	for {
		out, err := c.GetAccountAuthorizationDetails(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if n := len(out.UserDetailList) + len(out.GroupDetailList); n > 4 {
			t.Errorf("page %d holds %d entities, MaxItems 4", pages, n)
		}
		for _, u := range out.UserDetailList {
			users = append(users, aws.ToString(u.UserName))
		}
		for _, g := range out.GroupDetailList {
			groups = append(groups, aws.ToString(g.GroupName))
		}
		if !out.IsTruncated {
			if out.Marker != nil {
				t.Errorf("last page has a marker")
			}
			break
		}
		in.Marker = out.Marker
	}
	slices.Sort(users)
	if pages != 3 || !slices.Equal(users, want) || len(groups) != 3 {
		t.Errorf("%d pages, users %v, groups %v", pages, users, groups)
	}
	_, err := c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Marker: aws.String("not-a-marker")})
	if code := errorCode(err); code != "ValidationError" {
		t.Errorf("unknown marker: %v", err)
	}
}

// TestDeleteUserConflicts: IAM refuses to delete a user that still has a way in, a membership or a policy, naming
// what to remove first; once nothing is left, the user goes.
func TestDeleteUserConflicts(t *testing.T) {
	env := testkit.LocalAWS(t)
	ctx := t.Context()
	c := iam.NewFromConfig(env.AccountConfig("520000000002"))
	user := aws.String("conflicted")
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: user}); err != nil {
		t.Fatal(err)
	}
	deleteWants := func(message string) {
		t.Helper()
		_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: user})
		var conflict *iamtypes.DeleteConflictException
		if message == "" {
			if err != nil {
				t.Fatalf("delete: %v", err)
			}
			return
		}
		if !errors.As(err, &conflict) || !strings.Contains(err.Error(), message) {
			t.Fatalf("delete = %v, want DeleteConflict %q", err, message)
		}
	}
	if _, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: user, Password: aws.String("Aa1!aaaaaaaa")}); err != nil {
		t.Fatal(err)
	}
	deleteWants("must delete login profile first")
	if _, err := c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: user}); err != nil {
		t.Fatal(err)
	}
	cred, err := c.CreateServiceSpecificCredential(ctx, &iam.CreateServiceSpecificCredentialInput{UserName: user, ServiceName: aws.String("codecommit.amazonaws.com")})
	if err != nil || aws.ToString(cred.ServiceSpecificCredential.ServicePassword) == "" {
		t.Fatalf("create service-specific credential: %+v %v", cred, err)
	}
	deleteWants("must delete service specific credentials first")
	listed, err := c.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: user})
	if err != nil || len(listed.ServiceSpecificCredentials) != 1 || aws.ToString(listed.ServiceSpecificCredentials[0].ServiceName) != "codecommit.amazonaws.com" {
		t.Fatalf("list: %+v %v", listed, err)
	}
	if _, err := c.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: user,
		ServiceSpecificCredentialId: cred.ServiceSpecificCredential.ServiceSpecificCredentialId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("conflicted-team")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: user, GroupName: aws.String("conflicted-team")}); err != nil {
		t.Fatal(err)
	}
	deleteWants("must remove users from group first")
	if _, err := c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: user, GroupName: aws.String("conflicted-team")}); err != nil {
		t.Fatal(err)
	}
	deleteWants("")
	if _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: user}); err == nil {
		t.Error("the user is still there")
	}
}

// TestSchedulesFire: moto stores schedules and never fires them; FireDueSchedules fires a one-time schedule once
// due (not before), delivering its input to its SQS target, and deletes it when ActionAfterCompletion says so.
// Expressions AWS refuses are refused.
func TestSchedulesFire(t *testing.T) {
	env := testkit.LocalAWS(t)
	ctx := t.Context()
	cfg := testkit.AWSConfig(t, nil)
	sched, queues := scheduler.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	group := testkit.UniqueName("sched")
	if _, err := sched.CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{Name: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	q, err := queues.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(group)})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(30 * 24 * time.Hour).Truncate(time.Second)
	target := &schedtypes.Target{Arn: aws.String("arn:aws:sqs:us-east-1:123456789012:" + group), RoleArn: aws.String("arn:aws:iam::123456789012:role/scheduler"),
		Input: aws.String(`{"hello":"later"}`)}
	create := func(expr string) error {
		_, err := sched.CreateSchedule(ctx, &scheduler.CreateScheduleInput{Name: aws.String("once"), GroupName: aws.String(group),
			ScheduleExpression: aws.String(expr), FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
			ActionAfterCompletion: schedtypes.ActionAfterCompletionDelete, Target: target})
		return err
	}
	if err := create("at(next tuesday)"); errorCode(err) != "ValidationException" {
		t.Fatalf("invalid at(): %v", err)
	}
	if err := create("at(" + at.Format("2006-01-02T15:04:05") + ")"); err != nil {
		t.Fatal(err)
	}
	if fired, err := env.FireDueSchedules(ctx, at.Add(-time.Second)); err != nil || slices.Contains(fired, "once") {
		t.Fatalf("fired early: %v %v", fired, err)
	}
	fired, err := env.FireDueSchedules(ctx, at)
	if err != nil || !slices.Contains(fired, "once") {
		t.Fatalf("fired = %v, %v", fired, err)
	}
	msgs, err := queues.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10})
	if err != nil || len(msgs.Messages) != 1 {
		t.Fatalf("messages = %+v, %v", msgs, err)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(msgs.Messages[0].Body)), &body); err != nil || body["hello"] != "later" {
		t.Errorf("body = %s", aws.ToString(msgs.Messages[0].Body))
	}
	if _, err := sched.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String("once"), GroupName: aws.String(group)}); err == nil {
		t.Error("the schedule remains after it ran (ActionAfterCompletion DELETE)")
	}
	if fired, _ := env.FireDueSchedules(ctx, at.Add(time.Hour)); slices.Contains(fired, "once") {
		t.Error("fired twice")
	}
}

func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
