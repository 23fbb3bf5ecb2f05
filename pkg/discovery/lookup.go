package discovery

import (
	"context"
	"errors"
	"fmt"

	"github.com/gangplank/gangplank/pkg/accounts"
)

// A tenant may start with a linked account and leave its management account out. Once the linked account is
// connected, its own role reads its organization (organizations:DescribeOrganization works from a member account;
// the onboarding role of a linked account grants it), which names the management account:
//
//	in the tenant as a management account   → the linked account is attached to it
//	unknown to Gangplank                    → it is added, not_activated, "discovered from linked account X",
//	                                          and the linked account is attached to it
//	held by another tenant                  → the linked account stays on its own; the other tenant is never named
//	in the tenant as another type           → the tenant is told how to fix it
//	no organization at all                  → the tenant is told it is a standalone account

func requireUnattachedLinked(a accounts.Account) error {
	if a.Type != accounts.Linked || a.ManagementAccountID != "" {
		return ErrNotManagement
	}
	return nil
}

// findManagement is a management account job: one DescribeOrganization through the linked account's role, and
// what follows from its answer, recorded on the linked account (managementLookup) and as the job's result.
func (s *Service) findManagement(ctx context.Context, j *Job) error {
	sess, err := s.Door.Enter(ctx, j.TenantID, j.AccountID, "discovery", requireUnattachedLinked)
	if err != nil {
		return err
	}
	cfg := sess.Config
	b := s.newBudget(ctx, j)
	b.counter.Instrument(&cfg)
	org, err := s.organizations(cfg)
	if err != nil {
		return err
	}
	managementID, err := org.ManagementAccountID(ctx)
	b.tally(nil)
	linked := sess.Account
	now := s.Now().UTC()
	var lookup accounts.ManagementLookup
	switch {
	case errors.Is(err, ErrNotInOrganization):
		lookup = accounts.ManagementLookup{Status: accounts.LookupNotInOrganization, Reason: fmt.Sprintf("Account %s is not in an AWS "+
			"organization, so it has no management account: it is a standalone account. Remove it (DELETE /v1/accounts/%s) and add it "+
			"again with type standalone, so Gangplank also reads its costs.", linked.AccountID, linked.AccountID)}
	case err != nil:
		return fmt.Errorf("read the organization of account %s through its role: %w", linked.AccountID, err)
	case managementID == "":
		return errors.New("Organizations described the organization without its management account")
	default:
		if lookup, err = s.management(ctx, j, linked, managementID); err != nil {
			return err
		}
	}
	lookup.CheckedAt = now
	attach := lookup.Status == accounts.LookupAttached
	_, err = s.Accounts.Mutate(ctx, j.TenantID, linked.AccountID, "account.management_found", func(a *accounts.Account) error {
		if attach {
			if err := a.AttachTo(lookup.ManagementAccountID); err != nil && !errors.Is(err, accounts.ErrNoChange) {
				return err
			}
		}
		a.RecordLookup(lookup)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record what account %s's role said of its organization: %w", linked.AccountID, err)
	}
	j.Lookup = &lookup
	return nil
}

// management makes sure the organization's management account is one of the tenant's, adding it not activated if
// Gangplank does not know it, and says what to do otherwise.
func (s *Service) management(ctx context.Context, j *Job, linked accounts.Account, managementID string) (accounts.ManagementLookup, error) {
	if managementID == linked.AccountID {
		return accounts.ManagementLookup{Status: accounts.LookupIsManagement, ManagementAccountID: managementID, Reason: fmt.Sprintf(
			"Account %s is its organization's management account, not a linked one. Remove it and add it again with type management, "+
				"so Gangplank discovers its organization.", linked.AccountID)}, nil
	}
	attached := accounts.ManagementLookup{Status: accounts.LookupAttached, ManagementAccountID: managementID,
		Reason: fmt.Sprintf("Its organization's management account is %s, found through this account's role.", managementID)}
	for attempt := 0; attempt < 2; attempt++ {
		m, err := s.Accounts.Get(ctx, j.TenantID, managementID)
		switch {
		case err == nil && m.Type == accounts.Management:
			return attached, nil
		case err == nil:
			return accounts.ManagementLookup{Status: accounts.LookupWrongType, ManagementAccountID: managementID, Reason: fmt.Sprintf(
				"Its organization's management account is %s, which your tenant has as a %s account. Remove %s and add it again with type "+
					"management, then discover this account again (POST /v1/accounts/%s/discovery).", managementID, m.Type, managementID, linked.AccountID)}, nil
		case !errors.Is(err, accounts.ErrNotFound):
			return accounts.ManagementLookup{}, err
		}
		in := accounts.CreateInput{Name: "Management account " + managementID, AccountID: managementID, Type: string(accounts.Management),
			Region: linked.Region, AccessLevel: string(linked.AccessLevel), DiscoveredFrom: linked.AccountID}
		_, err = s.Accounts.Create(ctx, j.TenantID, in)
		if errors.Is(err, accounts.ErrNameTaken) {
			in.Name = fmt.Sprintf("Management account %s (from %s)", managementID, linked.AccountID)
			_, err = s.Accounts.Create(ctx, j.TenantID, in)
		}
		switch {
		case err == nil:
			attached.Reason = fmt.Sprintf("Its organization's management account %s was not linked yet: Gangplank added it, not activated. "+
				"Activate it to discover the rest of the organization.", managementID)
			return attached, nil
		case errors.Is(err, accounts.ErrClaimedElsewhere):
			return accounts.ManagementLookup{Status: accounts.LookupClaimedElsewhere, ManagementAccountID: managementID, Reason: fmt.Sprintf(
				"Its organization's management account %s is linked to another Gangplank tenant, so it cannot be added to yours. "+
					"This account stays linked on its own; ask whoever runs the organization.", managementID)}, nil
		case !errors.Is(err, accounts.ErrAlreadyLinked):
			return accounts.ManagementLookup{}, fmt.Errorf("add management account %s: %w", managementID, err)
		}
		// Added meanwhile (another job, the tenant): look again.
	}
	return accounts.ManagementLookup{}, fmt.Errorf("management account %s appeared and vanished while it was being added", managementID)
}
