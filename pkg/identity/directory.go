package identity

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
)

// UserPage is one page of an account's synced users.
type UserPage struct {
	Items      []User `json:"items"`
	NextCursor string `json:"nextCursor"`
}

// MaxUsersPage bounds a page of users.
const MaxUsersPage = 100

// Users lists the account's synced users under the prefix, by name, each with the person it is linked to.
func (s *Service) Users(ctx context.Context, tenantID, accountID string, limit int, cursor string) (UserPage, error) {
	if _, err := s.Store.Integration(ctx, tenantID, accountID); err != nil {
		return UserPage{}, err
	}
	users, next, err := s.Store.Users(ctx, tenantID, accountID, limit, cursor)
	if err != nil {
		return UserPage{}, err
	}
	people, err := s.Store.AccountPeople(ctx, tenantID, accountID)
	if err != nil {
		return UserPage{}, err
	}
	for i := range users {
		users[i].Person = people[users[i].UserName]
	}
	if users == nil {
		users = []User{}
	}
	return UserPage{Items: users, NextCursor: next}, nil
}

// UserDetail is one user: as synced, with its credentials read live (ids included, never secrets), and its
// onboarding and offboarding records when it has them.
type UserDetail struct {
	User
	Onboarding  *Onboarding  `json:"onboarding,omitempty"`
	Offboarding *Offboarding `json:"offboarding,omitempty"`
}

// User returns one synced user with its live credentials. A user Gangplank knows only from an onboarding or
// offboarding record (half-made, or deleted) is shown from that record.
func (s *Service) User(ctx context.Context, tenantID, accountID, userName string) (UserDetail, error) {
	if CheckUserName(userName) != nil {
		return UserDetail{}, ErrUserNotFound
	}
	if _, err := s.Store.Integration(ctx, tenantID, accountID); err != nil {
		return UserDetail{}, err
	}
	var d UserDetail
	u, err := s.Store.User(ctx, tenantID, accountID, userName)
	synced := err == nil
	if err != nil && !errors.Is(err, ErrUserNotFound) {
		return UserDetail{}, err
	}
	d.User = u
	if on, err := s.Store.Onboarding(ctx, tenantID, accountID, userName); err == nil {
		d.Onboarding = &on
	}
	if off, err := s.Store.Offboarding(ctx, tenantID, accountID, userName); err == nil {
		d.Offboarding = &off
	}
	if !synced && d.Onboarding == nil && d.Offboarding == nil {
		return UserDetail{}, ErrUserNotFound
	}
	if !synced {
		d.User = User{UserName: userName, Groups: []string{}, ManagedPolicies: []PolicyRef{}, InlinePolicies: []string{},
			Credentials: Credentials{AccessKeys: []KeyState{}, SigningCertificates: []CertState{}, VirtualMFADevices: []string{}}}
		return d, nil
	}
	if p, err := s.Store.Person(ctx, tenantID, accountID, userName); err == nil {
		d.Person = p.Email
	}
	if d.Offboarding == nil || d.Offboarding.Status != OffboardingDeleted {
		if live, err := s.live(ctx, tenantID, accountID, userName); err == nil {
			d.Credentials.Live = live
		} else {
			slog.InfoContext(ctx, "live credentials not read; showing the synced ones", "accountId", accountID, "error", err.Error())
		}
	}
	return d, nil
}

// live reads one user's credentials now: a handful of calls for one user, where the sync spends none per user.
func (s *Service) live(ctx context.Context, tenantID, accountID, userName string) (*LiveDetails, error) {
	sess, err := s.Door.EnterIdentity(ctx, tenantID, accountID, "identity-read")
	if err != nil {
		return nil, err
	}
	c := s.iam(sess.Config)
	user := aws.String(userName)
	d := &LiveDetails{ReadAt: s.now(), AccessKeys: []LiveKey{}, SSHPublicKeys: []LiveItem{}, SigningCertificates: []LiveItem{},
		ServiceCredentials: []LiveItem{}, MFADevices: []LiveItem{}}
	keys, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: user})
	if err != nil {
		return nil, err
	}
	for _, k := range keys.AccessKeyMetadata {
		lk := LiveKey{AccessKeyID: aws.ToString(k.AccessKeyId), Status: string(k.Status), CreatedAt: utc(k.CreateDate)}
		if used, err := c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k.AccessKeyId}); err == nil && used.AccessKeyLastUsed != nil {
			lk.LastUsed = utc(used.AccessKeyLastUsed.LastUsedDate)
		}
		d.AccessKeys = append(d.AccessKeys, lk)
	}
	if out, err := c.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: user}); err == nil {
		for _, k := range out.SSHPublicKeys {
			d.SSHPublicKeys = append(d.SSHPublicKeys, LiveItem{ID: aws.ToString(k.SSHPublicKeyId), Status: string(k.Status)})
		}
	}
	if out, err := c.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: user}); err == nil {
		for _, k := range out.Certificates {
			d.SigningCertificates = append(d.SigningCertificates, LiveItem{ID: aws.ToString(k.CertificateId), Status: string(k.Status)})
		}
	}
	if out, err := c.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: user}); err == nil {
		for _, k := range out.ServiceSpecificCredentials {
			d.ServiceCredentials = append(d.ServiceCredentials, LiveItem{ID: aws.ToString(k.ServiceSpecificCredentialId), Status: string(k.Status)})
		}
	}
	if out, err := c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: user}); err == nil {
		for _, m := range out.MFADevices {
			d.MFADevices = append(d.MFADevices, LiveItem{ID: aws.ToString(m.SerialNumber)})
		}
	}
	if out, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: user}); err == nil {
		d.LoginProfile = &LiveLoginState{CreatedAt: utc(out.LoginProfile.CreateDate), PasswordResetRequired: out.LoginProfile.PasswordResetRequired}
	}
	return d, nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Groups lists the account's synced groups.
func (s *Service) Groups(ctx context.Context, tenantID, accountID string) ([]Group, error) {
	if _, err := s.Store.Integration(ctx, tenantID, accountID); err != nil {
		return nil, err
	}
	g, err := s.Store.Groups(ctx, tenantID, accountID)
	if g == nil {
		g = []Group{}
	}
	return g, err
}

// Remove removes the account's IAM integration and everything of it: the stored key's secret first (deleted at
// once, with no recovery window), then the pending scheduled deletions, the synced users and groups, onboarding
// and offboarding records and person links, and finally the record itself. An integration through the role also
// turns the account's identity option off, so the next stack update takes the role's IAM permissions away. A
// removal that stopped half-way is finished by the next one.
func (s *Service) Remove(ctx context.Context, tenantID, accountID string) error {
	if _, err := s.Accounts.Get(ctx, tenantID, accountID); err != nil {
		return err
	}
	now := s.now()
	in, err := s.mutate(ctx, tenantID, accountID, "", func(cur *Integration) error {
		if cur.RemovingSince != nil {
			return errNoChange
		}
		cur.RemovingSince = &now
		return nil
	})
	if err != nil {
		return err
	}
	if in.Key != nil && in.Key.SecretARN != "" {
		if err := s.Keys.Delete(ctx, in.Key.SecretARN); err != nil {
			return err
		}
	}
	offboardings, err := s.Store.Offboardings(ctx, tenantID, accountID)
	if err != nil {
		return err
	}
	var cancelled []string
	for _, o := range offboardings {
		if o.Status == OffboardingDeletionScheduled && o.Schedule != "" {
			if err := s.Schedules.Cancel(ctx, o.Schedule); err != nil {
				return err
			}
			cancelled = append(cancelled, o.UserName)
		}
	}
	if err := s.Store.DeleteAccountData(ctx, tenantID, accountID); err != nil {
		return err
	}
	changes := []audit.Change{{Field: "via", From: quoteJSON(string(in.Via))}}
	if in.Key != nil {
		changes = append(changes, audit.Change{Field: "accessKeyId", From: quoteJSON(in.Key.AccessKeyID)},
			audit.Change{Field: "secret", From: quoteJSON("deleted without recovery window")})
	}
	if len(cancelled) > 0 {
		b, _ := json.Marshal(cancelled)
		changes = append(changes, audit.Change{Field: "cancelledDeletions", From: b})
	}
	if in.Via == ViaRole {
		changes = append(changes, audit.Change{Field: "identityAccess", To: quoteJSON(string(accounts.IdentityNone))})
	}
	entry := audit.New(ctx, tenantID, s.now(), "iam.integration_removed", target(accountID), changes)
	return s.Store.RemoveIntegration(ctx, in, entry)
}
