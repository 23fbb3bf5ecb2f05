// Package identity is the IAM integration of a connected account: it syncs the account's IAM users (users, groups,
// memberships, policies, and the state of every credential, never a secret), onboards people as IAM users and
// offboards them, first removing every way in. It enters the account through the account's role (the identity
// access option of the onboarding template) or, for customers who cannot run a stack, through an IAM user's access
// key stored encrypted in Secrets Manager; crossaccount.Door chooses between them.
package identity

import (
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
)

// Via is how an integration enters its account.
type Via string

const (
	// ViaRole enters through the account's role, which grants the identity access option.
	ViaRole Via = "role"
	// ViaKey enters with an IAM user's access key the customer handed over.
	ViaKey Via = "key"
)

// Status is where an integration stands, as for the inventory.
type Status string

const (
	// Initializing: the integration exists; its first full sync has not completed.
	Initializing Status = "initializing"
	// Active: a full sync completed, and the latest one too.
	Active Status = "active"
	// Error: the latest sync or verification failed; StatusReason says why and what to do.
	Error Status = "error"
)

// Integration is an account's IAM integration: how it enters, what it was verified to allow, its key (when it
// holds one), and its latest sync.
type Integration struct {
	TenantID  string `json:"-" dynamodbav:"tenantId"`
	AccountID string `json:"accountId" dynamodbav:"accountId"`
	Via       Via    `json:"via" dynamodbav:"via"`
	// Access is what Gangplank verified it may do (read or readwrite) with a harmless probe: for a role, no more
	// than the account's identityAccess option; for a key, what the key's user may do.
	Access accounts.IdentityAccess `json:"access" dynamodbav:"access"`
	// AccessReason says what the latest probe found (and what to do when it is less than wanted).
	AccessReason string     `json:"accessReason" dynamodbav:"accessReason"`
	VerifiedAt   *time.Time `json:"verifiedAt,omitempty" dynamodbav:"verifiedAt,omitempty"`

	Status        Status     `json:"status" dynamodbav:"status"`
	StatusReason  string     `json:"statusReason" dynamodbav:"statusReason"`
	LastSync      *SyncRun   `json:"lastSync,omitempty" dynamodbav:"lastSync,omitempty"`
	LastSuccessAt *time.Time `json:"lastSuccessAt,omitempty" dynamodbav:"lastSuccessAt,omitempty"`
	// SyncRequestedAt limits on-demand syncs.
	SyncRequestedAt *time.Time `json:"-" dynamodbav:"syncRequestedAt,omitempty"`

	Key *Key `json:"key,omitempty" dynamodbav:"key,omitempty"`
	// RemovingSince marks an integration being removed: nothing new starts on it, and a removal that stopped
	// half-way is finished by the next DELETE.
	RemovingSince *time.Time `json:"-" dynamodbav:"removingSince,omitempty"`

	CreatedAt time.Time `json:"createdAt" dynamodbav:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt" dynamodbav:"updatedAt"`
	Version   int64     `json:"version" dynamodbav:"version"`
}

// Key is the metadata of an integration's access key. The key itself lives only in its secret.
type Key struct {
	AccessKeyID string `json:"accessKeyId" dynamodbav:"accessKeyId"`
	// UserARN is the key's IAM user.
	UserARN  string `json:"userArn" dynamodbav:"userArn"`
	UserName string `json:"userName" dynamodbav:"userName"`
	// CreatedAt is when AWS created the key (from the user's own ListAccessKeys), or nil when the key may not read it.
	CreatedAt *time.Time `json:"createdAt,omitempty" dynamodbav:"createdAt,omitempty"`
	// AgeDays is the key's age when the integration was read.
	AgeDays  *int      `json:"ageDays,omitempty" dynamodbav:"-"`
	StoredAt time.Time `json:"storedAt" dynamodbav:"storedAt"`
	// SecretARN is the key's secret (one per integration, encrypted with the identity key).
	SecretARN string   `json:"-" dynamodbav:"secretArn"`
	Rotation  Rotation `json:"rotation" dynamodbav:"rotation"`
	// Pending is a rotation's new key, stored as the secret's AWSPENDING version and not yet switched to.
	Pending *PendingKey `json:"-" dynamodbav:"pending,omitempty"`
	// Retired is the key a rotation switched away from, still to deactivate and delete.
	Retired string `json:"-" dynamodbav:"retired,omitempty"`
}

// PendingKey is a rotation in progress.
type PendingKey struct {
	AccessKeyID string    `dynamodbav:"accessKeyId"`
	VersionID   string    `dynamodbav:"versionId"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
}

// RotationState says whether Gangplank can rotate the key.
type RotationState string

const (
	// RotationOff: the account's credentialRotationDays is not set.
	RotationOff RotationState = "off"
	// RotationScheduled: rotation is on and the key's user may rotate its own key, as far as Gangplank knows.
	RotationScheduled RotationState = "scheduled"
	// RotationNotAllowed: the key's user may not create, deactivate or delete its own keys; Reason says what to do.
	RotationNotAllowed RotationState = "not_allowed"
)

// Rotation is the key's rotation: every credentialRotationDays (the account's integration setting), Gangplank
// creates a new key for the key's own user, switches to it, and deactivates and deletes the old one. State, Days,
// Reason and NextDueAt are derived from the account's settings when the integration is shown (rotationOf); the
// rest is stored.
type Rotation struct {
	State         RotationState `json:"state" dynamodbav:"-"`
	Days          int           `json:"days" dynamodbav:"-"`
	Reason        string        `json:"reason" dynamodbav:"-"`
	NextDueAt     *time.Time    `json:"nextDueAt,omitempty" dynamodbav:"-"`
	LastRotatedAt *time.Time    `json:"lastRotatedAt,omitempty" dynamodbav:"lastRotatedAt,omitempty"`
	// RefusedAt is when AWS last refused a rotation (the user may not manage its own keys), with AWS's reason.
	RefusedAt     *time.Time `json:"refusedAt,omitempty" dynamodbav:"refusedAt,omitempty"`
	RefusedReason string     `json:"-" dynamodbav:"refusedReason,omitempty"`
}

// SyncRun is what one sync read and did, and what it cost.
type SyncRun struct {
	At     time.Time `json:"at" dynamodbav:"at"`
	Status string    `json:"status" dynamodbav:"status"`
	Error  string    `json:"error,omitempty" dynamodbav:"error,omitempty"`
	// Calls are the AWS requests the sync made, by operation ("IAM.GetAccountAuthorizationDetails"); CallsTotal
	// sums them and LowerBound is the fewest this account allows (pages of 1,000 entities, the credential report,
	// the virtual MFA devices).
	Calls      map[string]int `json:"calls" dynamodbav:"calls"`
	CallsTotal int            `json:"callsTotal" dynamodbav:"callsTotal"`
	LowerBound int            `json:"lowerBound" dynamodbav:"lowerBound"`
	Users      int            `json:"users" dynamodbav:"users"`
	Groups     int            `json:"groups" dynamodbav:"groups"`
	Policies   int            `json:"policies" dynamodbav:"policies"`
	// OutsidePrefix counts the account's users outside the path prefix (not synced).
	OutsidePrefix int `json:"outsidePrefix" dynamodbav:"outsidePrefix"`
	// Written and Deleted are the stored users and groups that changed.
	Written int `json:"written" dynamodbav:"written"`
	Deleted int `json:"deleted" dynamodbav:"deleted"`
	// ReportGeneratedAt is when AWS generated the credential report the sync read (AWS regenerates it at most
	// every four hours).
	ReportGeneratedAt *time.Time `json:"reportGeneratedAt,omitempty" dynamodbav:"reportGeneratedAt,omitempty"`
	DurationMs        int64      `json:"durationMs" dynamodbav:"durationMs"`
}

// User is an IAM user as the latest sync read it: identity, memberships, policies, and the state of each of its
// credentials (never a secret). Key ids and SSH keys are read live for one user (Service.User).
type User struct {
	UserName            string      `json:"userName" dynamodbav:"userName"`
	UserID              string      `json:"userId" dynamodbav:"userId"`
	ARN                 string      `json:"arn" dynamodbav:"arn"`
	Path                string      `json:"path" dynamodbav:"path"`
	CreatedAt           time.Time   `json:"createdAt" dynamodbav:"createdAt"`
	Groups              []string    `json:"groups" dynamodbav:"groups"`
	ManagedPolicies     []PolicyRef `json:"managedPolicies" dynamodbav:"managedPolicies"`
	InlinePolicies      []string    `json:"inlinePolicies" dynamodbav:"inlinePolicies"`
	PermissionsBoundary string      `json:"permissionsBoundary,omitempty" dynamodbav:"permissionsBoundary,omitempty"`
	Credentials         Credentials `json:"credentials" dynamodbav:"credentials"`
	// Person is the email of the person the tenant linked the user to.
	Person string `json:"person,omitempty" dynamodbav:"-"`
}

// PolicyRef names a managed policy.
type PolicyRef struct {
	Name string `json:"name" dynamodbav:"name"`
	ARN  string `json:"arn" dynamodbav:"arn"`
}

// Credentials are a user's ways in, from the IAM credential report and the virtual MFA devices.
type Credentials struct {
	// AsOf is the credential report's generation time; nil when the user is newer than the report.
	AsOf                *time.Time   `json:"asOf,omitempty" dynamodbav:"asOf,omitempty"`
	PasswordEnabled     bool         `json:"passwordEnabled" dynamodbav:"passwordEnabled"`
	PasswordLastUsed    *time.Time   `json:"passwordLastUsed,omitempty" dynamodbav:"passwordLastUsed,omitempty"`
	PasswordLastChanged *time.Time   `json:"passwordLastChanged,omitempty" dynamodbav:"passwordLastChanged,omitempty"`
	AccessKeys          []KeyState   `json:"accessKeys" dynamodbav:"accessKeys"`
	MFAActive           bool         `json:"mfaActive" dynamodbav:"mfaActive"`
	VirtualMFADevices   []string     `json:"virtualMfaDevices" dynamodbav:"virtualMfaDevices"`
	SigningCertificates []CertState  `json:"signingCertificates" dynamodbav:"signingCertificates"`
	LastUsed            *time.Time   `json:"lastUsed,omitempty" dynamodbav:"lastUsed,omitempty"`
	Live                *LiveDetails `json:"live,omitempty" dynamodbav:"-"`
}

// KeyState is one access key's state in the credential report (the report names keys by slot, not by id).
type KeyState struct {
	Slot            int        `json:"slot" dynamodbav:"slot"`
	Active          bool       `json:"active" dynamodbav:"active"`
	LastRotated     *time.Time `json:"lastRotated,omitempty" dynamodbav:"lastRotated,omitempty"`
	LastUsed        *time.Time `json:"lastUsed,omitempty" dynamodbav:"lastUsed,omitempty"`
	LastUsedRegion  string     `json:"lastUsedRegion,omitempty" dynamodbav:"lastUsedRegion,omitempty"`
	LastUsedService string     `json:"lastUsedService,omitempty" dynamodbav:"lastUsedService,omitempty"`
}

// CertState is one signing certificate's state in the credential report.
type CertState struct {
	Slot        int        `json:"slot" dynamodbav:"slot"`
	Active      bool       `json:"active" dynamodbav:"active"`
	LastRotated *time.Time `json:"lastRotated,omitempty" dynamodbav:"lastRotated,omitempty"`
}

// LiveDetails are one user's credentials read now, with their ids: access keys, SSH keys, signing certificates,
// service-specific credentials and MFA devices.
type LiveDetails struct {
	ReadAt              time.Time       `json:"readAt"`
	AccessKeys          []LiveKey       `json:"accessKeys"`
	SSHPublicKeys       []LiveItem      `json:"sshPublicKeys"`
	SigningCertificates []LiveItem      `json:"signingCertificates"`
	ServiceCredentials  []LiveItem      `json:"serviceSpecificCredentials"`
	MFADevices          []LiveItem      `json:"mfaDevices"`
	LoginProfile        *LiveLoginState `json:"loginProfile,omitempty"`
}

// LiveKey is an access key's metadata.
type LiveKey struct {
	AccessKeyID string     `json:"accessKeyId"`
	Status      string     `json:"status"`
	CreatedAt   *time.Time `json:"createdAt,omitempty"`
	LastUsed    *time.Time `json:"lastUsed,omitempty"`
}

// LiveItem is one credential's id and status.
type LiveItem struct {
	ID     string `json:"id"`
	Status string `json:"status,omitempty"`
}

// LiveLoginState is a console password's metadata.
type LiveLoginState struct {
	CreatedAt             *time.Time `json:"createdAt,omitempty"`
	PasswordResetRequired bool       `json:"passwordResetRequired"`
}

// Group is an IAM group as the latest sync read it.
type Group struct {
	GroupName       string      `json:"groupName" dynamodbav:"groupName"`
	ARN             string      `json:"arn" dynamodbav:"arn"`
	Path            string      `json:"path" dynamodbav:"path"`
	ManagedPolicies []PolicyRef `json:"managedPolicies" dynamodbav:"managedPolicies"`
	InlinePolicies  []string    `json:"inlinePolicies" dynamodbav:"inlinePolicies"`
	// Members counts the group's users in the whole account (not only under the prefix).
	Members int `json:"members" dynamodbav:"members"`
}

// Directory is what one sync read: the users under the prefix, every group, and counts.
type Directory struct {
	Users         []User
	Groups        []Group
	Policies      int
	OutsidePrefix int
}

// Ref names an account's integration (in queues and cross-tenant listings).
type Ref = accounts.Ref
