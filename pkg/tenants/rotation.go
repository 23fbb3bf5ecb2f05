package tenants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gangplank/gangplank/pkg/audit"
)

// The External ID on a schedule: with Settings.CredentialRotationDays set, the External ID is rotated every so
// many days with the usual grace period, and the tenant is warned beforehand, twice: RotationWarningLead before
// a rotation (every connected stack will have to be updated within the grace period after it), and
// RotationWarningLead before a grace period ends (naming the stacks still on the old ID, found by assuming their
// roles). A daily function (pkg/rotation) does the work; this file holds the rules.

// RotationWarningLead is how long before a rotation, and before the end of a grace period, the tenant is warned.
const RotationWarningLead = 7 * 24 * time.Hour

// Bounds of the rotation period: a week at least, so that the warning comes before the rotation.
const (
	MinCredentialRotationDays = 7
	MaxCredentialRotationDays = 365
)

// ExternalIDRotation is the state of the tenant's External ID schedule.
type ExternalIDRotation struct {
	// NextRotationAt is when the next scheduled rotation is due; nil while rotation is off.
	NextRotationAt *time.Time `json:"nextRotationAt,omitempty" dynamodbav:"nextRotationAt,omitempty"`
	// Warning is the latest warning about stacks that must be updated before an External ID stops working.
	Warning *RotationWarning `json:"warning,omitempty" dynamodbav:"warning,omitempty"`
	// UpcomingWarnedFor is the rotation (its due time) the tenant was last warned about.
	UpcomingWarnedFor *time.Time `json:"-" dynamodbav:"upcomingWarnedFor,omitempty"`
	// GraceWarnedUntil is a watermark: every retired External ID whose grace ends at or before it has been dealt with.
	GraceWarnedUntil *time.Time `json:"-" dynamodbav:"graceWarnedUntil,omitempty"`
}

// Warning kinds.
const (
	// WarningUpcomingRotation: the External ID rotates soon; every listed stack must then be updated by Deadline.
	WarningUpcomingRotation = "upcoming_rotation"
	// WarningGraceEnding: a previous External ID stops working at Deadline; the listed stacks still use it.
	WarningGraceEnding = "grace_ending"
)

// RotationWarning names the stacks that would still be on an old External ID when its grace period ends.
type RotationWarning struct {
	Kind string    `json:"kind" dynamodbav:"kind"`
	At   time.Time `json:"at" dynamodbav:"at"`
	// RotationAt is the rotation concerned: upcoming, or the one that retired the ID whose grace is ending.
	RotationAt time.Time `json:"rotationAt" dynamodbav:"rotationAt"`
	// Deadline is when the old External ID stops working: the stacks listed must be updated before then.
	Deadline time.Time       `json:"deadline" dynamodbav:"deadline"`
	Message  string          `json:"message" dynamodbav:"message"`
	Accounts []AccountAtRisk `json:"accounts" dynamodbav:"accounts"`
}

// AccountAtRisk is a connected account whose stack must be updated, and why.
type AccountAtRisk struct {
	AccountID string `json:"accountId" dynamodbav:"accountId"`
	Name      string `json:"name" dynamodbav:"name"`
	Reason    string `json:"reason" dynamodbav:"reason"`
}

// MaxAccountsInWarning bounds the accounts a warning lists (it counts them all); the item stays small.
const MaxAccountsInWarning = 200

// lastRotation is when the External ID was last issued: the latest rotation, or the tenant's creation.
func (t Tenant) lastRotation() time.Time {
	last := t.CreatedAt
	for _, p := range t.PreviousExternalIDs {
		if p.RetiredAt.After(last) {
			last = p.RetiredAt
		}
	}
	return last
}

// scheduleRotation sets the next rotation from the last one and the period, never sooner than the warning lead
// from now (a tenant is always warned before a scheduled rotation).
func (t *Tenant) scheduleRotation(now time.Time) {
	days := t.Settings.CredentialRotationDays
	if days == 0 {
		t.Rotation.NextRotationAt = nil
		return
	}
	next := t.lastRotation().AddDate(0, 0, days)
	if earliest := now.Add(RotationWarningLead); next.Before(earliest) {
		next = earliest
	}
	next = next.UTC()
	t.Rotation.NextRotationAt = &next
}

// GraceEnding is the earliest retired External ID whose grace period has not been dealt with yet.
func (t Tenant) GraceEnding() (RetiredExternalID, bool) {
	var out RetiredExternalID
	found := false
	for _, p := range t.PreviousExternalIDs {
		if w := t.Rotation.GraceWarnedUntil; w != nil && !p.ValidUntil.After(*w) {
			continue
		}
		if !found || p.ValidUntil.Before(out.ValidUntil) {
			out, found = p, true
		}
	}
	return out, found
}

// UpcomingWarningDue reports whether the tenant should be warned now about its next scheduled rotation.
func (t Tenant) UpcomingWarningDue(now time.Time) bool {
	n := t.Rotation.NextRotationAt
	return n != nil && !now.Before(n.Add(-RotationWarningLead)) &&
		(t.Rotation.UpcomingWarnedFor == nil || !t.Rotation.UpcomingWarnedFor.Equal(*n))
}

// RotationDue reports whether the scheduled rotation is due at now.
func (t Tenant) RotationDue(now time.Time) bool {
	return t.Rotation.NextRotationAt != nil && !now.Before(*t.Rotation.NextRotationAt)
}

// NextRotationCheck is when the schedule next needs attention (a warning or a rotation), or nil when nothing is
// pending. The store indexes tenants by it, so the daily function reads only the tenants with work to do.
func (t Tenant) NextRotationCheck() *time.Time {
	var times []time.Time
	if n := t.Rotation.NextRotationAt; n != nil {
		if w := t.Rotation.UpcomingWarnedFor; w == nil || !w.Equal(*n) {
			times = append(times, n.Add(-RotationWarningLead))
		}
		times = append(times, *n)
	}
	if p, ok := t.GraceEnding(); ok {
		times = append(times, p.ValidUntil.Add(-RotationWarningLead))
	}
	if len(times) == 0 {
		return nil
	}
	first := slices.MinFunc(times, func(a, b time.Time) int { return a.Compare(b) }).UTC()
	return &first
}

// RotateIfDue performs the scheduled rotation if it is due at the service's now, as one conditional write, so
// that two runs of the daily function rotate once. It reports whether it rotated.
func (s *Service) RotateIfDue(ctx context.Context, tenantID string) (Tenant, bool, error) {
	rotated := false
	t, err := s.rotate(ctx, tenantID, nil, func(t Tenant, now time.Time) bool {
		rotated = t.RotationDue(now)
		return rotated
	})
	return t, rotated && err == nil, err
}

// ErrNotDue: a warning was recorded for a rotation or grace period that is no longer the tenant's next.
var ErrNotDue = errors.New("the tenant's rotation schedule changed; nothing to warn about")

// RecordRotationWarning stores a warning on the tenant, with its audit entry, and marks what it concerns as dealt
// with: the upcoming rotation at w.RotationAt, or the grace period ending at w.Deadline. A nil-account grace
// warning for a grace that already ended only moves the watermark.
func (s *Service) RecordRotationWarning(ctx context.Context, tenantID string, w RotationWarning) (Tenant, error) {
	for attempt := 1; ; attempt++ {
		before, err := s.Get(ctx, tenantID)
		if err != nil {
			return Tenant{}, err
		}
		after := before
		switch w.Kind {
		case WarningUpcomingRotation:
			if n := before.Rotation.NextRotationAt; n == nil || !n.Equal(w.RotationAt) {
				return before, ErrNotDue
			}
			at := w.RotationAt
			after.Rotation.UpcomingWarnedFor = &at
		case WarningGraceEnding:
			until := w.Deadline
			after.Rotation.GraceWarnedUntil = &until
		default:
			return Tenant{}, fmt.Errorf("unknown warning kind %q", w.Kind)
		}
		action := "tenant.external_id_rotation_warning"
		var changes []audit.Change
		if w.Accounts != nil {
			warning := w
			after.Rotation.Warning = &warning
			value, _ := json.Marshal(warning)
			changes = []audit.Change{{Field: "externalIdRotation.warning", To: value}}
		} else {
			action = "tenant.external_id_grace_ended"
			until, _ := json.Marshal(w.Deadline)
			changes = []audit.Change{{Field: "previousExternalIdValidUntil", From: until}}
		}
		now := s.now().UTC()
		after.UpdatedAt, after.Version = now, before.Version+1
		err = s.store.Replace(ctx, before, after, audit.New(ctx, tenantID, now, action, "tenant", changes))
		if errors.Is(err, ErrVersionMismatch) && attempt < 3 {
			continue
		}
		if err != nil {
			return Tenant{}, err
		}
		return after, nil
	}
}
