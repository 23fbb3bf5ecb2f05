package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/cursor"
	"github.com/gangplank/gangplank/pkg/store"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func newStore(t *testing.T) store.Accounts {
	cfg := testkit.AWSConfig(t, nil)
	signer, _ := cursor.NewSigner(make([]byte, 32))
	return store.Accounts{DB: store.DB{Client: dynamodb.NewFromConfig(cfg), Tables: testkit.Tables(t, cfg), Cursors: signer}}
}

func acct(id, name string, typ accounts.Type, mgmt string) accounts.Account {
	now := time.Now().UTC()
	return accounts.Account{TenantID: "acme", AccountID: id, Name: name, Type: typ, Status: accounts.Pending, Region: "us-east-1",
		AccessLevel: accounts.Resources, ManagementAccountID: mgmt, CreatedAt: now, UpdatedAt: now, Version: 1}
}

func entry(ctx context.Context, a accounts.Account) audit.Entry {
	return audit.New(ctx, a.TenantID, time.Now(), "test", accounts.Target(a.AccountID), nil)
}

// TestLinkedCount: the management account's linked count follows every create and delete of its linked accounts,
// survives unrelated rewrites of the management account, and gates its deletion.
func TestLinkedCount(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	mgmt := acct("111111111111", "Payer", accounts.Management, "")
	dev := acct("222222222222", "Dev", accounts.Linked, mgmt.AccountID)
	prod := acct("333333333333", "Prod", accounts.Linked, mgmt.AccountID)
	for _, a := range []accounts.Account{mgmt, dev, prod} {
		if err := s.Create(ctx, a, entry(ctx, a)); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int64 {
		n, err := s.LinkedCount(ctx, "acme", mgmt.AccountID)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 2 {
		t.Fatalf("linked count = %d, want 2", n)
	}
	// Renaming the management account rewrites its attributes but not the counter.
	renamed := mgmt
	renamed.Name, renamed.Version = "Payer EU", 2
	if err := s.Replace(ctx, mgmt, renamed, entry(ctx, mgmt)); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("linked count after rename = %d, want 2", n)
	}
	var linked *accounts.LinkedAccountsError
	if err := s.Delete(ctx, renamed, entry(ctx, renamed)); !errors.As(err, &linked) || linked.Total != 2 || len(linked.Linked) != 2 {
		t.Fatalf("deleting a management account with linked accounts: %v", err)
	}
	if err := s.Delete(ctx, dev, entry(ctx, dev)); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("linked count = %d, want 1", n)
	}
	if err := s.Delete(ctx, prod, entry(ctx, prod)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, renamed, entry(ctx, renamed)); err != nil {
		t.Fatalf("deleting the management account once alone: %v", err)
	}
	// A stale version is refused after the fact, too.
	if err := s.Delete(ctx, mgmt, entry(ctx, mgmt)); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("deleting a deleted account: %v", err)
	}
}

func TestReplaceIsConditional(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	a := acct("111111111111", "Payer", accounts.Standalone, "")
	if err := s.Create(ctx, a, entry(ctx, a)); err != nil {
		t.Fatal(err)
	}
	b := a
	b.Status, b.StatusReason, b.Version = accounts.Failed, "role not found", 2
	if err := s.Replace(ctx, a, b, entry(ctx, a)); err != nil {
		t.Fatal(err)
	}
	stale := a
	stale.Name, stale.Version = "Stale", 2
	if err := s.Replace(ctx, a, stale, entry(ctx, a)); !errors.Is(err, accounts.ErrVersionMismatch) {
		t.Fatalf("a stale replace: %v", err)
	}
	got, err := s.Get(ctx, "acme", a.AccountID)
	if err != nil || got.Status != accounts.Failed || got.StatusReason != "role not found" || got.Name != "Payer" {
		t.Fatalf("after a refused stale replace: %+v, %v", got, err)
	}
	// The status index follows the status.
	page, err := s.List(ctx, "acme", accounts.ListQuery{Status: accounts.Failed, Limit: 10})
	if err != nil || len(page.Items) != 1 {
		t.Errorf("failed accounts = %+v, %v", page, err)
	}
	page, _ = s.List(ctx, "acme", accounts.ListQuery{Status: accounts.Pending, Limit: 10})
	if len(page.Items) != 0 {
		t.Errorf("the account is still listed as pending: %+v", page)
	}
}
