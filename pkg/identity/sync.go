package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/awsx"
	"github.com/gangplank/gangplank/pkg/crossaccount"
)

// Sync reads the account's IAM users under the path prefix, their groups, memberships, policies and credential
// state, and replaces what is stored, writing only what changed. The integration becomes active after its first
// full sync, and shows error (keeping the last synced data) when one fails. Each sync records its AWS calls, by
// operation, beside the lower bound.
func (s *Service) Sync(ctx context.Context, tenantID, accountID string) (Integration, error) {
	in, err := s.Store.Integration(ctx, tenantID, accountID)
	if err != nil {
		return Integration{}, err
	}
	if in.RemovingSince != nil {
		return Integration{}, ErrRemoving
	}
	a, err := s.Accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return Integration{}, err
	}
	if in.Via == ViaRole && a.IdentityAccess.Or() == accounts.IdentityNone {
		out, err := s.fail(ctx, a, "The account's identityAccess is none, so Gangplank no longer reads its IAM users through the role. "+
			"Choose read or readwrite (and update the stack), or remove the integration.")
		return out, err
	}
	start := time.Now()
	sess, err := s.Door.EnterIdentity(ctx, tenantID, accountID, "identity-sync")
	if err != nil {
		var (
			refused *crossaccount.AccessError
			missing *crossaccount.KeyMissingError
		)
		if errors.As(err, &refused) || errors.As(err, &missing) || errors.Is(err, crossaccount.ErrNotConnected) {
			out, ferr := s.recordRun(ctx, a, SyncRun{At: s.now(), Status: "failed", Error: err.Error()}, nil, err.Error())
			if ferr != nil {
				return Integration{}, ferr
			}
			return out, err
		}
		return Integration{}, err
	}
	cfg := sess.Config
	counter := awsx.NewCallCounter()
	counter.Instrument(&cfg)
	fetched, fetchErr := Fetch(ctx, s.iam(cfg), a.IdentityPathPrefix, s.Fetch)
	run := SyncRun{At: s.now(), Status: "ok", Calls: map[string]int{}}
	for op, n := range counter.Snapshot() {
		run.Calls[op] = int(n)
		run.CallsTotal += int(n)
	}
	if fetchErr != nil {
		run.Status = "failed"
		reason := "IAM could not be read: " + fetchErr.Error()
		if isAccessDenied(fetchErr) {
			reason = fmt.Sprintf("%s refused a read the sync needs (%s). %s", who(sess), deniedAction(fetchErr), fixFor(in))
		}
		run.Error = reason
		run.DurationMs = time.Since(start).Milliseconds()
		out, err := s.recordRun(ctx, a, run, nil, reason)
		if err != nil {
			return Integration{}, err
		}
		if isAccessDenied(fetchErr) {
			return out, &PermissionError{Action: deniedAction(fetchErr), Reason: reason, Cause: fetchErr}
		}
		return out, fetchErr // may pass: the queue retries it
	}
	d := fetched.Directory
	run.Users, run.Groups, run.Policies, run.OutsidePrefix = len(d.Users), len(d.Groups), d.Policies, d.OutsidePrefix
	run.LowerBound, run.ReportGeneratedAt = fetched.LowerBound(), fetched.ReportGeneratedAt
	written, deleted, err := s.Store.ReplaceDirectory(ctx, tenantID, accountID, d)
	if err != nil {
		return Integration{}, fmt.Errorf("store the synced users: %w", err)
	}
	run.Written, run.Deleted = written, deleted
	run.DurationMs = time.Since(start).Milliseconds()
	return s.recordRun(ctx, a, run, &run.At, "")
}

// recordRun records a sync's outcome: active after a success, error with reason after a failure.
func (s *Service) recordRun(ctx context.Context, a accounts.Account, run SyncRun, success *time.Time, reason string) (Integration, error) {
	return s.mutate(ctx, a.TenantID, a.AccountID, "", func(cur *Integration) error {
		r := run
		cur.LastSync = &r
		if success != nil {
			cur.Status, cur.StatusReason, cur.LastSuccessAt = Active, "", success
			return nil
		}
		cur.Status, cur.StatusReason = Error, reason
		if cur.LastSuccessAt != nil {
			cur.StatusReason += " The users shown are from the last successful sync."
		}
		return nil
	})
}

func who(sess crossaccount.Session) string {
	if sess.Via == crossaccount.ViaKey {
		return "The key's user"
	}
	return "The role"
}

func fixFor(in Integration) string {
	if in.Via == ViaKey {
		return "Give the key's user IAMReadOnlyAccess or IAMFullAccess."
	}
	return "Update the stack with a new link from Gangplank, which grants the identity access option."
}

// deniedAction names the IAM action an AccessDenied error refused, from the operation in its message.
func deniedAction(err error) string {
	msg := err.Error()
	for _, op := range []string{"GetAccountAuthorizationDetails", "GenerateCredentialReport", "GetCredentialReport", "ListVirtualMFADevices"} {
		if strings.Contains(msg, op) {
			return "iam:" + op
		}
	}
	return "an IAM read"
}
