package onboarding

import (
	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/inventory"
)

// The role's permissions, for customers who create it by hand (the AWS DevOps Agent way) or with Terraform. They
// are the same as the onboarding template's: a test deploys the template into the local AWS for every access level
// and account type and compares the role it creates with these.

// Policy is an IAM policy document.
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one IAM policy statement.
type Statement struct {
	Sid       string                       `json:"Sid,omitempty"`
	Effect    string                       `json:"Effect"`
	Principal map[string]string            `json:"Principal,omitempty"`
	Action    []string                     `json:"Action"`
	Resource  string                       `json:"Resource,omitempty"`
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

// NamedPolicy is an inline policy with its name on the role.
type NamedPolicy struct {
	Name     string `json:"name"`
	Document Policy `json:"document"`
}

const policyVersion = "2012-10-17"

// ViewOnlyAccess is the AWS-managed policy every Gangplank role carries: list and describe across AWS services,
// maintained by AWS as services appear, without access to data (no object reads, no secrets).
const ViewOnlyAccess = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"

// DefaultRoleName is the role's name unless the tenant chooses another (it must start with "Gangplank").
const DefaultRoleName = "GangplankAccess"

// DefaultMemberAccessRole is the role AWS Organizations creates in the member accounts it creates.
const DefaultMemberAccessRole = "OrganizationAccountAccessRole"

// TrustPolicy lets principal assume the role, and only with the tenant's External ID.
func TrustPolicy(principal, externalID string) Policy {
	return Policy{Version: policyVersion, Statement: []Statement{{
		Sid: "GangplankWithExternalId", Effect: "Allow",
		Principal: map[string]string{"AWS": principal},
		Action:    []string{"sts:AssumeRole"},
		Condition: map[string]map[string]string{"StringEquals": {"sts:ExternalId": externalID}},
	}}}
}

// The inventory's actions come from the inventory, which uses exactly these (pkg/inventory/types.go): the reads
// of every level (regions, Resource Explorer), the Tagging API's read (resources_tags and up), and the tag writes
// of tags_write (the Tagging API's and each resource type's service; never IAM's own tagging: with
// attribute-based access control, writing tags on IAM principals can change what they may do).
var (
	inventoryActions = inventory.InventoryActions
	tagReadActions   = inventory.TagReadActions
	noTagReadActions = inventory.NoTagReadActions
	tagWriteActions  = inventory.TagWriteActions()
)

var costExplorerActions = []string{
	"ce:GetCostAndUsage", "ce:GetReservationPurchaseRecommendation", "ce:GetSavingsPlansPurchaseRecommendation",
}

var organizationReadActions = []string{
	"organizations:DescribeAccount", "organizations:DescribeOrganization", "organizations:DescribeOrganizationalUnit",
	"organizations:ListAccounts", "organizations:ListAccountsForParent", "organizations:ListChildren",
	"organizations:ListOrganizationalUnitsForParent", "organizations:ListParents", "organizations:ListRoots",
	// The organization's IAM Identity Center instance: which region it lives in (the SSO region check).
	"sso:ListInstances",
}

// identityReadActions are what the identity integration reads: the account's IAM users, groups and policies in a
// few pages (GetAccountAuthorizationDetails), the credential report, virtual MFA devices and the password policy,
// and one user's credentials when it is offboarded. Nothing here reveals a secret.
var identityReadActions = []string{
	"iam:GenerateCredentialReport", "iam:GetAccountAuthorizationDetails", "iam:GetAccountPasswordPolicy",
	"iam:GetCredentialReport", "iam:GetGroup", "iam:GetLoginProfile", "iam:GetPolicy", "iam:GetUser",
	"iam:ListAccessKeys", "iam:ListAttachedUserPolicies", "iam:ListGroups", "iam:ListGroupsForUser", "iam:ListMFADevices",
	"iam:ListPolicies", "iam:ListSSHPublicKeys", "iam:ListServiceSpecificCredentials", "iam:ListSigningCertificates",
	"iam:ListUserPolicies", "iam:ListUsers", "iam:ListVirtualMFADevices",
}

// identityUserActions are a user's lifecycle, allowed only on users under the path prefix: create (with a console
// password that must be reset at first sign-in), attach and detach policies, and remove every way in before
// deleting. Creating access keys for users and changing an existing password are left out on purpose: they would
// let the role take over a user it did not create.
var identityUserActions = []string{
	"iam:AttachUserPolicy", "iam:CreateLoginProfile", "iam:CreateUser", "iam:DeactivateMFADevice",
	"iam:DeleteAccessKey", "iam:DeleteLoginProfile", "iam:DeleteSSHPublicKey", "iam:DeleteServiceSpecificCredential",
	"iam:DeleteSigningCertificate", "iam:DeleteUser", "iam:DeleteUserPolicy", "iam:DetachUserPolicy", "iam:TagUser",
	"iam:UntagUser", "iam:UpdateAccessKey",
}

// identityGroupActions act on the group (IAM authorizes them against the group, not the user), so they cannot be
// limited to users under the prefix.
var identityGroupActions = []string{"iam:AddUserToGroup", "iam:RemoveUserFromGroup"}

// IdentityPolicyName is the inline policy that grants the identity access option.
const IdentityPolicyName = "GangplankIdentity"

// IdentityPolicy is the inline policy granting an identity access option (none: nil), users' writes limited to the
// path prefix.
func IdentityPolicy(access accounts.IdentityAccess, prefix accounts.IAMPath) *Policy {
	if access.Or() == accounts.IdentityNone {
		return nil
	}
	p := &Policy{Version: policyVersion, Statement: []Statement{
		{Sid: "ReadIdentities", Effect: "Allow", Action: identityReadActions, Resource: "*"},
	}}
	if access == accounts.IdentityReadWrite {
		p.Statement = append(p.Statement,
			Statement{Sid: "ManageUsersUnderPathPrefix", Effect: "Allow", Action: identityUserActions,
				Resource: "arn:aws:iam::*:user" + string(prefix.Or()) + "*"},
			Statement{Sid: "ManageGroupMemberships", Effect: "Allow", Action: identityGroupActions, Resource: "arn:aws:iam::*:group/*"},
			Statement{Sid: "DeleteVirtualMFADevices", Effect: "Allow", Action: []string{"iam:DeleteVirtualMFADevice"}, Resource: "arn:aws:iam::*:mfa/*"},
		)
	}
	return p
}

// RoleShape is what decides a role's permissions.
type RoleShape struct {
	AccessLevel accounts.AccessLevel
	Type        accounts.Type
	// IdentityAccess and IdentityPathPrefix grant access to the account's IAM users (GangplankIdentity).
	IdentityAccess     accounts.IdentityAccess
	IdentityPathPrefix accounts.IAMPath
	// BulkActivation lets a management account's role assume MemberAccessRole in its organization's accounts.
	BulkActivation   bool
	MemberAccessRole string
}

// PermissionPolicies returns the role's inline policies, in the template's order.
func PermissionPolicies(s RoleShape) []NamedPolicy {
	tags := Policy{Version: policyVersion}
	if s.AccessLevel == accounts.Resources {
		// ViewOnlyAccess may grant tag reads; at this level Gangplank promises not to read tags, so it denies them.
		tags.Statement = append(tags.Statement, Statement{Sid: "NoTagReads", Effect: "Deny", Action: noTagReadActions, Resource: "*"})
	} else {
		tags.Statement = append(tags.Statement, Statement{Sid: "ReadTags", Effect: "Allow", Action: tagReadActions, Resource: "*"})
	}
	if s.AccessLevel == accounts.TagsWrite {
		tags.Statement = append(tags.Statement, Statement{Sid: "WriteTagsOnly", Effect: "Allow", Action: tagWriteActions, Resource: "*"})
	}
	policies := []NamedPolicy{{Name: "GangplankTags", Document: tags}, {Name: "GangplankInventory", Document: Policy{Version: policyVersion,
		Statement: []Statement{{Sid: "ListResources", Effect: "Allow", Action: inventoryActions, Resource: "*"}}}}}
	if s.Type != accounts.Linked {
		policies = append(policies, NamedPolicy{Name: "GangplankBilling", Document: Policy{Version: policyVersion, Statement: []Statement{
			{Sid: "CostExplorerRecommendationsAndSpend", Effect: "Allow", Action: costExplorerActions, Resource: "*"},
		}}})
	}
	if s.Type == accounts.Linked {
		// A linked account added without its management account names it: its organization, read from the member.
		policies = append(policies, NamedPolicy{Name: "GangplankOrganizationMembership", Document: Policy{Version: policyVersion, Statement: []Statement{
			{Sid: "DescribeOwnOrganization", Effect: "Allow", Action: []string{"organizations:DescribeOrganization"}, Resource: "*"},
		}}})
	}
	if s.Type == accounts.Management {
		policies = append(policies, NamedPolicy{Name: "GangplankOrganization", Document: Policy{Version: policyVersion, Statement: []Statement{
			{Sid: "ReadOrganization", Effect: "Allow", Action: organizationReadActions, Resource: "*"},
		}}})
		if s.BulkActivation {
			member := s.MemberAccessRole
			if member == "" {
				member = DefaultMemberAccessRole
			}
			policies = append(policies, NamedPolicy{Name: "GangplankMemberActivation", Document: Policy{Version: policyVersion, Statement: []Statement{{
				Sid: "AssumeMemberAccessRoleInThisOrganizationOnly", Effect: "Allow",
				Action:    []string{"sts:AssumeRole"},
				Resource:  "arn:aws:iam::*:role/" + member,
				Condition: map[string]map[string]string{"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}},
			}}}})
		}
	}
	if doc := IdentityPolicy(s.IdentityAccess, s.IdentityPathPrefix); doc != nil {
		policies = append(policies, NamedPolicy{Name: IdentityPolicyName, Document: *doc})
	}
	return policies
}
