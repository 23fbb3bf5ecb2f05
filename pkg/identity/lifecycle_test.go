package identity_test

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gangplank/gangplank/pkg/identity"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// failIAM makes the local AWS fail action for user with a server error while *on is set (every attempt, so the
// SDK's retries give up), counting every call of countAction for that user.
func failIAM(t *testing.T, env *localaws.Env, action, countAction, user string, on *atomic.Bool, count *atomic.Int64) {
	remove := env.Intercept(localaws.InterceptorFunc(func(w http.ResponseWriter, c *localaws.Call) bool {
		if c.Service != "iam" || c.Form("UserName") != user {
			return false
		}
		if c.Action == countAction {
			count.Add(1)
		}
		if c.Action == action && on.Load() {
			localaws.WriteQueryError(w, http.StatusInternalServerError, "ServiceFailure", "injected: IAM is having a bad day")
			return true
		}
		return false
	}))
	t.Cleanup(remove)
}

// TestOffboardingResumes: an offboarding that stops after the access keys (IAM fails on the SSH keys) shows what
// was done and what failed; asked again, it continues from the SSH keys without touching the keys again, and ends
// with the user gone.
func TestOffboardingResumes(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	const acct = "510000000002"
	w.connectRole(t, acct, "readwrite", "")
	w.userWithEverything(t, acct, "bob", "/")
	var failing atomic.Bool
	var keyLists atomic.Int64
	failing.Store(true)
	failIAM(t, w.env, "ListSSHPublicKeys", "ListAccessKeys", "bob", &failing, &keyLists)

	_, err := w.Services.Identity.Offboard(ctx, "acme", acct, "bob")
	var incomplete *identity.IncompleteError
	if !errors.As(err, &incomplete) || incomplete.Offboarding == nil {
		t.Fatalf("offboard = %v, want an IncompleteError with the progress", err)
	}
	rec, err := w.Services.Identity.OffboardingOf(ctx, "acme", acct, "bob")
	if err != nil {
		t.Fatal(err)
	}
	done := map[string]bool{}
	var keysAt time.Time
	for _, st := range rec.Steps {
		done[st.Name] = st.Done
		if st.Name == identity.StepAccessKeys && st.At != nil {
			keysAt = *st.At
		}
	}
	if rec.Status != identity.OffboardingIncomplete || !done[identity.StepConsolePassword] || !done[identity.StepAccessKeys] ||
		done[identity.StepSSHPublicKeys] || rec.AccessRemovedAt != nil || rec.Error == "" {
		t.Fatalf("progress after the failure: %+v", rec)
	}
	keys, err := w.owner(acct).ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")})
	if err != nil || len(keys.AccessKeyMetadata) != 0 {
		t.Fatalf("bob's keys should be gone already: %+v %v", keys, err)
	}
	listsBefore := keyLists.Load()

	failing.Store(false)
	rec, err = w.Services.Identity.Offboard(ctx, "acme", acct, "bob")
	if err != nil || rec.Status != identity.OffboardingDeleted {
		t.Fatalf("resumed offboarding = %+v, %v", rec, err)
	}
	for _, st := range rec.Steps {
		if st.Name == identity.StepAccessKeys && (st.At == nil || !st.At.Equal(keysAt)) {
			t.Errorf("the access keys step ran again: %+v (first at %s)", st, keysAt)
		}
	}
	if n := keyLists.Load(); n != listsBefore {
		t.Errorf("the resumed offboarding listed bob's access keys again (%d more calls)", n-listsBefore)
	}
	if _, err := w.owner(acct).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")}); !isNoSuchEntity(err) {
		t.Errorf("bob still exists: %v", err)
	}
}

// TestDelayedDeletion: with user cleanup days, offboarding removes every way in at once and schedules the user's
// deletion; the user stays (for audits) until the schedule fires, days later, through EventBridge Scheduler, the
// identity queue and the worker; then it is gone and the schedule too.
func TestDelayedDeletion(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	const acct = "510000000003"
	w.connectRole(t, acct, "readwrite", "")
	w.settings(t, acct, 30, 0)
	w.userWithEverything(t, acct, "carol", "/")
	rec, err := w.Services.Identity.Offboard(ctx, "acme", acct, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != identity.OffboardingDeletionScheduled || rec.DeleteAt == nil || rec.AccessRemovedAt == nil ||
		rec.DeleteAt.Sub(*rec.AccessRemovedAt) != 30*24*time.Hour {
		t.Fatalf("offboarding = %+v", rec)
	}
	owner := w.owner(acct)
	user := aws.String("carol")
	if _, err := owner.GetUser(ctx, &iam.GetUserInput{UserName: user}); err != nil {
		t.Fatalf("carol should remain until the deletion: %v", err)
	}
	if _, err := owner.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: user}); !isNoSuchEntity(err) {
		t.Errorf("carol can still sign in: %v", err)
	}
	if keys, _ := owner.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: user}); len(keys.AccessKeyMetadata) != 0 {
		t.Errorf("carol still has keys: %+v", keys.AccessKeyMetadata)
	}
	if again, err := w.Services.Identity.Offboard(ctx, "acme", acct, "carol"); err != nil || again.Status != identity.OffboardingDeletionScheduled {
		t.Errorf("offboarding again = %+v, %v", again, err)
	}

	if fired, err := w.env.FireDueSchedules(ctx, rec.DeleteAt.Add(-time.Minute)); err != nil || len(fired) != 0 {
		t.Fatalf("fired before the cleanup days passed: %v %v", fired, err)
	}
	fired, err := w.env.FireDueSchedules(ctx, rec.DeleteAt.Add(time.Minute))
	if err != nil || len(fired) != 1 || fired[0] != identity.ScheduleName("acme", acct, "carol") {
		t.Fatalf("fired = %v, %v", fired, err)
	}
	testkit.WaitIdle(t)
	if _, err := owner.GetUser(ctx, &iam.GetUserInput{UserName: user}); !isNoSuchEntity(err) {
		t.Errorf("carol still exists after the scheduled deletion: %v", err)
	}
	rec, err = w.Services.Identity.OffboardingOf(ctx, "acme", acct, "carol")
	if err != nil || rec.Status != identity.OffboardingDeleted || rec.DeletedAt == nil {
		t.Errorf("after the deletion: %+v %v", rec, err)
	}
}

// TestPathPrefix: only users under the prefix are synced; onboarding creates users there; a user outside it
// cannot be offboarded, and the refusal names the prefix.
func TestPathPrefix(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	const acct = "510000000004"
	w.connectRole(t, acct, "readwrite", "/engineering/")
	owner := w.owner(acct)
	for name, path := range map[string]string{"in-1": "/engineering/", "in-2": "/engineering/contractors/", "out-1": "/finance/", "out-2": "/"} {
		if _, err := owner.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name), Path: aws.String(path)}); err != nil {
			t.Fatal(err)
		}
	}
	in, err := w.Services.Identity.Sync(ctx, "acme", acct)
	if err != nil {
		t.Fatal(err)
	}
	if in.LastSync.Users != 2 || in.LastSync.OutsidePrefix != 2 {
		t.Errorf("sync: %+v", in.LastSync)
	}
	page, err := w.Services.Identity.Users(ctx, "acme", acct, 50, "")
	if err != nil || len(page.Items) != 2 || page.Items[0].UserName != "in-1" || page.Items[1].UserName != "in-2" {
		t.Errorf("users = %+v, %v", page.Items, err)
	}
	out, err := w.Services.Identity.Onboard(ctx, "acme", acct, identity.NewUser{UserName: "newcomer"})
	if err != nil {
		t.Fatal(err)
	}
	if u, err := owner.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("newcomer")}); err != nil || aws.ToString(u.User.Path) != "/engineering/" {
		t.Errorf("newcomer's path: %+v %v", u, err)
	}
	if out.Password == "" || !out.PasswordResetRequired {
		t.Errorf("onboarded = %+v", out)
	}
	_, err = w.Services.Identity.Offboard(ctx, "acme", acct, "out-1")
	var outside *identity.OutsidePrefixError
	if !errors.As(err, &outside) || outside.Prefix != "/engineering/" || outside.Path != "/finance/" {
		t.Fatalf("offboarding a user outside the prefix: %v", err)
	}
	if _, err := owner.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("out-1")}); err != nil {
		t.Errorf("out-1 was touched: %v", err)
	}
}
