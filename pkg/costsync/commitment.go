package costsync

import (
	"context"
	"errors"

	"github.com/gangplank/gangplank/pkg/audit"
)

// ErrCommitmentChanged: another request changed the commitment between this one's read and write.
var ErrCommitmentChanged = errors.New("the commitment changed at the same time through another request; read it again and retry")

// Commitment returns the payer's recorded commitment without reading spend: no Cost Explorer request, so it costs
// nothing and works before the account is connected (declarative clients read it on every refresh).
func (s *Service) Commitment(ctx context.Context, tenantID, accountID string) (Commitment, error) {
	if _, err := s.Accounts.Get(ctx, tenantID, accountID); err != nil {
		return Commitment{}, err
	}
	c, _, ok, err := s.Store.Commitment(ctx, tenantID, accountID)
	if err != nil {
		return Commitment{}, err
	}
	if !ok {
		return Commitment{}, ErrNoCommitment
	}
	return c, nil
}

// DeleteCommitment removes the payer's commitment, conditional on the version read, with its audit entry.
func (s *Service) DeleteCommitment(ctx context.Context, tenantID, accountID string) error {
	if _, err := s.Accounts.Get(ctx, tenantID, accountID); err != nil {
		return err
	}
	before, version, ok, err := s.Store.Commitment(ctx, tenantID, accountID)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNoCommitment
	}
	entry := audit.New(ctx, tenantID, s.now(), "commitment.deleted", "account/"+accountID, audit.Diff(&before, nil))
	return s.Store.DeleteCommitment(ctx, tenantID, accountID, version, entry)
}
