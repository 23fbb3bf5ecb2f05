package identity_test

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gangplank/gangplank/pkg/identity"
)

// TestOnboardingNeverHalfMade: an onboarding that fails after the user exists (IAM fails AddUserToGroup) removes
// what it made and says so; one whose rollback fails too leaves a record of the half-made user, and the same
// request finishes it.
func TestOnboardingNeverHalfMade(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	const acct = "510000000005"
	w.connectRole(t, acct, "readwrite", "")
	owner := w.owner(acct)
	if _, err := owner.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")}); err != nil {
		t.Fatal(err)
	}
	var failing atomic.Bool
	var calls atomic.Int64
	failing.Store(true)
	failIAM(t, w.env, "AddUserToGroup", "CreateUser", "erin", &failing, &calls)

	_, err := w.Services.Identity.Onboard(ctx, "acme", acct, identity.NewUser{UserName: "erin", Groups: []string{"ops"}})
	var incomplete *identity.IncompleteError
	if !errors.As(err, &incomplete) || incomplete.Onboarding == nil || incomplete.Onboarding.Status != identity.OnboardingRolledBack {
		t.Fatalf("onboard = %v, want a rolled-back IncompleteError", err)
	}
	if _, err := owner.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("erin")}); !isNoSuchEntity(err) {
		t.Errorf("erin remains after the rollback: %v", err)
	}
	rec, err := w.Services.Identity.Store.Onboarding(ctx, "acme", acct, "erin")
	if err != nil || rec.Status != identity.OnboardingRolledBack || rec.Error == "" || len(rec.Made) != 0 {
		t.Errorf("onboarding record after the rollback: %+v %v", rec, err)
	}

	// Now the rollback fails too (IAM fails DeleteUser for frank): the half-made user is on record.
	failIAM(t, w.env, "AddUserToGroup", "CreateUser", "frank", &failing, &calls)
	failIAM(t, w.env, "DeleteUser", "CreateUser", "frank", &failing, &calls)
	_, err = w.Services.Identity.Onboard(ctx, "acme", acct, identity.NewUser{UserName: "frank", Groups: []string{"ops"}})
	if !errors.As(err, &incomplete) || incomplete.Onboarding == nil || incomplete.Onboarding.Status != identity.OnboardingIncomplete {
		t.Fatalf("onboard = %v, want an incomplete onboarding", err)
	}
	if _, err := owner.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("frank")}); err != nil {
		t.Fatalf("frank should be half-made: %v", err)
	}
	failing.Store(false)
	out, err := w.Services.Identity.Onboard(ctx, "acme", acct, identity.NewUser{UserName: "frank", Groups: []string{"ops"}})
	if err != nil || out.Onboarding.Status != identity.OnboardingComplete || out.Password == "" {
		t.Fatalf("the same request again = %+v, %v; want it finished", out.Onboarding, err)
	}
	groups, err := owner.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("frank")})
	if err != nil || len(groups.Groups) != 1 || aws.ToString(groups.Groups[0].GroupName) != "ops" {
		t.Errorf("frank's groups: %+v %v", groups, err)
	}
	if p, err := owner.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("frank")}); err != nil || !p.LoginProfile.PasswordResetRequired {
		t.Errorf("frank's console password: %+v %v", p, err)
	}
}
