// Package awsorganizations reads AWS Organizations for discovery over the SDK's client. It is the only package of
// discovery that links the Organizations SDK (whose init every function linking it pays at each cold start), so
// only the functions that read organizations link it.
package awsorganizations

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/smithy-go"

	"github.com/gangplank/gangplank/pkg/awsx"
	"github.com/gangplank/gangplank/pkg/discovery"
)

// Client reads an organization through one account's session.
type Client struct {
	api *organizations.Client
}

var _ discovery.Organizations = Client{}

// New builds the client over an account's configuration (discovery.Service.Organizations). Organizations allows a
// few requests per second per account; TooManyRequestsException is waited out with jittered exponential backoff
// up to maxBackoff (every attempt allowed: a discovery would rather wait than fail).
func New(cfg aws.Config, maxBackoff time.Duration) discovery.Organizations {
	return Client{api: organizations.NewFromConfig(cfg, func(o *organizations.Options) {
		o.Region = "us-east-1"
		o.Retryer = awsx.PatientRetryer(10, maxBackoff, "TooManyRequestsException")
		o.RetryMaxAttempts = 10
	})}
}

// Root is ListRoots' first root.
func (c Client) Root(ctx context.Context) (discovery.OU, error) {
	out, err := c.api.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		return discovery.OU{}, translate(err)
	}
	if len(out.Roots) == 0 {
		return discovery.OU{}, discovery.ErrNoRoot
	}
	return discovery.OU{ID: aws.ToString(out.Roots[0].Id), Name: aws.ToString(out.Roots[0].Name)}, nil
}

// ChildOUs is one ListOrganizationalUnitsForParent.
func (c Client) ChildOUs(ctx context.Context, parentID, pageToken string) ([]discovery.OU, string, error) {
	out, err := c.api.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{
		ParentId: aws.String(parentID), NextToken: token(pageToken)})
	if err != nil {
		return nil, "", translate(err)
	}
	ous := make([]discovery.OU, 0, len(out.OrganizationalUnits))
	for _, ou := range out.OrganizationalUnits {
		ous = append(ous, discovery.OU{ID: aws.ToString(ou.Id), Name: aws.ToString(ou.Name)})
	}
	return ous, aws.ToString(out.NextToken), nil
}

// ChildAccounts is one ListAccountsForParent.
func (c Client) ChildAccounts(ctx context.Context, parentID, pageToken string) ([]discovery.Member, string, error) {
	out, err := c.api.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{
		ParentId: aws.String(parentID), NextToken: token(pageToken)})
	if err != nil {
		return nil, "", translate(err)
	}
	members := make([]discovery.Member, 0, len(out.Accounts))
	for _, a := range out.Accounts {
		members = append(members, discovery.Member{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name), Email: aws.ToString(a.Email),
			Status: string(a.Status), JoinedMethod: string(a.JoinedMethod), JoinedAt: a.JoinedTimestamp})
	}
	return members, aws.ToString(out.NextToken), nil
}

// ManagementAccountID is DescribeOrganization's management (master) account.
func (c Client) ManagementAccountID(ctx context.Context) (string, error) {
	out, err := c.api.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return "", translate(err)
	}
	if out.Organization == nil {
		return "", nil
	}
	return aws.ToString(out.Organization.MasterAccountId), nil
}

// HasAccount is DescribeAccount: AccountNotFoundException means the account is not in the organization.
func (c Client) HasAccount(ctx context.Context, accountID string) (bool, error) {
	_, err := c.api.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(accountID)})
	var api smithy.APIError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &api) && api.ErrorCode() == "AccountNotFoundException":
		return false, nil
	}
	return false, translate(err)
}

// translate marks the answer of an account in no organization as discovery.ErrNotInOrganization, keeping the
// SDK's error (and its request id) behind it.
func translate(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "AWSOrganizationsNotInUseException" {
		return fmt.Errorf("%w: %w", discovery.ErrNotInOrganization, err)
	}
	return err
}

func token(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
