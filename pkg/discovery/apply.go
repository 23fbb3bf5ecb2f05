package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"

	"github.com/gangplank/gangplank/pkg/accounts"
)

// apply brings the tenant's accounts in step with the organization read, in account ID order from where the last
// step stopped. The management account's linked accounts are listed once (a page per request, whatever their
// number); a known account is written only when its membership changed, conditionally on the version the listing
// returned, so an unchanged one costs nothing; new members are created many to a transaction; accounts no longer in
// the organization are marked LEFT. It reports whether it got through every member before the budget ran out.
func (s *Service) apply(ctx context.Context, j *Job, mgmt accounts.Account, tree Tree, d accounts.Discovery, b *budget, org Organizations) (bool, error) {
	listed, err := s.Members.Members(ctx, j.TenantID, mgmt.AccountID)
	if err != nil {
		return false, err
	}
	known := make(map[string]accounts.Listed, len(listed))
	for _, a := range listed {
		known[a.AccountID] = a
	}
	members := sortedMembers(tree, mgmt.AccountID)
	run := &j.Cursor.Run
	created := map[string]bool{}
	var batch []Member
	flush := func(upTo int) error {
		if len(batch) > 0 {
			if err := s.create(ctx, j, mgmt, tree, batch, created); err != nil {
				return err
			}
			batch = batch[:0]
		}
		j.Cursor.Applied = upTo
		j.Progress.AccountsCompared = upTo
		return nil
	}
	for i := j.Cursor.Applied; i < len(members); i++ {
		if !b.more(ctx, &tree) {
			return false, flush(i)
		}
		m := members[i]
		b.compared++
		run.Found++
		want := membership(tree, m)
		if k, ok := known[m.ID]; ok {
			if j.createdHere(k) {
				// Created by an earlier run of this very step whose checkpoint was lost (the step was delivered
				// again): it was added by this job.
				run.Added++
				created[m.ID] = true
			}
			changed, err := s.Accounts.SetMembership(ctx, j.TenantID, k, want)
			switch {
			case errors.Is(err, accounts.ErrNotFound):
				// Removed by the tenant since the listing: nothing to keep in step.
			case err != nil:
				return false, fmt.Errorf("record account %s's membership: %w", m.ID, err)
			case changed:
				run.Updated++
			}
			continue
		}
		if !inScope(tree, m, d) {
			run.Excluded++
			continue
		}
		batch = append(batch, m)
		if len(batch) >= createFlush {
			if err := flush(i + 1); err != nil {
				return false, err
			}
		}
	}
	if err := flush(len(members)); err != nil {
		return false, err
	}
	if err := s.markLeft(ctx, j, org, tree, listed); err != nil {
		return false, err
	}
	if d.AutoEnroll && s.Enroller != nil {
		s.enroll(ctx, j, tree, d, members, known, created)
	}
	return true, nil
}

// createdHere reports whether a listed account was added by this job: discovered (not_activated, with a
// membership) since the job began.
func (j *Job) createdHere(k accounts.Listed) bool {
	return j.StartedAt != nil && k.Status == accounts.NotActivated && k.Organization != nil && !k.CreatedAt.Before(*j.StartedAt)
}

// sortedMembers are the organization's members but its management account, once each, in account ID order (an
// account moved while the walk ran may have been listed under both its OUs).
func sortedMembers(tree Tree, managementID string) []Member {
	byID := make(map[string]Member, len(tree.Members))
	for _, m := range tree.Members {
		if m.ID != managementID {
			byID[m.ID] = m
		}
	}
	out := make([]Member, 0, len(byID))
	for _, m := range byID {
		out = append(out, m)
	}
	sort.Slice(out, func(i, k int) bool { return out[i].ID < out[k].ID })
	return out
}

// create adds new members as not_activated linked accounts of the management account. A name the tenant already
// uses gets the account ID appended; an account another tenant holds is counted, never named; one the tenant holds
// otherwise (standalone, or linked and still without its management account) is adopted.
func (s *Service) create(ctx context.Context, j *Job, mgmt accounts.Account, tree Tree, ms []Member, created map[string]bool) error {
	run := &j.Cursor.Run
	input := func(m Member, name string) accounts.CreateInput {
		want := membership(tree, m)
		return accounts.CreateInput{Name: name, AccountID: m.ID, Type: string(accounts.Linked), Region: mgmt.Region,
			AccessLevel: string(mgmt.AccessLevel), ManagementAccountID: mgmt.AccountID, Discovered: &want}
	}
	ins := make([]accounts.CreateInput, len(ms))
	for i, m := range ms {
		name := m.Name
		if accounts.CheckName(name) != nil {
			name = "Account " + m.ID
		}
		ins[i] = input(m, name)
	}
	for attempt := 0; len(ins) > 0; attempt++ {
		errs, err := s.Accounts.CreateMany(ctx, j.TenantID, ins)
		if err != nil {
			return err
		}
		var again []accounts.CreateInput
		var againMembers []Member
		for i, err := range errs {
			m := ms[i]
			switch {
			case err == nil:
				run.Added++
				created[m.ID] = true
			case errors.Is(err, accounts.ErrNameTaken) && attempt == 0:
				again, againMembers = append(again, input(m, fmt.Sprintf("%s (%s)", truncate(ins[i].Name, 40), m.ID))), append(againMembers, m)
			case errors.Is(err, accounts.ErrClaimedElsewhere):
				run.ClaimedElsewhere++
			case errors.Is(err, accounts.ErrPlatformAccount):
				// The platform's own account in a tenant's organization is never the tenant's to link.
				run.Excluded++
			case errors.Is(err, accounts.ErrAlreadyLinked):
				if err := s.adopt(ctx, j, mgmt, m, *ins[i].Discovered, created); err != nil {
					return err
				}
			default:
				return fmt.Errorf("add account %s: %w", m.ID, err)
			}
		}
		ins, ms = again, againMembers
	}
	return nil
}

// adopt records the membership of an account the tenant holds but not under this management account: a standalone
// account, one linked under another management account, or a linked account added without one, which is attached
// here (it joins the management account's linked count in the same write). An account this very job created in a
// step whose checkpoint was lost counts as added.
func (s *Service) adopt(ctx context.Context, j *Job, mgmt accounts.Account, m Member, want accounts.Membership, created map[string]bool) error {
	run := &j.Cursor.Run
	changed := false
	a, err := s.Accounts.Mutate(ctx, j.TenantID, m.ID, "account.organization_changed", func(a *accounts.Account) error {
		changed = false
		if a.Organization == nil || !accounts.SameMembership(*a.Organization, want) {
			w := want
			a.Organization, changed = &w, true
		}
		if a.Type == accounts.Linked && a.ManagementAccountID == "" {
			if err := a.AttachTo(mgmt.AccountID); err != nil {
				return err
			}
			changed = true
		}
		if !changed {
			return accounts.ErrNoChange
		}
		return nil
	})
	switch {
	case errors.Is(err, accounts.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("record account %s's membership: %w", m.ID, err)
	case a.ManagementAccountID == mgmt.AccountID && j.createdHere(accounts.Listed{Status: a.Status, CreatedAt: a.CreatedAt, Organization: a.Organization}):
		run.Added++
		created[m.ID] = true
	case changed:
		run.Updated++
	}
	return nil
}

// markLeft marks the management account's linked accounts that the organization no longer lists. Each is asked
// of Organizations first (one request, for the rare account that leaves): an account moved between OUs while the
// walk ran may have been missed, and is not gone.
func (s *Service) markLeft(ctx context.Context, j *Job, org Organizations, tree Tree, listed []accounts.Listed) error {
	inOrg := make(map[string]bool, len(tree.Members))
	for _, m := range tree.Members {
		inOrg[m.ID] = true
	}
	now := s.Now().UTC()
	for _, k := range listed {
		if inOrg[k.AccountID] || (k.Organization != nil && k.Organization.Status == accounts.MembershipLeft) {
			continue
		}
		if k.Organization != nil {
			in, err := org.HasAccount(ctx, k.AccountID)
			switch {
			case err != nil:
				return fmt.Errorf("ask Organizations about account %s: %w", k.AccountID, err)
			case in:
				slog.InfoContext(ctx, "an account missing from the listing is still in the organization (it moved meanwhile)", "accountId", k.AccountID)
				continue
			}
		}
		last := accounts.Membership{}
		if k.Organization != nil {
			last = *k.Organization
		}
		if _, err := s.Accounts.SetMembership(ctx, j.TenantID, k, last.Left(now)); err != nil && !errors.Is(err, accounts.ErrNotFound) {
			return fmt.Errorf("mark account %s as left: %w", k.AccountID, err)
		}
		j.Cursor.Run.Left++
	}
	return nil
}

// enroll starts bulk activations (auto-enrolment) of the in-scope accounts that are not activated or failed: the
// ones just added and those an earlier attempt could not activate. A failure leaves them to the next discovery.
func (s *Service) enroll(ctx context.Context, j *Job, tree Tree, d accounts.Discovery, members []Member, known map[string]accounts.Listed, created map[string]bool) {
	var ids []string
	for _, m := range members {
		status := accounts.NotActivated
		if k, ok := known[m.ID]; ok {
			status = k.Status
		} else if !created[m.ID] {
			continue
		}
		if (status == accounts.NotActivated || status == accounts.Failed) && inScope(tree, m, d) {
			ids = append(ids, m.ID)
		}
	}
	for len(ids) > 0 {
		n := min(len(ids), maxEnroll)
		if err := s.Enroller.Enroll(ctx, j.TenantID, j.AccountID, ids[:n]); err != nil {
			slog.WarnContext(ctx, "auto-enrolment could not start; the next discovery retries", "managementAccountId", j.AccountID, "error", err.Error())
		}
		ids = ids[n:]
	}
}
