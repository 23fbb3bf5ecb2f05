package identity_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/identity"
)

// TestOffboardEveryCredential: a user with every way in IAM has, memberships and policies is offboarded, and
// nothing of it remains: not the user, not its virtual MFA device, not its place in its group, not its policy
// attachment.
func TestOffboardEveryCredential(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	const acct = "510000000001"
	w.connectRole(t, acct, "readwrite", "")
	serial := w.userWithEverything(t, acct, "alice", "/")
	in, err := w.Services.Identity.Sync(ctx, "acme", acct)
	if err != nil || in.Status != identity.Active || in.Access != accounts.IdentityReadWrite {
		t.Fatalf("sync: %+v, %v", in, err)
	}
	u, err := w.Services.Identity.User(ctx, "acme", acct, "alice")
	if err != nil {
		t.Fatal(err)
	}
	c := u.Credentials
	if !c.PasswordEnabled || len(c.AccessKeys) != 2 || !c.MFAActive || len(c.VirtualMFADevices) != 1 || len(c.SigningCertificates) != 1 ||
		c.Live == nil || len(c.Live.SSHPublicKeys) != 1 || len(c.Live.ServiceCredentials) != 1 || len(c.Live.AccessKeys) != 2 {
		t.Fatalf("synced credentials of alice: %+v live %+v", c, c.Live)
	}
	if !slices.Equal(u.Groups, []string{"alice-team"}) || len(u.ManagedPolicies) != 1 || !slices.Equal(u.InlinePolicies, []string{"inline"}) {
		t.Errorf("memberships and policies: %+v", u)
	}

	rec, err := w.Services.Identity.Offboard(ctx, "acme", acct, "alice")
	if err != nil {
		t.Fatalf("offboard: %v", err)
	}
	if rec.Status != identity.OffboardingDeleted || rec.AccessRemovedAt == nil || rec.DeletedAt == nil {
		t.Fatalf("offboarding = %+v", rec)
	}
	for _, st := range rec.Steps {
		if !st.Done {
			t.Errorf("step %s not done: %+v", st.Name, st)
		}
		if st.Name == identity.StepAccessKeys && st.Detail != "2 access keys deactivated and deleted" {
			t.Errorf("access keys step says %q", st.Detail)
		}
	}
	owner := w.owner(acct)
	if _, err := owner.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")}); !isNoSuchEntity(err) {
		t.Errorf("alice still exists: %v", err)
	}
	devices, err := owner.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devices.VirtualMFADevices {
		if aws.ToString(d.SerialNumber) == serial {
			t.Errorf("alice's virtual MFA device remains: %s", serial)
		}
	}
	group, err := owner.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("alice-team")})
	if err != nil || len(group.Users) != 0 {
		t.Errorf("alice-team still lists %d users (%v)", len(group.Users), err)
	}
	policies, err := owner.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range policies.Policies {
		if aws.ToString(p.PolicyName) == "alice-policy" && aws.ToInt32(p.AttachmentCount) != 0 {
			t.Errorf("alice-policy still attached %d times", aws.ToInt32(p.AttachmentCount))
		}
	}
	if _, err := w.Services.Identity.User(ctx, "acme", acct, "alice"); err != nil {
		t.Errorf("the deleted user's record should remain visible: %v", err)
	}
	again, err := w.Services.Identity.Offboard(ctx, "acme", acct, "alice")
	if err != nil || again.Status != identity.OffboardingDeleted || !again.DeletedAt.Equal(*rec.DeletedAt) {
		t.Errorf("offboarding again = %+v, %v; want the same finished record", again, err)
	}
}

func isNoSuchEntity(err error) bool {
	var e *iamtypes.NoSuchEntityException
	return errors.As(err, &e) || (err != nil && strings.Contains(err.Error(), "NoSuchEntity"))
}
