package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/validation"
)

// Integration is an account's integration settings (Apono's): the stable handle that code and access flows use,
// who answers for the integration, what end users are told, and how the account's credentials, users and
// inventory are managed. The display name (Account.Name) stays free text; the integration name is the handle.
type Integration struct {
	// Name is the stable handle ("prod-payer"): letters, digits, - and _, unique in the tenant ignoring case.
	Name string `json:"integrationName,omitempty" dynamodbav:"name,omitempty"`
	// Owners are the people responsible for the integration, by email.
	Owners []string `json:"owners" dynamodbav:"owners"`
	// CustomAccessDetails is plain text shown to end users who access the account's resources.
	CustomAccessDetails string `json:"customAccessDetails,omitempty" dynamodbav:"customAccessDetails,omitempty"`
	// CredentialRotationDays rotates the account's IAM access key (identity integration) every so many days; 0 is off.
	CredentialRotationDays int `json:"credentialRotationDays,omitempty" dynamodbav:"credentialRotationDays,omitempty"`
	// CredentialRotatedAt is when the account's credential was last rotated (or first stored), set by the identity
	// integration through CredentialRotated.
	CredentialRotatedAt *time.Time `json:"credentialRotatedAt,omitempty" dynamodbav:"credentialRotatedAt,omitempty"`
	// NextCredentialRotationAt is when the next rotation is due; nil while rotation is off.
	NextCredentialRotationAt *time.Time `json:"nextCredentialRotationAt,omitempty" dynamodbav:"nextCredentialRotationAt,omitempty"`
	// UserCleanupDays deletes offboarded IAM users this many days after their access was removed; 0 deletes them as
	// part of offboarding.
	UserCleanupDays int `json:"userCleanupDays,omitempty" dynamodbav:"userCleanupDays,omitempty"`
	// ResourceTypes limits the inventory to these types ("ec2:instance"); empty means every type.
	ResourceTypes []string `json:"resourceTypes" dynamodbav:"resourceTypes"`
	// Regions limits the inventory to these regions; empty means every region enabled in the account.
	Regions []string `json:"regions" dynamodbav:"regions"`
	// SSORegion is the region of the organization's IAM Identity Center (management accounts only).
	SSORegion string `json:"ssoRegion,omitempty" dynamodbav:"ssoRegion,omitempty"`
	// SSORegionCheck is what Gangplank found when it looked for Identity Center in SSORegion.
	SSORegionCheck *SSORegionCheck `json:"ssoRegionCheck,omitempty" dynamodbav:"ssoRegionCheck,omitempty"`
}

// SSORegionCheckStatus says whether Identity Center was found where the tenant said it is.
type SSORegionCheckStatus string

const (
	// SSORegionVerified: the role read the organization's Identity Center instance in that region.
	SSORegionVerified SSORegionCheckStatus = "verified"
	// SSORegionUnverified: Gangplank could not look (not connected yet, or the role may not read Identity Center).
	SSORegionUnverified SSORegionCheckStatus = "unverified"
	// SSORegionNotFound: the role could look, after the settings were saved, and found no instance in the region.
	SSORegionNotFound SSORegionCheckStatus = "not_found"
)

// SSORegionCheck is the outcome of looking for the organization's Identity Center in the chosen region.
type SSORegionCheck struct {
	Status    SSORegionCheckStatus `json:"status" dynamodbav:"status"`
	Reason    string               `json:"reason" dynamodbav:"reason"`
	CheckedAt time.Time            `json:"checkedAt" dynamodbav:"checkedAt"`
	// InstanceARN is the Identity Center instance found (verified only).
	InstanceARN string `json:"instanceArn,omitempty" dynamodbav:"instanceArn,omitempty"`
}

// IntegrationInput is a whole set of integration settings as the tenant states them; nil optional fields are unset.
type IntegrationInput struct {
	Name                   string
	Owners                 []string
	CustomAccessDetails    string
	CredentialRotationDays *int
	UserCleanupDays        *int
	ResourceTypes          []string
	Regions                []string
	SSORegion              string
}

// Limits of the integration settings.
const (
	MaxOwners                 = 20
	MaxCustomAccessDetails    = 400
	MaxCredentialRotationDays = 365
	MaxUserCleanupDays        = 365
	MaxResourceTypes          = 100
	maxResourceTypeLength     = 128
	maxEmailLength            = 254
)

const integrationNameTakenMessage = "another account in your tenant already has this integration name (compared ignoring case)"

// ErrIntegrationNameTaken: integration names are unique per tenant, ignoring case. Stores return it; the service
// returns it as an *IntegrationNameTakenError naming the request field.
var ErrIntegrationNameTaken = errors.New(integrationNameTakenMessage)

// IntegrationNameTakenError is ErrIntegrationNameTaken for one request field.
type IntegrationNameTakenError struct{ Field string }

func (e *IntegrationNameTakenError) Error() string { return integrationNameTakenMessage }

// Is makes errors.Is(err, ErrIntegrationNameTaken) hold.
func (e *IntegrationNameTakenError) Is(target error) bool { return target == ErrIntegrationNameTaken }

// MarshalJSON shows unset lists as empty ones, for accounts stored before they had integration settings.
func (i Integration) MarshalJSON() ([]byte, error) {
	type plain Integration
	for _, l := range []*[]string{&i.Owners, &i.ResourceTypes, &i.Regions} {
		if *l == nil {
			*l = []string{}
		}
	}
	return json.Marshal(plain(i))
}

var integrationNamePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`) })

// IntegrationNameKey is the form in which integration names are compared: "Prod-Payer" and "prod-payer" are the
// same handle. Names are ASCII, so lower case is enough.
func IntegrationNameKey(name string) string { return strings.ToLower(name) }

// resourceTypePattern is the Resource Explorer / Tagging API form service:type, with an optional sub-type after a
// slash, as in "ec2:instance", "s3:bucket", "elasticloadbalancing:loadbalancer/app".
var resourceTypePattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*(/[a-z][a-z0-9-]*)?$`)
})

// markup is what makes text more than plain text in a browser or a Markdown renderer: tags, character references,
// and Markdown links or images.
var markup = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`[<>]|&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);|\]\(`)
})

// CheckIntegration validates settings for an account of type t and returns them in their stored form. Every
// problem is reported, each under its field name prefixed with prefix ("integration.").
func CheckIntegration(in IntegrationInput, t Type, prefix string) (Integration, error) {
	var c validation.Collector
	out := Integration{Name: in.Name, CustomAccessDetails: in.CustomAccessDetails, SSORegion: in.SSORegion,
		Owners: []string{}, ResourceTypes: []string{}, Regions: []string{}}
	if !integrationNamePattern().MatchString(in.Name) {
		c.Add(prefix+"integrationName", "must be 1-64 letters, digits, - or _ (it is the stable handle used in code and access flows)")
	}
	checkOwners(&c, prefix, in.Owners)
	out.Owners = append(out.Owners, in.Owners...)
	c.Check(prefix+"customAccessDetails", CheckAccessDetails(in.CustomAccessDetails))
	if d := in.CredentialRotationDays; d != nil {
		if *d < 1 || *d > MaxCredentialRotationDays {
			c.Add(prefix+"credentialRotationDays", "must be between 1 and %d days (leave it out to turn rotation off)", MaxCredentialRotationDays)
		}
		out.CredentialRotationDays = *d
	}
	if d := in.UserCleanupDays; d != nil {
		if *d < 1 || *d > MaxUserCleanupDays {
			c.Add(prefix+"userCleanupDays", "must be between 1 and %d days (leave it out to delete offboarded users at once)", MaxUserCleanupDays)
		}
		out.UserCleanupDays = *d
	}
	checkList(&c, prefix+"resourceTypes", in.ResourceTypes, MaxResourceTypes, func(s string) error {
		if len(s) > maxResourceTypeLength || !resourceTypePattern().MatchString(s) {
			return fmt.Errorf("%q is not a resource type in Resource Explorer form service:type, such as ec2:instance or s3:bucket", s)
		}
		return nil
	})
	out.ResourceTypes = append(out.ResourceTypes, in.ResourceTypes...)
	checkList(&c, prefix+"regions", in.Regions, len(awsid.Regions()), checkRegion)
	out.Regions = append(out.Regions, in.Regions...)
	switch {
	case in.SSORegion == "":
	case t != Management:
		c.Add(prefix+"ssoRegion", "applies to management accounts only: IAM Identity Center belongs to the organization")
	default:
		c.Check(prefix+"ssoRegion", checkRegion(in.SSORegion))
	}
	return out, c.Err()
}

func checkRegion(s string) error {
	if !awsid.IsRegion(s) {
		return fmt.Errorf("%q is not an AWS region Gangplank supports, such as us-east-1 or eu-west-1", s)
	}
	return nil
}

func checkOwners(c *validation.Collector, prefix string, owners []string) {
	field := prefix + "owners"
	switch {
	case len(owners) == 0:
		c.Add(field, "name at least one person responsible for the integration, by email")
		return
	case len(owners) > MaxOwners:
		c.Add(field, "at most %d owners", MaxOwners)
		return
	}
	seen := map[string]bool{}
	for i, o := range owners {
		f := fmt.Sprintf("%s[%d]", field, i)
		if err := checkEmail(o); err != nil {
			c.Add(f, "%s", err)
			continue
		}
		if k := strings.ToLower(o); seen[k] {
			c.Add(f, "%q is listed twice", o)
		} else {
			seen[k] = true
		}
	}
}

// checkEmail accepts a bare address (no display name, no comments) with a domain.
func checkEmail(s string) error {
	bad := fmt.Errorf("%q is not an email address such as ops@example.com", s)
	if len(s) > maxEmailLength {
		return bad
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return bad
	}
	at := strings.LastIndexByte(s, '@')
	if domain := s[at+1:]; !strings.Contains(domain, ".") || strings.HasPrefix(domain, "[") {
		return bad
	}
	return nil
}

// checkList checks every element of a list and that no element repeats.
func checkList(c *validation.Collector, field string, items []string, max int, check func(string) error) {
	if len(items) > max {
		c.Add(field, "at most %d entries", max)
		return
	}
	seen := map[string]bool{}
	for i, it := range items {
		f := fmt.Sprintf("%s[%d]", field, i)
		if err := check(it); err != nil {
			c.Add(f, "%s", err)
			continue
		}
		if seen[it] {
			c.Add(f, "%q is listed twice", it)
		}
		seen[it] = true
	}
}

// CheckAccessDetails accepts plain text of at most 400 characters: no control or formatting characters (which can
// hide or reorder what end users read) and no markup.
func CheckAccessDetails(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > MaxCustomAccessDetails {
		return fmt.Errorf("must be at most %d characters (got %d)", MaxCustomAccessDetails, n)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("must be plain text on one line: control and formatting characters are not allowed (found %U)", r)
		}
	}
	if m := markup().FindString(s); m != "" {
		return fmt.Errorf("must be plain text: markup is not allowed (found %q)", m)
	}
	return nil
}

// ScheduleCredentialRotation sets when the next credential rotation is due, from the last rotation (or from now,
// when there has been none) and the rotation period. A rotation that is overdue is due now.
func (i *Integration) ScheduleCredentialRotation(now time.Time) {
	if i.CredentialRotationDays == 0 {
		i.NextCredentialRotationAt = nil
		return
	}
	from := now
	if i.CredentialRotatedAt != nil {
		from = *i.CredentialRotatedAt
	}
	next := from.AddDate(0, 0, i.CredentialRotationDays)
	if next.Before(now) {
		next = now
	}
	next = next.UTC()
	i.NextCredentialRotationAt = &next
}

// CredentialRotated records that the account's credential was rotated (or first stored) at at, and schedules the
// next rotation. The identity integration calls it inside the write that stores the new credential.
func (i *Integration) CredentialRotated(at time.Time) {
	at = at.UTC()
	i.CredentialRotatedAt = &at
	i.ScheduleCredentialRotation(at)
}

// SSORegionChecker looks for the organization's IAM Identity Center in a region, through the management account's
// role. It returns a validation error naming ssoRegion when the role could read and found no instance there, and an
// unverified check when it could not look.
type SSORegionChecker interface {
	CheckSSORegion(ctx context.Context, a Account, region string) (SSORegionCheck, error)
}

// CheckSSORegionsWith makes the service check ssoRegion against the organization when it changes.
func (s *Service) CheckSSORegionsWith(c SSORegionChecker) { s.ssoRegions = c }

// SetIntegration replaces the account's integration settings if its ETag is one of ifMatch ("*" matches any). The
// integration name is reserved in the tenant in the same transaction; the audit entry records every changed setting
// with its old and new value.
func (s *Service) SetIntegration(ctx context.Context, tenantID, accountID string, ifMatch []string, in IntegrationInput) (Account, error) {
	if len(ifMatch) == 0 {
		return Account{}, ErrPreconditionRequired
	}
	before, err := s.Get(ctx, tenantID, accountID)
	if err != nil {
		return Account{}, err
	}
	if !slices.Contains(ifMatch, "*") && !slices.Contains(ifMatch, before.ETag()) {
		return Account{}, ErrVersionMismatch
	}
	next, err := CheckIntegration(in, before.Type, "")
	if err != nil {
		return Account{}, err
	}
	now := s.now().UTC()
	prev := before.Integration
	next.CredentialRotatedAt = prev.CredentialRotatedAt
	next.NextCredentialRotationAt = prev.NextCredentialRotationAt
	if next.CredentialRotationDays != prev.CredentialRotationDays || (next.CredentialRotationDays > 0) != (prev.NextCredentialRotationAt != nil) {
		next.ScheduleCredentialRotation(now)
	}
	next.SSORegionCheck = prev.SSORegionCheck
	if next.SSORegion == "" {
		next.SSORegionCheck = nil
	} else if next.SSORegion != prev.SSORegion || prev.SSORegionCheck == nil || prev.SSORegionCheck.Status != SSORegionVerified {
		if next.SSORegionCheck, err = s.checkSSORegion(ctx, before, next.SSORegion); err != nil {
			return Account{}, err
		}
	}
	after := before
	after.Integration = next
	changes := audit.Diff(&before, &after, append([]string{"integration"}, bookkeeping...)...)
	for _, ch := range audit.Diff(&prev, &next) {
		ch.Field = "integration." + ch.Field
		changes = append(changes, ch)
	}
	saved, err := s.saveChanges(ctx, before, after, "account.integration_updated", changes)
	if errors.Is(err, ErrIntegrationNameTaken) {
		return Account{}, &IntegrationNameTakenError{Field: "integrationName"}
	}
	return saved, err
}

// withIntegration adds the create request's integration settings to a (a new account, not connected yet), merging
// their field errors with those already found.
func (in CreateInput) withIntegration(a *Account, err error, now time.Time) error {
	if in.Integration == nil {
		return err
	}
	next, ierr := CheckIntegration(*in.Integration, a.Type, "integration.")
	var fields []validation.FieldError
	for _, e := range []error{err, ierr} {
		var ve *validation.Error
		switch {
		case e == nil:
		case errors.As(e, &ve):
			fields = append(fields, ve.Fields...)
		default:
			return e
		}
	}
	if len(fields) > 0 {
		return &validation.Error{Fields: fields}
	}
	next.ScheduleCredentialRotation(now)
	if next.SSORegion != "" {
		next.SSORegionCheck = &SSORegionCheck{Status: SSORegionUnverified, CheckedAt: now,
			Reason: "the account is not connected yet: set the settings again once it is, and Gangplank looks for IAM Identity Center there"}
	}
	a.Integration = next
	return nil
}

func (s *Service) checkSSORegion(ctx context.Context, a Account, region string) (*SSORegionCheck, error) {
	if s.ssoRegions == nil {
		return &SSORegionCheck{Status: SSORegionUnverified, CheckedAt: s.now().UTC(),
			Reason: "Gangplank cannot read IAM Identity Center here; the region was taken as given"}, nil
	}
	check, err := s.ssoRegions.CheckSSORegion(ctx, a, region)
	if err != nil {
		return nil, err
	}
	return &check, nil
}

// RecheckSSORegion looks again for Identity Center in the account's ssoRegion when it is not verified yet (once the
// account is connected, the role can look). A region where the role finds no instance is recorded as not_found.
func (s *Service) RecheckSSORegion(ctx context.Context, tenantID, accountID string) (Account, error) {
	return s.Mutate(ctx, tenantID, accountID, "account.sso_region_checked", func(a *Account) error {
		i := &a.Integration
		if s.ssoRegions == nil || i.SSORegion == "" || (i.SSORegionCheck != nil && i.SSORegionCheck.Status == SSORegionVerified) {
			return ErrNoChange
		}
		check, err := s.ssoRegions.CheckSSORegion(ctx, *a, i.SSORegion)
		var ve *validation.Error
		switch {
		case errors.As(err, &ve) && len(ve.Fields) > 0:
			check = SSORegionCheck{Status: SSORegionNotFound, Reason: ve.Fields[0].Message, CheckedAt: s.now().UTC()}
		case err != nil:
			return err
		}
		if check.Status == SSORegionUnverified && i.SSORegionCheck != nil && i.SSORegionCheck.Status == SSORegionUnverified &&
			check.Reason == i.SSORegionCheck.Reason {
			return ErrNoChange
		}
		i.SSORegionCheck = &check
		return nil
	})
}
