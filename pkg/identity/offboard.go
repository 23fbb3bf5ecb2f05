package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
)

// Offboard takes the user's access away at once and then removes the user: first every way in (the console
// password; access keys, deactivated and then deleted; SSH public keys; signing certificates; service-specific
// credentials; MFA devices, deactivated and then deleted), then its group memberships, managed and inline
// policies, and the user itself. With the account's user cleanup days set, the user (no longer able to do
// anything) stays until then, for audits, and a schedule deletes it. Each step is recorded as it completes, so
// the progress is visible and a failed or interrupted offboarding continues from where it stopped when asked
// again; asking again after it finished answers the same record.
func (s *Service) Offboard(ctx context.Context, tenantID, accountID, userName string) (Offboarding, error) {
	if CheckUserName(userName) != nil {
		return Offboarding{}, ErrUserNotFound
	}
	a, err := s.Accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return Offboarding{}, err
	}
	integ, err := s.Store.Integration(ctx, tenantID, accountID)
	if err != nil {
		return Offboarding{}, err
	}
	if err := requireWrite(integ); err != nil {
		return Offboarding{}, err
	}
	prev, err := s.Store.Offboarding(ctx, tenantID, accountID, userName)
	found := err == nil
	if err != nil && !errors.Is(err, ErrRecordNotFound) {
		return Offboarding{}, err
	}
	if found && (prev.Status == OffboardingDeleted || prev.Status == OffboardingDeletionScheduled) {
		return prev, nil
	}
	sess, err := s.Door.EnterIdentity(ctx, tenantID, accountID, "identity-offboard")
	if err != nil {
		return Offboarding{}, err
	}
	c := s.iam(sess.Config)
	user, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(userName)})
	switch {
	case isNoSuchEntity(err) && found:
		return s.userGone(ctx, tenantID, prev)
	case isNoSuchEntity(err):
		return Offboarding{}, ErrUserNotFound
	case err != nil:
		return Offboarding{}, s.permission(ctx, a, err, "iam:GetUser")
	}
	if path := aws.ToString(user.User.Path); !a.IdentityPathPrefix.Holds(path) {
		return Offboarding{}, &OutsidePrefixError{UserName: userName, Path: path, Prefix: string(a.IdentityPathPrefix.Or())}
	}
	rec, err := s.takeOffboarding(ctx, tenantID, accountID, userName, prev, found)
	if err != nil {
		return Offboarding{}, err
	}
	rec.UserARN = aws.ToString(user.User.Arn)
	if rec, err = s.runSteps(ctx, a, c, tenantID, rec, AccessSteps, false); err != nil {
		return rec, err
	}
	now := s.now()
	before := rec
	rec.AccessRemovedAt, rec.UpdatedAt, rec.Version = &now, now, before.Version+1
	entry := audit.New(ctx, tenantID, now, "iam.user_access_removed", userTarget(accountID, userName), stepChanges(rec, AccessSteps))
	days := a.Integration.UserCleanupDays
	if days <= 0 {
		if err := s.Store.SaveOffboarding(ctx, tenantID, &before, rec, &entry); err != nil {
			return rec, err
		}
		return s.removeUser(ctx, a, c, tenantID, rec)
	}
	// The user keeps existing, without any way in, for days; its schedule deletes it then.
	deleteAt := now.Add(time.Duration(days) * 24 * time.Hour)
	name := ScheduleName(tenantID, accountID, userName)
	if err := s.Schedules.ScheduleDeletion(ctx, name, deleteAt, Message{Kind: KindDeleteUser, TenantID: tenantID, AccountID: accountID, UserName: userName}); err != nil {
		rec.Status, rec.Error, rec.LeaseUntil = OffboardingIncomplete, "every way in is removed, but the deletion could not be scheduled: "+err.Error(), nil
		if serr := s.Store.SaveOffboarding(ctx, tenantID, &before, rec, &entry); serr != nil {
			return rec, serr
		}
		return rec, &IncompleteError{Offboarding: &rec, Cause: err, Reason: rec.Error + ". Send the same request again to schedule it."}
	}
	rec.Status, rec.Error, rec.DeleteAt, rec.Schedule, rec.LeaseUntil = OffboardingDeletionScheduled, "", &deleteAt, name, nil
	entry.Changes = append(entry.Changes, audit.Change{Field: "deleteAt", To: quoteJSON(deleteAt.Format(time.RFC3339))})
	if err := s.Store.SaveOffboarding(ctx, tenantID, &before, rec, &entry); err != nil {
		return rec, err
	}
	return rec, nil
}

// ScheduleName names the schedule that deletes one offboarded user (EventBridge Scheduler names are at most 64
// characters of [0-9a-zA-Z-_.]).
func ScheduleName(tenantID, accountID, userName string) string {
	sum := sha256.Sum256([]byte(tenantID + "\x00" + accountID + "\x00" + userName))
	return "iam-user-deletion-" + hex.EncodeToString(sum[:20])
}

// takeOffboarding starts the record, or continues one that stopped, holding the user against concurrent requests.
func (s *Service) takeOffboarding(ctx context.Context, tenantID, accountID, userName string, prev Offboarding, found bool) (Offboarding, error) {
	now := s.now()
	if found && prev.Status == OffboardingInProgress && prev.LeaseUntil != nil && now.Before(*prev.LeaseUntil) {
		return Offboarding{}, &BusyError{What: "offboarded", Until: *prev.LeaseUntil}
	}
	lease := now.Add(s.lease())
	rec := newOffboarding(accountID, userName, now)
	var before *Offboarding
	if found {
		rec, before = prev, &prev
		rec.Version = prev.Version + 1
	} else {
		rec.Version = 1
	}
	rec.Status, rec.Error, rec.LeaseUntil, rec.UpdatedAt = OffboardingInProgress, "", &lease, now
	if err := s.Store.SaveOffboarding(ctx, tenantID, before, rec, nil); errors.Is(err, ErrConflict) {
		return Offboarding{}, &BusyError{What: "offboarded", Until: lease}
	} else if err != nil {
		return Offboarding{}, err
	}
	return rec, nil
}

// runSteps runs the named steps not done yet (all of them again when sweep is set: a scheduled deletion first
// removes any way in that appeared since), recording each as it completes. A failure is recorded on the step
// and the offboarding becomes incomplete.
func (s *Service) runSteps(ctx context.Context, a accounts.Account, c IAM, tenantID string, rec Offboarding, steps []string, sweep bool) (Offboarding, error) {
	for _, name := range steps {
		st := rec.step(name)
		if st.Done && !sweep {
			continue
		}
		removed, detail, err := s.runStep(ctx, c, rec.UserName, name)
		now := s.now()
		before := rec
		st = rec.step(name)
		if err != nil {
			rec.Status, rec.LeaseUntil = OffboardingIncomplete, nil
			rec.Error = fmt.Sprintf("step %s failed: %v", name, err)
			st.Detail = "failed: " + err.Error()
			rec.UpdatedAt, rec.Version = now, before.Version+1
			if serr := s.Store.SaveOffboarding(ctx, tenantID, &before, rec, nil); serr != nil {
				return rec, serr
			}
			perr := s.permission(ctx, a, err, actionOf(name))
			var perm *PermissionError
			if errors.As(perr, &perm) {
				return rec, perr
			}
			r := rec
			return rec, &IncompleteError{Offboarding: &r, Cause: err, Reason: fmt.Sprintf("Offboarding %s stopped at %s: %v. What was done is kept; "+
				"send the same request again to continue from there.", rec.UserName, name, err)}
		}
		if sweep && st.Done {
			if removed > 0 {
				st.Detail += fmt.Sprintf("; %d more found and removed before the deletion", removed)
				st.Removed += removed
			}
		} else {
			st.Done, st.At, st.Detail, st.Removed = true, &now, detail, removed
		}
		rec.UpdatedAt, rec.Version = now, before.Version+1
		if err := s.Store.SaveOffboarding(ctx, tenantID, &before, rec, nil); err != nil {
			return rec, err
		}
	}
	return rec, nil
}

// actionOf is the IAM action a step needs most (for the refusal's message).
func actionOf(step string) string {
	switch step {
	case StepConsolePassword:
		return "iam:DeleteLoginProfile"
	case StepAccessKeys:
		return "iam:DeleteAccessKey"
	case StepSSHPublicKeys:
		return "iam:DeleteSSHPublicKey"
	case StepSigningCertificates:
		return "iam:DeleteSigningCertificate"
	case StepServiceCredentials:
		return "iam:DeleteServiceSpecificCredential"
	case StepMFADevices:
		return "iam:DeactivateMFADevice"
	case StepGroups:
		return "iam:RemoveUserFromGroup"
	case StepManagedPolicies:
		return "iam:DetachUserPolicy"
	case StepInlinePolicies:
		return "iam:DeleteUserPolicy"
	}
	return "iam:DeleteUser"
}

// runStep does one step, returning how much it removed and a line saying so.
func (s *Service) runStep(ctx context.Context, c IAM, userName, step string) (int, string, error) {
	user := aws.String(userName)
	switch step {
	case StepConsolePassword:
		_, err := c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: user})
		if isNoSuchEntity(err) {
			return 0, "no console password", nil
		}
		if err != nil {
			return 0, "", err
		}
		return 1, "console password deleted", nil
	case StepAccessKeys:
		var ids []*string
		p := iam.NewListAccessKeysPaginator(c, &iam.ListAccessKeysInput{UserName: user})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return 0, "", err
			}
			for _, k := range page.AccessKeyMetadata {
				ids = append(ids, k.AccessKeyId)
			}
		}
		// Every key stops working first, so no key stays usable while another is being deleted.
		for _, id := range ids {
			if _, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: user, AccessKeyId: id, Status: iamtypes.StatusTypeInactive}); err != nil && !isNoSuchEntity(err) {
				return 0, "", fmt.Errorf("deactivate %s: %w", aws.ToString(id), err)
			}
		}
		for _, id := range ids {
			if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: user, AccessKeyId: id}); err != nil && !isNoSuchEntity(err) {
				return 0, "", fmt.Errorf("delete %s: %w", aws.ToString(id), err)
			}
		}
		return len(ids), plural(len(ids), "access key", "deactivated and deleted"), nil
	case StepSSHPublicKeys:
		var ids []*string
		p := iam.NewListSSHPublicKeysPaginator(c, &iam.ListSSHPublicKeysInput{UserName: user})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return 0, "", err
			}
			for _, k := range page.SSHPublicKeys {
				ids = append(ids, k.SSHPublicKeyId)
			}
		}
		for _, id := range ids {
			if _, err := c.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: user, SSHPublicKeyId: id}); err != nil && !isNoSuchEntity(err) {
				return 0, "", fmt.Errorf("delete %s: %w", aws.ToString(id), err)
			}
		}
		return len(ids), plural(len(ids), "SSH public key", "deleted"), nil
	case StepSigningCertificates:
		var ids []*string
		p := iam.NewListSigningCertificatesPaginator(c, &iam.ListSigningCertificatesInput{UserName: user})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return 0, "", err
			}
			for _, k := range page.Certificates {
				ids = append(ids, k.CertificateId)
			}
		}
		for _, id := range ids {
			if _, err := c.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: user, CertificateId: id}); err != nil && !isNoSuchEntity(err) {
				return 0, "", fmt.Errorf("delete %s: %w", aws.ToString(id), err)
			}
		}
		return len(ids), plural(len(ids), "signing certificate", "deleted"), nil
	case StepServiceCredentials:
		out, err := c.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: user})
		if err != nil {
			return 0, "", err
		}
		for _, k := range out.ServiceSpecificCredentials {
			if _, err := c.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: user,
				ServiceSpecificCredentialId: k.ServiceSpecificCredentialId}); err != nil && !isNoSuchEntity(err) {
				return 0, "", fmt.Errorf("delete %s: %w", aws.ToString(k.ServiceSpecificCredentialId), err)
			}
		}
		n := len(out.ServiceSpecificCredentials)
		return n, plural(n, "service-specific credential", "deleted"), nil
	case StepMFADevices:
		var serials []*string
		p := iam.NewListMFADevicesPaginator(c, &iam.ListMFADevicesInput{UserName: user})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return 0, "", err
			}
			for _, d := range page.MFADevices {
				serials = append(serials, d.SerialNumber)
			}
		}
		for _, sn := range serials {
			if _, err := c.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: user, SerialNumber: sn}); err != nil && !isNoSuchEntity(err) {
				return 0, "", fmt.Errorf("deactivate %s: %w", aws.ToString(sn), err)
			}
		}
		for _, sn := range serials {
			if !strings.Contains(aws.ToString(sn), ":mfa/") {
				continue // a hardware or FIDO device: deactivated is all IAM allows
			}
			if _, err := c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: sn}); err != nil && !isNoSuchEntity(err) {
				return 0, "", fmt.Errorf("delete %s: %w", aws.ToString(sn), err)
			}
		}
		return len(serials), plural(len(serials), "MFA device", "deactivated (virtual ones deleted)"), nil
	case StepGroups:
		var groups []*string
		p := iam.NewListGroupsForUserPaginator(c, &iam.ListGroupsForUserInput{UserName: user})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return 0, "", err
			}
			for _, g := range page.Groups {
				groups = append(groups, g.GroupName)
			}
		}
		for _, g := range groups {
			if _, err := c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: user, GroupName: g}); err != nil && !isNoSuchEntity(err) {
				return 0, "", fmt.Errorf("remove from %s: %w", aws.ToString(g), err)
			}
		}
		return len(groups), plural(len(groups), "group membership", "removed"), nil
	case StepManagedPolicies:
		var arns []*string
		p := iam.NewListAttachedUserPoliciesPaginator(c, &iam.ListAttachedUserPoliciesInput{UserName: user})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return 0, "", err
			}
			for _, a := range page.AttachedPolicies {
				arns = append(arns, a.PolicyArn)
			}
		}
		for _, arn := range arns {
			if _, err := c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: user, PolicyArn: arn}); err != nil && !isNoSuchEntity(err) {
				return 0, "", fmt.Errorf("detach %s: %w", aws.ToString(arn), err)
			}
		}
		return len(arns), plural(len(arns), "managed policy", "detached"), nil
	case StepInlinePolicies:
		var names []string
		p := iam.NewListUserPoliciesPaginator(c, &iam.ListUserPoliciesInput{UserName: user})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return 0, "", err
			}
			names = append(names, page.PolicyNames...)
		}
		for _, n := range names {
			if _, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: user, PolicyName: aws.String(n)}); err != nil && !isNoSuchEntity(err) {
				return 0, "", fmt.Errorf("delete %s: %w", n, err)
			}
		}
		return len(names), plural(len(names), "inline policy", "deleted"), nil
	case StepDeleteUser:
		_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: user})
		if isNoSuchEntity(err) {
			return 0, "the user was already gone", nil
		}
		if err != nil {
			return 0, "", err
		}
		return 1, "user deleted", nil
	}
	return 0, "", fmt.Errorf("unknown step %s", step)
}

func plural(n int, what, done string) string {
	switch {
	case n == 0:
		return "none"
	case n == 1:
		return "1 " + what + " " + done
	case strings.HasSuffix(what, "y") && !strings.ContainsAny(what[len(what)-2:len(what)-1], "aeiou"): // key: keys; entity: entities
		return fmt.Sprintf("%d %sies %s", n, what[:len(what)-1], done)
	}
	return fmt.Sprintf("%d %ss %s", n, what, done)
}

// stepChanges records the named steps' outcomes in an audit entry (what was removed; never a secret).
func stepChanges(rec Offboarding, steps []string) []audit.Change {
	var out []audit.Change
	for _, name := range steps {
		st := rec.step(name)
		out = append(out, audit.Change{Field: name, To: quoteJSON(st.Detail)})
	}
	return out
}

// removeUser removes the user once no way in is left: memberships, policies, the user. The synced user and its
// person link go with it.
func (s *Service) removeUser(ctx context.Context, a accounts.Account, c IAM, tenantID string, rec Offboarding) (Offboarding, error) {
	rec, err := s.runSteps(ctx, a, c, tenantID, rec, DeletionSteps, false)
	if err != nil {
		return rec, err
	}
	now := s.now()
	before := rec
	rec.Status, rec.Error, rec.DeletedAt, rec.LeaseUntil, rec.UpdatedAt, rec.Version = OffboardingDeleted, "", &now, nil, now, before.Version+1
	entry := audit.New(ctx, tenantID, now, "iam.user_deleted", userTarget(rec.AccountID, rec.UserName), stepChanges(rec, DeletionSteps))
	if err := s.Store.SaveOffboarding(ctx, tenantID, &before, rec, &entry); err != nil {
		return rec, err
	}
	if err := s.Store.DeleteUser(ctx, tenantID, rec.AccountID, rec.UserName); err != nil {
		slog.WarnContext(ctx, "deleted user still listed until the next sync", "accountId", rec.AccountID, "error", err.Error())
	}
	return rec, nil
}

// userGone finishes an offboarding whose user was deleted by someone else.
func (s *Service) userGone(ctx context.Context, tenantID string, rec Offboarding) (Offboarding, error) {
	now := s.now()
	before := rec
	rec.Status, rec.Error, rec.DeletedAt, rec.LeaseUntil, rec.UpdatedAt, rec.Version = OffboardingDeleted, "", &now, nil, now, before.Version+1
	rec.step(StepDeleteUser).Detail = "the user was deleted outside Gangplank"
	entry := audit.New(ctx, tenantID, now, "iam.user_deleted", userTarget(rec.AccountID, rec.UserName),
		[]audit.Change{{Field: "user", To: quoteJSON("deleted outside Gangplank")}})
	if err := s.Store.SaveOffboarding(ctx, tenantID, &before, rec, &entry); err != nil {
		return rec, err
	}
	if err := s.Store.DeleteUser(ctx, tenantID, rec.AccountID, rec.UserName); err != nil {
		slog.WarnContext(ctx, "deleted user still listed until the next sync", "accountId", rec.AccountID, "error", err.Error())
	}
	return rec, nil
}

// DeleteOffboarded deletes a user whose access was removed and whose cleanup days have passed (its schedule's
// message). Any way in that appeared since is removed again first. A user not awaiting deletion is left alone.
func (s *Service) DeleteOffboarded(ctx context.Context, tenantID, accountID, userName string) (Offboarding, error) {
	rec, err := s.Store.Offboarding(ctx, tenantID, accountID, userName)
	if err != nil {
		return Offboarding{}, err
	}
	if rec.Status == OffboardingDeleted {
		return rec, nil
	}
	if !rec.AccessRemoved() || (rec.Status != OffboardingDeletionScheduled && rec.Status != OffboardingIncomplete) {
		slog.WarnContext(ctx, "scheduled deletion of a user not awaiting it; ignored", "accountId", accountID, "status", string(rec.Status))
		return rec, nil
	}
	a, err := s.Accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return Offboarding{}, err
	}
	integ, err := s.Store.Integration(ctx, tenantID, accountID)
	if err != nil {
		return Offboarding{}, err
	}
	if err := requireWrite(integ); err != nil {
		return rec, err
	}
	sess, err := s.Door.EnterIdentity(ctx, tenantID, accountID, "identity-offboard")
	if err != nil {
		return rec, err
	}
	c := s.iam(sess.Config)
	if _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(userName)}); isNoSuchEntity(err) {
		return s.userGone(ctx, tenantID, rec)
	} else if err != nil {
		return rec, err
	}
	if rec, err = s.takeOffboarding(ctx, tenantID, accountID, userName, rec, true); err != nil {
		return rec, err
	}
	if rec, err = s.runSteps(ctx, a, c, tenantID, rec, AccessSteps, true); err != nil {
		return rec, err
	}
	return s.removeUser(ctx, a, c, tenantID, rec)
}

// OffboardingOf returns a user's offboarding record.
func (s *Service) OffboardingOf(ctx context.Context, tenantID, accountID, userName string) (Offboarding, error) {
	if CheckUserName(userName) != nil {
		return Offboarding{}, ErrUserNotFound
	}
	if _, err := s.Store.Integration(ctx, tenantID, accountID); err != nil {
		return Offboarding{}, err
	}
	rec, err := s.Store.Offboarding(ctx, tenantID, accountID, userName)
	if errors.Is(err, ErrRecordNotFound) {
		return Offboarding{}, ErrUserNotFound
	}
	return rec, err
}
