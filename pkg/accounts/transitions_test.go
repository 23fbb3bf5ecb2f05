package accounts_test

import (
	"testing"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
)

// TestTransitions: the connection lifecycle held once, in the methods every package uses.
func TestTransitions(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	earlier := now.Add(-time.Hour)
	link := &accounts.ActivationLink{TokenHash: "t", StackSuffixHash: "s"}
	conn := accounts.Connection{RoleARN: "arn:aws:iam::111111111111:role/GangplankAccess", StackID: "stack-1", StackTokenHash: "t",
		TemplateVersion: "1.1.0", GrantedAccessLevel: accounts.ResourcesTags, Health: accounts.Health{Status: accounts.Healthy}}
	tests := []struct {
		name  string
		from  accounts.Account
		apply func(a *accounts.Account)
		check func(t *testing.T, a accounts.Account)
	}{
		{"activate a pending account",
			accounts.Account{Status: accounts.Pending, Link: link, AwaitedStackID: "stack-0"},
			func(a *accounts.Account) { a.Activate(conn, now) },
			func(t *testing.T, a accounts.Account) {
				if a.Status != accounts.Active || a.StackID != "stack-1" || a.StackTokenHash != "t" || a.GrantedAccessLevel != accounts.ResourcesTags ||
					a.ActivatedAt == nil || !a.ActivatedAt.Equal(now) || a.AwaitedStackID != "" || a.StackWait() != (accounts.StackWait{}) {
					t.Errorf("%+v", a)
				}
			}},
		{"activate again through the same stack keeps the activation time",
			accounts.Account{Status: accounts.Active, RoleARN: conn.RoleARN, StackID: "stack-1", ActivatedAt: &earlier},
			func(a *accounts.Account) { a.Activate(conn, now) },
			func(t *testing.T, a accounts.Account) {
				if !a.ActivatedAt.Equal(earlier) || !a.LastVerifiedAt.Equal(now) {
					t.Errorf("activated %v verified %v", a.ActivatedAt, a.LastVerifiedAt)
				}
			}},
		{"a failed stack fails the account and is not awaited any more",
			accounts.Account{Status: accounts.Activating, Link: link, AwaitedStackID: "stack-2"},
			func(a *accounts.Account) { a.StackFailed("stack-2", "it failed", now) },
			func(t *testing.T, a accounts.Account) {
				w := a.StackWait()
				if a.Status != accounts.Failed || a.StatusReason != "it failed" || a.Health.Status != accounts.Unhealthy ||
					w.StackID != "" || w.NameSuffixHash != "s" || w.Reported != "stack-2" {
					t.Errorf("%+v wait %+v", a, w)
				}
			}},
		{"a deleted stack disconnects an active account and leaves no stack to update",
			accounts.Account{Status: accounts.Active, StackID: "stack-1", StackTokenHash: "t"},
			func(a *accounts.Account) { a.StackDeleted("deleted", now) },
			func(t *testing.T, a accounts.Account) {
				if a.Status != accounts.Disconnected || a.StackID != "" || a.StackTokenHash != "" || a.Health.Status != accounts.Unhealthy {
					t.Errorf("%+v", a)
				}
			}},
		{"disconnect leaves a failed account failed",
			accounts.Account{Status: accounts.Failed, StatusReason: "before"},
			func(a *accounts.Account) { a.Disconnect("role gone", now) },
			func(t *testing.T, a accounts.Account) {
				if a.Status != accounts.Failed || a.StatusReason != "before" || a.Health.Reason != "role gone" {
					t.Errorf("%+v", a)
				}
			}},
		{"reverify brings a disconnected account back",
			accounts.Account{Status: accounts.Disconnected, StatusReason: "role gone"},
			func(a *accounts.Account) {
				a.Reverify(accounts.Resources, accounts.Health{Status: accounts.Healthy}, now)
			},
			func(t *testing.T, a accounts.Account) {
				if a.Status != accounts.Active || a.StatusReason != "" || a.GrantedAccessLevel != accounts.Resources {
					t.Errorf("%+v", a)
				}
			}},
		{"bulk activation starts an account: activating for it, no stack awaited until CreateStack answers",
			accounts.Account{Status: accounts.Failed, AwaitedStackID: "stack-old", ReportedStackID: "stack-old"},
			func(a *accounts.Account) {
				a.AwaitBulkActivation(accounts.ActivationRef{ActivationID: "act-1", Batch: 2})
			},
			func(t *testing.T, a accounts.Account) {
				if a.Status != accounts.Activating || !a.AwaitedBy("act-1") || a.AwaitedBy("act-2") || a.AwaitedStackID != "" {
					t.Errorf("%+v", a)
				}
			}},
		{"bulk activation fails an account it awaits: failed, unhealthy, nothing awaited",
			accounts.Account{Status: accounts.Activating, Activation: &accounts.ActivationRef{ActivationID: "act-1"}, AwaitedStackID: "stack-4"},
			func(a *accounts.Account) {
				if !a.FailBulkActivation("act-1", "no report", true, now) {
					t.Error("not failed")
				}
			},
			func(t *testing.T, a accounts.Account) {
				if a.Status != accounts.Failed || a.StatusReason != "no report" || a.Health.Status != accounts.Unhealthy || a.AwaitedStackID != "" {
					t.Errorf("%+v", a)
				}
			}},
		{"bulk activation never fails an active account",
			accounts.Account{Status: accounts.Active, Activation: &accounts.ActivationRef{ActivationID: "act-1"}},
			func(a *accounts.Account) {
				if a.FailBulkActivation("act-1", "late", false, now) {
					t.Error("failed an active account")
				}
			},
			func(t *testing.T, a accounts.Account) {
				if a.Status != accounts.Active {
					t.Errorf("%+v", a)
				}
			}},
		{"bulk activation does not fail an account another activation took over",
			accounts.Account{Status: accounts.Activating, Activation: &accounts.ActivationRef{ActivationID: "act-2"}},
			func(a *accounts.Account) {
				if a.FailBulkActivation("act-1", "late", true, now) {
					t.Error("failed another activation's account")
				}
			},
			func(t *testing.T, a accounts.Account) {
				if a.Status != accounts.Activating {
					t.Errorf("%+v", a)
				}
			}},
		{"a used link is not awaited; the stack bulk activation created is",
			accounts.Account{Status: accounts.Activating, Link: &accounts.ActivationLink{StackSuffixHash: "s", UsedAt: &earlier}},
			func(a *accounts.Account) { a.AwaitStack("stack-3") },
			func(t *testing.T, a accounts.Account) {
				if w := a.StackWait(); w != (accounts.StackWait{StackID: "stack-3"}) {
					t.Errorf("wait %+v", w)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.from
			tt.apply(&a)
			tt.check(t, a)
		})
	}
}
