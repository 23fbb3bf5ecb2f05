// Package awsid parses and checks AWS identifiers: account IDs, regions, OU ids, role names and ARNs. Every place
// such a value enters Gangplank (a request body, a query, a path) checks it here, so the rule is the same everywhere.
package awsid

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// ErrAccountID explains what a valid account ID looks like.
var ErrAccountID = errors.New("an AWS account ID is exactly 12 digits, such as 123456789012")

// ParseAccountID checks that s is a 12-digit AWS account ID and returns it unchanged.
// Leading zeros are significant (000000000001 is a valid ID), so IDs stay strings.
func ParseAccountID(s string) (string, error) {
	if len(s) != 12 {
		return "", ErrAccountID
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", ErrAccountID
		}
	}
	return s, nil
}

// CheckAccountID is ParseAccountID as a check, for lists of ids.
func CheckAccountID(s string) error {
	_, err := ParseAccountID(s)
	return err
}

// MaxOUs is AWS Organizations' quota of OUs in one organization: no list of OU ids needs more.
const MaxOUs = 1000

// Organizations' id patterns (the API reference's ParentId, RootId and OrganizationalUnitId).
var (
	rootIDPattern = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	ouIDPattern   = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
)

// ErrOUID explains what an OU or root id looks like.
var ErrOUID = errors.New("an organization root id (r-, then 4 to 32 small letters or digits, such as r-ab12) or " +
	"OU id (ou-, the root's 4 to 32, a hyphen, then 8 to 32 small letters or digits, such as ou-ab12-cd34ef56)")

// CheckOUID checks that s is an organization root id or an organizational unit id, by AWS's patterns.
func CheckOUID(s string) error {
	if rootIDPattern.MatchString(s) || ouIDPattern.MatchString(s) {
		return nil
	}
	return ErrOUID
}

// Regions lists the commercial-partition regions Gangplank serves. GovCloud and China are separate partitions with
// their own accounts and endpoints, so the platform's callback topics cannot reach them.
var regions = []string{
	"af-south-1",
	"ap-east-1", "ap-east-2",
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
	"ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2",
	"eu-north-1",
	"eu-south-1", "eu-south-2",
	"eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1",
	"me-central-1", "me-south-1",
	"mx-central-1",
	"sa-east-1",
	"us-east-1", "us-east-2",
	"us-west-1", "us-west-2",
}

// Regions returns the supported regions in order.
func Regions() []string { return slices.Clone(regions) }

// IsRegion reports whether s is a supported region code.
func IsRegion(s string) bool {
	_, found := slices.BinarySearch(regions, s)
	return found
}

// ARN is a parsed Amazon Resource Name.
type ARN struct {
	Partition string
	Service   string
	Region    string
	AccountID string
	Resource  string
}

func (a ARN) String() string {
	return strings.Join([]string{"arn", a.Partition, a.Service, a.Region, a.AccountID, a.Resource}, ":")
}

// ParseARN splits an ARN into its parts. It checks the shape only, not that the resource exists.
func ParseARN(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return ARN{}, fmt.Errorf("%q is not an ARN (arn:partition:service:region:account-id:resource)", s)
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], AccountID: parts[4], Resource: parts[5]}, nil
}

// RoleARN is an IAM role's ARN split into the parts Gangplank checks.
type RoleARN struct {
	ARN
	// Path is "/" or "/path/" and Name the role name without its path.
	Path string
	Name string
}

// ParseRoleARN parses arn:aws:iam::<account>:role[/path]/<name> and checks the account ID and role name.
func ParseRoleARN(s string) (RoleARN, error) {
	a, err := ParseARN(s)
	if err != nil {
		return RoleARN{}, err
	}
	if a.Partition != "aws" || a.Service != "iam" || a.Region != "" || !strings.HasPrefix(a.Resource, "role/") {
		return RoleARN{}, fmt.Errorf("%q is not an IAM role ARN (arn:aws:iam::123456789012:role/RoleName)", s)
	}
	if _, err := ParseAccountID(a.AccountID); err != nil {
		return RoleARN{}, fmt.Errorf("%q: %w", s, err)
	}
	rest := strings.TrimPrefix(a.Resource, "role")
	i := strings.LastIndexByte(rest, '/')
	path, name := rest[:i+1], rest[i+1:]
	if err := CheckRolePath(path); err != nil {
		return RoleARN{}, fmt.Errorf("%q: %w", s, err)
	}
	if err := CheckRoleName(name); err != nil {
		return RoleARN{}, fmt.Errorf("%q: %w", s, err)
	}
	return RoleARN{ARN: a, Path: path, Name: name}, nil
}

// MaxRolePath is IAM's longest path.
const MaxRolePath = 512

// CheckRolePath applies IAM's path rules: "/", or up to 512 characters of printable ASCII without spaces that
// start and end with "/" and have something between.
func CheckRolePath(path string) error {
	if path == "/" {
		return nil
	}
	if len(path) > MaxRolePath {
		return fmt.Errorf("an IAM path has at most %d characters (got %d)", MaxRolePath, len(path))
	}
	if len(path) < 3 || path[0] != '/' || path[len(path)-1] != '/' {
		return fmt.Errorf("an IAM path is / or starts and ends with / around a name, such as /team/ (got %q)", path)
	}
	for i := 0; i < len(path); i++ {
		if path[i] < 0x21 || path[i] > 0x7e {
			return fmt.Errorf("an IAM path may contain only printable ASCII without spaces (found %q)", path[i])
		}
	}
	return nil
}

// CheckRoleName applies IAM's role-name rules ([\w+=,.@-]{1,64}): 1-64 characters of ASCII letters, digits and
// +=,.@_-. A name so checked cannot be a wildcard, a path or a policy variable when it is written into an ARN.
func CheckRoleName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("an IAM role name has 1 to 64 characters (got %d bytes)", len(name))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+=,.@_-", r)) {
			return fmt.Errorf("an IAM role name may contain only letters, digits and +=,.@_- (found %q)", r)
		}
	}
	return nil
}
