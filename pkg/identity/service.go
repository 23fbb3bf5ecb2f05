package identity

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/awsx"
	"github.com/gangplank/gangplank/pkg/crossaccount"
)

// Accounts reads the account an integration belongs to (its identity option, path prefix and integration
// settings: user cleanup days, credential rotation), and records its credential's rotations.
type Accounts interface {
	Get(ctx context.Context, tenantID, accountID string) (accounts.Account, error)
	Mutate(ctx context.Context, tenantID, accountID, action string, fn func(a *accounts.Account) error) (accounts.Account, error)
}

// Door enters customers' accounts (crossaccount.Door): the one way in, which chooses between the role and the
// integration's stored key, and the only reader of that key.
type Door interface {
	EnterIdentity(ctx context.Context, tenantID, accountID, purpose string) (crossaccount.Session, error)
	EnterPendingKey(ctx context.Context, tenantID, accountID, purpose string) (crossaccount.Session, error)
	VerifyKey(ctx context.Context, accountID string, k crossaccount.AccessKey) (crossaccount.KeyIdentity, error)
}

// KeyVault stores integrations' access keys in Secrets Manager, one secret per integration, encrypted with the
// identity key. It writes and deletes; only the Door reads.
type KeyVault interface {
	// Store creates the integration's secret with the key, or makes the key its current version.
	Store(ctx context.Context, tenantID, accountID string, k crossaccount.AccessKey) (secretARN string, err error)
	// StagePending adds a rotation's new key as the secret's pending version.
	StagePending(ctx context.Context, secretARN string, k crossaccount.AccessKey) (versionID string, err error)
	// Promote makes the pending version current.
	Promote(ctx context.Context, secretARN, versionID string) error
	// Delete deletes the secret at once, with no recovery window.
	Delete(ctx context.Context, secretARN string) error
}

// ScheduleTarget is where delayed deletions' schedules deliver: the identity schedule group, the role the
// scheduler assumes, and the identity queue it sends to.
type ScheduleTarget struct {
	Group             string
	RoleARN, QueueARN string
}

// Scheduler runs delayed deletions of offboarded users (EventBridge Scheduler one-time schedules).
type Scheduler interface {
	ScheduleDeletion(ctx context.Context, name string, at time.Time, m Message) error
	Cancel(ctx context.Context, name string) error
}

// Store keeps integrations, synced users and groups, onboarding and offboarding records, invitations and person
// links. Every write is conditional; audit entries are written in the same transaction as their change.
type Store interface {
	Integration(ctx context.Context, tenantID, accountID string) (Integration, error)
	// CreateIntegration writes a new integration and marks the account as having one (accounts.ErrNotFound when
	// the account is gone, ErrConflict when it has an integration already).
	CreateIntegration(ctx context.Context, in Integration, entry audit.Entry) error
	SaveIntegration(ctx context.Context, before, after Integration, entry *audit.Entry) error
	// RemoveIntegration deletes the integration and clears the account's mark (and, for a role's integration, its
	// identity access option).
	RemoveIntegration(ctx context.Context, in Integration, entry audit.Entry) error
	Integrations(ctx context.Context) ([]Ref, error)

	ReplaceDirectory(ctx context.Context, tenantID, accountID string, d Directory) (written, deleted int, err error)
	Users(ctx context.Context, tenantID, accountID string, limit int, cursor string) ([]User, string, error)
	User(ctx context.Context, tenantID, accountID, userName string) (User, error)
	PutUser(ctx context.Context, tenantID, accountID string, u User) error
	DeleteUser(ctx context.Context, tenantID, accountID, userName string) error
	Groups(ctx context.Context, tenantID, accountID string) ([]Group, error)
	// DeleteAccountData deletes everything of the account's integration but its record: users, groups,
	// onboarding and offboarding records, person links.
	DeleteAccountData(ctx context.Context, tenantID, accountID string) error

	Onboarding(ctx context.Context, tenantID, accountID, userName string) (Onboarding, error)
	SaveOnboarding(ctx context.Context, tenantID string, before *Onboarding, after Onboarding, entry *audit.Entry) error
	Offboarding(ctx context.Context, tenantID, accountID, userName string) (Offboarding, error)
	SaveOffboarding(ctx context.Context, tenantID string, before *Offboarding, after Offboarding, entry *audit.Entry) error
	Offboardings(ctx context.Context, tenantID, accountID string) ([]Offboarding, error)

	PutInvitation(ctx context.Context, inv Invitation, entry audit.Entry) error
	Invitation(ctx context.Context, tokenHash string) (Invitation, error)
	ClaimInvitation(ctx context.Context, tokenHash string, now, until time.Time) (Invitation, error)
	ReleaseInvitation(ctx context.Context, tokenHash string) error
	UseInvitation(ctx context.Context, inv Invitation, userName string, at time.Time, entry audit.Entry) error

	LinkPerson(ctx context.Context, tenantID string, l PersonLink, previous *PersonLink, entry audit.Entry) error
	UnlinkPerson(ctx context.Context, tenantID string, l PersonLink, entry audit.Entry) error
	Person(ctx context.Context, tenantID, accountID, userName string) (PersonLink, error)
	PersonLinks(ctx context.Context, tenantID, email string) ([]PersonLink, error)
	AccountPeople(ctx context.Context, tenantID, accountID string) (map[string]string, error)
}

var (
	// ErrConflict: a record changed since it was read (stores return it; the service reads again).
	ErrConflict = errors.New("the record changed since it was read")
	// ErrRecordNotFound: no onboarding, offboarding, invitation or person link of that key.
	ErrRecordNotFound = errors.New("no such record")
)

// Service is the IAM integration. Build one per cold start.
type Service struct {
	Accounts  Accounts
	Store     Store
	Door      Door
	Keys      KeyVault
	Queue     Queue
	Schedules Scheduler
	Now       func() time.Time
	// NewIAM builds the IAM client over a session's configuration (default: the SDK's, retrying throttling).
	NewIAM func(aws.Config) IAM
	Fetch  FetchOptions
	// KeyPropagation bounds the wait for a new access key to work (IAM is eventually consistent; default 30 s).
	KeyPropagation time.Duration
	// Lease is how long an onboarding or offboarding holds its user against concurrent requests (default 2 min).
	Lease time.Duration
	// MaxBackoff bounds the wait between retries of throttled IAM calls (default 10 s).
	MaxBackoff time.Duration
}

func (s *Service) now() time.Time { return s.Now().UTC() }

func (s *Service) iam(cfg aws.Config) IAM {
	if s.NewIAM != nil {
		return s.NewIAM(cfg)
	}
	maxBackoff := s.MaxBackoff
	if maxBackoff == 0 {
		maxBackoff = 10 * time.Second
	}
	return iam.NewFromConfig(cfg, func(o *iam.Options) {
		o.Region = "us-east-1" // IAM's one endpoint in the commercial partition
		o.Retryer = awsx.PatientRetryer(8, maxBackoff, "Throttling", "ThrottlingException", "ServiceFailure")
		o.RetryMaxAttempts = 8
	})
}

func (s *Service) lease() time.Duration {
	if s.Lease == 0 {
		return 2 * time.Minute
	}
	return s.Lease
}

// mutateAttempts bounds how often mutate rereads an integration that changed under it.
const mutateAttempts = 5

// mutate reads the integration, applies fn and saves the result if it changed, auditing action (none when "").
// fn must decide from the integration it is given: on a conflict it runs again on a fresh read.
func (s *Service) mutate(ctx context.Context, tenantID, accountID, action string, fn func(in *Integration) error) (Integration, error) {
	for attempt := 1; ; attempt++ {
		before, err := s.Store.Integration(ctx, tenantID, accountID)
		if err != nil {
			return Integration{}, err
		}
		after := before
		if before.Key != nil {
			k := *before.Key
			after.Key = &k
		}
		if err := fn(&after); errors.Is(err, errNoChange) {
			return before, nil
		} else if err != nil {
			return Integration{}, err
		}
		now := s.now()
		after.UpdatedAt, after.Version = now, before.Version+1
		var entry *audit.Entry
		if action != "" {
			e := audit.New(ctx, tenantID, now, action, target(accountID), audit.Diff(&before, &after, bookkeeping...))
			entry = &e
		}
		err = s.Store.SaveIntegration(ctx, before, after, entry)
		if errors.Is(err, ErrConflict) && attempt < mutateAttempts {
			continue
		}
		return after, err
	}
}

var errNoChange = errors.New("no change")

// bookkeeping fields change with every write; diffs leave them out.
var bookkeeping = []string{"version", "createdAt", "updatedAt", "lastSync", "lastSuccessAt", "verifiedAt"}

// target names an account's IAM integration in audit entries; userTarget one of its users.
func target(accountID string) string { return "account/" + accountID + "/iam" }

func userTarget(accountID, userName string) string {
	return "account/" + accountID + "/iam/user/" + userName
}

// View is an integration as the API shows it: with the account's chosen option and prefix, and the key's age.
type View struct {
	Integration
	// Chosen is the account's identityAccess (what the role should grant); PathPrefix its identityPathPrefix.
	Chosen     accounts.IdentityAccess `json:"chosen"`
	PathPrefix accounts.IAMPath        `json:"pathPrefix"`
}

// Get returns the account's integration.
func (s *Service) Get(ctx context.Context, tenantID, accountID string) (View, error) {
	a, err := s.Accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return View{}, err
	}
	in, err := s.Store.Integration(ctx, tenantID, accountID)
	if err != nil {
		return View{}, err
	}
	return s.view(a, in), nil
}

func (s *Service) view(a accounts.Account, in Integration) View {
	if in.Key != nil {
		k := *in.Key
		if k.CreatedAt != nil {
			days := int(s.now().Sub(*k.CreatedAt).Hours() / 24)
			k.AgeDays = &days
		}
		in.Key = &k
		k.Rotation = rotationOf(a, in)
	}
	return View{Integration: in, Chosen: a.IdentityAccess.Or(), PathPrefix: a.IdentityPathPrefix.Or()}
}

// requireWrite refuses a read-only integration (409), and one being removed.
func requireWrite(in Integration) error {
	if in.RemovingSince != nil {
		return ErrRemoving
	}
	if in.Access != accounts.IdentityReadWrite {
		reason := "this IAM integration may only read: it cannot onboard or offboard users. "
		if in.Via == ViaKey {
			reason += "Enter a key of a user allowed to manage IAM users (IAMFullAccess), or use the role with identityAccess readwrite."
		} else {
			reason += "Choose identityAccess readwrite on the account and update its stack with a new link from Gangplank."
		}
		if in.AccessReason != "" {
			reason += " Last check: " + in.AccessReason
		}
		return &ReadOnlyError{Reason: reason}
	}
	return nil
}
