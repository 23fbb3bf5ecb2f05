package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/awsx"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/validation"
)

// Accounts is what discovery reads and writes of accounts.
type Accounts interface {
	Get(ctx context.Context, tenantID, accountID string) (accounts.Account, error)
	Create(ctx context.Context, tenantID string, in accounts.CreateInput) (accounts.Account, error)
	Mutate(ctx context.Context, tenantID, accountID, action string, fn func(a *accounts.Account) error) (accounts.Account, error)
	List(ctx context.Context, tenantID string, q accounts.ListQuery) (accounts.Page, error)
}

// Store keeps each organization's OU tree.
type Store interface {
	Get(ctx context.Context, tenantID, managementID string) (Snapshot, int64, bool, error)
	Put(ctx context.Context, tenantID, managementID string, snap Snapshot, readVersion int64) error
}

// Door enters a customer's account (crossaccount.Door): the one way in.
type Door interface {
	Enter(ctx context.Context, tenantID, accountID, purpose string, require ...func(accounts.Account) error) (crossaccount.Session, error)
}

// Managements lists every active management account, across tenants.
type Managements interface {
	ActiveManagementAccounts(ctx context.Context) ([]accounts.Ref, error)
}

// Enroller activates new accounts (bulk activation), for auto-enrolment.
type Enroller interface {
	Enroll(ctx context.Context, tenantID, managementID string, accountIDs []string) error
}

// Snapshot is an organization's OU tree as stored.
type Snapshot struct {
	RootID       string    `json:"rootId" dynamodbav:"rootId"`
	OUs          []OU      `json:"ous" dynamodbav:"ous"`
	DiscoveredAt time.Time `json:"discoveredAt" dynamodbav:"discoveredAt"`
}

// ErrConcurrentRun: another discovery of the same organization finished first.
var ErrConcurrentRun = errors.New("another discovery of this organization ran at the same time; try again")

// ErrNotManagement: discovery reads organizations through their management account.
var ErrNotManagement = errors.New("discovery reads an organization through its management account; this account is not one")

// Service is discovery. Build one per cold start.
type Service struct {
	Accounts Accounts
	Store    Store
	Door     Door
	Enroller Enroller
	// Managements is needed by DiscoverAll only.
	Managements Managements
	Now         func() time.Time
	// MaxBackoff bounds the wait between retries of throttled calls (default 5 s).
	MaxBackoff time.Duration
	// NewOrganizations builds the client over the management account's configuration (default: the SDK's).
	NewOrganizations func(aws.Config) Organizations
}

func (s *Service) organizations(cfg aws.Config) Organizations {
	if s.NewOrganizations != nil {
		return s.NewOrganizations(cfg)
	}
	maxBackoff := s.MaxBackoff
	if maxBackoff == 0 {
		maxBackoff = 5 * time.Second
	}
	// Organizations allows a few requests per second per account; TooManyRequestsException is waited out with
	// jittered exponential backoff (every attempt allowed: a discovery would rather wait than fail).
	return organizations.NewFromConfig(cfg, func(o *organizations.Options) {
		o.Region = "us-east-1"
		o.Retryer = awsx.PatientRetryer(10, maxBackoff, "TooManyRequestsException")
		o.RetryMaxAttempts = 10
	})
}

// Result is one discovery: the run recorded on the management account, and the tree read.
type Result struct {
	Run  accounts.DiscoveryRun `json:"run"`
	Tree Tree                  `json:"-"`
	// LowerBound is the fewest requests this organization allows (calls ÷ lower bound is the cost ratio).
	LowerBound int `json:"lowerBound"`
}

// Discover reads the management account's organization and brings the tenant's accounts in step with it.
func (s *Service) Discover(ctx context.Context, tenantID, managementID string) (Result, error) {
	sess, err := s.Door.Enter(ctx, tenantID, managementID, "discovery", requireManagement)
	if err != nil {
		return Result{}, err
	}
	mgmt, cfg := sess.Account, sess.Config
	counter := awsx.NewCallCounter()
	counter.Instrument(&cfg)
	now := s.Now().UTC()
	run := accounts.DiscoveryRun{At: now, Status: "ok"}
	tree, readErr := Read(ctx, s.organizations(cfg))
	run.Calls = int(counter.ServiceCalls("Organizations"))
	run.Retries = int(counter.ServiceAttempts("Organizations")) - run.Calls
	if readErr != nil {
		run.Status, run.Error = "failed", "Gangplank could not read the organization: "+readErr.Error()
		s.record(ctx, tenantID, managementID, run)
		return Result{Run: run}, readErr
	}
	settings := settingsOf(mgmt)
	var enroll []string
	if err := s.apply(ctx, tenantID, mgmt, tree, settings, now, &run, &enroll); err != nil {
		run.Status, run.Error = "failed", err.Error()
		s.record(ctx, tenantID, managementID, run)
		return Result{Run: run, Tree: tree}, err
	}
	snap, version, _, err := s.Store.Get(ctx, tenantID, managementID)
	if err != nil {
		return Result{}, err
	}
	snap = Snapshot{RootID: tree.RootID, DiscoveredAt: now}
	for _, ou := range tree.OUs {
		snap.OUs = append(snap.OUs, ou)
	}
	sort.Slice(snap.OUs, func(i, j int) bool { return snap.OUs[i].Path < snap.OUs[j].Path })
	if err := s.Store.Put(ctx, tenantID, managementID, snap, version); err != nil {
		return Result{}, err
	}
	run.OUs = len(tree.OUs) - 1
	s.record(ctx, tenantID, managementID, run)
	if settings.AutoEnroll && len(enroll) > 0 && s.Enroller != nil {
		if err := s.Enroller.Enroll(ctx, tenantID, managementID, enroll); err != nil {
			slog.WarnContext(ctx, "auto-enrolment could not start; the next discovery retries", "managementAccountId", managementID, "error", err.Error())
		}
	}
	return Result{Run: run, Tree: tree, LowerBound: tree.LowerBound()}, nil
}

func requireManagement(a accounts.Account) error {
	if a.Type != accounts.Management {
		return ErrNotManagement
	}
	return nil
}

func settingsOf(a accounts.Account) accounts.Discovery {
	if a.Discovery == nil {
		return accounts.Discovery{MemberRoleName: accounts.DefaultMemberRoleName}
	}
	return *a.Discovery
}

// inScope applies the tenant's filters: included OUs (nested ones too), excluded OUs and accounts.
func inScope(t Tree, m Member, d accounts.Discovery) bool {
	if slices.Contains(d.ExcludeAccounts, m.ID) {
		return false
	}
	up := t.ancestors(m.ParentID)
	for _, id := range up {
		if slices.Contains(d.ExcludeOUs, id) {
			return false
		}
	}
	if len(d.IncludeOUs) == 0 {
		return true
	}
	for _, id := range up {
		if slices.Contains(d.IncludeOUs, id) {
			return true
		}
	}
	return false
}

func membership(t Tree, m Member) *accounts.Membership {
	up := t.ancestors(m.ParentID)
	slices.Reverse(up)
	return &accounts.Membership{Name: m.Name, Email: m.Email, Status: m.Status, JoinedMethod: m.JoinedMethod,
		JoinedAt: m.JoinedAt, ParentID: m.ParentID, Path: t.OUs[m.ParentID].Path, AncestorIDs: strings.Join(up, "/")}
}

// apply brings the tenant's accounts in step with the tree: one transaction per new account, one per changed one,
// none for the rest.
func (s *Service) apply(ctx context.Context, tenantID string, mgmt accounts.Account, tree Tree, d accounts.Discovery, now time.Time,
	run *accounts.DiscoveryRun, enroll *[]string) error {
	known, err := s.linked(ctx, tenantID, mgmt.AccountID)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, m := range tree.Members {
		if m.ID == mgmt.AccountID {
			continue
		}
		run.Found++
		seen[m.ID] = true
		want := membership(tree, m)
		if k, ok := known[m.ID]; ok {
			if err := s.update(ctx, tenantID, m.ID, want, run); err != nil {
				return err
			}
			// Auto-enrolment retries the accounts of included OUs it could not activate before.
			if (k.Status == accounts.Failed || k.Status == accounts.NotActivated) && inScope(tree, m, d) {
				*enroll = append(*enroll, m.ID)
			}
			continue
		}
		if !inScope(tree, m, d) {
			run.Excluded++
			continue
		}
		added, err := s.add(ctx, tenantID, mgmt, m, want, run)
		if err != nil {
			return err
		}
		if added {
			*enroll = append(*enroll, m.ID)
		}
	}
	for id, a := range known {
		if seen[id] || (a.Organization != nil && a.Organization.Status == accounts.MembershipLeft) {
			continue
		}
		_, err := s.Accounts.Mutate(ctx, tenantID, id, "account.left_organization", func(a *accounts.Account) error {
			// A copy: the account read before the change shares the pointer, and the change must show against it.
			m := accounts.Membership{}
			if a.Organization != nil {
				m = *a.Organization
			}
			m.Status, m.LeftAt = accounts.MembershipLeft, &now
			a.Organization = &m
			return nil
		})
		if err != nil && !errors.Is(err, accounts.ErrNotFound) {
			return err
		}
		run.Left++
	}
	return nil
}

func (s *Service) add(ctx context.Context, tenantID string, mgmt accounts.Account, m Member, want *accounts.Membership, run *accounts.DiscoveryRun) (bool, error) {
	name := m.Name
	if accounts.CheckName(name) != nil {
		name = "Account " + m.ID
	}
	in := accounts.CreateInput{Name: name, AccountID: m.ID, Type: string(accounts.Linked), Region: mgmt.Region,
		AccessLevel: string(mgmt.AccessLevel), ManagementAccountID: mgmt.AccountID, Discovered: want}
	_, err := s.Accounts.Create(ctx, tenantID, in)
	if errors.Is(err, accounts.ErrNameTaken) {
		in.Name = fmt.Sprintf("%s (%s)", truncate(name, 40), m.ID)
		_, err = s.Accounts.Create(ctx, tenantID, in)
	}
	switch {
	case err == nil:
		run.Added++
		return true, nil
	case errors.Is(err, accounts.ErrClaimedElsewhere):
		run.ClaimedElsewhere++
		return false, nil
	case errors.Is(err, accounts.ErrPlatformAccount):
		// The platform's own account in a tenant's organization is never the tenant's to link.
		run.Excluded++
		return false, nil
	case errors.Is(err, accounts.ErrAlreadyLinked):
		// Linked in this tenant already (as a standalone account, or under another management account).
		return false, s.update(ctx, tenantID, m.ID, want, run)
	}
	return false, fmt.Errorf("add account %s: %w", m.ID, err)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// update records the account's membership when it changed.
func (s *Service) update(ctx context.Context, tenantID, id string, want *accounts.Membership, run *accounts.DiscoveryRun) error {
	changed := false
	_, err := s.Accounts.Mutate(ctx, tenantID, id, "account.organization_changed", func(a *accounts.Account) error {
		if a.Organization != nil && sameMembership(*a.Organization, *want) {
			return accounts.ErrNoChange
		}
		a.Organization, changed = want, true
		return nil
	})
	if err != nil && !errors.Is(err, accounts.ErrNoChange) {
		return err
	}
	if changed {
		run.Updated++
	}
	return nil
}

func sameMembership(a, b accounts.Membership) bool {
	return a.Name == b.Name && a.Email == b.Email && a.Status == b.Status && a.JoinedMethod == b.JoinedMethod &&
		a.ParentID == b.ParentID && a.Path == b.Path && a.AncestorIDs == b.AncestorIDs && a.LeftAt == nil
}

// linked lists the tenant's accounts under the management account (one Query a page).
func (s *Service) linked(ctx context.Context, tenantID, managementID string) (map[string]accounts.Account, error) {
	out := map[string]accounts.Account{}
	q := accounts.ListQuery{ManagementAccountID: managementID, Limit: 100}
	for {
		page, err := s.Accounts.List(ctx, tenantID, q)
		if err != nil {
			return nil, err
		}
		for _, a := range page.Items {
			out[a.AccountID] = a
		}
		if page.NextCursor == "" {
			return out, nil
		}
		q.Cursor = page.NextCursor
	}
}

// record stores the run on the management account.
func (s *Service) record(ctx context.Context, tenantID, managementID string, run accounts.DiscoveryRun) {
	_, err := s.Accounts.Mutate(ctx, tenantID, managementID, "account.discovered", func(a *accounts.Account) error {
		d := settingsOf(*a)
		d.LastRun = &run
		a.Discovery = &d
		return nil
	})
	if err != nil {
		slog.WarnContext(ctx, "could not record the discovery run", "managementAccountId", managementID, "error", err.Error())
	}
}

// Settings are a management account's discovery settings as the tenant sets them.
type Settings struct {
	IncludeOUs      []string `json:"includeOuIds"`
	ExcludeOUs      []string `json:"excludeOuIds"`
	ExcludeAccounts []string `json:"excludeAccountIds"`
	MemberRoleName  string   `json:"memberRoleName"`
	AutoEnroll      bool     `json:"autoEnroll"`
}

// UpdateSettings replaces the management account's discovery settings.
func (s *Service) UpdateSettings(ctx context.Context, tenantID, managementID string, in Settings) (accounts.Account, error) {
	if err := in.validate(); err != nil {
		return accounts.Account{}, err
	}
	if in.MemberRoleName == "" {
		in.MemberRoleName = accounts.DefaultMemberRoleName
	}
	return s.Accounts.Mutate(ctx, tenantID, managementID, "account.discovery_settings", func(a *accounts.Account) error {
		if a.Type != accounts.Management {
			return ErrNotManagement
		}
		d := settingsOf(*a)
		d.IncludeOUs, d.ExcludeOUs, d.ExcludeAccounts = nonNil(in.IncludeOUs), nonNil(in.ExcludeOUs), nonNil(in.ExcludeAccounts)
		d.MemberRoleName, d.AutoEnroll = in.MemberRoleName, in.AutoEnroll
		a.Discovery = &d
		return nil
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// MaxExcludedAccounts bounds excludeAccountIds: the settings live in the management account's item, and a
// thousand accounts is more than any tenant excludes by id (excluding an OU excludes all of its accounts).
const MaxExcludedAccounts = 1000

// validate checks the settings by AWS's own rules, each list under its own name: OU and root ids by
// Organizations' patterns, account ids of 12 digits, each list bounded and without repeats, no OU both included and
// excluded, and the member role by IAM's role-name rules (the role name goes into the management account's
// sts:AssumeRole policy, where "*" or a path would widen it).
func (in Settings) validate() error {
	var c validation.Collector
	c.List("includeOuIds", in.IncludeOUs, awsid.MaxOUs, awsid.CheckOUID)
	c.List("excludeOuIds", in.ExcludeOUs, awsid.MaxOUs, awsid.CheckOUID)
	for _, id := range in.ExcludeOUs {
		if slices.Contains(in.IncludeOUs, id) {
			c.Add("excludeOuIds", "%q is also in includeOuIds: an OU is either included or excluded", id)
		}
	}
	c.List("excludeAccountIds", in.ExcludeAccounts, MaxExcludedAccounts, awsid.CheckAccountID)
	if in.MemberRoleName != "" {
		c.Check("memberRoleName", awsid.CheckRoleName(in.MemberRoleName))
	}
	return c.Err()
}

// View is an organization as the tenant sees it: its OUs and every member with its Gangplank status.
type View struct {
	ManagementAccountID string                 `json:"managementAccountId"`
	RootID              string                 `json:"rootId"`
	DiscoveredAt        time.Time              `json:"discoveredAt"`
	OUs                 []OU                   `json:"ous"`
	Accounts            []ViewAccount          `json:"accounts"`
	LastRun             *accounts.DiscoveryRun `json:"lastRun,omitempty"`
}

// ViewAccount is a member account in the view.
type ViewAccount struct {
	AccountID string              `json:"accountId"`
	Name      string              `json:"name"`
	Status    accounts.Status     `json:"status"`
	Member    accounts.Membership `json:"organization"`
}

// ErrNeverDiscovered: the organization has not been read yet.
var ErrNeverDiscovered = errors.New("this organization has not been discovered yet: POST .../discovery first")

// Organization returns the stored tree with each member's Gangplank status.
func (s *Service) Organization(ctx context.Context, tenantID, managementID string) (View, error) {
	mgmt, err := s.Accounts.Get(ctx, tenantID, managementID)
	if err != nil {
		return View{}, err
	}
	if mgmt.Type != accounts.Management {
		return View{}, ErrNotManagement
	}
	snap, _, ok, err := s.Store.Get(ctx, tenantID, managementID)
	if err != nil {
		return View{}, err
	}
	if !ok {
		return View{}, ErrNeverDiscovered
	}
	known, err := s.linked(ctx, tenantID, managementID)
	if err != nil {
		return View{}, err
	}
	v := View{ManagementAccountID: managementID, RootID: snap.RootID, DiscoveredAt: snap.DiscoveredAt, OUs: snap.OUs, Accounts: []ViewAccount{}}
	if mgmt.Discovery != nil {
		v.LastRun = mgmt.Discovery.LastRun
	}
	for _, a := range known {
		if a.Organization == nil {
			continue
		}
		v.Accounts = append(v.Accounts, ViewAccount{AccountID: a.AccountID, Name: a.Name, Status: a.Status, Member: *a.Organization})
	}
	sort.Slice(v.Accounts, func(i, j int) bool { return v.Accounts[i].AccountID < v.Accounts[j].AccountID })
	return v, nil
}

// DiscoverAll is the daily discovery: every active management account, one after the other (each organization's
// requests are throttled per account, so running them in turn costs nothing and keeps the function simple). One
// organization's failure is recorded on its account and does not stop the others.
func (s *Service) DiscoverAll(ctx context.Context) (ran, failed int, err error) {
	refs, err := s.Managements.ActiveManagementAccounts(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, r := range refs {
		if ctx.Err() != nil {
			return ran, failed, ctx.Err()
		}
		ran++
		if _, err := s.Discover(ctx, r.TenantID, r.AccountID); err != nil {
			failed++
			slog.WarnContext(ctx, "discovery failed", "tenantId", r.TenantID, "managementAccountId", r.AccountID, "error", err.Error())
		}
	}
	return ran, failed, nil
}
