// Package accounts is the domain of AWS accounts linked to a tenant: what an account is, the rules for creating,
// renaming and removing one, and the errors those rules produce. Storage lives behind the Store interface.
package accounts

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Type is an account's place in AWS Organizations.
type Type string

const (
	// Management is an organization's management (payer) account.
	Management Type = "management"
	// Linked is a member account of an organization whose management account the tenant also links. A linked
	// account added first has no management account until its own role shows which one it is (ManagementLookup).
	Linked Type = "linked"
	// Standalone is an account outside any organization Gangplank knows.
	Standalone Type = "standalone"
)

// Types lists every account type.
var Types = []Type{Management, Linked, Standalone}

// Status is where an account stands in its connection lifecycle.
type Status string

const (
	// Pending: created in Gangplank, waiting for the customer to launch the onboarding stack.
	Pending Status = "pending"
	// Active: the cross-account role is verified and usable.
	Active Status = "active"
	// Failed: activation or verification failed; StatusReason says why and what to do.
	Failed Status = "failed"
	// NotActivated: discovered through the organization, not yet connected.
	NotActivated Status = "not_activated"
	// Activating: a bulk activation is creating the onboarding stack in the account.
	Activating Status = "activating"
	// Disconnected: the customer deleted the onboarding stack, or the role stopped working.
	Disconnected Status = "disconnected"
)

// Statuses lists every status.
var Statuses = []Status{Pending, Active, Failed, NotActivated, Activating, Disconnected}

// AccessLevel is how much the platform may do in the account (the PyraCloud access levels).
type AccessLevel string

const (
	// Resources reads resources only, without their tags.
	Resources AccessLevel = "resources"
	// ResourcesTags reads resources and their tags.
	ResourcesTags AccessLevel = "resources_tags"
	// TagsWrite also writes tags back, and nothing else.
	TagsWrite AccessLevel = "tags_write"
)

// AccessLevels lists every access level.
var AccessLevels = []AccessLevel{Resources, ResourcesTags, TagsWrite}

// IdentityAccess is what the platform may do with the account's IAM users through its role (a parameter of the
// onboarding template, like the access level). The role grants it; the identity integration verifies it.
type IdentityAccess string

const (
	// IdentityNone grants nothing on IAM users (the default).
	IdentityNone IdentityAccess = "none"
	// IdentityRead lists IAM users, groups and policies and reads the credential report.
	IdentityRead IdentityAccess = "read"
	// IdentityReadWrite also creates and removes users, their credentials, memberships and policies, limited to
	// the identity path prefix.
	IdentityReadWrite IdentityAccess = "readwrite"
)

// IdentityAccesses lists every identity access option.
var IdentityAccesses = []IdentityAccess{IdentityNone, IdentityRead, IdentityReadWrite}

// Or returns the option, with "" (accounts stored before the option existed) read as none.
func (l IdentityAccess) Or() IdentityAccess {
	if l == "" {
		return IdentityNone
	}
	return l
}

// MarshalJSON shows an unset option as none.
func (l IdentityAccess) MarshalJSON() ([]byte, error) { return json.Marshal(string(l.Or())) }

// IAMPath is an IAM path prefix ("/engineering/"): only the users under it are synced, onboarded and offboarded.
type IAMPath string

// RootPath is the path of every IAM entity: no prefix.
const RootPath IAMPath = "/"

// Or returns the path, with "" read as the root.
func (p IAMPath) Or() IAMPath {
	if p == "" {
		return RootPath
	}
	return p
}

// MarshalJSON shows an unset prefix as the root.
func (p IAMPath) MarshalJSON() ([]byte, error) { return json.Marshal(string(p.Or())) }

// Holds reports whether an IAM entity with this path is under the prefix.
func (p IAMPath) Holds(path string) bool { return strings.HasPrefix(path, string(p.Or())) }

// MaxIAMPathLength is IAM's limit on a path.
const MaxIAMPathLength = 512

// CheckIAMPath applies IAM's path rule, narrowed so that a prefix is safe inside a policy's resource ARN: it starts
// and ends with "/", and its segments are made of letters, digits and +=,.@_- (no "*" or "?", which a policy would
// read as wildcards).
func CheckIAMPath(p string) error {
	switch {
	case len(p) > MaxIAMPathLength:
		return fmt.Errorf("must be at most %d characters", MaxIAMPathLength)
	case !iamPath.MatchString(p):
		return errors.New(`must start and end with "/" and contain only letters, digits and +=,.@_- between them, such as /engineering/ (or "/" for no prefix)`)
	}
	return nil
}

var iamPath = regexp.MustCompile(`^/([\w+=,.@-]+/)*$`)

// Account is one AWS account linked to a tenant.
type Account struct {
	TenantID            string      `json:"-" dynamodbav:"tenantId"`
	AccountID           string      `json:"accountId" dynamodbav:"accountId"`
	Name                string      `json:"name" dynamodbav:"name"`
	Type                Type        `json:"type" dynamodbav:"type"`
	Status              Status      `json:"status" dynamodbav:"status"`
	StatusReason        string      `json:"statusReason" dynamodbav:"statusReason"`
	Region              string      `json:"region" dynamodbav:"region"`
	AccessLevel         AccessLevel `json:"accessLevel" dynamodbav:"accessLevel"`
	CostSync            bool        `json:"costSync" dynamodbav:"costSync"`
	ManagementAccountID string      `json:"managementAccountId,omitempty" dynamodbav:"managementAccountId,omitempty"`
	// IdentityAccess is the chosen identity access option; the role grants it when the stack is launched or
	// updated with it. IdentityPathPrefix limits the users the identity integration syncs and manages.
	IdentityAccess     IdentityAccess `json:"identityAccess" dynamodbav:"identityAccess,omitempty"`
	IdentityPathPrefix IAMPath        `json:"identityPathPrefix" dynamodbav:"identityPathPrefix,omitempty"`
	// IdentityIntegration is how the account's IAM integration enters it ("role" or "key"), empty without one. The
	// integration sets and clears it in the same transaction as its own record, so an account with an
	// integration cannot be deleted (its key and synced users would outlive it).
	IdentityIntegration string `json:"identityIntegration,omitempty" dynamodbav:"identityIntegration,omitempty"`

	// Connection: set when the cross-account role is verified.
	RoleARN string `json:"roleArn,omitempty" dynamodbav:"roleArn,omitempty"`
	// StackID is the onboarding stack that connected the account; only that stack's deletion disconnects it.
	StackID string `json:"stackId,omitempty" dynamodbav:"stackId,omitempty"`
	// StackTokenHash is the hash of the activation token the connecting stack carries: its later Update and Delete
	// requests prove themselves with it (the StackId alone is readable by any viewer). Never shown or audited.
	StackTokenHash  string `json:"-" dynamodbav:"stackTokenHash,omitempty"`
	TemplateVersion string `json:"templateVersion,omitempty" dynamodbav:"templateVersion,omitempty"`
	// GrantedAccessLevel is the access level the customer's role was deployed with; when it differs from
	// AccessLevel, the customer must update the stack (Health says so).
	GrantedAccessLevel AccessLevel `json:"grantedAccessLevel,omitempty" dynamodbav:"grantedAccessLevel,omitempty"`
	ActivatedAt        *time.Time  `json:"activatedAt,omitempty" dynamodbav:"activatedAt,omitempty"`
	LastVerifiedAt     *time.Time  `json:"lastVerifiedAt,omitempty" dynamodbav:"lastVerifiedAt,omitempty"`
	Health             Health      `json:"health" dynamodbav:"health"`

	// Organization is what AWS Organizations says of a member account (set by discovery).
	Organization *Membership `json:"organization,omitempty" dynamodbav:"organization,omitempty"`
	// Discovery is a management account's discovery settings and latest run.
	Discovery *Discovery `json:"discovery,omitempty" dynamodbav:"discovery,omitempty"`
	// ManagementLookup is what a linked account's own role said of its organization's management account (when
	// the tenant linked it without naming one).
	ManagementLookup *ManagementLookup `json:"managementLookup,omitempty" dynamodbav:"managementLookup,omitempty"`
	// Activation names the bulk activation (and batch) waiting for this account's callback.
	Activation *ActivationRef `json:"-" dynamodbav:"activationRef,omitempty"`
	// Integration is the account's integration settings (integration.go).
	Integration Integration `json:"integration" dynamodbav:"integration"`
	// AwaitedStackID is the stack Gangplank itself created in the account (bulk activation) and waits for: the
	// exact StackId CreateStack returned (AwaitStack). Only notifications of that stack may fail the account.
	AwaitedStackID string `json:"-" dynamodbav:"awaitedStackId,omitempty"`
	// ReportedStackID is the stack whose failure notification failed the account: the first failure it reports is
	// the precise one, so its later notifications (the stack's summary, duplicates) change nothing.
	ReportedStackID string `json:"-" dynamodbav:"reportedStackId,omitempty"`

	CreatedAt time.Time `json:"createdAt" dynamodbav:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt" dynamodbav:"updatedAt"`
	Version   int64     `json:"version" dynamodbav:"version"`

	// Link is the current activation link, stored as a hash only; never shown or audited.
	Link *ActivationLink `json:"-" dynamodbav:"activationLink,omitempty"`
	// Callbacks remembers the answers to the latest CloudFormation requests, so a duplicate delivery of a request
	// gets the same answer without a second transition. Written in the same item as the transition it records.
	Callbacks []CallbackAnswer `json:"-" dynamodbav:"callbacks,omitempty"`
}

// ActivationRef names the bulk activation and the batch that wait for this account's callback (the stack it
// created is the account's AwaitedStackID).
type ActivationRef struct {
	ActivationID string `dynamodbav:"activationId"`
	Batch        int    `dynamodbav:"batch"`
}

// AwaitedBy reports whether the bulk activation activationID is still waiting for this account.
func (a Account) AwaitedBy(activationID string) bool {
	return a.Status == Activating && a.Activation != nil && a.Activation.ActivationID == activationID
}

// Ref names one account of one tenant (in queues and cross-tenant listings).
type Ref struct {
	TenantID  string `json:"tenantId"`
	AccountID string `json:"accountId"`
}

// Membership is an account's place in its organization, as discovery last read it.
type Membership struct {
	// Name and Email are the organization's; the account's Gangplank name is the tenant's to change.
	Name  string `json:"name" dynamodbav:"name"`
	Email string `json:"email" dynamodbav:"email"`
	// Status is Organizations' (ACTIVE, SUSPENDED, PENDING_CLOSURE), or LEFT once the account is no longer in it.
	Status       string     `json:"status" dynamodbav:"status"`
	JoinedMethod string     `json:"joinedMethod" dynamodbav:"joinedMethod"`
	JoinedAt     *time.Time `json:"joinedAt,omitempty" dynamodbav:"joinedAt,omitempty"`
	ParentID     string     `json:"parentId" dynamodbav:"parentId"`
	// Path is the OU path from the root, by name ("Root/Workloads/Prod").
	Path string `json:"path" dynamodbav:"path"`
	// AncestorIDs are the ids from the root down to the parent ("r-ab12/ou-ab12-1/ou-ab12-2"), for OU filters.
	AncestorIDs string     `json:"ancestorIds" dynamodbav:"ancestorIds"`
	LeftAt      *time.Time `json:"leftAt,omitempty" dynamodbav:"leftAt,omitempty"`
}

// Membership statuses beyond Organizations' own.
const MembershipLeft = "LEFT"

// Discovery is a management account's discovery settings and the outcome of its latest run.
type Discovery struct {
	// IncludeOUs, when set, limits discovery to accounts under these OUs (nested OUs included).
	IncludeOUs []string `json:"includeOuIds" dynamodbav:"includeOuIds"`
	// ExcludeOUs and ExcludeAccounts are never added (nested OUs included).
	ExcludeOUs      []string `json:"excludeOuIds" dynamodbav:"excludeOuIds"`
	ExcludeAccounts []string `json:"excludeAccountIds" dynamodbav:"excludeAccountIds"`
	// MemberRoleName is the role bulk activation assumes in member accounts (default OrganizationAccountAccessRole).
	MemberRoleName string `json:"memberRoleName" dynamodbav:"memberRoleName"`
	// AutoEnroll activates new accounts of included OUs as discovery finds them.
	AutoEnroll bool          `json:"autoEnroll" dynamodbav:"autoEnroll"`
	LastRun    *DiscoveryRun `json:"lastRun,omitempty" dynamodbav:"lastRun,omitempty"`
}

// MarshalJSON shows unset lists as empty ones: a management account discovered before the tenant set any filter
// has nil lists (and DynamoDB gives back nil for an empty list), and the API promises arrays.
func (d Discovery) MarshalJSON() ([]byte, error) {
	type plain Discovery
	for _, l := range []*[]string{&d.IncludeOUs, &d.ExcludeOUs, &d.ExcludeAccounts} {
		if *l == nil {
			*l = []string{}
		}
	}
	if d.MemberRoleName == "" {
		d.MemberRoleName = DefaultMemberRoleName
	}
	return json.Marshal(plain(d))
}

// DiscoveryRun is what one discovery found and did.
type DiscoveryRun struct {
	At      time.Time `json:"at" dynamodbav:"at"`
	Status  string    `json:"status" dynamodbav:"status"`
	Error   string    `json:"error,omitempty" dynamodbav:"error,omitempty"`
	Calls   int       `json:"calls" dynamodbav:"calls"`
	Retries int       `json:"retries" dynamodbav:"retries"`
	OUs     int       `json:"ous" dynamodbav:"ous"`
	Found   int       `json:"found" dynamodbav:"found"`
	Added   int       `json:"added" dynamodbav:"added"`
	Updated int       `json:"updated" dynamodbav:"updated"`
	Left    int       `json:"left" dynamodbav:"left"`
	// Excluded by the filters; ClaimedElsewhere: linked to another tenant (which is never named).
	Excluded         int `json:"excluded" dynamodbav:"excluded"`
	ClaimedElsewhere int `json:"claimedElsewhere" dynamodbav:"claimedElsewhere"`
	// JobID is the discovery job that made the run (GET /v1/discoveries/{id}).
	JobID string `json:"jobId,omitempty" dynamodbav:"jobId,omitempty"`
}

// DefaultMemberRoleName is the role AWS Organizations creates in accounts it creates.
const DefaultMemberRoleName = "OrganizationAccountAccessRole"

// HealthStatus summarises whether Gangplank can use the account.
type HealthStatus string

const (
	// HealthUnknown: never verified.
	HealthUnknown HealthStatus = "unknown"
	// Healthy: the role was assumed and behaves as expected.
	Healthy HealthStatus = "healthy"
	// Degraded: the role works but needs the customer's attention (previous External ID, missing access level).
	Degraded HealthStatus = "degraded"
	// Unhealthy: the role cannot be used; Reason says why and what to do.
	Unhealthy HealthStatus = "unhealthy"
)

// Health is the outcome of the account's latest check.
type Health struct {
	Status    HealthStatus `json:"status" dynamodbav:"status"`
	Reason    string       `json:"reason" dynamodbav:"reason"`
	CheckedAt *time.Time   `json:"checkedAt,omitempty" dynamodbav:"checkedAt,omitempty"`
}

// ActivationLink is an issued activation token: single use, expiring, bound to the tenant (by the item it lives in),
// the account and its type.
type ActivationLink struct {
	TokenHash   string     `dynamodbav:"tokenHash"`
	AccountType Type       `dynamodbav:"accountType"`
	IssuedAt    time.Time  `dynamodbav:"issuedAt"`
	ExpiresAt   time.Time  `dynamodbav:"expiresAt"`
	UsedAt      *time.Time `dynamodbav:"usedAt,omitempty"`
	UsedByStack string     `dynamodbav:"usedByStack,omitempty"`
	// StackSuffixHash is the hash of the unguessable suffix of the stack name this link's launch material gives:
	// stack notifications are about this link's stack only if they name it.
	StackSuffixHash string `dynamodbav:"stackSuffixHash,omitempty"`
	// ReplacedHash and ReplacedAt remember the link this one replaced, to tell its holder precisely why it fails.
	ReplacedHash string     `dynamodbav:"replacedHash,omitempty"`
	ReplacedAt   *time.Time `dynamodbav:"replacedAt,omitempty"`
}

// CallbackAnswer is the answer given to one CloudFormation custom resource request.
type CallbackAnswer struct {
	RequestID  string    `dynamodbav:"requestId"`
	Response   string    `dynamodbav:"response"` // the exact JSON body sent to the ResponseURL
	AnsweredAt time.Time `dynamodbav:"answeredAt"`
}

// MaxCallbackAnswers bounds the answers kept per account; duplicates arrive within minutes of the original.
const MaxCallbackAnswers = 10

// Answer returns the recorded answer to requestID, if any.
func (a Account) Answer(requestID string) (string, bool) {
	for _, c := range a.Callbacks {
		if c.RequestID == requestID {
			return c.Response, true
		}
	}
	return "", false
}

// RecordAnswer remembers the answer to a request, dropping the oldest beyond MaxCallbackAnswers.
func (a *Account) RecordAnswer(requestID, response string, at time.Time) {
	a.Callbacks = append(a.Callbacks, CallbackAnswer{RequestID: requestID, Response: response, AnsweredAt: at})
	if n := len(a.Callbacks); n > MaxCallbackAnswers {
		a.Callbacks = append([]CallbackAnswer(nil), a.Callbacks[n-MaxCallbackAnswers:]...)
	}
}

// ETag is the entity tag of this version of the account, quoted as HTTP requires.
func (a Account) ETag() string { return ETag(a.Version) }

// ETag formats a version as a strong entity tag.
func ETag(version int64) string { return fmt.Sprintf(`"%d"`, version) }

// MaxNameLength is the longest account name, in characters (of its NFC form).
const MaxNameLength = 64

// NormalizeName is the form in which a name is stored and shown: Unicode NFC. "Café" typed with a precomposed é
// or with e and a combining accent is then one name, stored once, and the name shown is the name to type (in
// either form) to confirm a deletion. NFC is the form the web and most keyboards produce (W3C's character model
// recommends it), and the shortest canonical one, so the length limit counts what users see.
func NormalizeName(name string) string { return norm.NFC.String(name) }

// CheckName applies the naming rule to a normalized name: 1-64 printable characters, without leading or trailing
// spaces (they would make two names that look the same differ).
func CheckName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case !utf8.ValidString(name):
		return errors.New("must be valid UTF-8")
	case n == 0:
		return errors.New("must not be empty")
	case n > MaxNameLength:
		return fmt.Errorf("must be at most %d characters (got %d)", MaxNameLength, n)
	case strings.TrimSpace(name) != name:
		return errors.New("must not start or end with spaces")
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("must contain only printable characters (found %U)", r)
		}
	}
	return nil
}

var folder = cases.Fold()

// NameKey is the form in which names are compared: two names with the same key are the same name ("Prod" and
// "PROD", "Café" precomposed and decomposed), so a tenant cannot have both. It is Unicode's canonical caseless
// match (NFD, case folding, then NFC so the key is compact and stable).
func NameKey(name string) string { return norm.NFC.String(folder.String(norm.NFD.String(name))) }

func list[T ~string](allowed []T) string {
	s := make([]string, len(allowed))
	for i, a := range allowed {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// ParseType checks an account type.
func ParseType(s string) (Type, error) {
	if !slices.Contains(Types, Type(s)) {
		return "", fmt.Errorf("must be one of %s", list(Types))
	}
	return Type(s), nil
}

// ParseStatus checks a status.
func ParseStatus(s string) (Status, error) {
	if !slices.Contains(Statuses, Status(s)) {
		return "", fmt.Errorf("must be one of %s", list(Statuses))
	}
	return Status(s), nil
}

// ParseIdentityAccess checks an identity access option.
func ParseIdentityAccess(s string) (IdentityAccess, error) {
	if !slices.Contains(IdentityAccesses, IdentityAccess(s)) {
		return "", fmt.Errorf("must be one of %s", list(IdentityAccesses))
	}
	return IdentityAccess(s), nil
}

// ParseAccessLevel checks an access level.
func ParseAccessLevel(s string) (AccessLevel, error) {
	if !slices.Contains(AccessLevels, AccessLevel(s)) {
		return "", fmt.Errorf("must be one of %s", list(AccessLevels))
	}
	return AccessLevel(s), nil
}
