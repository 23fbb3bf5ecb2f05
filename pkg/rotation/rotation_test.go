package rotation_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/rotation"
	"github.com/gangplank/gangplank/pkg/store"
	"github.com/gangplank/gangplank/pkg/tenants"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// clock is a settable clock shared by the services under test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }
func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }
func days(n int) time.Duration       { return time.Duration(n) * 24 * time.Hour }
func ids(a []tenants.AccountAtRisk) string {
	var s []string
	for _, x := range a {
		s = append(s, x.AccountID)
	}
	return strings.Join(s, ",")
}

// TestScheduledRotation walks a tenant's External ID schedule through a month and a half: the warning a week
// before the rotation names every connected account, the rotation happens once, and the warning before the grace
// period ends names only the account whose stack still requires the old External ID (found by assuming each role
// in the local AWS, which enforces sts:ExternalId as AWS does).
func TestScheduledRotation(t *testing.T) {
	p := testkit.NewPlatform(t)
	ctx := t.Context()
	c := &clock{now: time.Now().UTC()}
	start := c.Now()
	db := p.Services.DB
	ts := tenants.NewService(store.Tenants{DB: db}, c.Now)
	svc := &rotation.Service{Tenants: ts, Due: store.Tenants{DB: db}, Accounts: p.Services.Accounts, Verifier: p.Services.Connector,
		PlatformPrincipal: p.Config.Onboarding.PlatformPrincipal, Now: c.Now}

	if _, err := ts.Get(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	// A second tenant without a schedule is never read by the daily run.
	if _, err := ts.Get(ctx, "globex"); err != nil {
		t.Fatal(err)
	}
	const updated, stale = "771000000001", "771000000002"
	for _, id := range []string{updated, stale} {
		if _, err := p.Services.Accounts.Create(ctx, "acme", accounts.CreateInput{Name: "Account " + id, AccountID: id, Type: "standalone", Region: "us-east-1"}); err != nil {
			t.Fatal(err)
		}
		p.Connect(t, "acme", id)
	}
	if _, err := ts.UpdateSettings(ctx, "acme", []string{"*"}, tenants.SettingsPatch{CredentialRotationDays: aws.Int(30)}); err != nil {
		t.Fatal(err)
	}
	run := func(at time.Time) rotation.Report {
		t.Helper()
		c.Set(at)
		r, err := svc.RunDue(ctx)
		if err != nil {
			t.Fatalf("run at %s: %v", at, err)
		}
		return r
	}

	// Day 1: nothing is due, and no tenant is read.
	if r := run(start.Add(days(1))); r.Tenants != 0 {
		t.Errorf("day 1: %+v", r)
	}
	// Day 23, a week before the rotation: the warning names both connected accounts, with the deadline.
	if r := run(start.Add(days(23) + time.Hour)); r.Tenants != 1 || r.Warnings != 1 || r.Rotated != 0 {
		t.Fatalf("day 23: %+v", r)
	}
	acme, _ := ts.Get(ctx, "acme")
	w := acme.Rotation.Warning
	if w == nil || w.Kind != tenants.WarningUpcomingRotation || ids(w.Accounts) != updated+","+stale ||
		!w.Deadline.Equal(acme.Rotation.NextRotationAt.AddDate(0, 0, 30)) || !strings.Contains(w.Message, "2 connected account(s)") {
		t.Fatalf("upcoming warning = %+v", w)
	}
	// The same day again: nothing new (the warning is recorded once).
	if r := run(start.Add(days(23) + 2*time.Hour)); r.Tenants != 0 || r.Warnings != 0 {
		t.Errorf("day 23 again: %+v", r)
	}
	oldID := acme.ExternalID

	// Day 30: the rotation, once.
	rotatedAt := start.Add(days(30) + time.Hour)
	if r := run(rotatedAt); r.Rotated != 1 {
		t.Fatalf("day 30: %+v", r)
	}
	acme, _ = ts.Get(ctx, "acme")
	if acme.ExternalID == oldID || len(acme.PreviousExternalIDs) != 1 || acme.PreviousExternalIDs[0].ExternalID != oldID ||
		!acme.PreviousExternalIDs[0].ValidUntil.Equal(rotatedAt.AddDate(0, 0, 30)) || !acme.Rotation.NextRotationAt.Equal(rotatedAt.AddDate(0, 0, 30)) {
		t.Fatalf("after rotation: %+v", acme)
	}
	if _, again, err := ts.RotateIfDue(ctx, "acme"); err != nil || again {
		t.Errorf("a duplicate run rotated again: %v %v", again, err)
	}

	// The customer updates one stack: its role now requires the new External ID.
	roleName := roleNameOf(t, p, updated)
	trust, _ := json.Marshal(onboarding.TrustPolicy(p.Config.Onboarding.PlatformPrincipal, acme.ExternalID))
	if _, err := testkit.LocalAWS(t).AccountIAM(updated).UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{
		RoleName: aws.String(roleName), PolicyDocument: aws.String(string(trust))}); err != nil {
		t.Fatal(err)
	}

	// A week before the grace ends (and the next rotation is due): the grace warning names only the stale stack.
	if r := run(rotatedAt.Add(days(23) + time.Hour)); r.Warnings != 2 {
		t.Fatalf("grace: %+v", r)
	}
	acme, _ = ts.Get(ctx, "acme")
	w = acme.Rotation.Warning
	if w == nil || w.Kind != tenants.WarningGraceEnding || ids(w.Accounts) != stale || !w.Deadline.Equal(rotatedAt.AddDate(0, 0, 30)) ||
		!strings.Contains(w.Accounts[0].Reason, "previous External ID") || !strings.Contains(w.Message, "1 of 2") {
		t.Fatalf("grace warning = %+v", w)
	}
	// Both warnings are in the audit trail, the External IDs themselves never.
	trail, err := p.Services.Audit.List(ctx, "acme", 50, "")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(trail)
	if n := strings.Count(string(raw), `"tenant.external_id_rotation_warning"`); n != 3 {
		t.Errorf("%d warnings in the trail, want 3", n)
	}
	if strings.Contains(string(raw), oldID) || strings.Contains(string(raw), acme.ExternalID) {
		t.Error("an External ID is in the audit trail")
	}
}

func roleNameOf(t *testing.T, p *testkit.Platform, id string) string {
	t.Helper()
	a, err := p.Services.Accounts.Get(t.Context(), "acme", id)
	if err != nil {
		t.Fatal(err)
	}
	r, err := awsid.ParseRoleARN(a.RoleARN)
	if err != nil {
		t.Fatal(err)
	}
	return r.Name
}

// TestGraceAlreadyOver: a grace period that ended while no run happened (a grace of 0 days) is passed over without
// a warning, and the tenant leaves the index.
func TestGraceAlreadyOver(t *testing.T) {
	p := testkit.NewPlatform(t)
	ctx := t.Context()
	c := &clock{now: time.Now().UTC()}
	ts := tenants.NewService(store.Tenants{DB: p.Services.DB}, c.Now)
	svc := &rotation.Service{Tenants: ts, Due: store.Tenants{DB: p.Services.DB}, Accounts: p.Services.Accounts, Verifier: p.Services.Connector, Now: c.Now}
	if _, err := ts.UpdateSettings(ctx, "acme", []string{"*"}, tenants.SettingsPatch{ExternalIDGraceDays: aws.Int(0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.RotateExternalID(ctx, "acme", nil); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Minute)
	r, err := svc.RunDue(ctx)
	if err != nil || r.Tenants != 1 || r.Warnings != 0 {
		t.Fatalf("run: %+v %v", r, err)
	}
	acme, _ := ts.Get(ctx, "acme")
	if acme.Rotation.Warning != nil || acme.NextRotationCheck() != nil {
		t.Errorf("after the run: %+v", acme.Rotation)
	}
	if r, _ := svc.RunDue(ctx); r.Tenants != 0 {
		t.Errorf("tenant still in the index: %+v", r)
	}
}
