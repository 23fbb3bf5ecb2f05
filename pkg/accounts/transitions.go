package accounts

import "time"

// The account's connection lifecycle, held once: every package changes an account's status through these methods,
// inside the conditional write (Service.Mutate) that stores the result.
//
//	any but active ──(bulk activation starts a stack: AwaitBulkActivation, then AwaitStack)──▶ activating
//	pending / activating / failed / disconnected ──Activate──▶ active
//	any but active ──Fail / StackFailed / FailBulkActivation──▶ failed
//	active ──Disconnect / StackDeleted──▶ disconnected

// Connection is a role Gangplank verified, and how it came to be.
type Connection struct {
	RoleARN string
	// StackID and StackTokenHash name the onboarding stack that made the role and the token it carries; both are
	// empty for a role made by hand.
	StackID, StackTokenHash string
	// TemplateVersion is the template the stack was deployed with ("manual" for a role made by hand).
	TemplateVersion string
	// GrantedAccessLevel is the access level the role was verified to grant.
	GrantedAccessLevel AccessLevel
	// Health is the outcome of the verification.
	Health Health
}

// ManualTemplateVersion is the TemplateVersion of a role made by hand.
const ManualTemplateVersion = "manual"

// Activate makes the account active through a verified role. A first activation, or one through another role or
// stack, is recorded as a new activation time.
func (a *Account) Activate(c Connection, at time.Time) {
	if a.Status != Active || a.RoleARN != c.RoleARN || a.StackID != c.StackID {
		a.ActivatedAt = &at
	}
	a.Status, a.StatusReason = Active, ""
	a.RoleARN, a.StackID, a.StackTokenHash, a.TemplateVersion = c.RoleARN, c.StackID, c.StackTokenHash, c.TemplateVersion
	a.GrantedAccessLevel = c.GrantedAccessLevel
	a.LastVerifiedAt = &at
	a.Health = c.Health
	a.AwaitedStackID = ""
}

// Reverify records a verification of the account's current role: it works (health h) and grants level. A
// disconnected or failed account whose role works again is active again.
func (a *Account) Reverify(level AccessLevel, h Health, at time.Time) {
	a.LastVerifiedAt = &at
	a.Health = h
	a.GrantedAccessLevel = level
	if a.Status == Disconnected || a.Status == Failed {
		a.Status, a.StatusReason = Active, ""
	}
}

// Fail records that connecting the account failed, with the reason the tenant reads (and acts on).
func (a *Account) Fail(reason string, at time.Time) {
	a.Status, a.StatusReason = Failed, reason
	a.Health = Health{Status: Unhealthy, Reason: reason, CheckedAt: &at}
	a.AwaitedStackID = ""
}

// StackFailed records that a stack the account waited for failed before Gangplank could answer it: the account
// fails with what the stack reported, and that stack's later notifications change nothing.
func (a *Account) StackFailed(stackID, reason string, at time.Time) {
	a.Fail(reason, at)
	a.ReportedStackID = stackID
}

// Disconnect records that the account's role is gone or stopped working. Only an active account disconnects; any
// other keeps its status, and its health says what was found.
func (a *Account) Disconnect(reason string, at time.Time) {
	if a.Status == Active {
		a.Status, a.StatusReason = Disconnected, reason
	}
	a.Health = Health{Status: Unhealthy, Reason: reason, CheckedAt: &at}
}

// StackDeleted records that the stack that connected the account was deleted, which removed its role: an active
// account is disconnected, and the account no longer has a stack to update.
func (a *Account) StackDeleted(reason string, at time.Time) {
	a.Disconnect(reason, at)
	a.StackID, a.StackTokenHash = "", ""
}

// AwaitBulkActivation records that a bulk activation is creating the account's onboarding stack and waits for its
// callback (ref names where); the caller issues the account's new link in the same write. No stack is awaited
// until CreateStack answers (AwaitStack).
func (a *Account) AwaitBulkActivation(ref ActivationRef) {
	a.Status, a.StatusReason = Activating, "The onboarding stack is being created by bulk activation."
	a.Activation = &ref
	a.AwaitedStackID = ""
}

// FailBulkActivation records why a bulk activation could not activate the account. An active account is never
// failed, nor one another activation or the customer's own link has taken over since: it reports whether it
// changed the account. waitedFor says whether the activation had started the account (it is then failed only while
// the activation still awaits it); an account it never started is failed unless it is active or being connected.
func (a *Account) FailBulkActivation(activationID, reason string, waitedFor bool, at time.Time) bool {
	switch {
	case a.Status == Active:
		return false
	case waitedFor && !a.AwaitedBy(activationID):
		return false
	case !waitedFor && (a.Status == Pending || a.Status == Activating):
		return false
	}
	a.Fail(reason, at)
	return true
}

// AwaitStack records the stack Gangplank created in the account and now waits for: the exact StackId
// CloudFormation's CreateStack returned. Stack notifications may then fail the account only if they are about that
// stack (or about the stack name of its current activation link).
func (a *Account) AwaitStack(stackID string) { a.AwaitedStackID = stackID }

// StackWait is what proves a stack notification is about a stack the account waits for: the hash of the stack-name
// suffix of its unused activation link, or the stack Gangplank created itself; except the stack whose failure was
// already recorded. An active account waits for nothing. It is mirrored on the account's claim, so a notification
// is judged with one read.
type StackWait struct {
	NameSuffixHash string `dynamodbav:"nameSuffixHash,omitempty"`
	StackID        string `dynamodbav:"stackId,omitempty"`
	Reported       string `dynamodbav:"reported,omitempty"`
}

// StackWait returns what the account waits for.
func (a Account) StackWait() StackWait {
	if a.Status == Active {
		return StackWait{}
	}
	w := StackWait{StackID: a.AwaitedStackID}
	if a.Link != nil && a.Link.UsedAt == nil {
		w.NameSuffixHash = a.Link.StackSuffixHash
	}
	if w != (StackWait{}) {
		w.Reported = a.ReportedStackID
	}
	return w
}

// Claim is the one tenant that holds an AWS account ID, and what the account waits for.
type Claim struct {
	TenantID string
	Awaiting StackWait
}
