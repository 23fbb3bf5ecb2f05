// Package rotation rotates tenants' External IDs on their schedule (the tenant setting credentialRotationDays),
// using the existing rotation and its grace period, and warns beforehand about every stack that would still be on
// the old External ID when the grace period ends. The daily function (functions/rotation) runs it; the rules of the
// schedule live in pkg/tenants, and roles are checked through pkg/crossaccount.
package rotation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/tenants"
)

// Tenants is what the schedule needs of the tenants service.
type Tenants interface {
	Get(ctx context.Context, tenantID string) (tenants.Tenant, error)
	RotateIfDue(ctx context.Context, tenantID string) (tenants.Tenant, bool, error)
	RecordRotationWarning(ctx context.Context, tenantID string, w tenants.RotationWarning) (tenants.Tenant, error)
}

// Due lists the tenants whose schedule needs attention at or before now.
type Due interface {
	RotationsDue(ctx context.Context, now time.Time) ([]string, error)
}

// Accounts lists a tenant's accounts.
type Accounts interface {
	List(ctx context.Context, tenantID string, q accounts.ListQuery) (accounts.Page, error)
}

// Verifier assumes a customer's role to see which External ID it accepts.
type Verifier interface {
	Verify(ctx context.Context, t crossaccount.Target, retryFor time.Duration) (crossaccount.Verified, error)
}

// Service runs tenants' External ID schedules. Build one per cold start.
type Service struct {
	Tenants  Tenants
	Due      Due
	Accounts Accounts
	Verifier Verifier
	// PlatformPrincipal is the ARN customers' roles trust, named in verification failures.
	PlatformPrincipal string
	Now               func() time.Time
	// Parallel bounds the roles checked at once (default 8): STS allows many, customers' CloudTrail sees them all.
	Parallel int
}

// Outcome is what one run did for one tenant.
type Outcome struct {
	TenantID string `json:"tenantId"`
	Rotated  bool   `json:"rotated"`
	// Warnings are the kinds of warnings recorded.
	Warnings []string `json:"warnings"`
	// AtRisk counts the accounts the warnings name.
	AtRisk int `json:"atRisk"`
}

// Report is one run over every tenant due.
type Report struct {
	Tenants  int       `json:"tenants"`
	Rotated  int       `json:"rotated"`
	Warnings int       `json:"warnings"`
	Failed   int       `json:"failed"`
	Outcomes []Outcome `json:"outcomes"`
}

// RunDue handles every tenant whose schedule needs attention now. A tenant that fails is logged and left in the
// index for the next run; the others go on.
func (s *Service) RunDue(ctx context.Context) (Report, error) {
	ctx = audit.WithActor(ctx, audit.Actor{Type: audit.System, ID: "credential-rotation"})
	ids, err := s.Due.RotationsDue(ctx, s.Now())
	if err != nil {
		return Report{}, err
	}
	r := Report{Tenants: len(ids), Outcomes: []Outcome{}}
	var errs []error
	for _, id := range ids {
		o, err := s.Run(ctx, id)
		if err != nil {
			r.Failed++
			slog.ErrorContext(ctx, "External ID schedule failed", "tenantId", id, "error", err.Error())
			errs = append(errs, fmt.Errorf("tenant %s: %w", id, err))
			continue
		}
		if o.Rotated {
			r.Rotated++
		}
		r.Warnings += len(o.Warnings)
		r.Outcomes = append(r.Outcomes, o)
	}
	if len(errs) > 0 && len(errs) == len(ids) {
		return r, errors.Join(errs...)
	}
	return r, nil
}

// Run does what one tenant's schedule asks for now: the warning before a rotation, the rotation, and the warning
// before a grace period ends. Each step is one conditional write and records that it was done, so a run that dies
// half-way, or a duplicate run, repeats nothing.
func (s *Service) Run(ctx context.Context, tenantID string) (Outcome, error) {
	o := Outcome{TenantID: tenantID, Warnings: []string{}}
	t, err := s.Tenants.Get(ctx, tenantID)
	if err != nil {
		return o, err
	}
	now := s.Now().UTC()
	if t.UpcomingWarningDue(now) && !t.RotationDue(now) {
		n, err := s.warnUpcoming(ctx, t, now)
		if err != nil {
			return o, err
		}
		o.Warnings, o.AtRisk = append(o.Warnings, tenants.WarningUpcomingRotation), o.AtRisk+n
	}
	if t.RotationDue(now) {
		if t, o.Rotated, err = s.Tenants.RotateIfDue(ctx, tenantID); err != nil {
			return o, err
		}
		if o.Rotated {
			slog.InfoContext(ctx, "External ID rotated on schedule", "tenantId", tenantID)
		}
	}
	if p, ok := t.GraceEnding(); ok && !now.Before(p.ValidUntil.Add(-tenants.RotationWarningLead)) {
		n, err := s.warnGraceEnding(ctx, t, p, now)
		if err != nil {
			return o, err
		}
		if n >= 0 {
			o.Warnings, o.AtRisk = append(o.Warnings, tenants.WarningGraceEnding), o.AtRisk+n
		}
	}
	return o, nil
}

// warnUpcoming warns that the External ID rotates soon: every connected stack will be on the old ID from then on
// and must be updated before the grace period ends.
func (s *Service) warnUpcoming(ctx context.Context, t tenants.Tenant, now time.Time) (int, error) {
	connected, err := s.connected(ctx, t.TenantID)
	if err != nil {
		return 0, err
	}
	rotation := *t.Rotation.NextRotationAt
	deadline := rotation.AddDate(0, 0, t.Settings.ExternalIDGraceDays)
	w := tenants.RotationWarning{Kind: tenants.WarningUpcomingRotation, At: now, RotationAt: rotation, Deadline: deadline,
		Accounts: []tenants.AccountAtRisk{}}
	for _, a := range connected {
		w.Accounts = append(w.Accounts, tenants.AccountAtRisk{AccountID: a.AccountID, Name: a.Name,
			Reason: "its stack will require the old External ID after the rotation: update it with a new link from Gangplank before the deadline"})
	}
	w.Message = fmt.Sprintf("Your External ID rotates on %s. %d connected account(s) must then be updated with a new link "+
		"from Gangplank by %s, when the current External ID stops working.", day(rotation), len(connected), day(deadline))
	return s.record(ctx, t.TenantID, w)
}

// warnGraceEnding checks every connected account's role with the External IDs still accepted and names those whose
// role accepts only the retired one: they stop working when its grace ends. It returns -1 when the grace period had
// already ended (nothing left to warn about; the watermark moves on).
func (s *Service) warnGraceEnding(ctx context.Context, t tenants.Tenant, p tenants.RetiredExternalID, now time.Time) (int, error) {
	if !now.Before(p.ValidUntil) {
		_, err := s.Tenants.RecordRotationWarning(ctx, t.TenantID, tenants.RotationWarning{Kind: tenants.WarningGraceEnding,
			At: now, RotationAt: p.RetiredAt, Deadline: p.ValidUntil})
		return -1, err
	}
	connected, err := s.connected(ctx, t.TenantID)
	if err != nil {
		return 0, err
	}
	atRisk := s.onOldID(ctx, t, connected, now)
	w := tenants.RotationWarning{Kind: tenants.WarningGraceEnding, At: now, RotationAt: p.RetiredAt, Deadline: p.ValidUntil,
		Accounts: atRisk,
		Message: fmt.Sprintf("Your previous External ID stops working on %s. %d of %d connected account(s) still use it: "+
			"update their stacks with a new link from Gangplank before then.", day(p.ValidUntil), len(atRisk), len(connected))}
	return s.record(ctx, t.TenantID, w)
}

func (s *Service) record(ctx context.Context, tenantID string, w tenants.RotationWarning) (int, error) {
	n := len(w.Accounts)
	if n > tenants.MaxAccountsInWarning {
		w.Accounts = w.Accounts[:tenants.MaxAccountsInWarning]
	}
	if _, err := s.Tenants.RecordRotationWarning(ctx, tenantID, w); err != nil && !errors.Is(err, tenants.ErrNotDue) {
		return 0, err
	}
	slog.WarnContext(ctx, "External ID rotation warning", "tenantId", tenantID, "kind", w.Kind, "accounts", n,
		"deadline", w.Deadline)
	return n, nil
}

// onOldID assumes each account's role with the External IDs accepted now, current first, and returns those that
// would stop working when the retired IDs' grace ends: roles that accept only a retired ID, and roles that cannot
// be assumed at all. Roles are checked a few at a time; an account that could not be checked is named too.
func (s *Service) onOldID(ctx context.Context, t tenants.Tenant, connected []accounts.Account, now time.Time) []tenants.AccountAtRisk {
	parallel := s.Parallel
	if parallel <= 0 {
		parallel = 8
	}
	results := make([]*tenants.AccountAtRisk, len(connected))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, a := range connected {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			v, err := s.Verifier.Verify(ctx, crossaccount.Target{AccountID: a.AccountID, RoleARN: a.RoleARN,
				ExternalIDs: t.AcceptedExternalIDs(now), PlatformPrincipal: s.PlatformPrincipal}, 0)
			var ve *crossaccount.VerifyError
			switch {
			case errors.As(err, &ve) && ve.Failure == crossaccount.Unreachable:
				results[i] = &tenants.AccountAtRisk{AccountID: a.AccountID, Name: a.Name,
					Reason: "Gangplank could not check its role just now; make sure its stack is up to date"}
			case err != nil:
				results[i] = &tenants.AccountAtRisk{AccountID: a.AccountID, Name: a.Name, Reason: "its role cannot be assumed: " + err.Error()}
			case v.ExternalID != t.ExternalID:
				results[i] = &tenants.AccountAtRisk{AccountID: a.AccountID, Name: a.Name,
					Reason: "its role still requires a previous External ID: update its stack with a new link from Gangplank"}
			}
		}()
	}
	wg.Wait()
	out := []tenants.AccountAtRisk{}
	for _, r := range results {
		if r != nil {
			out = append(out, *r)
		}
	}
	return out
}

// connected lists the tenant's accounts with a working role, every page.
func (s *Service) connected(ctx context.Context, tenantID string) ([]accounts.Account, error) {
	var out []accounts.Account
	q := accounts.ListQuery{Status: accounts.Active, Limit: accounts.MaxPageSize}
	for {
		page, err := s.Accounts.List(ctx, tenantID, q)
		if err != nil {
			return nil, err
		}
		for _, a := range page.Items {
			if a.RoleARN != "" {
				out = append(out, a)
			}
		}
		if page.NextCursor == "" {
			return out, nil
		}
		q.Cursor = page.NextCursor
	}
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }
