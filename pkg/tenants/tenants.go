// Package tenants is the domain of tenants: the customer organisations of the platform. A tenant exists from the
// first authenticated request its users make, and owns the External ID that every cross-account role it creates
// must require.
package tenants

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/validation"
)

// Tenant is one customer organisation.
type Tenant struct {
	TenantID   string    `json:"tenantId" dynamodbav:"tenantId"`
	ExternalID string    `json:"externalId" dynamodbav:"externalId"`
	CreatedAt  time.Time `json:"createdAt" dynamodbav:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt" dynamodbav:"updatedAt"`
	// PreviousExternalIDs still work until their ValidUntil, so rotating never breaks a connected account at once.
	PreviousExternalIDs []RetiredExternalID `json:"previousExternalIds" dynamodbav:"previousExternalIds"`
	Settings            Settings            `json:"settings" dynamodbav:"settings"`
	// Rotation is the External ID's rotation schedule (rotation.go).
	Rotation ExternalIDRotation `json:"externalIdRotation" dynamodbav:"externalIdRotation"`
	Version  int64              `json:"version" dynamodbav:"version"`
}

// MarshalJSON shows a tenant that never rotated its External ID with an empty list of previous ones, and a tenant
// stored before a setting existed with that setting's default (what applies to it).
func (t Tenant) MarshalJSON() ([]byte, error) {
	type plain Tenant
	if t.PreviousExternalIDs == nil {
		t.PreviousExternalIDs = []RetiredExternalID{}
	}
	if t.Settings.ActivationStacksInFlight == 0 {
		t.Settings.ActivationStacksInFlight = DefaultActivationStacksInFlight
	}
	return json.Marshal(plain(t))
}

// RetiredExternalID is a rotated-out External ID in its grace period.
type RetiredExternalID struct {
	ExternalID string    `json:"externalId" dynamodbav:"externalId"`
	RetiredAt  time.Time `json:"retiredAt" dynamodbav:"retiredAt"`
	ValidUntil time.Time `json:"validUntil" dynamodbav:"validUntil"`
}

// AcceptedExternalIDs lists the External IDs Gangplank presents at now: the current one first, then previous ones
// whose grace period has not ended, newest first.
func (t Tenant) AcceptedExternalIDs(now time.Time) []string {
	ids := []string{t.ExternalID}
	for i := len(t.PreviousExternalIDs) - 1; i >= 0; i-- {
		if p := t.PreviousExternalIDs[i]; now.Before(p.ValidUntil) {
			ids = append(ids, p.ExternalID)
		}
	}
	return ids
}

// Retired returns the grace record of a previous External ID, if id is one.
func (t Tenant) Retired(id string) (RetiredExternalID, bool) {
	for _, p := range t.PreviousExternalIDs {
		if p.ExternalID == id {
			return p, true
		}
	}
	return RetiredExternalID{}, false
}

// Settings are the tenant's defaults and preferences.
type Settings struct {
	// DefaultRegion is where onboarding stacks go when an account names no region.
	DefaultRegion string `json:"defaultRegion" dynamodbav:"defaultRegion"`
	// CostSyncDefault is whether new accounts sync Cost Explorer recommendations (on unless turned off).
	CostSyncDefault bool `json:"costSyncDefault" dynamodbav:"costSyncDefault"`
	// ExternalIDGraceDays is how long a rotated-out External ID keeps working (default 30).
	ExternalIDGraceDays int `json:"externalIdGraceDays" dynamodbav:"externalIdGraceDays"`
	// Recommendations chooses what the cost sync asks Cost Explorer for; empty fields take the defaults.
	Recommendations RecommendationSettings `json:"recommendations" dynamodbav:"recommendations"`
	// Inventory is when the inventory syncs each account on its own.
	Inventory InventorySettings `json:"inventory" dynamodbav:"inventory"`
	// ActivationStacksInFlight is how many onboarding stacks a bulk activation creates and waits for at once
	// (MinActivationStacksInFlight-MaxActivationStacksInFlight; 0 until set: DefaultActivationStacksInFlight). A
	// request may set its own.
	ActivationStacksInFlight int `json:"activationStacksInFlight" dynamodbav:"activationStacksInFlight"`
	// CredentialRotationDays rotates the External ID every so many days (0: only when asked), warning beforehand.
	CredentialRotationDays int `json:"credentialRotationDays" dynamodbav:"credentialRotationDays,omitempty"`
}

// InventorySettings schedule the inventory's syncs.
type InventorySettings struct {
	// SyncIntervalHours is how often each account's resources are read (0: daily).
	SyncIntervalHours int `json:"syncIntervalHours" dynamodbav:"syncIntervalHours"`
}

// InventoryIntervals are the sync intervals a tenant may choose, in hours: every hour, 6 hours, 12 hours, day or
// week.
var InventoryIntervals = []int{1, 6, 12, 24, 168}

// Bounds and default of ActivationStacksInFlight. The wall time of a bulk activation is about ⌈accounts / stacks in
// flight⌉ × the time a stack takes (docs/bulk-activation.md); the lower bound keeps 5,000 accounts within Step
// Functions' history limit, the upper one the platform's concurrent callbacks and member-role sessions reasonable.
const (
	MinActivationStacksInFlight     = 10
	MaxActivationStacksInFlight     = 500
	DefaultActivationStacksInFlight = 100
)

// RecommendationSettings are the terms, payment options and lookback of Cost Explorer's purchase
// recommendations. Each term and payment option multiplies the requests of a sync (at $0.01 each).
type RecommendationSettings struct {
	Terms          []string `json:"terms" dynamodbav:"terms"`
	PaymentOptions []string `json:"paymentOptions" dynamodbav:"paymentOptions"`
	LookbackDays   int      `json:"lookbackDays" dynamodbav:"lookbackDays"`
}

// DefaultExternalIDGraceDays leaves a month to update every stack after a rotation.
const DefaultExternalIDGraceDays = 30

// MaxExternalIDGraceDays bounds the grace period: an old secret should not live on indefinitely.
const MaxExternalIDGraceDays = 365

// ETag is the entity tag of this version of the tenant.
func (t Tenant) ETag() string { return accounts.ETag(t.Version) }

var (
	// ErrNotFound: the store has no such tenant.
	ErrNotFound = errors.New("tenant not found")
	// ErrExists: the tenant was created concurrently.
	ErrExists = errors.New("tenant already exists")
	// ErrVersionMismatch: the tenant changed since it was read.
	ErrVersionMismatch = errors.New("the tenant changed since you read it; fetch it again and reapply your change")
	// ErrPreconditionRequired: a change needs If-Match.
	ErrPreconditionRequired = errors.New("send If-Match with the ETag from your last read of the tenant")
)

// Store persists tenants, writing each audit entry in the same transaction as its change.
type Store interface {
	Get(ctx context.Context, tenantID string) (Tenant, error)
	Create(ctx context.Context, t Tenant, entry audit.Entry) error
	Replace(ctx context.Context, before, after Tenant, entry audit.Entry) error
}

// Service manages tenants.
type Service struct {
	store Store
	now   func() time.Time

	// known remembers tenants this process has seen exist, so that the per-request "create on first use" check
	// costs a DynamoDB read once per tenant per cold start instead of once per request.
	mu    sync.Mutex
	known map[string]struct{}
}

// maxKnown bounds the memory the cache of known tenants may take.
const maxKnown = 10000

// NewService returns a Service; now is the clock.
func NewService(store Store, now func() time.Time) *Service {
	return &Service{store: store, now: now, known: map[string]struct{}{}}
}

// NewExternalID returns a fresh External ID: 128 bits from crypto/rand, within STS's ExternalId alphabet.
func NewExternalID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // Unreachable on supported platforms; never fall back to weak IDs.
	}
	return "gp-" + hex.EncodeToString(b[:])
}

// Ensure makes sure the tenant exists, creating it on its first request.
func (s *Service) Ensure(ctx context.Context, tenantID string) error {
	s.mu.Lock()
	_, ok := s.known[tenantID]
	s.mu.Unlock()
	if ok {
		return nil
	}
	_, err := s.Get(ctx, tenantID)
	return err
}

// Get returns the tenant, creating it if this is its first appearance.
func (s *Service) Get(ctx context.Context, tenantID string) (Tenant, error) {
	t, err := s.store.Get(ctx, tenantID)
	if errors.Is(err, ErrNotFound) {
		t, err = s.create(ctx, tenantID)
	}
	if err != nil {
		return Tenant{}, err
	}
	if t.PreviousExternalIDs == nil {
		t.PreviousExternalIDs = []RetiredExternalID{}
	}
	s.remember(tenantID)
	return t, nil
}

func (s *Service) create(ctx context.Context, tenantID string) (Tenant, error) {
	now := s.now().UTC()
	t := Tenant{TenantID: tenantID, ExternalID: NewExternalID(), CreatedAt: now, UpdatedAt: now, Version: 1,
		PreviousExternalIDs: []RetiredExternalID{},
		Settings:            Settings{CostSyncDefault: true, ExternalIDGraceDays: DefaultExternalIDGraceDays}}
	// The External ID is a secret shared with the customer's role only; the trail records that one was issued.
	entry := audit.New(ctx, tenantID, now, "tenant.created", "tenant", audit.Diff(nil, &t, "externalId", "version", "createdAt", "updatedAt"))
	err := s.store.Create(ctx, t, entry)
	if errors.Is(err, ErrExists) {
		// Two first requests raced; the other one created it.
		return s.store.Get(ctx, tenantID)
	}
	return t, err
}

func (s *Service) remember(tenantID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.known) >= maxKnown {
		clear(s.known)
	}
	s.known[tenantID] = struct{}{}
}

// SettingsPatch changes some settings; nil fields stay as they are.
type SettingsPatch struct {
	DefaultRegion       *string
	CostSyncDefault     *bool
	ExternalIDGraceDays *int
	Recommendations     *RecommendationSettings
	Inventory           *InventorySettings
	// ActivationStacksInFlight sets Settings.ActivationStacksInFlight.
	ActivationStacksInFlight *int
	// CredentialRotationDays: 0 turns the schedule off.
	CredentialRotationDays *int
}

// MarshalJSON shows unset lists as empty ones (the defaults apply).
func (r RecommendationSettings) MarshalJSON() ([]byte, error) {
	type plain RecommendationSettings
	if r.Terms == nil {
		r.Terms = []string{}
	}
	if r.PaymentOptions == nil {
		r.PaymentOptions = []string{}
	}
	return json.Marshal(plain(r))
}

// Recommendation terms and payment options, as Cost Explorer names them.
var (
	Terms          = []string{"ONE_YEAR", "THREE_YEARS"}
	PaymentOptions = []string{"NO_UPFRONT", "PARTIAL_UPFRONT", "ALL_UPFRONT"}
)

func oneOf(allowed []string) func(string) error {
	return func(s string) error {
		if !slices.Contains(allowed, s) {
			return fmt.Errorf("use %s", strings.Join(allowed, ", "))
		}
		return nil
	}
}

// check adds every problem with the recommendation settings to c, each under its own field.
func (r RecommendationSettings) check(c *validation.Collector) {
	c.List("settings.recommendations.terms", r.Terms, len(Terms), oneOf(Terms))
	c.List("settings.recommendations.paymentOptions", r.PaymentOptions, len(PaymentOptions), oneOf(PaymentOptions))
	if d := r.LookbackDays; d != 0 && d != 7 && d != 30 && d != 60 {
		c.Add("settings.recommendations.lookbackDays", "Cost Explorer looks back 7, 30 or 60 days (0 for the default, 30)")
	}
}

// validate reports every problem with the patch at once, each under its field's name in the request.
func (p SettingsPatch) validate() error {
	var c validation.Collector
	if r := p.DefaultRegion; r != nil && *r != "" && !awsid.IsRegion(*r) {
		c.Add("settings.defaultRegion", "%q is not an AWS region Gangplank supports, such as us-east-1 or eu-west-1", *r)
	}
	if d := p.ExternalIDGraceDays; d != nil && (*d < 0 || *d > MaxExternalIDGraceDays) {
		c.Add("settings.externalIdGraceDays", "must be between 0 and %d days", MaxExternalIDGraceDays)
	}
	if p.Recommendations != nil {
		p.Recommendations.check(&c)
	}
	return c.Err()
}

// UpdateSettings applies patch if the tenant's ETag is one of ifMatch ("*" matches any).
func (s *Service) UpdateSettings(ctx context.Context, tenantID string, ifMatch []string, p SettingsPatch) (Tenant, error) {
	if len(ifMatch) == 0 {
		return Tenant{}, ErrPreconditionRequired
	}
	before, err := s.Get(ctx, tenantID)
	if err != nil {
		return Tenant{}, err
	}
	if !slices.Contains(ifMatch, "*") && !slices.Contains(ifMatch, before.ETag()) {
		return Tenant{}, ErrVersionMismatch
	}
	if err := p.validate(); err != nil {
		return Tenant{}, err
	}
	after := before
	if p.DefaultRegion != nil {
		after.Settings.DefaultRegion = *p.DefaultRegion
	}
	if p.CostSyncDefault != nil {
		after.Settings.CostSyncDefault = *p.CostSyncDefault
	}
	if p.ExternalIDGraceDays != nil {
		after.Settings.ExternalIDGraceDays = *p.ExternalIDGraceDays
	}
	if p.Recommendations != nil {
		r := *p.Recommendations
		if r.Terms == nil {
			r.Terms = []string{}
		}
		if r.PaymentOptions == nil {
			r.PaymentOptions = []string{}
		}
		after.Settings.Recommendations = r
	}
	if p.Inventory != nil {
		if h := p.Inventory.SyncIntervalHours; h != 0 && !slices.Contains(InventoryIntervals, h) {
			return Tenant{}, validation.Field("settings.inventory.syncIntervalHours", "must be 1, 6, 12, 24 or 168 hours (0: daily)")
		}
		after.Settings.Inventory = *p.Inventory
	}
	if p.ActivationStacksInFlight != nil {
		if n := *p.ActivationStacksInFlight; n < MinActivationStacksInFlight || n > MaxActivationStacksInFlight {
			return Tenant{}, validation.Field("settings.activationStacksInFlight", "must be between %d and %d",
				MinActivationStacksInFlight, MaxActivationStacksInFlight)
		}
		after.Settings.ActivationStacksInFlight = *p.ActivationStacksInFlight
	}
	if p.CredentialRotationDays != nil {
		if d := *p.CredentialRotationDays; d != 0 && (d < MinCredentialRotationDays || d > MaxCredentialRotationDays) {
			return Tenant{}, validation.Field("settings.credentialRotationDays",
				"must be between %d and %d days, or 0 to rotate only when asked", MinCredentialRotationDays, MaxCredentialRotationDays)
		}
		after.Settings.CredentialRotationDays = *p.CredentialRotationDays
	}
	changes := audit.Diff(&before.Settings, &after.Settings)
	if len(changes) == 0 {
		return before, nil
	}
	for i := range changes {
		changes[i].Field = "settings." + changes[i].Field
	}
	now := s.now().UTC()
	if after.Settings.CredentialRotationDays != before.Settings.CredentialRotationDays {
		after.scheduleRotation(now)
		changes = append(changes, rotationChange(before, after)...)
	}
	after.UpdatedAt, after.Version = now, before.Version+1
	if err := s.store.Replace(ctx, before, after, audit.New(ctx, tenantID, now, "tenant.updated", "tenant", changes)); err != nil {
		return Tenant{}, err
	}
	return after, nil
}

// maxRetired bounds the previous External IDs kept; older ones have long left their grace period.
const maxRetired = 10

// RotateExternalID issues a new External ID. The current one keeps working for the tenant's grace period, so
// connected accounts go on working while their stacks are updated; onboarding material uses the new one at once.
// With ifMatch empty the rotation applies to whatever version is current.
func (s *Service) RotateExternalID(ctx context.Context, tenantID string, ifMatch []string) (Tenant, error) {
	return s.rotate(ctx, tenantID, ifMatch, nil)
}

// rotate rotates the External ID, if should (when given) agrees on the tenant as read; the schedule restarts from
// the rotation.
func (s *Service) rotate(ctx context.Context, tenantID string, ifMatch []string, should func(t Tenant, now time.Time) bool) (Tenant, error) {
	for attempt := 1; ; attempt++ {
		before, err := s.Get(ctx, tenantID)
		if err != nil {
			return Tenant{}, err
		}
		if len(ifMatch) > 0 && !slices.Contains(ifMatch, "*") && !slices.Contains(ifMatch, before.ETag()) {
			return Tenant{}, ErrVersionMismatch
		}
		now := s.now().UTC()
		if should != nil && !should(before, now) {
			return before, nil
		}
		// A grace of 0 days retires the old ID at once: for a tenant that believes it leaked.
		grace := before.Settings.ExternalIDGraceDays
		after := before
		after.ExternalID = NewExternalID()
		after.PreviousExternalIDs = append(slices.Clone(before.PreviousExternalIDs), RetiredExternalID{
			ExternalID: before.ExternalID, RetiredAt: now, ValidUntil: now.AddDate(0, 0, grace)})
		if n := len(after.PreviousExternalIDs); n > maxRetired {
			after.PreviousExternalIDs = after.PreviousExternalIDs[n-maxRetired:]
		}
		after.UpdatedAt, after.Version = now, before.Version+1
		after.scheduleRotation(now)
		// The IDs themselves stay out of the trail; the change and the old one's end of grace go in.
		until, _ := json.Marshal(now.AddDate(0, 0, grace))
		entry := audit.New(ctx, tenantID, now, "tenant.external_id_rotated", "tenant",
			append([]audit.Change{{Field: "previousExternalIdValidUntil", To: until}}, rotationChange(before, after)...))
		err = s.store.Replace(ctx, before, after, entry)
		if errors.Is(err, ErrVersionMismatch) && len(ifMatch) == 0 && attempt < 3 {
			continue
		}
		if err != nil {
			return Tenant{}, err
		}
		return after, nil
	}
}

// AccountDefaults implements accounts.DefaultsSource.
func (s *Service) AccountDefaults(ctx context.Context, tenantID string) (accounts.Defaults, error) {
	t, err := s.Get(ctx, tenantID)
	if err != nil {
		return accounts.Defaults{}, err
	}
	return accounts.Defaults{Region: t.Settings.DefaultRegion, CostSync: t.Settings.CostSyncDefault}, nil
}

var _ accounts.DefaultsSource = (*Service)(nil)

// rotationChange records a change of the next scheduled rotation in the audit trail.
func rotationChange(before, after Tenant) []audit.Change {
	b, _ := json.Marshal(before.Rotation.NextRotationAt)
	a, _ := json.Marshal(after.Rotation.NextRotationAt)
	if string(a) == string(b) {
		return nil
	}
	c := audit.Change{Field: "externalIdRotation.nextRotationAt", From: b, To: a}
	if before.Rotation.NextRotationAt == nil {
		c.From = nil
	}
	if after.Rotation.NextRotationAt == nil {
		c.To = nil
	}
	return []audit.Change{c}
}
