package identity_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gangplank/gangplank/pkg/identity"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// addUsers creates users first..first+n-1 in the account, each in one of the groups team-0..team-<groups-1>, with
// a console password.
func (w *world) addUsers(t *testing.T, accountID string, first, n, groups int) {
	t.Helper()
	ctx := t.Context()
	c := w.owner(accountID)
	for g := range groups {
		_, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(fmt.Sprintf("team-%d", g))})
		if err != nil && !strings.Contains(err.Error(), "EntityAlreadyExists") {
			t.Fatal(err)
		}
	}
	for i := first; i < first+n; i++ {
		name := aws.String(fmt.Sprintf("person-%03d", i))
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: name}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: name, GroupName: aws.String(fmt.Sprintf("team-%d", i%groups))}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: name, Password: aws.String("Some-Passw0rd!")}); err != nil {
			t.Fatal(err)
		}
	}
}

// perUserOperations are IAM reads that name one user: a sync must make none of them.
var perUserOperations = []string{"IAM.GetUser", "IAM.ListAccessKeys", "IAM.GetLoginProfile", "IAM.ListGroupsForUser",
	"IAM.ListAttachedUserPolicies", "IAM.ListUserPolicies", "IAM.ListMFADevices", "IAM.GetAccessKeyLastUsed", "IAM.ListSSHPublicKeys"}

// TestSyncCostAndStatus: a sync reads the whole account in a number of requests that does not grow with its
// users (one GetAccountAuthorizationDetails page, the credential report, the virtual MFA devices), records its
// calls by operation against the lower bound, and moves the integration from initializing to active; a sync the
// account refuses shows error with the reason and keeps the users of the last successful sync; the next good sync
// makes it active again.
func TestSyncCostAndStatus(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	const acct = "530000000001"
	w.addAccount(t, acct)
	reader := w.userKey(t, acct, "gangplank-reader", "IAMReadOnlyAccess")
	w.addUsers(t, acct, 0, 20, 3)

	v, err := w.Services.Identity.SetKey(ctx, "acme", acct, reader)
	if err != nil {
		t.Fatal(err)
	}
	if (v.Status == identity.Initializing) != (v.LastSuccessAt == nil) || v.Status == identity.Error {
		t.Errorf("a new integration is %s (last success %v): want initializing until its first sync, then active", v.Status, v.LastSuccessAt)
	}
	testkit.WaitIdle(t) // the first sync, which the key's entry started
	if v, err = w.Services.Identity.Get(ctx, "acme", acct); err != nil || v.Status != identity.Active || v.LastSuccessAt == nil {
		t.Fatalf("after the first sync: %+v %v", v.Integration, err)
	}

	runs := map[int]identity.SyncRun{}
	for _, users := range []int{21, 61} { // the key's user and 20 people; then 40 more
		if users > 21 {
			w.addUsers(t, acct, 20, 40, 3)
		}
		in, err := w.Services.Identity.Sync(ctx, "acme", acct)
		if err != nil || in.Status != identity.Active {
			t.Fatalf("sync of %d users: %+v %v", users, in, err)
		}
		run := *in.LastSync
		runs[users] = run
		if run.Users != users || run.Groups != 3 {
			t.Errorf("sync read %d users and %d groups, want %d and 3", run.Users, run.Groups, users)
		}
		if run.Calls["IAM.GetAccountAuthorizationDetails"] != 1 || run.Calls["IAM.GetCredentialReport"] != 1 || run.Calls["IAM.ListVirtualMFADevices"] != 1 {
			t.Errorf("calls of a sync of %d users: %v", users, run.Calls)
		}
		for _, op := range perUserOperations {
			if run.Calls[op] != 0 {
				t.Errorf("the sync made %d %s calls: one per user", run.Calls[op], op)
			}
		}
		sum := 0
		for _, n := range run.Calls {
			sum += n
		}
		// The bound: one page of entities, GenerateCredentialReport and GetCredentialReport, one page of devices.
		// GenerateCredentialReport may answer STARTED once while the report is built.
		if run.LowerBound != 4 || sum != run.CallsTotal || run.CallsTotal > run.LowerBound+1 {
			t.Errorf("sync of %d users: %d calls (%v), lower bound %d", users, run.CallsTotal, run.Calls, run.LowerBound)
		}
	}
	if runs[61].CallsTotal != runs[21].CallsTotal {
		t.Errorf("the calls grow with the users: %d for 21 users, %d for 61", runs[21].CallsTotal, runs[61].CallsTotal)
	}

	owner := w.owner(acct)
	readOnly := &iam.DetachUserPolicyInput{UserName: aws.String("gangplank-reader"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess")}
	if _, err := owner.DetachUserPolicy(ctx, readOnly); err != nil {
		t.Fatal(err)
	}
	in, err := w.Services.Identity.Sync(ctx, "acme", acct)
	var refused *identity.PermissionError
	if !errors.As(err, &refused) || refused.Action != "iam:GetAccountAuthorizationDetails" {
		t.Fatalf("sync without IAM reads = %v, want a PermissionError naming iam:GetAccountAuthorizationDetails", err)
	}
	if in.Status != identity.Error || !strings.Contains(in.StatusReason, "iam:GetAccountAuthorizationDetails") ||
		!strings.Contains(in.StatusReason, "IAMReadOnlyAccess") || !strings.Contains(in.StatusReason, "last successful sync") ||
		in.LastSync.Status != "failed" {
		t.Errorf("after a refused sync: status %s %q, last sync %+v", in.Status, in.StatusReason, in.LastSync)
	}
	if page, err := w.Services.Identity.Users(ctx, "acme", acct, 100, ""); err != nil || len(page.Items) != 61 {
		t.Errorf("the last synced users are not kept: %d %v", len(page.Items), err)
	}
	if _, err := owner.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: readOnly.UserName, PolicyArn: readOnly.PolicyArn}); err != nil {
		t.Fatal(err)
	}
	if in, err := w.Services.Identity.Sync(ctx, "acme", acct); err != nil || in.Status != identity.Active || in.StatusReason != "" {
		t.Errorf("sync after the permission came back: %s %q %v", in.Status, in.StatusReason, err)
	}
}
