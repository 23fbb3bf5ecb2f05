// Package tenants is the domain of tenants: the customer organisations of the platform. A tenant exists from the
// first authenticated request its users make, and owns the External ID that every cross-account role it creates
// must require.
package tenants

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
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
	Settings   Settings  `json:"settings" dynamodbav:"settings"`
	Version    int64     `json:"version" dynamodbav:"version"`
}

// Settings are the tenant's defaults and preferences.
type Settings struct {
	// DefaultRegion is where onboarding stacks go when an account names no region.
	DefaultRegion string `json:"defaultRegion" dynamodbav:"defaultRegion"`
	// CostSyncDefault is whether new accounts sync Cost Explorer recommendations (on unless turned off).
	CostSyncDefault bool `json:"costSyncDefault" dynamodbav:"costSyncDefault"`
}

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
	s.remember(tenantID)
	return t, nil
}

func (s *Service) create(ctx context.Context, tenantID string) (Tenant, error) {
	now := s.now().UTC()
	t := Tenant{TenantID: tenantID, ExternalID: NewExternalID(), CreatedAt: now, UpdatedAt: now, Version: 1,
		Settings: Settings{CostSyncDefault: true}}
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
	DefaultRegion   *string
	CostSyncDefault *bool
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
	after := before
	if p.DefaultRegion != nil {
		if *p.DefaultRegion != "" && !awsid.IsRegion(*p.DefaultRegion) {
			return Tenant{}, validation.Field("settings.defaultRegion",
				"%q is not an AWS region Gangplank supports, such as us-east-1 or eu-west-1", *p.DefaultRegion)
		}
		after.Settings.DefaultRegion = *p.DefaultRegion
	}
	if p.CostSyncDefault != nil {
		after.Settings.CostSyncDefault = *p.CostSyncDefault
	}
	changes := audit.Diff(&before.Settings, &after.Settings)
	if len(changes) == 0 {
		return before, nil
	}
	for i := range changes {
		changes[i].Field = "settings." + changes[i].Field
	}
	now := s.now().UTC()
	after.UpdatedAt, after.Version = now, before.Version+1
	if err := s.store.Replace(ctx, before, after, audit.New(ctx, tenantID, now, "tenant.updated", "tenant", changes)); err != nil {
		return Tenant{}, err
	}
	return after, nil
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
