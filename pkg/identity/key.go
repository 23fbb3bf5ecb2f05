package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/crossaccount"
)

// SetKey is RoleUp's way in, for customers who cannot run a stack: the key of an IAM user of the account, with
// IAMReadOnlyAccess (read) or IAMFullAccess (readwrite). It is checked before anything is stored
// (GetCallerIdentity: an IAM user of this very account; a harmless probe: read-only or read/write), then stored
// encrypted in the integration's one secret, and never shown, logged or audited again. An integration through
// the role switches to the key.
func (s *Service) SetKey(ctx context.Context, tenantID, accountID string, k crossaccount.AccessKey) (View, error) {
	if err := CheckAccessKey(k.AccessKeyID, k.SecretAccessKey); err != nil {
		return View{}, err
	}
	a, err := s.Accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return View{}, err
	}
	existing, err := s.Store.Integration(ctx, tenantID, accountID)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return View{}, err
	}
	if exists && existing.RemovingSince != nil {
		return View{}, ErrRemoving
	}
	who, err := s.Door.VerifyKey(ctx, accountID, k)
	if err != nil {
		return View{}, err
	}
	c := s.iam(who.Config)
	g, err := s.probe(ctx, c, a.IdentityPathPrefix, accounts.IdentityReadWrite, "The key's user")
	if err != nil {
		return View{}, err
	}
	if g.Access == accounts.IdentityNone {
		return View{}, &crossaccount.KeyError{Reason: g.Reason + " Give the key's user IAMReadOnlyAccess (read) or IAMFullAccess (read and write)."}
	}
	now := s.now()
	key := &Key{AccessKeyID: k.AccessKeyID, UserARN: who.UserARN, UserName: who.UserName, StoredAt: now, CreatedAt: keyCreated(ctx, c, k.AccessKeyID)}
	secretARN, err := s.Keys.Store(ctx, tenantID, accountID, k)
	if err != nil {
		return View{}, fmt.Errorf("store the access key: %w", err)
	}
	key.SecretARN = secretARN
	var out Integration
	if !exists {
		out = Integration{TenantID: tenantID, AccountID: accountID, Via: ViaKey, Access: g.Access, AccessReason: g.Reason, VerifiedAt: &now,
			Status: Initializing, StatusReason: "The first sync has not completed yet.", Key: key, CreatedAt: now, UpdatedAt: now, Version: 1}
		entry := audit.New(ctx, tenantID, now, "iam.integration_created", target(accountID), audit.Diff(nil, &out, bookkeeping...))
		if err := s.Store.CreateIntegration(ctx, out, entry); err != nil {
			return View{}, err
		}
	} else {
		out, err = s.mutate(ctx, tenantID, accountID, "iam.key_set", func(cur *Integration) error {
			cur.Via, cur.Access, cur.AccessReason, cur.VerifiedAt, cur.Key = ViaKey, g.Access, g.Reason, &now, key
			if cur.Status == Error {
				cur.Status, cur.StatusReason = Initializing, "The first sync with the new key has not completed yet."
			}
			return nil
		})
		if err != nil {
			return View{}, err
		}
		if existing.Via == ViaRole {
			// The account's mark says how the integration enters; the store keeps it with the record.
			slog.InfoContext(ctx, "IAM integration switched from the role to a key", "accountId", accountID)
		}
	}
	created := now
	if key.CreatedAt != nil {
		created = *key.CreatedAt // an old key is due for rotation by its own age, not from the day it was entered
	}
	s.credentialRotated(ctx, tenantID, accountID, created)
	if err := s.Queue.Enqueue(ctx, Message{Kind: KindSync, TenantID: tenantID, AccountID: accountID}); err != nil {
		slog.WarnContext(ctx, "could not start the first IAM sync; the daily sync will run it", "accountId", accountID, "error", err.Error())
	}
	if refreshed, err := s.Store.Integration(ctx, tenantID, accountID); err == nil {
		out = refreshed
	}
	if a, err = s.Accounts.Get(ctx, tenantID, accountID); err != nil {
		return View{}, err
	}
	return s.view(a, out), nil
}

// keyCreated reads when AWS created the key, from its own user's key list (nil when the key may not list it).
func keyCreated(ctx context.Context, c IAM, keyID string) *time.Time {
	out, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
	if err != nil {
		return nil
	}
	for _, m := range out.AccessKeyMetadata {
		if aws.ToString(m.AccessKeyId) == keyID && m.CreateDate != nil {
			t := m.CreateDate.UTC()
			return &t
		}
	}
	return nil
}

// rotationOf is the key's rotation under the account's setting (credentialRotationDays; 0 is off) and what its
// user may do: a user that may only read cannot create its own keys, which Gangplank says rather than tries; one
// whose rotation AWS refused stays refused, with AWS's reason, until a rotation succeeds or the key changes.
func rotationOf(a accounts.Account, in Integration) Rotation {
	r := in.Key.Rotation
	r.Days, r.NextDueAt = a.Integration.CredentialRotationDays, nil
	switch {
	case r.Days <= 0:
		r.State, r.Reason = RotationOff, "Rotation is off: set the account's credentialRotationDays (its integration settings) to rotate the key."
	case in.Access != accounts.IdentityReadWrite:
		r.State = RotationNotAllowed
		r.Reason = fmt.Sprintf("Gangplank cannot rotate this key: its user (%s) may only read IAM, so it may not create, deactivate "+
			"and delete its own access keys. Allow it iam:CreateAccessKey, iam:UpdateAccessKey and iam:DeleteAccessKey on itself, or "+
			"rotate the key yourself every %d days and enter the new one.", in.Key.UserARN, r.Days)
	case r.RefusedAt != nil:
		r.State, r.Reason = RotationNotAllowed, r.RefusedReason
	default:
		r.State, r.NextDueAt = RotationScheduled, a.Integration.NextCredentialRotationAt
		r.Reason = fmt.Sprintf("Gangplank creates a new key for %s every %d days, switches to it, then deactivates and deletes the old one.",
			in.Key.UserName, r.Days)
	}
	return r
}

// RotationDue reports whether the integration's key is due for rotation at now, under the account's settings: its
// next rotation is due, or a rotation stopped half-way.
func RotationDue(a accounts.Account, in Integration, now time.Time) bool {
	if in.Via != ViaKey || in.Key == nil || in.RemovingSince != nil {
		return false
	}
	if in.Key.Pending != nil || in.Key.Retired != "" {
		return true
	}
	r := rotationOf(a, in)
	return r.State == RotationScheduled && r.NextDueAt != nil && !now.Before(*r.NextDueAt)
}

// credentialRotated records on the account when its credential was last rotated (or, for a key just entered, when
// AWS created it), which schedules the next rotation (accounts.Integration.CredentialRotated).
func (s *Service) credentialRotated(ctx context.Context, tenantID, accountID string, at time.Time) {
	_, err := s.Accounts.Mutate(ctx, tenantID, accountID, "account.credential_rotated", func(a *accounts.Account) error {
		if a.Integration.CredentialRotatedAt != nil && a.Integration.CredentialRotatedAt.Equal(at.UTC()) {
			return accounts.ErrNoChange
		}
		a.Integration.CredentialRotated(at)
		return nil
	})
	if err != nil {
		slog.WarnContext(ctx, "could not record the credential's rotation on the account", "accountId", accountID, "error", err.Error())
	}
}

// Rotate rotates the integration's key now: a new key for the key's own user, stored as the secret's pending
// version, proved to work, switched to, and the old key deactivated and deleted with the new one. Every step is
// recorded, so a rotation interrupted anywhere is finished by the next one and never loses the working key.
func (s *Service) Rotate(ctx context.Context, tenantID, accountID string) (View, error) {
	a, err := s.Accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return View{}, err
	}
	in, err := s.Store.Integration(ctx, tenantID, accountID)
	if err != nil {
		return View{}, err
	}
	switch {
	case in.RemovingSince != nil:
		return View{}, ErrRemoving
	case in.Via != ViaKey || in.Key == nil:
		return View{}, ErrNoKey
	}
	if in.Key.Pending == nil && in.Key.Retired == "" {
		if in, err = s.createPending(ctx, a, in); err != nil {
			return View{}, err
		}
	}
	if in.Key.Pending != nil {
		if in, err = s.switchToPending(ctx, a, in); err != nil {
			return View{}, err
		}
	}
	if in.Key.Retired != "" {
		if in, err = s.retire(ctx, a, in); err != nil {
			return View{}, err
		}
	}
	if a, err = s.Accounts.Get(ctx, tenantID, accountID); err != nil {
		return View{}, err
	}
	return s.view(a, in), nil
}

// createPending creates the new key with the current one and stores it as the pending version.
func (s *Service) createPending(ctx context.Context, a accounts.Account, in Integration) (Integration, error) {
	sess, err := s.Door.EnterIdentity(ctx, a.TenantID, a.AccountID, "identity-rotation")
	if err != nil {
		return in, err
	}
	out, err := s.iam(sess.Config).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
	if err != nil {
		var reason string
		var limit *iamtypes.LimitExceededException
		switch {
		case isAccessDenied(err):
			reason = fmt.Sprintf("Gangplank cannot rotate this key: its user (%s) may not create its own access keys "+
				"(iam:CreateAccessKey was denied). Allow it iam:CreateAccessKey, iam:UpdateAccessKey and iam:DeleteAccessKey on itself, "+
				"or rotate the key yourself and enter the new one.", in.Key.UserARN)
		case errors.As(err, &limit):
			reason = fmt.Sprintf("Gangplank cannot rotate this key: its user (%s) already has two access keys, IAM's limit. Delete the "+
				"one Gangplank does not use (Gangplank uses %s), and rotation resumes.", in.Key.UserARN, in.Key.AccessKeyID)
		default:
			return in, fmt.Errorf("create the new access key: %w", err)
		}
		_, serr := s.mutate(ctx, a.TenantID, a.AccountID, "iam.key_rotation_refused", func(cur *Integration) error {
			now := s.now()
			cur.Key.Rotation.RefusedReason, cur.Key.Rotation.RefusedAt = reason, &now
			return nil
		})
		if serr != nil {
			return in, serr
		}
		return in, &PermissionError{Action: "iam:CreateAccessKey", Reason: reason, Cause: err}
	}
	newKey := crossaccount.AccessKey{AccessKeyID: aws.ToString(out.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(out.AccessKey.SecretAccessKey)}
	version, err := s.Keys.StagePending(ctx, in.Key.SecretARN, newKey)
	if err != nil {
		// The new key exists only here: delete it rather than leave a key nobody holds.
		if _, derr := s.iam(sess.Config).DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: out.AccessKey.AccessKeyId}); derr != nil {
			slog.ErrorContext(ctx, "a new access key could not be stored nor deleted; delete it by hand", "accountId", a.AccountID,
				"accessKeyId", newKey.AccessKeyID, "error", derr.Error())
		}
		return in, fmt.Errorf("store the new access key: %w", err)
	}
	now := s.now()
	return s.mutate(ctx, a.TenantID, a.AccountID, "", func(cur *Integration) error {
		cur.Key.Pending = &PendingKey{AccessKeyID: newKey.AccessKeyID, VersionID: version, CreatedAt: now}
		return nil
	})
}

// switchToPending proves the pending key works (a new key may take seconds to work everywhere) and makes it
// current.
func (s *Service) switchToPending(ctx context.Context, a accounts.Account, in Integration) (Integration, error) {
	wait := 250 * time.Millisecond
	budget := s.KeyPropagation
	if budget == 0 {
		budget = 30 * time.Second
	}
	deadline := time.Now().Add(budget)
	for {
		sess, err := s.Door.EnterPendingKey(ctx, a.TenantID, a.AccountID, "identity-rotation")
		if err == nil {
			var id *sts.GetCallerIdentityOutput
			id, err = sts.NewFromConfig(sess.Config).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err == nil && aws.ToString(id.Arn) != in.Key.UserARN {
				return in, fmt.Errorf("the new key acts as %s, not as %s", aws.ToString(id.Arn), in.Key.UserARN)
			}
		}
		if err == nil {
			break
		}
		if time.Now().Add(wait).After(deadline) {
			return in, fmt.Errorf("the new access key did not work within %s (the next rotation tries again): %w", budget, err)
		}
		select {
		case <-ctx.Done():
			return in, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 4*time.Second)
	}
	if err := s.Keys.Promote(ctx, in.Key.SecretARN, in.Key.Pending.VersionID); err != nil {
		return in, fmt.Errorf("switch to the new access key: %w", err)
	}
	now := s.now()
	out, err := s.mutate(ctx, a.TenantID, a.AccountID, "iam.key_rotated", func(cur *Integration) error {
		if cur.Key.Pending == nil {
			return errNoChange
		}
		old := cur.Key.AccessKeyID
		created := cur.Key.Pending.CreatedAt
		cur.Key.AccessKeyID, cur.Key.CreatedAt, cur.Key.Retired, cur.Key.Pending = cur.Key.Pending.AccessKeyID, &created, old, nil
		cur.Key.Rotation.LastRotatedAt, cur.Key.Rotation.RefusedAt, cur.Key.Rotation.RefusedReason = &now, nil, ""
		return nil
	})
	if err == nil {
		s.credentialRotated(ctx, a.TenantID, a.AccountID, now)
	}
	return out, err
}

// retire deactivates and then deletes the key a rotation switched away from, with the new key.
func (s *Service) retire(ctx context.Context, a accounts.Account, in Integration) (Integration, error) {
	sess, err := s.Door.EnterIdentity(ctx, a.TenantID, a.AccountID, "identity-rotation")
	if err != nil {
		return in, err
	}
	c := s.iam(sess.Config)
	old := aws.String(in.Key.Retired)
	if _, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: old, Status: iamtypes.StatusTypeInactive}); err != nil && !isNoSuchEntity(err) {
		return in, fmt.Errorf("deactivate the old access key: %w", err)
	}
	if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: old}); err != nil && !isNoSuchEntity(err) {
		return in, fmt.Errorf("delete the old access key: %w", err)
	}
	return s.mutate(ctx, a.TenantID, a.AccountID, "", func(cur *Integration) error {
		cur.Key.Retired = ""
		return nil
	})
}
