package activation

import (
	"context"
	"fmt"

	"github.com/gangplank/gangplank/pkg/accounts"
)

// Settled hears of every account the callback settles (onboarding.Observer), every delivery of it: one awaited by a
// bulk activation settles its item and comes off its batch's awaited set in one transaction, and the batch's last
// resumes the workflow. A duplicate delivery finds the item settled and changes nothing, but still makes sure the
// account is off the awaited set and the batch resumed when it awaits nothing more: the first delivery may have
// died in between. Its error fails the delivery, which is then retried.
func (s *Service) Settled(ctx context.Context, a accounts.Account) error {
	ref := a.Activation
	if ref == nil {
		return nil
	}
	st := Settlement{AccountID: a.AccountID, At: s.Now().UTC()}
	switch a.Status {
	case accounts.Active:
		// However it was connected (its stack's callback, or a role pasted meanwhile), the account is active: the
		// activation succeeded for it, as Expire would find. A success may also come after the activation gave the
		// account up (its deadline passed).
		st.Status, st.StackID, st.From = Succeeded, a.StackID, []string{InProgress, Failed}
	case accounts.Failed:
		st.Status, st.Reason, st.From = Failed, a.StatusReason, []string{InProgress}
	default:
		return nil
	}
	c, err := s.Store.Settle(ctx, a.TenantID, ref.ActivationID, ref.Batch, st)
	if err != nil {
		return fmt.Errorf("count bulk activation %s down for account %s: %w", ref.ActivationID, a.AccountID, err)
	}
	if c.Done {
		return s.resume(ctx, c.Token)
	}
	return nil
}
