package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gangplank/gangplank/pkg/validation"
)

func validIntegration() IntegrationInput {
	return IntegrationInput{Name: "prod-payer_1", Owners: []string{"ops@example.com", "Ana.Lee+aws@corp.example.co.uk"},
		CustomAccessDetails: "Request access in #cloud-access; approvals take a day.",
		ResourceTypes:       []string{"ec2:instance", "s3:bucket", "elasticloadbalancing:loadbalancer/app"},
		Regions:             []string{"us-east-1", "eu-west-1"}}
}

func fieldsOf(err error) []string {
	var ve *validation.Error
	if !errors.As(err, &ve) {
		return nil
	}
	var out []string
	for _, f := range ve.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestCheckIntegration(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(in *IntegrationInput)
		typ    Type
		fields []string
		msg    string // part of the first field's message
	}{
		{name: "valid", edit: func(*IntegrationInput) {}},
		{name: "valid management with SSO region", typ: Management, edit: func(in *IntegrationInput) { in.SSORegion = "eu-central-1" }},
		{name: "name missing", edit: func(in *IntegrationInput) { in.Name = "" }, fields: []string{"integrationName"}},
		{name: "name with a space", edit: func(in *IntegrationInput) { in.Name = "prod payer" }, fields: []string{"integrationName"}, msg: "letters, digits, - or _"},
		{name: "name with a dot", edit: func(in *IntegrationInput) { in.Name = "prod.payer" }, fields: []string{"integrationName"}},
		{name: "name not ASCII", edit: func(in *IntegrationInput) { in.Name = "prød" }, fields: []string{"integrationName"}},
		{name: "name too long", edit: func(in *IntegrationInput) { in.Name = strings.Repeat("a", 65) }, fields: []string{"integrationName"}},
		{name: "name of 64", edit: func(in *IntegrationInput) { in.Name = strings.Repeat("a", 64) }},
		{name: "no owners", edit: func(in *IntegrationInput) { in.Owners = nil }, fields: []string{"owners"}, msg: "at least one"},
		{name: "owner not an email", edit: func(in *IntegrationInput) { in.Owners = []string{"ops@example.com", "ops"} }, fields: []string{"owners[1]"}},
		{name: "owner with a display name", edit: func(in *IntegrationInput) { in.Owners = []string{"Ops <ops@example.com>"} }, fields: []string{"owners[0]"}},
		{name: "owner without a domain dot", edit: func(in *IntegrationInput) { in.Owners = []string{"ops@localhost"} }, fields: []string{"owners[0]"}},
		{name: "owner twice, other case", edit: func(in *IntegrationInput) { in.Owners = []string{"ops@example.com", "OPS@example.com"} }, fields: []string{"owners[1]"}},
		{name: "too many owners", edit: func(in *IntegrationInput) {
			in.Owners = nil
			for i := 0; i < 21; i++ {
				in.Owners = append(in.Owners, strings.Repeat("a", i+1)+"@example.com")
			}
		}, fields: []string{"owners"}},
		{name: "details of 400", edit: func(in *IntegrationInput) { in.CustomAccessDetails = strings.Repeat("é", 400) }},
		{name: "details of 401", edit: func(in *IntegrationInput) { in.CustomAccessDetails = strings.Repeat("é", 401) }, fields: []string{"customAccessDetails"}, msg: "at most 400"},
		{name: "details with a newline", edit: func(in *IntegrationInput) { in.CustomAccessDetails = "line\nline" }, fields: []string{"customAccessDetails"}, msg: "U+000A"},
		{name: "details with a bidi override", edit: func(in *IntegrationInput) { in.CustomAccessDetails = "abc\u202Edef" }, fields: []string{"customAccessDetails"}, msg: "U+202E"},
		{name: "details with a tag", edit: func(in *IntegrationInput) { in.CustomAccessDetails = "see <b>this</b>" }, fields: []string{"customAccessDetails"}, msg: "markup"},
		{name: "details with a script", edit: func(in *IntegrationInput) { in.CustomAccessDetails = "<script>alert(1)</script>" }, fields: []string{"customAccessDetails"}},
		{name: "details with an entity", edit: func(in *IntegrationInput) { in.CustomAccessDetails = "a &lt; b" }, fields: []string{"customAccessDetails"}},
		{name: "details with a markdown link", edit: func(in *IntegrationInput) { in.CustomAccessDetails = "[wiki](https://evil.example)" }, fields: []string{"customAccessDetails"}},
		{name: "details with an ampersand and brackets", edit: func(in *IntegrationInput) { in.CustomAccessDetails = "R&D [team] (EU)" }},
		{name: "details not UTF-8", edit: func(in *IntegrationInput) { in.CustomAccessDetails = "\xff" }, fields: []string{"customAccessDetails"}},
		{name: "rotation of 0", edit: func(in *IntegrationInput) { in.CredentialRotationDays = ptr(0) }, fields: []string{"credentialRotationDays"}},
		{name: "rotation of 366", edit: func(in *IntegrationInput) { in.CredentialRotationDays = ptr(366) }, fields: []string{"credentialRotationDays"}},
		{name: "rotation of 90", edit: func(in *IntegrationInput) { in.CredentialRotationDays = ptr(90) }},
		{name: "cleanup negative", edit: func(in *IntegrationInput) { in.UserCleanupDays = ptr(-1) }, fields: []string{"userCleanupDays"}},
		{name: "cleanup of 30", edit: func(in *IntegrationInput) { in.UserCleanupDays = ptr(30) }},
		{name: "resource type without a service", edit: func(in *IntegrationInput) { in.ResourceTypes = []string{"instance"} }, fields: []string{"resourceTypes[0]"}, msg: "ec2:instance"},
		{name: "resource type in CloudFormation form", edit: func(in *IntegrationInput) { in.ResourceTypes = []string{"AWS::EC2::Instance"} }, fields: []string{"resourceTypes[0]"}},
		{name: "resource type in capitals", edit: func(in *IntegrationInput) { in.ResourceTypes = []string{"EC2:Instance"} }, fields: []string{"resourceTypes[0]"}},
		{name: "resource type twice", edit: func(in *IntegrationInput) { in.ResourceTypes = []string{"s3:bucket", "s3:bucket"} }, fields: []string{"resourceTypes[1]"}},
		{name: "too many resource types", edit: func(in *IntegrationInput) {
			in.ResourceTypes = nil
			for i := 0; i < 101; i++ {
				in.ResourceTypes = append(in.ResourceTypes, "ec2:t"+strings.Repeat("x", i))
			}
		}, fields: []string{"resourceTypes"}},
		{name: "region unknown", edit: func(in *IntegrationInput) { in.Regions = []string{"us-east-1", "moon-1"} }, fields: []string{"regions[1]"}},
		{name: "region twice", edit: func(in *IntegrationInput) { in.Regions = []string{"us-east-1", "us-east-1"} }, fields: []string{"regions[1]"}},
		{name: "SSO region on a standalone account", edit: func(in *IntegrationInput) { in.SSORegion = "us-east-1" }, fields: []string{"ssoRegion"}, msg: "management accounts only"},
		{name: "SSO region unknown", typ: Management, edit: func(in *IntegrationInput) { in.SSORegion = "us-east-9" }, fields: []string{"ssoRegion"}},
		{name: "everything wrong at once", typ: Management, edit: func(in *IntegrationInput) {
			*in = IntegrationInput{Name: "a b", CustomAccessDetails: "<i>", CredentialRotationDays: ptr(-5), UserCleanupDays: ptr(999),
				ResourceTypes: []string{"x"}, Regions: []string{"y"}, SSORegion: "z"}
		}, fields: []string{"integrationName", "owners", "customAccessDetails", "credentialRotationDays", "userCleanupDays", "resourceTypes[0]", "regions[0]", "ssoRegion"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validIntegration()
			tt.edit(&in)
			typ := tt.typ
			if typ == "" {
				typ = Standalone
			}
			got, err := CheckIntegration(in, typ, "")
			if strings.Join(fieldsOf(err), ",") != strings.Join(tt.fields, ",") {
				t.Fatalf("fields = %v, want %v (%v)", fieldsOf(err), tt.fields, err)
			}
			if tt.msg != "" && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
			if err == nil && (got.Name != in.Name || len(got.Owners) != len(in.Owners) || got.Owners == nil || got.Regions == nil || got.ResourceTypes == nil) {
				t.Errorf("stored form = %+v", got)
			}
		})
	}
	if _, err := CheckIntegration(IntegrationInput{}, Standalone, "integration."); !strings.HasPrefix(fieldsOf(err)[0], "integration.") {
		t.Errorf("prefix not applied: %v", err)
	}
}

func TestCredentialRotationSchedule(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var i Integration
	i.ScheduleCredentialRotation(now)
	if i.NextCredentialRotationAt != nil {
		t.Fatalf("rotation off but next = %v", i.NextCredentialRotationAt)
	}
	i.CredentialRotationDays = 30
	i.ScheduleCredentialRotation(now)
	if want := now.AddDate(0, 0, 30); !i.NextCredentialRotationAt.Equal(want) {
		t.Errorf("never rotated: next = %v, want %v", i.NextCredentialRotationAt, want)
	}
	rotated := now.AddDate(0, 0, -10)
	i.CredentialRotated(rotated)
	if want := rotated.AddDate(0, 0, 30); !i.NextCredentialRotationAt.Equal(want) || !i.CredentialRotatedAt.Equal(rotated) {
		t.Errorf("after a rotation: %v / %v", i.CredentialRotatedAt, i.NextCredentialRotationAt)
	}
	// A rotation long overdue is due now, not in the past.
	i.CredentialRotatedAt = ptr(now.AddDate(-1, 0, 0))
	i.ScheduleCredentialRotation(now)
	if !i.NextCredentialRotationAt.Equal(now) {
		t.Errorf("overdue: next = %v, want now", i.NextCredentialRotationAt)
	}
}

// ssoStub answers the SSO region check as the role would.
type ssoStub struct {
	check SSORegionCheck
	err   error
	calls int
}

func (s *ssoStub) CheckSSORegion(context.Context, Account, string) (SSORegionCheck, error) {
	s.calls++
	return s.check, s.err
}

func TestSetIntegration(t *testing.T) {
	m := newMem()
	svc := NewService(m, defaults{Region: "us-east-1"}, clock)
	sso := &ssoStub{check: SSORegionCheck{Status: SSORegionVerified, Reason: "found", CheckedAt: clock()}}
	svc.CheckSSORegionsWith(sso)
	ctx := context.Background()
	if _, err := svc.Create(ctx, "acme", CreateInput{Name: "Payer", AccountID: "111111111111", Type: "management"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetIntegration(ctx, "acme", "111111111111", nil, validIntegration()); !errors.Is(err, ErrPreconditionRequired) {
		t.Errorf("without If-Match: %v", err)
	}
	if _, err := svc.SetIntegration(ctx, "acme", "111111111111", []string{`"7"`}, validIntegration()); !errors.Is(err, ErrVersionMismatch) {
		t.Errorf("stale If-Match: %v", err)
	}
	in := validIntegration()
	in.SSORegion, in.CredentialRotationDays = "eu-west-1", ptr(90)
	a, err := svc.SetIntegration(ctx, "acme", "111111111111", []string{`"1"`}, in)
	if err != nil {
		t.Fatal(err)
	}
	if a.Version != 2 || a.Integration.SSORegionCheck == nil || a.Integration.SSORegionCheck.Status != SSORegionVerified || sso.calls != 1 {
		t.Errorf("after set: version %d, check %+v, calls %d", a.Version, a.Integration.SSORegionCheck, sso.calls)
	}
	if want := clock().AddDate(0, 0, 90); a.Integration.NextCredentialRotationAt == nil || !a.Integration.NextCredentialRotationAt.Equal(want) {
		t.Errorf("next rotation = %v, want %v", a.Integration.NextCredentialRotationAt, want)
	}
	// The same settings again change nothing: no write, no new check of a verified region.
	writes := m.writes
	if again, err := svc.SetIntegration(ctx, "acme", "111111111111", []string{"*"}, in); err != nil || again.Version != 2 || m.writes != writes || sso.calls != 1 {
		t.Errorf("no-op: version %d, writes %d→%d, calls %d, %v", again.Version, writes, m.writes, sso.calls, err)
	}
	// One owner changes: the audit entry names that setting with its old and new value, and nothing else.
	in.Owners = []string{"secops@example.com"}
	if _, err := svc.SetIntegration(ctx, "acme", "111111111111", []string{`"2"`}, in); err != nil {
		t.Fatal(err)
	}
	e := m.entries[len(m.entries)-1]
	if e.Action != "account.integration_updated" || len(e.Changes) != 1 || e.Changes[0].Field != "integration.owners" ||
		string(e.Changes[0].From) != `["ops@example.com","Ana.Lee+aws@corp.example.co.uk"]` || string(e.Changes[0].To) != `["secops@example.com"]` {
		t.Errorf("audit = %+v", e)
	}
	// A region the role reads and finds empty is refused, and nothing is written.
	sso.err = validation.Field("ssoRegion", "no instance")
	in.SSORegion = "us-west-2"
	writes = m.writes
	if _, err := svc.SetIntegration(ctx, "acme", "111111111111", []string{"*"}, in); strings.Join(fieldsOf(err), ",") != "ssoRegion" || m.writes != writes {
		t.Errorf("region not found: %v, writes %d→%d", err, writes, m.writes)
	}
	// Rotation off clears the due date.
	sso.err = nil
	in.SSORegion, in.CredentialRotationDays = "eu-west-1", nil
	if a, err := svc.SetIntegration(ctx, "acme", "111111111111", []string{"*"}, in); err != nil || a.Integration.NextCredentialRotationAt != nil {
		t.Errorf("rotation off: %+v %v", a.Integration, err)
	}
}

func TestIntegrationJSONOfAnOldAccount(t *testing.T) {
	// Accounts stored before integration settings existed show empty lists, never null.
	raw, err := json.Marshal(Account{AccountID: "111111111111"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"integration":{"owners":[],"resourceTypes":[],"regions":[]}`) {
		t.Errorf("json = %s", raw)
	}
}

func TestCreateWithIntegration(t *testing.T) {
	svc := NewService(newMem(), defaults{Region: "us-east-1"}, clock)
	in := validIntegration()
	in.SSORegion = "us-east-1"
	in.CredentialRotationDays = ptr(30)
	a, err := svc.Create(context.Background(), "acme", CreateInput{Name: "Payer", AccountID: "111111111111", Type: "management", Integration: &in})
	if err != nil {
		t.Fatal(err)
	}
	if a.Integration.Name != "prod-payer_1" || a.Integration.SSORegionCheck == nil || a.Integration.SSORegionCheck.Status != SSORegionUnverified ||
		a.Integration.NextCredentialRotationAt == nil {
		t.Errorf("integration = %+v", a.Integration)
	}
	// Errors of the account and of its settings come together, the settings' under integration.
	bad := IntegrationInput{Name: "x y", Owners: []string{"a@example.com"}}
	_, err = svc.Create(context.Background(), "acme", CreateInput{Name: "", AccountID: "222222222222", Type: "standalone", Integration: &bad})
	if got := strings.Join(fieldsOf(err), ","); got != "name,integration.integrationName" {
		t.Errorf("fields = %s (%v)", got, err)
	}
}

// TestDiscoveryJSONWithoutSettings: a management account discovered before any settings were saved showed null
// filter lists, which the OpenAPI document (arrays) does not allow.
func TestDiscoveryJSONWithoutSettings(t *testing.T) {
	raw, err := json.Marshal(Account{Discovery: &Discovery{MemberRoleName: DefaultMemberRoleName}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"includeOuIds":[],"excludeOuIds":[],"excludeAccountIds":[]`) {
		t.Errorf("json = %s", raw)
	}
}
