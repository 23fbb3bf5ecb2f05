package identity

import (
	"time"
)

// OffboardingStatus is where an offboarding stands.
type OffboardingStatus string

const (
	// OffboardingInProgress: removing the user's ways in (or, after them, the user).
	OffboardingInProgress OffboardingStatus = "in_progress"
	// OffboardingIncomplete: a step failed; Error says which and why. The same request continues from it.
	OffboardingIncomplete OffboardingStatus = "incomplete"
	// OffboardingDeletionScheduled: every way in is gone; the user itself is deleted at DeleteAt (the tenant's
	// user cleanup days), so its record stays for audits until then.
	OffboardingDeletionScheduled OffboardingStatus = "deletion_scheduled"
	// OffboardingDeleted: the user is gone.
	OffboardingDeleted OffboardingStatus = "deleted"
)

// Offboarding steps, in order. The first six remove every way in; the rest remove the user.
const (
	StepConsolePassword     = "console_password"
	StepAccessKeys          = "access_keys"
	StepSSHPublicKeys       = "ssh_public_keys"
	StepSigningCertificates = "signing_certificates"
	StepServiceCredentials  = "service_specific_credentials"
	StepMFADevices          = "mfa_devices"
	StepGroups              = "group_memberships"
	StepManagedPolicies     = "managed_policies"
	StepInlinePolicies      = "inline_policies"
	StepDeleteUser          = "user"
)

// AccessSteps remove every way in, in the order a security team wants them gone: the console first, then keys.
var AccessSteps = []string{StepConsolePassword, StepAccessKeys, StepSSHPublicKeys, StepSigningCertificates, StepServiceCredentials, StepMFADevices}

// DeletionSteps remove the user once no way in is left.
var DeletionSteps = []string{StepGroups, StepManagedPolicies, StepInlinePolicies, StepDeleteUser}

// Step is one step's outcome.
type Step struct {
	Name   string     `json:"name" dynamodbav:"name"`
	Done   bool       `json:"done" dynamodbav:"done"`
	At     *time.Time `json:"at,omitempty" dynamodbav:"at,omitempty"`
	Detail string     `json:"detail,omitempty" dynamodbav:"detail,omitempty"`
	// Removed counts what the step removed ("2 access keys").
	Removed int `json:"removed" dynamodbav:"removed"`
}

// Offboarding is one user's offboarding: visible progress, resumable from the first step not done.
type Offboarding struct {
	AccountID string            `json:"accountId" dynamodbav:"accountId"`
	UserName  string            `json:"userName" dynamodbav:"userName"`
	UserARN   string            `json:"userArn,omitempty" dynamodbav:"userArn,omitempty"`
	Status    OffboardingStatus `json:"status" dynamodbav:"status"`
	Steps     []Step            `json:"steps" dynamodbav:"steps"`
	Error     string            `json:"error,omitempty" dynamodbav:"error,omitempty"`
	StartedAt time.Time         `json:"startedAt" dynamodbav:"startedAt"`
	// AccessRemovedAt is when the last way in was removed.
	AccessRemovedAt *time.Time `json:"accessRemovedAt,omitempty" dynamodbav:"accessRemovedAt,omitempty"`
	// DeleteAt is when the scheduled deletion runs; Schedule names its EventBridge schedule.
	DeleteAt  *time.Time `json:"deleteAt,omitempty" dynamodbav:"deleteAt,omitempty"`
	Schedule  string     `json:"-" dynamodbav:"schedule,omitempty"`
	DeletedAt *time.Time `json:"deletedAt,omitempty" dynamodbav:"deletedAt,omitempty"`
	// LeaseUntil keeps two requests from offboarding the same user at once; a holder that died frees it on expiry.
	LeaseUntil *time.Time `json:"-" dynamodbav:"leaseUntil,omitempty"`
	UpdatedAt  time.Time  `json:"updatedAt" dynamodbav:"updatedAt"`
	Version    int64      `json:"-" dynamodbav:"version"`
}

// step returns the named step, adding it if missing.
func (o *Offboarding) step(name string) *Step {
	for i := range o.Steps {
		if o.Steps[i].Name == name {
			return &o.Steps[i]
		}
	}
	o.Steps = append(o.Steps, Step{Name: name})
	return &o.Steps[len(o.Steps)-1]
}

// AccessRemoved reports whether every way in is gone.
func (o Offboarding) AccessRemoved() bool { return o.AccessRemovedAt != nil }

func newOffboarding(accountID, userName string, now time.Time) Offboarding {
	o := Offboarding{AccountID: accountID, UserName: userName, Status: OffboardingInProgress, StartedAt: now, UpdatedAt: now}
	for _, s := range append(append([]string{}, AccessSteps...), DeletionSteps...) {
		o.Steps = append(o.Steps, Step{Name: s})
	}
	return o
}

// OnboardingStatus is where an onboarding stands.
type OnboardingStatus string

const (
	// OnboardingInProgress: the user is being created.
	OnboardingInProgress OnboardingStatus = "in_progress"
	// OnboardingComplete: the user exists with everything asked for.
	OnboardingComplete OnboardingStatus = "complete"
	// OnboardingRolledBack: a step failed and what was made was removed again; nothing of the user remains.
	OnboardingRolledBack OnboardingStatus = "rolled_back"
	// OnboardingIncomplete: a step failed and the rollback could not finish: the user is half-made. The same
	// request (same user name) finishes it; DELETE removes it.
	OnboardingIncomplete OnboardingStatus = "incomplete"
)

// Onboarding is one user's creation, recorded before anything is made so that a half-made user always leaves a
// trace. It never holds the password.
type Onboarding struct {
	// ID tags the user this onboarding creates (OnboardedBy), so that a retry recognizes it.
	ID                string           `json:"-" dynamodbav:"id"`
	AccountID         string           `json:"accountId" dynamodbav:"accountId"`
	UserName          string           `json:"userName" dynamodbav:"userName"`
	Path              string           `json:"path" dynamodbav:"path"`
	Groups            []string         `json:"groups" dynamodbav:"groups"`
	ManagedPolicyARNs []string         `json:"managedPolicyArns" dynamodbav:"managedPolicyArns"`
	Status            OnboardingStatus `json:"status" dynamodbav:"status"`
	// Made lists what exists in AWS: "user", "login_profile", "group:<name>", "policy:<arn>".
	Made      []string   `json:"made" dynamodbav:"made"`
	Error     string     `json:"error,omitempty" dynamodbav:"error,omitempty"`
	Via       string     `json:"via" dynamodbav:"via"` // api or invitation
	StartedAt time.Time  `json:"startedAt" dynamodbav:"startedAt"`
	UpdatedAt time.Time  `json:"updatedAt" dynamodbav:"updatedAt"`
	LeaseTill *time.Time `json:"-" dynamodbav:"leaseUntil,omitempty"`
	Version   int64      `json:"-" dynamodbav:"version"`
}

func (o *Onboarding) made(what string) bool {
	for _, m := range o.Made {
		if m == what {
			return true
		}
	}
	return false
}

func (o *Onboarding) record(what string) {
	if !o.made(what) {
		o.Made = append(o.Made, what)
	}
}

func (o *Onboarding) forget(what string) {
	for i, m := range o.Made {
		if m == what {
			o.Made = append(o.Made[:i:i], o.Made[i+1:]...)
			return
		}
	}
}

// Invitation is a self-service link: an admin names the account, groups and policies; the person chooses the user
// name and password. Single use, expiring, stored by the token's hash only.
type Invitation struct {
	TokenHash         string     `json:"-" dynamodbav:"tokenHash"`
	ID                string     `json:"id" dynamodbav:"id"`
	TenantID          string     `json:"-" dynamodbav:"tenantId"`
	AccountID         string     `json:"accountId" dynamodbav:"accountId"`
	Groups            []string   `json:"groups" dynamodbav:"groups"`
	ManagedPolicyARNs []string   `json:"managedPolicyArns" dynamodbav:"managedPolicyArns"`
	Email             string     `json:"email,omitempty" dynamodbav:"email,omitempty"`
	IssuedAt          time.Time  `json:"issuedAt" dynamodbav:"issuedAt"`
	ExpiresAt         time.Time  `json:"expiresAt" dynamodbav:"linkExpiresAt"`
	IssuedBy          string     `json:"issuedBy" dynamodbav:"issuedBy"`
	UsedAt            *time.Time `json:"usedAt,omitempty" dynamodbav:"usedAt,omitempty"`
	UserName          string     `json:"userName,omitempty" dynamodbav:"userName,omitempty"`
}

// PersonLink ties an IAM user to a person, by email (IAM users carry none).
type PersonLink struct {
	Email     string    `json:"email" dynamodbav:"email"`
	AccountID string    `json:"accountId" dynamodbav:"accountId"`
	UserName  string    `json:"userName" dynamodbav:"userName"`
	LinkedAt  time.Time `json:"linkedAt" dynamodbav:"linkedAt"`
	LinkedBy  string    `json:"linkedBy" dynamodbav:"linkedBy"`
}
