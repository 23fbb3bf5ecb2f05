package crossaccount

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/tenants"
)

// AccountReader reads the account to enter.
type AccountReader interface {
	Get(ctx context.Context, tenantID, accountID string) (accounts.Account, error)
}

// TenantReader reads the tenant whose External IDs the account's role requires.
type TenantReader interface {
	Get(ctx context.Context, tenantID string) (tenants.Tenant, error)
}

// Door is the one way into a customer's account: every capability (discovery, cost sync, bulk activation,
// inventory, identities) enters through Enter, which checks that the account may be used and presents the
// tenant's accepted External IDs in turn, so that a rotation's grace period holds for all of them alike.
// Build one per cold start.
type Door struct {
	connector *Connector
	accounts  AccountReader
	tenants   TenantReader
	now       func() time.Time

	mu sync.Mutex
	// accepted remembers, per role, the External ID the role accepted last, so that a role still on a previous
	// External ID costs one refused AssumeRole per cold start rather than one per entry.
	accepted map[string]string

	// ways and secrets let identity capabilities enter through a stored access key (keys.go).
	ways    Ways
	secrets SecretReader
}

// NewDoor returns the door over the connector (the platform side of the chain). now is the clock that decides
// which External IDs are still accepted.
func NewDoor(c *Connector, a AccountReader, t TenantReader, now func() time.Time) *Door {
	return &Door{connector: c, accounts: a, tenants: t, now: now, accepted: map[string]string{}}
}

// Session is a way into one customer account.
type Session struct {
	// Account is the account as read on entry.
	Account accounts.Account
	// Config acts in the account through its role, with credentials cached and refreshed ahead of expiry.
	Config aws.Config
	// ExternalID is the one the role accepted; Previous reports that it is a retired one still in its grace
	// period (the customer should update the stack).
	ExternalID string
	Previous   bool
	// Via is how the session entered: ViaRole, or ViaKey (EnterIdentity through a stored access key, whose id is
	// AccessKeyID; Config then acts as the key's IAM user).
	Via         string
	AccessKeyID string
}

// ErrNotConnected matches every *NotUsableError.
var ErrNotConnected = errors.New("the account is not connected")

// NotUsableError: the account has no working role, so nothing may enter it.
type NotUsableError struct {
	AccountID string
	Status    accounts.Status
}

func (e *NotUsableError) Error() string {
	return fmt.Sprintf("account %s is %s, not active: connect it first (launch its onboarding stack or connect a role ARN), then try again",
		e.AccountID, e.Status)
}

// Is lets callers test with errors.Is(err, ErrNotConnected).
func (e *NotUsableError) Is(target error) bool { return target == ErrNotConnected }

// Usable is the rule for entering an account: it is active and has a verified role.
func Usable(a accounts.Account) error {
	if a.Status != accounts.Active || a.RoleARN == "" {
		return &NotUsableError{AccountID: a.AccountID, Status: a.Status}
	}
	return nil
}

// ErrAccessDenied matches every *AccessError.
var ErrAccessDenied = errors.New("the account's role refused Gangplank")

// AccessError: the role refused every External ID Gangplank still accepts.
type AccessError struct {
	AccountID, RoleARN string
	Reason             string
	Cause              error
}

func (e *AccessError) Error() string        { return e.Reason }
func (e *AccessError) Unwrap() error        { return e.Cause }
func (e *AccessError) Is(target error) bool { return target == ErrAccessDenied }

// Enter reads the account, applies the caller's own requirements (require: its type, say) and the rule that it must
// be usable, then assumes its role with the first of the tenant's accepted External IDs the role accepts. purpose
// names the session in the customer's CloudTrail ("gangplank-discovery").
func (d *Door) Enter(ctx context.Context, tenantID, accountID, purpose string, require ...func(accounts.Account) error) (Session, error) {
	a, err := d.accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return Session{}, err
	}
	for _, r := range require {
		if err := r(a); err != nil {
			return Session{}, err
		}
	}
	if err := Usable(a); err != nil {
		return Session{}, err
	}
	t, err := d.tenants.Get(ctx, tenantID)
	if err != nil {
		return Session{}, err
	}
	return d.enter(ctx, a, t, purpose)
}

func (d *Door) enter(ctx context.Context, a accounts.Account, t tenants.Tenant, purpose string) (Session, error) {
	ids := t.AcceptedExternalIDs(d.now())
	d.mu.Lock()
	last := d.accepted[a.RoleARN]
	d.mu.Unlock()
	for i, id := range ids {
		if id == last && i > 0 {
			ids[0], ids[i] = ids[i], ids[0]
			break
		}
	}
	var denied error
	for _, id := range ids {
		creds := d.connector.credentials(a.RoleARN, id, purpose)
		if _, err := creds.Retrieve(ctx); err != nil {
			if isAccessDenied(err) {
				denied = err
				continue
			}
			return Session{}, fmt.Errorf("assume %s: %w", a.RoleARN, err)
		}
		d.mu.Lock()
		d.accepted[a.RoleARN] = id
		d.mu.Unlock()
		cfg := d.connector.connector.Copy()
		cfg.Credentials = creds
		return Session{Account: a, Config: cfg, ExternalID: id, Previous: id != t.ExternalID, Via: ViaRole}, nil
	}
	return Session{}, &AccessError{AccountID: a.AccountID, RoleARN: a.RoleARN, Cause: denied, Reason: deniedReason(a, t, d.now())}
}

// deniedReason explains a role that refused every accepted External ID, naming a grace period that ended, the
// likeliest cause after a rotation.
func deniedReason(a accounts.Account, t tenants.Tenant, now time.Time) string {
	reason := fmt.Sprintf("Gangplank cannot assume %s in account %s with your tenant's External ID", a.RoleARN, a.AccountID)
	var ended *tenants.RetiredExternalID
	for i := range t.PreviousExternalIDs {
		if p := &t.PreviousExternalIDs[i]; !now.Before(p.ValidUntil) && (ended == nil || p.ValidUntil.After(ended.ValidUntil)) {
			ended = p
		}
	}
	if ended != nil {
		return reason + fmt.Sprintf(": if the role still requires the previous External ID (rotated out on %s), its grace period ended on %s. "+
			"Update the onboarding stack with a new link from Gangplank, which carries the current External ID.",
			ended.RetiredAt.UTC().Format("2006-01-02"), ended.ValidUntil.UTC().Format("2006-01-02"))
	}
	return reason + ". Check that the role exists, that it trusts Gangplank's principal, and that it requires the External ID shown in Gangplank."
}

// Chain assumes roleARN from this session (role chaining, as bulk activation reaches member accounts through the
// management account) and returns a configuration acting as it. Chained sessions last at most an hour.
func (s Session) Chain(ctx context.Context, roleARN, purpose string, optFns ...func(*sts.Options)) (aws.Config, error) {
	out, err := sts.NewFromConfig(s.Config, optFns...).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("gangplank-" + purpose),
	})
	if err != nil {
		return aws.Config{}, err
	}
	cfg := s.Config.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId),
		aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	return cfg, nil
}
