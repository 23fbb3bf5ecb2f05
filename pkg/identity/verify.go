package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/crossaccount"
)

// The probes: what a role or key may do with IAM users is proved by harmless calls, never assumed.
//
//	read       iam:GetAccountAuthorizationDetails for one user: a read, or AccessDenied.
//	readwrite  iam:UntagUser of a tag key Gangplank never sets (gangplank:access-probe), on a user under the path
//	           prefix: a user the latest sync or ListUsers found there, or with no prefix a name no user has. IAM
//	           authorizes before it looks at the user, so without the permission the call is denied, and with it
//	           it succeeds or answers NoSuchEntity; no user loses anything but a tag nobody sets. The readwrite
//	           statement grants iam:UntagUser with every user lifecycle action, so the one call stands for them.
//
// IAM authorizes a call on a user that does not exist against arn:...:user/<name> (no path), which a statement
// limited to a path prefix does not match: under a prefix, the probe needs an existing user there. Where there is
// none yet, write access cannot be proved harmlessly; the claim is kept and the first onboarding proves it.

// ProbeTagKey is the tag key the write probe "removes".
const ProbeTagKey = "gangplank:access-probe"

// probeUserName is a user name Gangplank never creates.
const probeUserName = "gangplank-access-probe-no-such-user"

// grant is what the probes found.
type grant struct {
	Access accounts.IdentityAccess
	Reason string
}

// probe finds what the way in (who, "the role" or "the key's user") may do, up to want.
func (s *Service) probe(ctx context.Context, c IAM, prefix accounts.IAMPath, want accounts.IdentityAccess, who string) (grant, error) {
	_, err := c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{
		Filter: []iamtypes.EntityType{iamtypes.EntityTypeUser}, MaxItems: aws.Int32(1)})
	switch {
	case isAccessDenied(err):
		return grant{Access: accounts.IdentityNone, Reason: who + " may not read IAM (iam:GetAccountAuthorizationDetails was denied)."}, nil
	case err != nil:
		return grant{}, fmt.Errorf("probe IAM reads: %w", err)
	case want != accounts.IdentityReadWrite:
		return grant{Access: accounts.IdentityRead, Reason: who + " may read IAM users, groups and policies."}, nil
	}
	target := probeUserName
	if prefix.Or() != accounts.RootPath {
		out, err := c.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String(string(prefix)), MaxItems: aws.Int32(1)})
		if err != nil {
			return grant{}, fmt.Errorf("probe: find a user under %s: %w", prefix, err)
		}
		if len(out.Users) == 0 {
			return grant{Access: accounts.IdentityReadWrite, Reason: fmt.Sprintf("%s may read IAM; managing users under %s cannot be "+
				"proved harmlessly while no user exists there, so the first onboarding proves it.", who, prefix)}, nil
		}
		target = aws.ToString(out.Users[0].UserName)
	}
	_, err = c.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String(target), TagKeys: []string{ProbeTagKey}})
	switch {
	case err == nil || isNoSuchEntity(err):
		return grant{Access: accounts.IdentityReadWrite, Reason: fmt.Sprintf("%s may read IAM and manage users under %s.", who, prefix.Or())}, nil
	case isAccessDenied(err):
		return grant{Access: accounts.IdentityRead, Reason: fmt.Sprintf("%s may read IAM but not manage users under %s (iam:UntagUser was denied).", who, prefix.Or())}, nil
	}
	return grant{}, fmt.Errorf("probe user management: %w", err)
}

// Verify proves what the account's way in allows and records it. An account whose role grants an identity access
// option gets its integration here: the first time the role is seen to allow it (after the stack is launched or
// updated with the option), the integration is created. A verification that can read enqueues a sync.
func (s *Service) Verify(ctx context.Context, tenantID, accountID string) (View, error) {
	a, err := s.Accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return View{}, err
	}
	in, err := s.Store.Integration(ctx, tenantID, accountID)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return View{}, err
	}
	if exists && in.RemovingSince != nil {
		return View{}, ErrRemoving
	}
	if exists && in.Via == ViaKey {
		return s.verifyKey(ctx, a, in)
	}
	chosen := a.IdentityAccess.Or()
	if chosen == accounts.IdentityNone {
		if !exists {
			return View{}, ErrNotFound
		}
		out, err := s.fail(ctx, a, "The account's identityAccess is none, so Gangplank no longer reads its IAM users through the role. "+
			"Choose read or readwrite (and update the stack), or remove the integration (DELETE /v1/accounts/"+accountID+"/iam).")
		return s.view(a, out), err
	}
	sess, err := s.Door.EnterIdentity(ctx, tenantID, accountID, "identity-verify")
	if err != nil {
		if !exists {
			return View{}, err
		}
		out, ferr := s.fail(ctx, a, "Gangplank could not enter the account through its role: "+err.Error())
		if ferr != nil {
			return View{}, ferr
		}
		return s.view(a, out), nil
	}
	g, err := s.probe(ctx, s.iam(sess.Config), a.IdentityPathPrefix, chosen, "The role")
	if err != nil {
		return View{}, err
	}
	if chosen == accounts.IdentityReadWrite && g.Access == accounts.IdentityRead {
		g.Reason += " Update the stack with a new link from Gangplank to grant readwrite."
	}
	if g.Access == accounts.IdentityNone {
		reason := g.Reason + " Update the stack with a new link from Gangplank: it grants identityAccess " + string(chosen) + "."
		if !exists {
			return View{}, &PermissionError{Action: "iam:GetAccountAuthorizationDetails", Reason: reason}
		}
		out, err := s.fail(ctx, a, reason)
		return s.view(a, out), err
	}
	now := s.now()
	if !exists {
		in = Integration{TenantID: tenantID, AccountID: accountID, Via: ViaRole, Access: g.Access, AccessReason: g.Reason,
			VerifiedAt: &now, Status: Initializing, StatusReason: "The first sync has not completed yet.",
			CreatedAt: now, UpdatedAt: now, Version: 1}
		entry := audit.New(ctx, tenantID, now, "iam.integration_created", target(accountID), audit.Diff(nil, &in, bookkeeping...))
		if err := s.Store.CreateIntegration(ctx, in, entry); err != nil {
			if errors.Is(err, ErrConflict) {
				return s.Verify(ctx, tenantID, accountID) // created concurrently: verify that one
			}
			return View{}, err
		}
	} else {
		in, err = s.mutate(ctx, tenantID, accountID, "iam.integration_verified", func(cur *Integration) error {
			if cur.Via != ViaRole {
				return fmt.Errorf("%w: the integration changed to a key during verification", ErrConflict)
			}
			cur.Access, cur.AccessReason, cur.VerifiedAt = g.Access, g.Reason, &now
			if cur.Status == Error && cur.LastSuccessAt == nil {
				cur.Status, cur.StatusReason = Initializing, "The first sync has not completed yet."
			}
			return nil
		})
		if err != nil {
			return View{}, err
		}
	}
	if err := s.Queue.Enqueue(ctx, Message{Kind: KindSync, TenantID: tenantID, AccountID: accountID}); err != nil {
		slog.WarnContext(ctx, "could not start the IAM sync after verification; the daily sync will run it", "accountId", accountID, "error", err.Error())
	}
	if refreshed, err := s.Store.Integration(ctx, tenantID, accountID); err == nil {
		in = refreshed
	}
	return s.view(a, in), nil
}

// verifyKey checks the stored key again: AWS still knows it, and what its user may do.
func (s *Service) verifyKey(ctx context.Context, a accounts.Account, in Integration) (View, error) {
	sess, err := s.Door.EnterIdentity(ctx, a.TenantID, a.AccountID, "identity-verify")
	if err != nil {
		return View{}, err
	}
	g, err := s.probe(ctx, s.iam(sess.Config), a.IdentityPathPrefix, accounts.IdentityReadWrite, "The key's user")
	if err != nil {
		var keyErr *crossaccount.KeyError
		if errors.As(err, &keyErr) || errorCode(err) == "InvalidClientTokenId" || errorCode(err) == "SignatureDoesNotMatch" {
			out, ferr := s.fail(ctx, a, "AWS no longer accepts the stored access key: enter a working key (PUT /v1/accounts/"+a.AccountID+"/iam/key).")
			return s.view(a, out), ferr
		}
		return View{}, err
	}
	now := s.now()
	out, err := s.mutate(ctx, a.TenantID, a.AccountID, "iam.integration_verified", func(cur *Integration) error {
		cur.Access, cur.AccessReason, cur.VerifiedAt = g.Access, g.Reason, &now
		if g.Access == accounts.IdentityNone {
			cur.Status, cur.StatusReason = Error, g.Reason+" Give the key's user IAMReadOnlyAccess or IAMFullAccess."
		}
		return nil
	})
	if err != nil {
		return View{}, err
	}
	if g.Access != accounts.IdentityNone {
		if err := s.Queue.Enqueue(ctx, Message{Kind: KindSync, TenantID: a.TenantID, AccountID: a.AccountID}); err != nil {
			slog.WarnContext(ctx, "could not start the IAM sync after verification", "accountId", a.AccountID, "error", err.Error())
		}
	}
	return s.view(a, out), nil
}

// fail records the integration in error with reason.
func (s *Service) fail(ctx context.Context, a accounts.Account, reason string) (Integration, error) {
	return s.mutate(ctx, a.TenantID, a.AccountID, "", func(cur *Integration) error {
		if cur.Status == Error && cur.StatusReason == reason {
			return errNoChange
		}
		cur.Status, cur.StatusReason = Error, reason
		return nil
	})
}

// Connected is what follows a role's verification by onboarding (a stack launched or updated, a role connected by
// hand): an account whose identity option is on, or that already has an integration through its role, is verified
// by the worker (the stack's answer is never delayed by IAM calls).
func (s *Service) Connected(ctx context.Context, a accounts.Account) error {
	if a.Status != accounts.Active || (a.IdentityAccess.Or() == accounts.IdentityNone && a.IdentityIntegration != string(ViaRole)) {
		return nil
	}
	return s.Queue.Enqueue(ctx, Message{Kind: KindVerify, TenantID: a.TenantID, AccountID: a.AccountID})
}
