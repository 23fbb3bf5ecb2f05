package onboarding

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	"github.com/aws/smithy-go"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/crossaccount"
)

// A stack's AccessLevel property is the stack's word, and a role made by hand says nothing: the role itself has
// the last word. Each access level adds one family of permissions, and one harmless call tells whether the role
// has it:
//
//	resources_tags  tag:GetResources with ResourcesPerPage 1: a read of one resource's tags, or AccessDenied.
//	tags_write      tag:UntagResources of a tag key Gangplank never sets, on a resource that does not exist in the
//	                account: AWS checks tag:UntagResources before it looks at the resource, so the call answers
//	                AccessDenied without the permission, and with it succeeds and reports the resource in
//	                FailedResourcesMap. Nothing exists to change, and if it ever did, it would lose only a tag that
//	                nobody sets. (TagResources would prove the same permission family, but would write a tag if
//	                the resource existed.)
//
// The templates grant tag:UntagResources in the same statement as every service's tag writes, so the one call
// stands for the statement.

// probeTagKey is the tag key the write probe "removes".
const probeTagKey = "gangplank:access-probe"

// probeResource is a resource that does not exist in the account: an SNS topic name Gangplank reserves.
func probeResource(region, accountID string) string {
	return fmt.Sprintf("arn:aws:sns:%s:%s:gangplank-access-probe-does-not-exist", region, accountID)
}

// grant is what the probes found of a role's access level.
type grant struct {
	// Level is the highest level, up to the one claimed, whose permissions the role was seen to have.
	Level accounts.AccessLevel
	// Missing says which permission the role lacks, when Level is below the claim.
	Missing string
}

// grantedLevel verifies claimed against the role through its verified session, probing only what claimed adds
// (resources: nothing). A probe AWS does not answer (throttling, an outage) keeps the claim: the next verification
// checks again.
func (s *Service) grantedLevel(ctx context.Context, region, roleARN string, v crossaccount.Verified, claimed accounts.AccessLevel) grant {
	if claimed != accounts.ResourcesTags && claimed != accounts.TagsWrite {
		return grant{Level: claimed}
	}
	role, err := awsid.ParseRoleARN(roleARN)
	if err != nil {
		return grant{Level: claimed}
	}
	client := resourcegroupstaggingapi.NewFromConfig(v.Session, func(o *resourcegroupstaggingapi.Options) { o.Region = region })
	_, err = client.GetResources(ctx, &resourcegroupstaggingapi.GetResourcesInput{ResourcesPerPage: aws.Int32(1)})
	switch {
	case isAccessDenied(err):
		return grant{Level: accounts.Resources, Missing: fmt.Sprintf("The role does not allow tag reads (tag:GetResources was denied), "+
			"which access level %s needs.", claimed)}
	case err != nil:
		slog.WarnContext(ctx, "could not probe the role's tag reads; keeping the claimed access level", "roleArn", roleARN, "error", err.Error())
		return grant{Level: claimed}
	case claimed == accounts.ResourcesTags:
		return grant{Level: claimed}
	}
	_, err = client.UntagResources(ctx, &resourcegroupstaggingapi.UntagResourcesInput{
		ResourceARNList: []string{probeResource(region, role.AccountID)}, TagKeys: []string{probeTagKey}})
	switch {
	case isAccessDenied(err):
		return grant{Level: accounts.ResourcesTags, Missing: "The role does not allow tag writes (tag:UntagResources was denied), " +
			"which access level tags_write needs."}
	case err != nil:
		slog.WarnContext(ctx, "could not probe the role's tag writes; keeping the claimed access level", "roleArn", roleARN, "error", err.Error())
	}
	return grant{Level: claimed}
}

func isAccessDenied(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode() == "AccessDenied" || apiErr.ErrorCode() == "AccessDeniedException")
}

// higher is the higher of two access levels ("" counts as none).
func higher(a, b accounts.AccessLevel) accounts.AccessLevel {
	rank := func(l accounts.AccessLevel) int {
		for i, x := range accounts.AccessLevels {
			if x == l {
				return i
			}
		}
		return -1
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}
