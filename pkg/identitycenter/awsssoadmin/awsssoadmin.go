// Package awsssoadmin reads IAM Identity Center (the SSO Admin API) for pkg/identitycenter. It is a package of its
// own so that only the functions that check SSO regions link the SDK's SSO Admin client, whose package init (its
// operation schemas, its endpoint rules) costs every cold start that links it about 2 ms.
package awsssoadmin

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/smithy-go"

	"github.com/gangplank/gangplank/pkg/identitycenter"
)

var _ identitycenter.Instances = ListInstances

// ListInstances lists the IAM Identity Center instances cfg's principal sees in region (the first page: an
// organization has one instance).
func ListInstances(ctx context.Context, cfg aws.Config, region string) ([]identitycenter.Instance, error) {
	out, err := ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) { o.Region = region }).ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &apiErr) && (apiErr.ErrorCode() == "AccessDeniedException" || apiErr.ErrorCode() == "AccessDenied"):
		return nil, identitycenter.ErrAccessDenied
	case err != nil:
		return nil, err
	}
	instances := make([]identitycenter.Instance, 0, len(out.Instances))
	for _, in := range out.Instances {
		instances = append(instances, identitycenter.Instance{ARN: aws.ToString(in.InstanceArn), PrimaryRegion: aws.ToString(in.PrimaryRegion)})
	}
	return instances, nil
}
