package accounts

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/validation"
)

// memStore is an in-memory Store for the service's rules; the DynamoDB store has its own tests against moto.
type memStore struct {
	accounts map[string]Account
	entries  []audit.Entry
	writes   int
	// conflicts makes the next n Deletes fail as if the account changed concurrently.
	conflicts int
}

func newMem() *memStore { return &memStore{accounts: map[string]Account{}} }

func (m *memStore) Create(_ context.Context, a Account, e audit.Entry) error {
	m.writes++
	m.accounts[a.AccountID] = a
	m.entries = append(m.entries, e)
	return nil
}
func (m *memStore) Get(_ context.Context, tenant, id string) (Account, error) {
	a, ok := m.accounts[id]
	if !ok || a.TenantID != tenant {
		return Account{}, ErrNotFound
	}
	return a, nil
}
func (m *memStore) List(context.Context, string, ListQuery) (Page, error) { return Page{}, nil }
func (m *memStore) Replace(_ context.Context, before, after Account, e audit.Entry) error {
	m.writes++
	if m.accounts[before.AccountID].Version != before.Version {
		return ErrVersionMismatch
	}
	m.accounts[after.AccountID] = after
	m.entries = append(m.entries, e)
	return nil
}
func (m *memStore) CreateMany(ctx context.Context, as []Account, es []audit.Entry) []error {
	errs := make([]error, len(as))
	for i := range as {
		errs[i] = m.Create(ctx, as[i], es[i])
	}
	return errs
}
func (m *memStore) SetMembership(_ context.Context, tenant, id string, version int64, ms Membership, at time.Time, e audit.Entry) error {
	m.writes++
	a, ok := m.accounts[id]
	if !ok || a.TenantID != tenant || a.Version != version {
		return ErrVersionMismatch
	}
	a.Organization, a.Version, a.UpdatedAt = &ms, version+1, at
	m.accounts[id] = a
	m.entries = append(m.entries, e)
	return nil
}
func (m *memStore) Delete(_ context.Context, a Account, e audit.Entry) error {
	m.writes++
	if m.conflicts > 0 {
		m.conflicts--
		return ErrVersionMismatch
	}
	delete(m.accounts, a.AccountID)
	m.entries = append(m.entries, e)
	return nil
}

type defaults Defaults

func (d defaults) AccountDefaults(context.Context, string) (Defaults, error) { return Defaults(d), nil }

var clock = func() time.Time { return time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC) }

func ptr[T any](v T) *T { return &v }

func TestCreateValidation(t *testing.T) {
	tests := []struct {
		name   string
		in     CreateInput
		d      Defaults
		fields []string // fields named in the error, in order
	}{
		{name: "everything wrong at once", in: CreateInput{Name: " x", AccountID: "12", Type: "payer", Region: "mars-1", AccessLevel: "root"},
			fields: []string{"name", "accountId", "type", "region", "accessLevel"}},
		{name: "linked managing itself", in: CreateInput{Name: "n", AccountID: "111111111111", Type: "linked", Region: "us-east-1", ManagementAccountID: "111111111111"},
			fields: []string{"managementAccountId"}},
		{name: "management naming a management", in: CreateInput{Name: "n", AccountID: "111111111111", Type: "management", Region: "us-east-1", ManagementAccountID: "222222222222"},
			fields: []string{"managementAccountId"}},
		{name: "no region and no default", in: CreateInput{Name: "n", AccountID: "111111111111", Type: "standalone"},
			fields: []string{"region"}},
		{name: "name too long", in: CreateInput{Name: strings.Repeat("é", 65), AccountID: "111111111111", Type: "standalone", Region: "us-east-1"},
			fields: []string{"name"}},
		{name: "control character in name", in: CreateInput{Name: "a\tb", AccountID: "111111111111", Type: "standalone", Region: "us-east-1"},
			fields: []string{"name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newMem()
			_, err := NewService(store, defaults(tt.d), clock).Create(context.Background(), "acme", tt.in)
			var ve *validation.Error
			if !errors.As(err, &ve) {
				t.Fatalf("error = %v, want a validation error", err)
			}
			var got []string
			for _, f := range ve.Fields {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("fields = %v, want %v (%v)", got, tt.fields, err)
			}
			if store.writes != 0 {
				t.Error("an invalid account was written")
			}
		})
	}
}

func TestCreateDefaults(t *testing.T) {
	store := newMem()
	s := NewService(store, defaults{Region: "eu-west-1", CostSync: false}, clock)
	a, err := s.Create(context.Background(), "acme", CreateInput{Name: "Prod", AccountID: "111111111111", Type: "standalone"})
	if err != nil {
		t.Fatal(err)
	}
	want := Account{TenantID: "acme", AccountID: "111111111111", Name: "Prod", Type: Standalone, Status: Pending,
		Region: "eu-west-1", AccessLevel: Resources, CostSync: false, CreatedAt: clock(), UpdatedAt: clock(), Version: 1,
		Health: Health{Status: HealthUnknown, Reason: "not connected yet: launch the onboarding stack, or connect a role ARN"}}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("Create = %+v\nwant     %+v", a, want)
	}
	b, _ := s.Create(context.Background(), "acme", CreateInput{Name: "Dev", AccountID: "222222222222", Type: "standalone",
		Region: "us-west-2", CostSync: ptr(true), AccessLevel: "tags_write"})
	if b.Region != "us-west-2" || !b.CostSync || b.AccessLevel != TagsWrite {
		t.Errorf("explicit values lost: %+v", b)
	}
	if len(store.entries) != 2 || store.entries[0].Action != "account.created" {
		t.Errorf("audit entries = %+v", store.entries)
	}
}

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	setup := func() (*Service, *memStore) {
		store := newMem()
		s := NewService(store, defaults{Region: "us-east-1", CostSync: true}, clock)
		if _, err := s.Create(ctx, "acme", CreateInput{Name: "Prod", AccountID: "111111111111", Type: "standalone"}); err != nil {
			t.Fatal(err)
		}
		store.writes = 0
		return s, store
	}
	t.Run("needs If-Match", func(t *testing.T) {
		s, _ := setup()
		if _, err := s.Update(ctx, "acme", "111111111111", nil, Patch{Name: ptr("x")}); !errors.Is(err, ErrPreconditionRequired) {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("stale ETag", func(t *testing.T) {
		s, store := setup()
		if _, err := s.Update(ctx, "acme", "111111111111", []string{`"7"`}, Patch{Name: ptr("x")}); !errors.Is(err, ErrVersionMismatch) {
			t.Errorf("error = %v", err)
		}
		if store.writes != 0 {
			t.Error("wrote despite a stale ETag")
		}
	})
	t.Run("rename", func(t *testing.T) {
		s, store := setup()
		a, err := s.Update(ctx, "acme", "111111111111", []string{`"1"`}, Patch{Name: ptr("Production")})
		if err != nil || a.Name != "Production" || a.Version != 2 {
			t.Fatalf("Update = %+v, %v", a, err)
		}
		last := store.entries[len(store.entries)-1]
		if last.Action != "account.updated" || len(last.Changes) != 1 || last.Changes[0].Field != "name" {
			t.Errorf("audit = %+v", last)
		}
	})
	t.Run("no change, no write", func(t *testing.T) {
		s, store := setup()
		a, err := s.Update(ctx, "acme", "111111111111", []string{"*"}, Patch{Name: ptr("Prod"), CostSync: ptr(true)})
		if err != nil || a.Version != 1 || store.writes != 0 {
			t.Errorf("Update = %+v, %v, writes %d", a, err, store.writes)
		}
	})
	t.Run("invalid values", func(t *testing.T) {
		s, _ := setup()
		_, err := s.Update(ctx, "acme", "111111111111", []string{"*"}, Patch{Name: ptr(""), AccessLevel: ptr("admin")})
		var ve *validation.Error
		if !errors.As(err, &ve) || len(ve.Fields) != 2 {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("another tenant", func(t *testing.T) {
		s, _ := setup()
		if _, err := s.Update(ctx, "globex", "111111111111", []string{"*"}, Patch{Name: ptr("x")}); !errors.Is(err, ErrNotFound) {
			t.Errorf("error = %v", err)
		}
	})
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	store := newMem()
	s := NewService(store, defaults{Region: "us-east-1"}, clock)
	if _, err := s.Create(ctx, "acme", CreateInput{Name: "Prod", AccountID: "111111111111", Type: "standalone"}); err != nil {
		t.Fatal(err)
	}
	for _, confirm := range []string{"", "prod", "Prod "} {
		if err := s.Delete(ctx, "acme", "111111111111", confirm, nil); !errors.Is(err, ErrConfirmationMismatch) {
			t.Errorf("confirm %q: error = %v", confirm, err)
		}
	}
	if err := s.Delete(ctx, "acme", "111111111111", "Prod", []string{`"9"`}); !errors.Is(err, ErrVersionMismatch) {
		t.Errorf("stale If-Match: %v", err)
	}
	// Two concurrent status changes: the deletion rereads and still succeeds.
	store.conflicts = 2
	if err := s.Delete(ctx, "acme", "111111111111", "Prod", nil); err != nil {
		t.Fatalf("Delete after conflicts: %v", err)
	}
	if _, ok := store.accounts["111111111111"]; ok {
		t.Error("account still there")
	}
}

func TestNames(t *testing.T) {
	if NameKey("PROD") != NameKey("prod") || NameKey("Straße") != NameKey("STRASSE") {
		t.Error("names differing only in case must share a key")
	}
	if NameKey("prod") == NameKey("prod2") {
		t.Error("different names share a key")
	}
	// Canonically equivalent names are one name, whatever the case: precomposed and decomposed accents, a
	// combining mark that folds (U+0345), Hangul syllables and their jamo.
	for _, same := range [][2]string{{"Caf\u00e9", "Cafe\u0301"}, {"CAF\u00c9", "cafe\u0301"}, {"\u1fb3", "\u03b1\u0345"},
		{"\uac00", "\u1100\u1161"}, {"\u212b", "\u00e5"}} {
		if NameKey(same[0]) != NameKey(same[1]) {
			t.Errorf("NameKey(%q) = %q but NameKey(%q) = %q", same[0], NameKey(same[0]), same[1], NameKey(same[1]))
		}
	}
	if NameKey("Cafe") == NameKey("Caf\u00e9") {
		t.Error("an accent is ignored")
	}
	if got := NormalizeName("Re\u0301sume\u0301"); got != "R\u00e9sum\u00e9" {
		t.Errorf("NormalizeName = %q", got)
	}
	for _, good := range []string{"a", "Prod (EU)", "生产", strings.Repeat("x", 64)} {
		if err := CheckName(good); err != nil {
			t.Errorf("CheckName(%q): %v", good, err)
		}
	}
	for _, bad := range []string{"", " a", "a ", "a\nb", "\x00", strings.Repeat("x", 65), "\xff"} {
		if CheckName(bad) == nil {
			t.Errorf("CheckName(%q) accepted", bad)
		}
	}
}

// TestPlatformAccountIsReserved: no tenant may link the platform's own account, and the refusal can be told apart
// (discovery skips such a member instead of failing).
func TestPlatformAccountIsReserved(t *testing.T) {
	s := NewService(newMem(), defaults{}, clock)
	s.Reserve("123456789012")
	_, err := s.Create(context.Background(), "acme", CreateInput{Name: "Ours", AccountID: "123456789012", Type: "standalone", Region: "us-east-1"})
	var ve *validation.Error
	if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "accountId" || !errors.Is(err, ErrPlatformAccount) {
		t.Fatalf("Create(platform account) = %v", err)
	}
	if _, err := s.Create(context.Background(), "acme", CreateInput{Name: "Theirs", AccountID: "123456789013", Type: "standalone", Region: "us-east-1"}); err != nil {
		t.Errorf("another account: %v", err)
	}
}

// TestLinkedAccountFirst: a linked account may be added before its management account (its own role names it once
// connected); a management account found that way starts not_activated with a reason that names the linked account
// and invites its activation; only a management account is found that way.
func TestLinkedAccountFirst(t *testing.T) {
	svc := NewService(newMem(), defaults(Defaults{}), clock)
	ctx := context.Background()
	linked, err := svc.Create(ctx, "acme", CreateInput{Name: "Dev", AccountID: "111111111111", Type: "linked", Region: "us-east-1"})
	if err != nil || linked.Status != Pending || linked.ManagementAccountID != "" {
		t.Fatalf("linked first: %+v, %v", linked, err)
	}
	m, err := svc.Create(ctx, "acme", CreateInput{Name: "Payer", AccountID: "222222222222", Type: "management", Region: "us-east-1",
		DiscoveredFrom: "111111111111"})
	if err != nil || m.Status != NotActivated || !strings.Contains(m.StatusReason, "Discovered from linked account 111111111111") ||
		!strings.Contains(m.StatusReason, "GET /v1/accounts/222222222222/onboarding") {
		t.Fatalf("management found from it: %s %q, %v", m.Status, m.StatusReason, err)
	}
	if _, err := svc.Create(ctx, "acme", CreateInput{Name: "Other", AccountID: "333333333333", Type: "standalone", Region: "us-east-1",
		DiscoveredFrom: "111111111111"}); err == nil {
		t.Error("a standalone account was created as found from a linked account")
	}
}
