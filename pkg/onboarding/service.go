package onboarding

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/tenants"
)

// Accounts is what onboarding needs of the accounts service.
type Accounts interface {
	Create(ctx context.Context, tenantID string, in accounts.CreateInput) (accounts.Account, error)
	Get(ctx context.Context, tenantID, accountID string) (accounts.Account, error)
	Mutate(ctx context.Context, tenantID, accountID, action string, fn func(a *accounts.Account) error) (accounts.Account, error)
}

// Tenants gives the tenant whose External IDs roles must require.
type Tenants interface {
	Get(ctx context.Context, tenantID string) (tenants.Tenant, error)
}

// Verifier assumes a customer's role to prove it works (its verified session then probes what the role grants).
type Verifier interface {
	Verify(ctx context.Context, t crossaccount.Target, retryFor time.Duration) (crossaccount.Verified, error)
}

// Claims finds the tenant that holds an AWS account ID and what the account waits for, in one read (stack
// notifications name only the stack).
type Claims interface {
	Claim(ctx context.Context, accountID string) (accounts.Claim, error)
}

// Observer hears of every account the callback activates or fails (bulk activation waits on them), again on each
// redelivery of the same message, so it must be idempotent. Its error fails the delivery, which is then retried.
type Observer interface {
	Settled(ctx context.Context, a accounts.Account) error
}

// Service is onboarding. Build one per cold start.
type Service struct {
	cfg       Config
	accounts  Accounts
	tenants   Tenants
	verifier  Verifier
	claims    Claims
	responder Responder
	now       func() time.Time
	observers []Observer
	// afterAnswer runs for each account a callback settled, once CloudFormation has the answer.
	afterAnswer []func(ctx context.Context, a accounts.Account)
	// terraform writes the launch material's Terraform and View as Code (RenderTerraformWith); nil outside the API.
	terraform TerraformRenderer

	// ConnectRetry bounds how long POST /connect waits for a role to become assumable (DefaultConnectRetry).
	ConnectRetry time.Duration
	// CallbackBudget bounds how long the callback retries a role that is not assumable yet (DefaultCallbackBudget).
	CallbackBudget time.Duration
}

// Responder delivers an answer to CloudFormation's ResponseURL.
type Responder interface {
	Respond(ctx context.Context, responseURL string, body []byte) error
}

// NewService returns onboarding over its dependencies.
func NewService(cfg Config, a Accounts, t Tenants, v Verifier, c Claims, r Responder, now func() time.Time) *Service {
	if cfg.LinkTTL == 0 {
		cfg.LinkTTL = DefaultLinkTTL
	}
	return &Service{cfg: cfg, accounts: a, tenants: t, verifier: v, claims: c, responder: r, now: now,
		ConnectRetry: DefaultConnectRetry, CallbackBudget: DefaultCallbackBudget}
}

// Observe adds an observer of settled activations.
func (s *Service) Observe(o Observer) { s.observers = append(s.observers, o) }

// DefaultConnectRetry bounds how long POST /connect waits for a role to become assumable: long enough for a role made a
// moment ago, short enough for an HTTP request (API Gateway stops waiting at 30 s).
const DefaultConnectRetry = 12 * time.Second

var (
	// ErrNotConnected: the account has no role to verify yet.
	ErrNotConnected = errors.New("this account has no role yet: launch the onboarding stack or connect a role ARN first")
	// ErrUnreachable: AWS could not be reached to verify; nothing was changed.
	ErrUnreachable = errors.New("Gangplank could not reach AWS STS to verify the role; nothing was changed, try again in a minute")
)

// RoleError is a role that could not be verified, with the reason to show the customer.
type RoleError struct{ Reason string }

func (e *RoleError) Error() string { return e.Reason }

// Created is a new account with its first activation link.
type Created struct {
	Account      accounts.Account
	Instructions Instructions
}

// CreateAccount links an account and issues its first activation link in the same write.
func (s *Service) CreateAccount(ctx context.Context, tenantID string, in accounts.CreateInput) (Created, error) {
	tenant, err := s.tenants.Get(ctx, tenantID)
	if err != nil {
		return Created{}, err
	}
	token, hash := newToken()
	stackName, suffixHash := linkStackName(token)
	now := s.now().UTC()
	in.Link = &accounts.ActivationLink{TokenHash: hash, StackSuffixHash: suffixHash, AccountType: accounts.Type(in.Type),
		IssuedAt: now, ExpiresAt: now.Add(s.cfg.LinkTTL)}
	a, err := s.accounts.Create(ctx, tenantID, in)
	if err != nil {
		return Created{}, err
	}
	ins, err := s.cfg.build(linkInput{TenantID: tenantID, ExternalID: tenant.ExternalID, Account: a, Token: token, StackName: stackName,
		ExpiresAt: in.Link.ExpiresAt, Terraform: s.terraform})
	return Created{Account: a, Instructions: ins}, err
}

// IssueLink issues a new activation link for the account, which invalidates the previous one, and returns the
// instructions around it.
func (s *Service) IssueLink(ctx context.Context, tenantID, accountID string) (Instructions, error) {
	tenant, err := s.tenants.Get(ctx, tenantID)
	if err != nil {
		return Instructions{}, err
	}
	token, hash := newToken()
	stackName, suffixHash := linkStackName(token)
	now := s.now().UTC()
	a, err := s.accounts.Mutate(ctx, tenantID, accountID, "account.link_issued", func(a *accounts.Account) error {
		replaceLink(a, hash, suffixHash, now, s.cfg.LinkTTL)
		return nil
	})
	if err != nil {
		return Instructions{}, err
	}
	return s.cfg.build(linkInput{TenantID: tenantID, ExternalID: tenant.ExternalID, Account: a, Token: token, StackName: stackName,
		ExpiresAt: a.Link.ExpiresAt, Terraform: s.terraform})
}

// NewLink gives the account a new activation link in memory, replacing its previous one as IssueLink does, and
// returns the instructions around it. The caller stores the account (with whatever else it changes) in one
// conditional write; until then the link does not exist. Bulk activation issues links for a batch of accounts this
// way, in a few transactions instead of a read and a write each.
func (s *Service) NewLink(t tenants.Tenant, a *accounts.Account) (Instructions, error) {
	token, hash := newToken()
	stackName, suffixHash := linkStackName(token)
	now := s.now().UTC()
	replaceLink(a, hash, suffixHash, now, s.cfg.LinkTTL)
	return s.cfg.build(linkInput{TenantID: t.TenantID, ExternalID: t.ExternalID, Account: *a, Token: token, StackName: stackName,
		ExpiresAt: a.Link.ExpiresAt})
}

// replaceLink makes hash the account's activation link (its stack name's suffix hashed as suffixHash), remembering
// the one it replaces.
func replaceLink(a *accounts.Account, hash, suffixHash string, now time.Time, ttl time.Duration) {
	link := &accounts.ActivationLink{TokenHash: hash, StackSuffixHash: suffixHash, AccountType: a.Type, IssuedAt: now,
		ExpiresAt: now.Add(ttl)}
	if a.Link != nil {
		link.ReplacedHash, link.ReplacedAt = a.Link.TokenHash, &now
	}
	a.Link = link
}

// Connect verifies a role the customer created by hand and, if it works, makes the account active with it.
// A role that does not work changes nothing: the account keeps whatever connection it had. Pasting the role of the
// stack that connected the account verifies that same connection again: the stack stays the account's, so deleting
// it still disconnects the account.
func (s *Service) Connect(ctx context.Context, tenantID, accountID, roleARN string) (accounts.Account, error) {
	a, err := s.accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return accounts.Account{}, err
	}
	tenant, err := s.tenants.Get(ctx, tenantID)
	if err != nil {
		return accounts.Account{}, err
	}
	v, err := s.verifier.Verify(ctx, s.target(a, roleARN, tenant), s.ConnectRetry)
	if err != nil {
		return accounts.Account{}, roleFailure(err)
	}
	granted := s.grantedLevel(ctx, a.Region, roleARN, v, higher(a.AccessLevel, s.previousGrant(a, roleARN)))
	now := s.now().UTC()
	connected, err := s.accounts.Mutate(ctx, tenantID, accountID, "account.connected", func(a *accounts.Account) error {
		c := accounts.Connection{RoleARN: roleARN, TemplateVersion: accounts.ManualTemplateVersion, GrantedAccessLevel: granted.Level,
			Health: s.health(a.AccessLevel, granted, v, tenant, now)}
		if a.StackID != "" && a.RoleARN == roleARN {
			// The stack's own role: the connection is still the stack's.
			c.StackID, c.StackTokenHash, c.TemplateVersion = a.StackID, a.StackTokenHash, a.TemplateVersion
		}
		a.Activate(c, now)
		return nil
	})
	if err == nil {
		for _, f := range s.afterAnswer {
			f(ctx, connected)
		}
	}
	return connected, err
}

// previousGrant is the access level the account's current connection was verified to grant, if roleARN is its role.
func (s *Service) previousGrant(a accounts.Account, roleARN string) accounts.AccessLevel {
	if a.RoleARN != roleARN {
		return ""
	}
	return a.GrantedAccessLevel
}

// Verify checks the account's role again and records the outcome: health, lastVerifiedAt, the access level the role
// grants (probed up to the higher of the chosen level and the one granted before, so a role that grants more than
// chosen is reported too), and the status when the role stopped (or started again) working. A verification that
// could not reach AWS changes nothing.
func (s *Service) Verify(ctx context.Context, tenantID, accountID string) (accounts.Account, error) {
	a, err := s.accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return accounts.Account{}, err
	}
	if a.RoleARN == "" {
		return accounts.Account{}, ErrNotConnected
	}
	tenant, err := s.tenants.Get(ctx, tenantID)
	if err != nil {
		return accounts.Account{}, err
	}
	v, verr := s.verifier.Verify(ctx, s.target(a, a.RoleARN, tenant), 0)
	var ve *crossaccount.VerifyError
	if errors.As(verr, &ve) && ve.Failure == crossaccount.Unreachable {
		slog.WarnContext(ctx, "verification could not reach STS", "accountId", accountID, "error", verr.Error())
		return accounts.Account{}, ErrUnreachable
	}
	var granted grant
	if verr == nil {
		granted = s.grantedLevel(ctx, a.Region, a.RoleARN, v, higher(a.AccessLevel, a.GrantedAccessLevel))
	}
	now := s.now().UTC()
	return s.accounts.Mutate(ctx, tenantID, accountID, "account.verified", func(cur *accounts.Account) error {
		if cur.RoleARN != a.RoleARN {
			return fmt.Errorf("%w: the account's role changed during verification", accounts.ErrVersionMismatch)
		}
		if verr != nil {
			cur.Disconnect("The role stopped working: "+verr.Error(), now)
			cur.LastVerifiedAt = &now
			return nil
		}
		cur.Reverify(granted.Level, s.health(cur.AccessLevel, granted, v, tenant, now), now)
		return nil
	})
}

func (s *Service) target(a accounts.Account, roleARN string, t tenants.Tenant) crossaccount.Target {
	return crossaccount.Target{AccountID: a.AccountID, RoleARN: roleARN, ExternalIDs: t.AcceptedExternalIDs(s.now()),
		PlatformPrincipal: s.cfg.PlatformPrincipal}
}

// health describes a working role: healthy, or degraded with what the customer should do.
func (s *Service) health(chosen accounts.AccessLevel, g grant, v crossaccount.Verified, t tenants.Tenant, now time.Time) accounts.Health {
	h := accounts.Health{Status: accounts.Healthy, Reason: "Gangplank assumed the role and confirmed its identity.", CheckedAt: &now}
	if v.ExternalID != t.ExternalID {
		until := "soon"
		if r, ok := t.Retired(v.ExternalID); ok {
			until = "on " + r.ValidUntil.UTC().Format("2006-01-02")
		}
		h.Status = accounts.Degraded
		h.Reason = fmt.Sprintf("The role still requires your previous External ID, which stops working %s. "+
			"Update the stack with a new link from Gangplank (it carries the current External ID).", until)
		return h
	}
	if g.Missing != "" && g.Level != chosen {
		h.Status = accounts.Degraded
		h.Reason = g.Missing + " Update the stack with a new link from Gangplank (or fix the role) to grant it."
		return h
	}
	if g.Level != "" && g.Level != chosen {
		return accounts.AccessLevelMismatch(accounts.Account{GrantedAccessLevel: g.Level, AccessLevel: chosen}, now)
	}
	return h
}

// roleFailure turns a verification error into the error the API shows.
func roleFailure(err error) error {
	var ve *crossaccount.VerifyError
	if errors.As(err, &ve) {
		if ve.Failure == crossaccount.Unreachable {
			return ErrUnreachable
		}
		return &RoleError{Reason: ve.Reason}
	}
	return err
}
