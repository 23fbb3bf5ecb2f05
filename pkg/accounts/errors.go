package accounts

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrNotFound: no such account in the caller's tenant. Another tenant's account is also "not found", so a
	// caller cannot probe which accounts exist elsewhere.
	ErrNotFound = errors.New("no account with this ID in your tenant")
	// ErrAlreadyLinked: the caller's tenant already has this account.
	ErrAlreadyLinked = errors.New("this AWS account is already in your tenant")
	// ErrClaimedElsewhere: another tenant has the account. The message deliberately names no tenant.
	ErrClaimedElsewhere = errors.New("this AWS account is already connected to Gangplank by another organisation; " +
		"an AWS account can belong to one organisation at a time, so ask its owner to remove it there first")
	// ErrNameTaken: names are unique per tenant, ignoring case.
	ErrNameTaken = errors.New("another account in your tenant already has this name (names are compared ignoring case)")
	// ErrVersionMismatch: the If-Match precondition names a version that is no longer current.
	ErrVersionMismatch = errors.New("the account changed since you read it; fetch it again and reapply your change")
	// ErrPreconditionRequired: a change needs If-Match so that two editors cannot overwrite each other.
	ErrPreconditionRequired = errors.New("send If-Match with the ETag from your last read of this account")
	// ErrPlatformAccount: the platform's own AWS account is nobody's to link. Its ID is no secret (every tenant's
	// trust policy names the platform's role), so saying so gives nothing away.
	ErrPlatformAccount = errors.New("is the platform's own AWS account; it cannot be linked to a tenant")
	// ErrConfirmationMismatch: deleting needs the account's exact name in confirm.
	ErrConfirmationMismatch = errors.New("to delete this account, set confirm to its exact name")
	// ErrHasIdentityIntegration: an account goes only after its IAM integration (its stored key, synced users and
	// scheduled deletions) has been removed.
	ErrHasIdentityIntegration = errors.New("the account still has an IAM integration: remove it first (DELETE " +
		"/v1/accounts/{accountId}/iam deletes its stored key and synced users), then delete the account")
)

// LinkedAccountsError: a management account cannot go while linked accounts still name it.
type LinkedAccountsError struct {
	ManagementAccountID string
	// Linked lists some or all of the linked account IDs; Total counts all of them.
	Linked []string
	Total  int64
}

func (e *LinkedAccountsError) Error() string {
	return fmt.Sprintf("management account %s still has %d linked account(s) in Gangplank (%s); remove them first "+
		"(DELETE /v1/accounts/{accountId} for each), then delete the management account",
		e.ManagementAccountID, e.Total, strings.Join(e.Linked, ", "))
}

// Is lets callers test for the kind with errors.Is(err, ErrHasLinkedAccounts).
func (e *LinkedAccountsError) Is(target error) bool { return target == ErrHasLinkedAccounts }

// ErrHasLinkedAccounts matches any *LinkedAccountsError.
var ErrHasLinkedAccounts = errors.New("management account has linked accounts")
