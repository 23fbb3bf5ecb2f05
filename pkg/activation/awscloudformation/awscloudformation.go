// Package awscloudformation looks up and creates onboarding stacks in member accounts with AWS CloudFormation
// (activation.CloudFormation). Only the function that runs the bulk-activation workflow's tasks links it, so the
// others do not pay CloudFormation's package init at their cold start.
package awscloudformation

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"

	"github.com/gangplank/gangplank/pkg/activation"
)

// API is the part of CloudFormation a batch uses.
type API interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
	CreateStack(ctx context.Context, in *cloudformation.CreateStackInput, optFns ...func(*cloudformation.Options)) (*cloudformation.CreateStackOutput, error)
}

var _ API = (*cloudformation.Client)(nil)

// New returns CloudFormation acting as cfg: a member account's configuration, which names the stack's region and
// carries the batch's retryer (activation.Service.CloudFormation).
func New(cfg aws.Config) activation.CloudFormation {
	return Stacks{Client: cloudformation.NewFromConfig(cfg)}
}

// Stacks looks up and creates stacks.
type Stacks struct {
	Client API
}

var _ activation.CloudFormation = Stacks{}

// Stacks describes the stacks of that name; CloudFormation's ValidationError for a name no stack has is none.
func (s Stacks) Stacks(ctx context.Context, name string) ([]activation.Stack, error) {
	out, err := s.Client.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationError" && strings.Contains(apiErr.ErrorMessage(), "does not exist") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	stacks := make([]activation.Stack, 0, len(out.Stacks))
	for _, st := range out.Stacks {
		stacks = append(stacks, activation.Stack{ID: aws.ToString(st.StackId), Status: string(st.StackStatus), StatusReason: aws.ToString(st.StackStatusReason)})
	}
	return stacks, nil
}

// CreateStack creates the stack and returns its id.
func (s Stacks) CreateStack(ctx context.Context, in activation.NewStack) (string, error) {
	var params []cfntypes.Parameter
	for k, v := range in.Parameters {
		params = append(params, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
	}
	var capabilities []cfntypes.Capability
	for _, c := range in.Capabilities {
		capabilities = append(capabilities, cfntypes.Capability(c))
	}
	out, err := s.Client.CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName: aws.String(in.Name), TemplateURL: aws.String(in.TemplateURL), Parameters: params,
		Capabilities: capabilities, NotificationARNs: in.NotificationARNs, ClientRequestToken: aws.String(in.ClientRequestToken),
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.StackId), nil
}
