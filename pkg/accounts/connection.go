package accounts

import (
	"context"
	"time"
)

// DisconnectOnRequest ends the account's connection because the tenant asked (a role removed on purpose, or
// Terraform destroying the connection): Gangplank forgets the role and stops using it. An account without a
// connection is left as it is.
func (a *Account) DisconnectOnRequest(now time.Time) bool {
	if a.RoleARN == "" && a.Status != Active {
		return false
	}
	a.Status = Disconnected
	a.StatusReason = "Disconnected on request on " + now.UTC().Format("2006-01-02") + ": connect a role again (or launch the onboarding stack) to use this account."
	a.RoleARN, a.StackID, a.TemplateVersion, a.GrantedAccessLevel = "", "", "", ""
	a.Health = Health{Status: HealthUnknown, Reason: "not connected: launch the onboarding stack, or connect a role ARN", CheckedAt: &now}
	return true
}

// Disconnect ends the account's connection on the tenant's request. Disconnecting an account that has none changes
// nothing, so a retried request is harmless.
func (s *Service) Disconnect(ctx context.Context, tenantID, accountID string) (Account, error) {
	now := s.now().UTC()
	return s.Mutate(ctx, tenantID, accountID, "account.disconnected", func(a *Account) error {
		if !a.DisconnectOnRequest(now) {
			return ErrNoChange
		}
		return nil
	})
}
