package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/validation"
)

// Store persists accounts. Every method that changes data writes the audit entry it is given in the same
// transaction, and every write is conditional: Create fails with ErrAlreadyLinked, ErrClaimedElsewhere,
// ErrNameTaken or ErrManagementMissing; Replace and Delete fail with ErrVersionMismatch when the stored version
// is no longer the one read.
type Store interface {
	Create(ctx context.Context, a Account, entry audit.Entry) error
	Get(ctx context.Context, tenantID, accountID string) (Account, error)
	List(ctx context.Context, tenantID string, q ListQuery) (Page, error)
	Replace(ctx context.Context, before, after Account, entry audit.Entry) error
	Delete(ctx context.Context, a Account, entry audit.Entry) error
	// CreateMany is Create for many accounts, with each one's error in the input's order.
	CreateMany(ctx context.Context, as []Account, entries []audit.Entry) []error
	// SetMembership writes an account's membership if its stored version is still version (else ErrVersionMismatch).
	SetMembership(ctx context.Context, tenantID, accountID string, version int64, m Membership, at time.Time, entry audit.Entry) error
}

// ErrManagementMissing is what a Store returns when a linked account's management account is not (or no longer)
// a management account of the tenant.
var ErrManagementMissing = errors.New("management account missing")

// ListQuery selects and pages through a tenant's accounts. Empty filters match everything.
type ListQuery struct {
	Type                Type
	Status              Status
	ManagementAccountID string
	Limit               int
	Cursor              string
}

// Page is one page of a listing; NextCursor is empty on the last page.
type Page struct {
	Items      []Account `json:"items"`
	NextCursor string    `json:"nextCursor"`
}

// MarshalJSON shows an empty page's items as [].
func (p Page) MarshalJSON() ([]byte, error) {
	type plain Page
	if p.Items == nil {
		p.Items = []Account{}
	}
	return json.Marshal(plain(p))
}

// Defaults are the tenant-level values a new account starts from when the request leaves them out.
type Defaults struct {
	Region   string
	CostSync bool
}

// DefaultsSource provides a tenant's defaults.
type DefaultsSource interface {
	AccountDefaults(ctx context.Context, tenantID string) (Defaults, error)
}

// Service applies the account rules on top of a Store.
type Service struct {
	store      Store
	defaults   DefaultsSource
	now        func() time.Time
	ssoRegions SSORegionChecker
	// reserved are AWS accounts no tenant may link: the platform's own.
	reserved map[string]bool
}

// NewService returns a Service; now is the clock (time.Now in production).
func NewService(store Store, defaults DefaultsSource, now func() time.Time) *Service {
	return &Service{store: store, defaults: defaults, now: now, reserved: map[string]bool{}}
}

// Reserve keeps the given AWS accounts (the platform's own) from ever being linked to a tenant, whether a tenant
// names one or discovery finds one in a tenant's organization. Call it while building the service.
func (s *Service) Reserve(accountIDs ...string) {
	for _, id := range accountIDs {
		s.reserved[id] = true
	}
}

// CreateInput is a request to link an account. Optional fields are empty or nil.
type CreateInput struct {
	Name                string
	AccountID           string
	Type                string
	Region              string
	AccessLevel         string
	CostSync            *bool
	ManagementAccountID string
	IdentityAccess      string
	IdentityPathPrefix  string
	// Link, when set, is stored with the account, so the account and its first activation link exist together.
	Link *ActivationLink
	// Discovered, when set, is a member account found by discovery: it starts not_activated.
	Discovered *Membership
	// DiscoveredFrom, when set, names the linked account through which this management account was found (the
	// tenant started with the linked account): it starts not_activated, with a reason that invites its activation.
	DiscoveredFrom string
	// Integration, when set, are the account's integration settings from the start.
	Integration *IntegrationInput
}

// DefaultAccessLevel is the least privilege: the platform starts read-only, as every seed vendor does.
const DefaultAccessLevel = Resources

// Create validates in and links the account to the tenant with status pending.
func (s *Service) Create(ctx context.Context, tenantID string, in CreateInput) (Account, error) {
	defaults, err := s.defaults.AccountDefaults(ctx, tenantID)
	if err != nil {
		return Account{}, err
	}
	a, entry, err := s.newAccount(ctx, tenantID, in, defaults)
	if err != nil {
		return Account{}, err
	}
	switch err := s.store.Create(ctx, a, entry); {
	case errors.Is(err, ErrIntegrationNameTaken):
		return Account{}, &IntegrationNameTakenError{Field: "integration.integrationName"}
	case errors.Is(err, ErrManagementMissing):
		return Account{}, validation.Field("managementAccountId",
			"no management account %s in your tenant; link the management account first, or leave managementAccountId out "+
				"and Gangplank finds it through this account's role once it is connected", a.ManagementAccountID)
	case err != nil:
		return Account{}, err
	}
	return a, nil
}

// newAccount validates in and builds the account it creates, with its audit entry.
func (s *Service) newAccount(ctx context.Context, tenantID string, in CreateInput, defaults Defaults) (Account, audit.Entry, error) {
	a, err := in.validate(defaults, s.reserved)
	if err = in.withIntegration(&a, err, s.now().UTC()); err != nil {
		return Account{}, audit.Entry{}, err
	}
	now := s.now().UTC()
	a.TenantID, a.Status, a.CreatedAt, a.UpdatedAt, a.Version = tenantID, Pending, now, now, 1
	a.Health = Health{Status: HealthUnknown, Reason: "not connected yet: launch the onboarding stack, or connect a role ARN"}
	a.Link = in.Link
	switch {
	case in.Discovered != nil:
		a.Status, a.Organization = NotActivated, in.Discovered
		a.StatusReason = "Found in the organization; activate it from its management account, or connect it by hand."
	case in.DiscoveredFrom != "" && a.Type != Management:
		return Account{}, audit.Entry{}, fmt.Errorf("only a management account is discovered from a linked account, not a %s one", a.Type)
	case in.DiscoveredFrom != "":
		a.Status, a.StatusReason = NotActivated, DiscoveredFromReason(in.DiscoveredFrom, a.AccountID)
	}
	return a, audit.New(ctx, tenantID, now, "account.created", Target(a.AccountID), audit.Diff(nil, &a, bookkeeping...)), nil
}

func (in CreateInput) validate(d Defaults, reserved map[string]bool) (Account, error) {
	var c validation.Collector
	a := Account{Name: NormalizeName(in.Name), AccountID: in.AccountID, Region: in.Region, CostSync: d.CostSync,
		ManagementAccountID: in.ManagementAccountID, AccessLevel: DefaultAccessLevel}
	c.Check("name", CheckName(a.Name))
	if _, err := awsid.ParseAccountID(in.AccountID); err != nil {
		c.Add("accountId", "%s", err)
	} else if reserved[in.AccountID] {
		c.Check("accountId", ErrPlatformAccount)
	}
	t, err := ParseType(in.Type)
	c.Check("type", err)
	a.Type = t
	if a.Region == "" {
		a.Region = d.Region
	}
	switch {
	case a.Region == "":
		c.Add("region", "is required (or set a default region in your tenant settings)")
	case !awsid.IsRegion(a.Region):
		c.Add("region", "%q is not an AWS region Gangplank supports, such as us-east-1 or eu-west-1", a.Region)
	}
	if in.AccessLevel != "" {
		l, err := ParseAccessLevel(in.AccessLevel)
		c.Check("accessLevel", err)
		a.AccessLevel = l
	}
	if in.CostSync != nil {
		a.CostSync = *in.CostSync
	}
	a.IdentityAccess, a.IdentityPathPrefix = checkIdentity(&c, in.IdentityAccess, in.IdentityPathPrefix)
	// A linked account may leave its management account out: once it is connected, Gangplank reads its organization
	// through its own role and attaches it to its management account (adding that one, not activated, if needed).
	switch {
	case t != Linked && in.ManagementAccountID != "" && t != "":
		c.Add("managementAccountId", "is allowed only for linked accounts")
	case in.ManagementAccountID != "":
		if _, err := awsid.ParseAccountID(in.ManagementAccountID); err != nil {
			c.Add("managementAccountId", "%s", err)
		} else if in.ManagementAccountID == in.AccountID {
			c.Add("managementAccountId", "must differ from accountId: an account cannot be its own management account")
		}
	}
	return a, c.Err()
}

// checkIdentity validates the identity access option and path prefix ("" keeps the default).
func checkIdentity(c *validation.Collector, access, prefix string) (IdentityAccess, IAMPath) {
	var l IdentityAccess
	if access != "" {
		var err error
		l, err = ParseIdentityAccess(access)
		c.Check("identityAccess", err)
	}
	if prefix != "" {
		c.Check("identityPathPrefix", CheckIAMPath(prefix))
	}
	return l, IAMPath(prefix)
}

// Get returns one account of the tenant.
func (s *Service) Get(ctx context.Context, tenantID, accountID string) (Account, error) {
	if _, err := awsid.ParseAccountID(accountID); err != nil {
		// A malformed ID cannot name an account; answering "not found" keeps one code path for clients.
		return Account{}, ErrNotFound
	}
	return s.store.Get(ctx, tenantID, accountID)
}

// MaxPageSize bounds one page of a listing.
const MaxPageSize = 100

// DefaultPageSize is the page size when the client names none.
const DefaultPageSize = 50

// List returns one page of the tenant's accounts.
func (s *Service) List(ctx context.Context, tenantID string, q ListQuery) (Page, error) {
	if q.Limit == 0 {
		q.Limit = DefaultPageSize
	}
	if q.Limit < 1 || q.Limit > MaxPageSize {
		return Page{}, validation.Field("limit", "must be between 1 and %d", MaxPageSize)
	}
	return s.store.List(ctx, tenantID, q)
}

// Patch changes some of an account's editable fields; nil fields stay as they are.
type Patch struct {
	Name               *string
	AccessLevel        *string
	CostSync           *bool
	IdentityAccess     *string
	IdentityPathPrefix *string
}

// Update applies patch to the account if its current ETag is one of ifMatch ("*" matches any version).
// A patch that changes nothing returns the account as it is, without writing.
func (s *Service) Update(ctx context.Context, tenantID, accountID string, ifMatch []string, p Patch) (Account, error) {
	if len(ifMatch) == 0 {
		return Account{}, ErrPreconditionRequired
	}
	before, err := s.Get(ctx, tenantID, accountID)
	if err != nil {
		return Account{}, err
	}
	if !slices.Contains(ifMatch, "*") && !slices.Contains(ifMatch, before.ETag()) {
		return Account{}, ErrVersionMismatch
	}
	after := before
	var c validation.Collector
	if p.Name != nil {
		after.Name = NormalizeName(*p.Name)
		c.Check("name", CheckName(after.Name))
	}
	if p.AccessLevel != nil {
		l, err := ParseAccessLevel(*p.AccessLevel)
		c.Check("accessLevel", err)
		after.AccessLevel = l
	}
	if p.CostSync != nil {
		after.CostSync = *p.CostSync
	}
	if p.IdentityAccess != nil || p.IdentityPathPrefix != nil {
		access, prefix := "", ""
		if p.IdentityAccess != nil {
			if access = *p.IdentityAccess; access == "" {
				c.Add("identityAccess", "must be one of %s", list(IdentityAccesses))
			}
		}
		if p.IdentityPathPrefix != nil {
			if prefix = *p.IdentityPathPrefix; prefix == "" {
				c.Add("identityPathPrefix", `must not be empty: "/" means no prefix`)
			}
		}
		l, path := checkIdentity(&c, access, prefix)
		if p.IdentityAccess != nil {
			after.IdentityAccess = l
		}
		if p.IdentityPathPrefix != nil {
			after.IdentityPathPrefix = path
		}
	}
	if err := c.Err(); err != nil {
		return Account{}, err
	}
	if after.AccessLevel != before.AccessLevel {
		after.Health = accessHealth(after, s.now().UTC())
	}
	return s.save(ctx, before, after, "account.updated")
}

// save writes after in place of before (conditional on before's version) with an audit entry, unless nothing
// changed. Changes to hidden state (the activation link, recorded callback answers) are written too, and audited as
// the action without field values.
func (s *Service) save(ctx context.Context, before, after Account, action string) (Account, error) {
	return s.saveChanges(ctx, before, after, action, audit.Diff(&before, &after, bookkeeping...))
}

// saveChanges is save with the audit's changes given.
func (s *Service) saveChanges(ctx context.Context, before, after Account, action string, changes []audit.Change) (Account, error) {
	after, entry, changed := stampChanges(ctx, before, after, action, changes, s.now())
	if !changed {
		return before, nil
	}
	if err := s.store.Replace(ctx, before, after, entry); err != nil {
		return Account{}, err
	}
	return after, nil
}

// Stamp makes after the next version of before, written at now, and returns the audit entry of the change;
// changed is false when there is nothing to write. save uses it, and so do stores that write several accounts in
// one transaction (bulk activation): each account's write is still conditional on the version read.
func Stamp(ctx context.Context, before, after Account, action string, now time.Time) (stamped Account, entry audit.Entry, changed bool) {
	return stampChanges(ctx, before, after, action, audit.Diff(&before, &after, bookkeeping...), now)
}

// stampChanges is Stamp with the audit's changes given.
func stampChanges(ctx context.Context, before, after Account, action string, changes []audit.Change, now time.Time) (Account, audit.Entry, bool) {
	if len(changes) == 0 && !hiddenChanged(before, after) && !hiddenConnectionChanged(before, after) {
		return before, audit.Entry{}, false
	}
	if changes == nil {
		changes = []audit.Change{}
	}
	now = now.UTC()
	after.UpdatedAt, after.Version = now, before.Version+1
	return after, audit.New(ctx, before.TenantID, now, action, Target(before.AccountID), changes), true
}

// accessHealth is the health after the chosen access level changed: the role keeps what it was deployed with until
// the customer updates the stack, so a difference is something for them to do.
func accessHealth(a Account, now time.Time) Health {
	switch {
	case a.GrantedAccessLevel == "" || a.Health.Status == Unhealthy || a.Health.Status == HealthUnknown:
		return a.Health
	case a.GrantedAccessLevel != a.AccessLevel:
		return AccessLevelMismatch(a, now)
	case strings.HasPrefix(a.Health.Reason, accessMismatchPrefix):
		return Health{Status: Healthy, CheckedAt: &now, Reason: "The role's access level matches your choice again."}
	}
	return a.Health
}

const accessMismatchPrefix = "The role was deployed with access level"

// AccessLevelMismatch is the degraded health of a role deployed with another access level than the one chosen.
func AccessLevelMismatch(a Account, now time.Time) Health {
	return Health{Status: Degraded, CheckedAt: &now, Reason: fmt.Sprintf("%s %s, but you chose %s. Update the stack "+
		"with a new link from Gangplank to grant it.", accessMismatchPrefix, a.GrantedAccessLevel, a.AccessLevel)}
}

// mutateAttempts bounds how often Mutate rereads an account that changed under it.
const mutateAttempts = 5

// ErrNoChange may be returned by a Mutate function to stop without writing.
var ErrNoChange = errors.New("no change")

// Mutate reads the account, applies fn to a copy and writes the result if it changed, conditional on the version
// read; when another writer got there first it reads again and reapplies fn (so fn must decide from the account it
// is given, not from state captured earlier). The change is audited as action. It returns the account as stored.
func (s *Service) Mutate(ctx context.Context, tenantID, accountID, action string, fn func(a *Account) error) (Account, error) {
	for attempt := 1; ; attempt++ {
		before, err := s.Get(ctx, tenantID, accountID)
		if err != nil {
			return Account{}, err
		}
		after := before
		after.Callbacks = slices.Clone(before.Callbacks)
		if before.Link != nil {
			link := *before.Link
			after.Link = &link
		}
		if err := fn(&after); errors.Is(err, ErrNoChange) {
			return before, nil
		} else if err != nil {
			return Account{}, err
		}
		saved, err := s.save(ctx, before, after, action)
		if errors.Is(err, ErrVersionMismatch) && attempt < mutateAttempts {
			continue
		}
		return saved, err
	}
}

// deleteAttempts bounds how often Delete rereads an account that changed under it (a callback or a discovery run
// updating its status) before giving up.
const deleteAttempts = 3

// Delete removes the account if confirm is its exact name (in either Unicode form). ifMatch is optional here: without it, a concurrent
// status change does not stop the deletion; with it, the account must still be at that version.
// A management account must have no linked accounts left.
func (s *Service) Delete(ctx context.Context, tenantID, accountID, confirm string, ifMatch []string) error {
	for attempt := 1; ; attempt++ {
		a, err := s.Get(ctx, tenantID, accountID)
		if err != nil {
			return err
		}
		if NormalizeName(confirm) != NormalizeName(a.Name) {
			return fmt.Errorf("%w (%q)", ErrConfirmationMismatch, a.Name)
		}
		if a.IdentityIntegration != "" {
			return ErrHasIdentityIntegration
		}
		if len(ifMatch) > 0 && !slices.Contains(ifMatch, "*") && !slices.Contains(ifMatch, a.ETag()) {
			return ErrVersionMismatch
		}
		entry := audit.New(ctx, tenantID, s.now().UTC(), "account.deleted", Target(a.AccountID), audit.Diff(&a, nil, bookkeeping...))
		err = s.store.Delete(ctx, a, entry)
		if errors.Is(err, ErrVersionMismatch) && len(ifMatch) == 0 && attempt < deleteAttempts {
			continue
		}
		return err
	}
}

func hiddenChanged(before, after Account) bool {
	if len(before.Callbacks) != len(after.Callbacks) || (len(after.Callbacks) > 0 &&
		before.Callbacks[len(before.Callbacks)-1].RequestID != after.Callbacks[len(after.Callbacks)-1].RequestID) {
		return true
	}
	if (before.Activation == nil) != (after.Activation == nil) || (before.Activation != nil && *before.Activation != *after.Activation) {
		return true
	}
	switch {
	case before.Link == nil && after.Link == nil:
		return false
	case before.Link == nil || after.Link == nil:
		return true
	}
	b, a := *before.Link, *after.Link
	return b.TokenHash != a.TokenHash || !timeEqual(b.UsedAt, a.UsedAt) || b.UsedByStack != a.UsedByStack
}

// hiddenConnectionChanged reports changes of the connection's hidden proofs, which audit.Diff does not see.
func hiddenConnectionChanged(before, after Account) bool {
	return before.StackTokenHash != after.StackTokenHash || before.AwaitedStackID != after.AwaitedStackID ||
		before.ReportedStackID != after.ReportedStackID
}

func timeEqual(a, b *time.Time) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && a.Equal(*b))
}

// bookkeeping fields change with every write and are already in the audit entry's time; diffs leave them out.
var bookkeeping = []string{"version", "createdAt", "updatedAt"}

// Target names an account in audit entries.
func Target(accountID string) string { return "account/" + accountID }
