package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gangplank/gangplank/pkg/audit"
)

// An account's place in an AWS organization, as discovery reads it: through a management account's role (every
// member's Membership), or through a linked account's own role (its organization's management account, when the
// tenant started with the linked account).

// SameMembership reports whether two memberships say the same (a member that left compares by its status only).
func SameMembership(a, b Membership) bool {
	return a.Name == b.Name && a.Email == b.Email && a.Status == b.Status && a.JoinedMethod == b.JoinedMethod &&
		a.ParentID == b.ParentID && a.Path == b.Path && a.AncestorIDs == b.AncestorIDs && timeEqual(a.JoinedAt, b.JoinedAt) &&
		timeEqual(a.LeftAt, b.LeftAt)
}

// Left is the membership of an account that is no longer in its organization: what was last known, marked LEFT.
func (m Membership) Left(at time.Time) Membership {
	m.Status, m.LeftAt = MembershipLeft, &at
	return m
}

// LookupStatus is what a linked account's own role said of its organization's management account.
type LookupStatus string

const (
	// LookupAttached: the management account is in the tenant and the linked account is attached to it.
	LookupAttached LookupStatus = "attached"
	// LookupNotInOrganization: the account is in no AWS organization; it is a standalone account.
	LookupNotInOrganization LookupStatus = "not_in_organization"
	// LookupClaimedElsewhere: the management account is linked to another Gangplank tenant (never named).
	LookupClaimedElsewhere LookupStatus = "claimed_elsewhere"
	// LookupIsManagement: the account is itself its organization's management account.
	LookupIsManagement LookupStatus = "is_management"
	// LookupWrongType: the management account is in the tenant, but not as a management account.
	LookupWrongType LookupStatus = "management_has_other_type"
)

// ManagementLookup is the outcome of reading a linked account's organization through its own role.
type ManagementLookup struct {
	Status              LookupStatus `json:"status" dynamodbav:"status"`
	ManagementAccountID string       `json:"managementAccountId,omitempty" dynamodbav:"managementAccountId,omitempty"`
	// Reason says what was found and what to do about it.
	Reason    string    `json:"reason" dynamodbav:"reason"`
	CheckedAt time.Time `json:"checkedAt" dynamodbav:"checkedAt"`
}

// ErrAttachedElsewhere: a linked account already belongs to another management account.
var ErrAttachedElsewhere = errors.New("the linked account already belongs to another management account")

// ErrNotLinked: only linked accounts are attached to a management account.
var ErrNotLinked = errors.New("only a linked account belongs to a management account")

// AttachTo makes a linked account whose management account was not known a member of managementID. The store keeps
// the management account's linked count in the same write.
func (a *Account) AttachTo(managementID string) error {
	switch {
	case a.Type != Linked:
		return ErrNotLinked
	case a.ManagementAccountID == managementID:
		return ErrNoChange
	case a.ManagementAccountID != "":
		return ErrAttachedElsewhere
	}
	a.ManagementAccountID = managementID
	return nil
}

// RecordLookup records what the account's own role said of its organization.
func (a *Account) RecordLookup(l ManagementLookup) { a.ManagementLookup = &l }

// DiscoveredFromReason is the status reason of a management account found through one of its linked accounts.
func DiscoveredFromReason(linkedID, managementID string) string {
	return fmt.Sprintf("Discovered from linked account %s: this is the management account of its organization. Activate it "+
		"(GET /v1/accounts/%s/onboarding) so Gangplank can discover the rest of the organization and read its costs.", linkedID, managementID)
}

// Listed is an account as a listing of a management account's members returns it: enough to compare its
// membership and to write a change conditionally on the version listed, without reading it again.
type Listed struct {
	AccountID    string
	Name         string
	Type         Type
	Status       Status
	Version      int64
	CreatedAt    time.Time
	Organization *Membership
}

// SetMembership records an account's membership as discovery read it, conditionally on the version listed; an
// account changed since it was listed is read again and compared afresh. It reports whether anything was written.
func (s *Service) SetMembership(ctx context.Context, tenantID string, listed Listed, want Membership) (bool, error) {
	if listed.Organization != nil && SameMembership(*listed.Organization, want) {
		return false, nil
	}
	now := s.now().UTC()
	from, _ := json.Marshal(listed.Organization)
	to, _ := json.Marshal(want)
	entry := audit.New(ctx, tenantID, now, "account.organization_changed", Target(listed.AccountID),
		[]audit.Change{{Field: "organization", From: from, To: to}})
	err := s.store.SetMembership(ctx, tenantID, listed.AccountID, listed.Version, want, now, entry)
	if !errors.Is(err, ErrVersionMismatch) {
		return err == nil, err
	}
	changed := false
	_, err = s.Mutate(ctx, tenantID, listed.AccountID, "account.organization_changed", func(a *Account) error {
		if a.Organization != nil && SameMembership(*a.Organization, want) {
			return ErrNoChange
		}
		m := want
		a.Organization, changed = &m, true
		return nil
	})
	return changed, err
}

// maxCreateMany bounds one CreateMany call's input.
const maxCreateMany = 10000

// CreateMany links many accounts at once (discovery's new members), reading the tenant's defaults once and writing
// them in as few transactions as the store allows. It returns each input's error (nil for those created), the
// errors Create returns: ErrAlreadyLinked, ErrClaimedElsewhere, ErrNameTaken, a validation error.
func (s *Service) CreateMany(ctx context.Context, tenantID string, ins []CreateInput) ([]error, error) {
	if len(ins) > maxCreateMany {
		return nil, fmt.Errorf("at most %d accounts at once (%d given)", maxCreateMany, len(ins))
	}
	defaults, err := s.defaults.AccountDefaults(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(ins))
	var batch []Account
	var entries []audit.Entry
	var at []int
	for i, in := range ins {
		a, entry, err := s.newAccount(ctx, tenantID, in, defaults)
		if err != nil {
			errs[i] = err
			continue
		}
		batch, entries, at = append(batch, a), append(entries, entry), append(at, i)
	}
	if len(batch) == 0 {
		return errs, nil
	}
	for j, err := range s.store.CreateMany(ctx, batch, entries) {
		errs[at[j]] = err
	}
	return errs, nil
}
