package identity

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"

	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/validation"
)

// IAM's naming rules (IAM API reference, CreateUser / CreateGroup / AttachUserPolicy).
var (
	userNamePattern  = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	groupNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	policyARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(aws|[0-9]{12}):policy/([\x{21}-\x{7E}]*/)?[\w+=,.@-]{1,128}$`)
	accessKeyPattern = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
)

// Limits of one onboarding.
const (
	// MaxGroupsPerUser is IAM's quota of groups a user may belong to.
	MaxGroupsPerUser = 10
	// MaxManagedPoliciesPerUser is IAM's default quota of managed policies attached to a user.
	MaxManagedPoliciesPerUser = 10
)

// CheckUserName applies IAM's rule for user names: 1-64 letters, digits and +=,.@_-.
func CheckUserName(name string) error {
	if !userNamePattern.MatchString(name) {
		return errors.New("an IAM user name is 1-64 characters: letters, digits and +=,.@_- (no spaces)")
	}
	return nil
}

// CheckGroupName applies IAM's rule for group names.
func CheckGroupName(name string) error {
	if !groupNamePattern.MatchString(name) {
		return fmt.Errorf("%q is not an IAM group name (1-128 letters, digits and +=,.@_-)", name)
	}
	return nil
}

// CheckPolicyARN checks the form of a managed policy's ARN (an AWS managed policy or one of the account's own).
func CheckPolicyARN(arn, accountID string) error {
	if !policyARNPattern.MatchString(arn) {
		return fmt.Errorf("%q is not a managed policy ARN, such as arn:aws:iam::aws:policy/ReadOnlyAccess or arn:aws:iam::%s:policy/MyPolicy", arn, accountID)
	}
	if a, err := awsid.ParseARN(arn); err == nil && a.AccountID != "aws" && a.AccountID != accountID {
		return fmt.Errorf("%q is a policy of account %s: a user can have AWS managed policies or its own account's (%s)", arn, a.AccountID, accountID)
	}
	return nil
}

// checkNames checks an onboarding's groups and policies, each reported under its own index.
func checkNames(c *validation.Collector, accountID string, groups, policies []string) {
	if len(groups) > MaxGroupsPerUser {
		c.Add("groups", "at most %d groups (IAM's quota per user)", MaxGroupsPerUser)
	}
	seen := map[string]bool{}
	for i, g := range groups {
		if err := CheckGroupName(g); err != nil {
			c.Add(fmt.Sprintf("groups[%d]", i), "%s", err)
		} else if seen[strings.ToLower(g)] {
			c.Add(fmt.Sprintf("groups[%d]", i), "%q is listed twice", g)
		}
		seen[strings.ToLower(g)] = true
	}
	if len(policies) > MaxManagedPoliciesPerUser {
		c.Add("managedPolicyArns", "at most %d managed policies (IAM's default quota per user)", MaxManagedPoliciesPerUser)
	}
	seen = map[string]bool{}
	for i, p := range policies {
		if err := CheckPolicyARN(p, accountID); err != nil {
			c.Add(fmt.Sprintf("managedPolicyArns[%d]", i), "%s", err)
		} else if seen[p] {
			c.Add(fmt.Sprintf("managedPolicyArns[%d]", i), "%q is listed twice", p)
		}
		seen[p] = true
	}
}

// CheckAccessKey checks the form of a key a customer hands over; AWS has the last word (crossaccount.VerifyKey).
func CheckAccessKey(id, secret string) error {
	var c validation.Collector
	switch {
	case strings.HasPrefix(id, "ASIA"):
		c.Add("accessKeyId", "ASIA keys are temporary credentials that expire: give a long-lived access key (AKIA...) of an IAM user")
	case !accessKeyPattern.MatchString(id):
		c.Add("accessKeyId", "an access key id is 16-128 upper-case letters and digits, such as AKIAIOSFODNN7EXAMPLE")
	}
	if n := len(secret); n < 16 || n > 128 || strings.ContainsAny(secret, " \t\r\n") {
		c.Add("secretAccessKey", "a secret access key is 16-128 characters without spaces (AWS shows it once, when the key is created)")
	}
	return c.Err()
}

// NormalizeEmail checks a person's email and returns it in the form links are kept in (lower case).
func NormalizeEmail(s string) (string, error) {
	if len(s) > 254 {
		return "", errors.New("an email address is at most 254 characters")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", fmt.Errorf("%q is not an email address such as jane@example.com", s)
	}
	return strings.ToLower(s), nil
}
