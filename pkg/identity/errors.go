package identity

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrNotFound: the account has no IAM integration.
	ErrNotFound = errors.New("this account has no IAM integration: choose identityAccess read or readwrite on the account " +
		"and update its stack (Gangplank verifies the role when the stack tells it), or enter an access key (PUT /v1/accounts/{accountId}/iam/key)")
	// ErrUserNotFound: no such IAM user (under the prefix) in the account.
	ErrUserNotFound = errors.New("no IAM user of this name in the account (under the integration's path prefix)")
	// ErrUserExists: onboarding a user whose name is taken in the account (IAM user names are unique per account,
	// whatever their path).
	ErrUserExists = errors.New("an IAM user of this name already exists in the account; choose another name")
	// ErrRemoving: the integration is being removed; nothing new starts on it.
	ErrRemoving = errors.New("the IAM integration is being removed; DELETE it again to finish, then start over")
	// ErrNoKey: key rotation on an integration that enters through the role.
	ErrNoKey = errors.New("this IAM integration enters through the account's role, which has no key to rotate")
	// ErrPersonNotFound: the path names no email address.
	ErrPersonNotFound = errors.New("this is not an email address: people are named by email, such as jane@example.com")
	// ErrNoPerson: the user is linked to nobody.
	ErrNoPerson = errors.New("this IAM user is not linked to a person")
)

// ReadOnlyError: an integration that may only read refuses onboarding and offboarding.
type ReadOnlyError struct{ Reason string }

func (e *ReadOnlyError) Error() string { return e.Reason }

// OutsidePrefixError: a user outside the integration's path prefix may not be managed.
type OutsidePrefixError struct {
	UserName, Path, Prefix string
}

func (e *OutsidePrefixError) Error() string {
	return fmt.Sprintf("the IAM user %s has the path %s, outside the integration's path prefix %s: Gangplank manages only users under %s",
		e.UserName, e.Path, e.Prefix, e.Prefix)
}

// BusyError: another request is onboarding or offboarding the same user right now.
type BusyError struct {
	What  string
	Until time.Time
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("the user is being %s by another request; try again after %s", e.What, e.Until.UTC().Format(time.RFC3339))
}

// IncompleteError: an offboarding or onboarding stopped at a step AWS refused or failed. What was done is kept;
// retrying the same request continues from the failed step.
type IncompleteError struct {
	Reason string
	// Offboarding or Onboarding is the progress so far.
	Offboarding *Offboarding
	Onboarding  *Onboarding
	Cause       error
}

func (e *IncompleteError) Error() string { return e.Reason }
func (e *IncompleteError) Unwrap() error { return e.Cause }

// PermissionError: the role or key refused an action the integration's access should allow (the stack was changed
// by hand, or the key's policy). The integration's access is lowered to what was seen.
type PermissionError struct {
	Action string
	Reason string
	Cause  error
}

func (e *PermissionError) Error() string { return e.Reason }
func (e *PermissionError) Unwrap() error { return e.Cause }

// RateLimitedError: an on-demand sync was requested moments ago.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("a sync of this account was requested moments ago; try again in %d seconds", int(e.RetryAfter.Seconds())+1)
}

// InvitationError: a self-service link that cannot be used. Gone tells an expired or used link (410) from an
// unknown one (404).
type InvitationError struct {
	Reason string
	Gone   bool
}

func (e *InvitationError) Error() string { return e.Reason }
