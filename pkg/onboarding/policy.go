package onboarding

import (
	"github.com/gangplank/gangplank/pkg/accounts"
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

var tagReadActions = []string{"tag:GetResources", "tag:GetTagKeys", "tag:GetTagValues"}

// tagWriteActions are the Resource Groups Tagging API's writes plus the service-level tag actions it calls on the
// caller's behalf. IAM's own tagging actions are left out on purpose: with attribute-based access control, writing
// tags on IAM principals can change what they may do.
var tagWriteActions = []string{
	"tag:TagResources", "tag:UntagResources",
	"acm:AddTagsToCertificate", "acm:RemoveTagsFromCertificate",
	"cloudwatch:TagResource", "cloudwatch:UntagResource",
	"dynamodb:TagResource", "dynamodb:UntagResource",
	"ec2:CreateTags", "ec2:DeleteTags",
	"ecr:TagResource", "ecr:UntagResource",
	"ecs:TagResource", "ecs:UntagResource",
	"eks:TagResource", "eks:UntagResource",
	"elasticache:AddTagsToResource", "elasticache:RemoveTagsFromResource",
	"elasticfilesystem:TagResource", "elasticfilesystem:UntagResource",
	"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
	"es:AddTags", "es:RemoveTags",
	"kinesis:AddTagsToStream", "kinesis:RemoveTagsFromStream",
	"kms:TagResource", "kms:UntagResource",
	"lambda:TagResource", "lambda:UntagResource",
	"logs:TagResource", "logs:UntagResource",
	"rds:AddTagsToResource", "rds:RemoveTagsFromResource",
	"redshift:CreateTags", "redshift:DeleteTags",
	"s3:GetBucketTagging", "s3:PutBucketTagging",
	"secretsmanager:TagResource", "secretsmanager:UntagResource",
	"sns:TagResource", "sns:UntagResource",
	"sqs:TagQueue", "sqs:UntagQueue",
}

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

// RoleShape is what decides a role's permissions.
type RoleShape struct {
	AccessLevel accounts.AccessLevel
	Type        accounts.Type
	// BulkActivation lets a management account's role assume MemberAccessRole in its organization's accounts.
	BulkActivation   bool
	MemberAccessRole string
}

// PermissionPolicies returns the role's inline policies, in the template's order.
func PermissionPolicies(s RoleShape) []NamedPolicy {
	tags := Policy{Version: policyVersion}
	if s.AccessLevel == accounts.Resources {
		// ViewOnlyAccess may grant tag reads; at this level Gangplank promises not to read tags, so it denies them.
		tags.Statement = append(tags.Statement, Statement{Sid: "NoTagReads", Effect: "Deny", Action: tagReadActions, Resource: "*"})
	} else {
		tags.Statement = append(tags.Statement, Statement{Sid: "ReadTags", Effect: "Allow", Action: tagReadActions, Resource: "*"})
	}
	if s.AccessLevel == accounts.TagsWrite {
		tags.Statement = append(tags.Statement, Statement{Sid: "WriteTagsOnly", Effect: "Allow", Action: tagWriteActions, Resource: "*"})
	}
	policies := []NamedPolicy{{Name: "GangplankTags", Document: tags}}
	if s.Type != accounts.Linked {
		policies = append(policies, NamedPolicy{Name: "GangplankBilling", Document: Policy{Version: policyVersion, Statement: []Statement{
			{Sid: "CostExplorerRecommendationsAndSpend", Effect: "Allow", Action: costExplorerActions, Resource: "*"},
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
	return policies
}
