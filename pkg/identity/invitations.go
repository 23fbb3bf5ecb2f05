package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/validation"
)

// Self-service links: an admin issues a link for an account, with the groups and policies the person will get;
// the person opens it (no Gangplank account needed) and chooses a user name and password within the account's
// rules, and the same onboarding runs. A link is single-use, expires, is stored by its hash only, and is bound to
// its tenant and account by the record the hash finds.

// Invitation lifetimes.
const (
	DefaultInvitationTTL = 72 * time.Hour
	MaxInvitationTTL     = 7 * 24 * time.Hour
)

// invitationPrefix marks Gangplank's self-service tokens (like gpa_ for activation tokens).
const invitationPrefix = "gpi_"

// InviteInput is what an admin decides for the person.
type InviteInput struct {
	Groups            []string
	ManagedPolicyARNs []string
	// Email, when set, links the user to this person once created.
	Email      string
	ValidHours int
}

// IssuedInvitation is a new link: Token is shown this once.
type IssuedInvitation struct {
	Invitation
	Token string `json:"token"`
	Path  string `json:"path"`
}

// InvitationPath is the public endpoint a person opens (GET: what to fill in; POST: create the user).
func InvitationPath(token string) string { return "/v1/iam-invitations/" + token }

// Invite issues a self-service link for the account.
func (s *Service) Invite(ctx context.Context, tenantID, accountID string, in InviteInput) (IssuedInvitation, error) {
	var c validation.Collector
	checkNames(&c, accountID, in.Groups, in.ManagedPolicyARNs)
	email := ""
	if in.Email != "" {
		e, err := NormalizeEmail(in.Email)
		c.Check("email", err)
		email = e
	}
	ttl := DefaultInvitationTTL
	if in.ValidHours != 0 {
		if in.ValidHours < 1 || time.Duration(in.ValidHours)*time.Hour > MaxInvitationTTL {
			c.Add("validHours", "must be between 1 and %d", int(MaxInvitationTTL.Hours()))
		}
		ttl = time.Duration(in.ValidHours) * time.Hour
	}
	if err := c.Err(); err != nil {
		return IssuedInvitation{}, err
	}
	if _, err := s.Accounts.Get(ctx, tenantID, accountID); err != nil {
		return IssuedInvitation{}, err
	}
	integ, err := s.Store.Integration(ctx, tenantID, accountID)
	if err != nil {
		return IssuedInvitation{}, err
	}
	if err := requireWrite(integ); err != nil {
		return IssuedInvitation{}, err
	}
	// The groups and policies must exist now; the acceptance checks again.
	sess, err := s.Door.EnterIdentity(ctx, tenantID, accountID, "identity-invite")
	if err != nil {
		return IssuedInvitation{}, err
	}
	if err := s.checkExisting(ctx, s.iam(sess.Config), accountID, NewUser{Groups: in.Groups, ManagedPolicyARNs: in.ManagedPolicyARNs}); err != nil {
		return IssuedInvitation{}, err
	}
	token, hash := newInvitationToken()
	now := s.now()
	inv := Invitation{TokenHash: hash, ID: hash[:16], TenantID: tenantID, AccountID: accountID, Groups: nonNil(in.Groups),
		ManagedPolicyARNs: nonNil(in.ManagedPolicyARNs), Email: email, IssuedAt: now, ExpiresAt: now.Add(ttl), IssuedBy: audit.ActorFrom(ctx).ID}
	entry := audit.New(ctx, tenantID, now, "iam.invitation_issued", target(accountID), audit.Diff(nil, &inv))
	if err := s.Store.PutInvitation(ctx, inv, entry); err != nil {
		return IssuedInvitation{}, err
	}
	return IssuedInvitation{Invitation: inv, Token: token, Path: InvitationPath(token)}, nil
}

func newInvitationToken() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = invitationPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// InvitationView is what the person sees before choosing: the account, what they will get, and the rules.
type InvitationView struct {
	AccountID         string         `json:"accountId"`
	AccountName       string         `json:"accountName"`
	Groups            []string       `json:"groups"`
	ManagedPolicyARNs []string       `json:"managedPolicyArns"`
	ExpiresAt         time.Time      `json:"expiresAt"`
	PasswordPolicy    PasswordPolicy `json:"passwordPolicy"`
	UserNameRules     string         `json:"userNameRules"`
}

// invitation finds a usable invitation by its token.
func (s *Service) invitation(ctx context.Context, token string) (Invitation, error) {
	unknown := &InvitationError{Reason: "this link is not valid: ask your administrator for a new one"}
	if !strings.HasPrefix(token, invitationPrefix) || len(token) > 100 {
		return Invitation{}, unknown
	}
	inv, err := s.Store.Invitation(ctx, hashToken(token))
	if errors.Is(err, ErrRecordNotFound) {
		return Invitation{}, unknown
	}
	if err != nil {
		return Invitation{}, err
	}
	switch now := s.now(); {
	case inv.UsedAt != nil:
		return Invitation{}, &InvitationError{Gone: true, Reason: "this link was already used: each link creates one user; ask your administrator for a new one"}
	case !now.Before(inv.ExpiresAt):
		return Invitation{}, &InvitationError{Gone: true, Reason: "this link expired on " + inv.ExpiresAt.Format("2006-01-02 15:04 UTC") + ": ask your administrator for a new one"}
	}
	return inv, nil
}

// OpenInvitation shows what the link's person will get and must choose within. It uses nothing up.
func (s *Service) OpenInvitation(ctx context.Context, token string) (InvitationView, error) {
	inv, err := s.invitation(ctx, token)
	if err != nil {
		return InvitationView{}, err
	}
	a, err := s.Accounts.Get(ctx, inv.TenantID, inv.AccountID)
	if err != nil {
		return InvitationView{}, &InvitationError{Gone: true, Reason: "the account of this link is no longer connected"}
	}
	sess, err := s.Door.EnterIdentity(ctx, inv.TenantID, inv.AccountID, "identity-invite")
	if err != nil {
		return InvitationView{}, err
	}
	policy, err := readPasswordPolicy(ctx, s.iam(sess.Config))
	if err != nil {
		return InvitationView{}, err
	}
	return InvitationView{AccountID: a.AccountID, AccountName: a.Name, Groups: inv.Groups, ManagedPolicyARNs: inv.ManagedPolicyARNs,
		ExpiresAt: inv.ExpiresAt, PasswordPolicy: policy,
		UserNameRules: "1-64 characters: letters, digits and +=,.@_- (no spaces); unique in the account"}, nil
}

// selfServiceActor attributes what a link's person does in the audit trail.
var selfServiceActor = audit.Actor{Type: audit.User, ID: "self-service-link"}

// AcceptInvitation creates the user the person chose with the link's groups and policies, and uses the link up.
// A choice the account refuses (a taken name, a weak password) leaves the link usable for another try.
func (s *Service) AcceptInvitation(ctx context.Context, token, userName, password string) (Onboarded, error) {
	var c validation.Collector
	c.Check("userName", CheckUserName(userName))
	if password == "" {
		c.Add("password", "choose a password within the account's password policy")
	}
	if err := c.Err(); err != nil {
		return Onboarded{}, err
	}
	inv, err := s.invitation(ctx, token)
	if err != nil {
		return Onboarded{}, err
	}
	now := s.now()
	claimed, err := s.Store.ClaimInvitation(ctx, inv.TokenHash, now, now.Add(s.lease()))
	if errors.Is(err, ErrConflict) {
		return Onboarded{}, &BusyError{What: "created through this link", Until: now.Add(s.lease())}
	}
	if err != nil {
		return Onboarded{}, err
	}
	ctx = audit.WithActor(ctx, audit.Actor{Type: selfServiceActor.Type, ID: selfServiceActor.ID + "/" + claimed.ID})
	out, err := s.onboard(ctx, claimed.TenantID, claimed.AccountID, NewUser{UserName: userName, Password: password,
		Groups: claimed.Groups, ManagedPolicyARNs: claimed.ManagedPolicyARNs}, "invitation")
	if err != nil {
		if rerr := s.Store.ReleaseInvitation(ctx, claimed.TokenHash); rerr != nil {
			return Onboarded{}, errors.Join(err, rerr)
		}
		return Onboarded{}, err
	}
	entry := audit.New(ctx, claimed.TenantID, s.now(), "iam.invitation_used", target(claimed.AccountID),
		[]audit.Change{{Field: "invitation", To: quoteJSON(claimed.ID)}, {Field: "userName", To: quoteJSON(userName)}})
	if err := s.Store.UseInvitation(ctx, claimed, userName, s.now(), entry); err != nil {
		return Onboarded{}, err
	}
	if claimed.Email != "" {
		if _, err := s.LinkPerson(ctx, claimed.TenantID, claimed.AccountID, userName, claimed.Email); err != nil {
			return out, err
		}
		out.User.Person = claimed.Email
	}
	return out, nil
}

// LinkPerson links an IAM user (synced, under the prefix) to a person by email; a user has at most one person.
func (s *Service) LinkPerson(ctx context.Context, tenantID, accountID, userName, email string) (PersonLink, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return PersonLink{}, validation.Field("email", "%s", err)
	}
	if CheckUserName(userName) != nil {
		return PersonLink{}, ErrUserNotFound
	}
	if _, err := s.Store.Integration(ctx, tenantID, accountID); err != nil {
		return PersonLink{}, err
	}
	if _, err := s.Store.User(ctx, tenantID, accountID, userName); err != nil {
		return PersonLink{}, err
	}
	var previous *PersonLink
	if p, err := s.Store.Person(ctx, tenantID, accountID, userName); err == nil {
		if p.Email == e {
			return p, nil
		}
		previous = &p
	} else if !errors.Is(err, ErrRecordNotFound) {
		return PersonLink{}, err
	}
	l := PersonLink{Email: e, AccountID: accountID, UserName: userName, LinkedAt: s.now(), LinkedBy: audit.ActorFrom(ctx).ID}
	entry := audit.New(ctx, tenantID, l.LinkedAt, "iam.person_linked", userTarget(accountID, userName), audit.Diff(previous, &l, "linkedAt", "linkedBy"))
	if err := s.Store.LinkPerson(ctx, tenantID, l, previous, entry); err != nil {
		return PersonLink{}, err
	}
	return l, nil
}

// UnlinkPerson removes a user's link to its person.
func (s *Service) UnlinkPerson(ctx context.Context, tenantID, accountID, userName string) error {
	if CheckUserName(userName) != nil {
		return ErrUserNotFound
	}
	if _, err := s.Store.Integration(ctx, tenantID, accountID); err != nil {
		return err
	}
	p, err := s.Store.Person(ctx, tenantID, accountID, userName)
	if errors.Is(err, ErrRecordNotFound) {
		return ErrNoPerson
	}
	if err != nil {
		return err
	}
	entry := audit.New(ctx, tenantID, s.now(), "iam.person_unlinked", userTarget(accountID, userName), audit.Diff(&p, nil, "linkedAt", "linkedBy"))
	return s.Store.UnlinkPerson(ctx, tenantID, p, entry)
}

// PersonUser is one of a person's IAM users, with the user as last synced (absent when it is gone).
type PersonUser struct {
	PersonLink
	User *User `json:"user,omitempty"`
}

// PersonUsers lists a person's IAM users across the tenant's accounts.
func (s *Service) PersonUsers(ctx context.Context, tenantID, email string) ([]PersonUser, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return nil, ErrPersonNotFound // a malformed email names nobody: 404, as for a malformed id
	}
	links, err := s.Store.PersonLinks(ctx, tenantID, e)
	if err != nil {
		return nil, err
	}
	out := make([]PersonUser, 0, len(links))
	for _, l := range links {
		pu := PersonUser{PersonLink: l}
		if u, err := s.Store.User(ctx, tenantID, l.AccountID, l.UserName); err == nil {
			u.Person = e
			pu.User = &u
		}
		out = append(out, pu)
	}
	return out, nil
}
