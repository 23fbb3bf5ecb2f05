// Package identitycenter checks where an organization's IAM Identity Center lives (Apono's "AWS SSO Region"),
// reading it through the management account's role: pkg/crossaccount is the door, as for every read in a
// customer's account.
package identitycenter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/smithy-go"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/validation"
)

// Instances is the one IAM Identity Center call the check makes.
type Instances interface {
	ListInstances(ctx context.Context, in *ssoadmin.ListInstancesInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ListInstancesOutput, error)
}

// Door enters a customer's account (crossaccount.Door): the one way in.
type Door interface {
	Enter(ctx context.Context, tenantID, accountID, purpose string, require ...func(accounts.Account) error) (crossaccount.Session, error)
}

// Checker implements accounts.SSORegionChecker.
type Checker struct {
	Door Door
	Now  func() time.Time
	// NewInstances builds the client for a region (default: the SDK's).
	NewInstances func(cfg aws.Config, region string) Instances
}

var _ accounts.SSORegionChecker = (*Checker)(nil)

func (c *Checker) client(cfg aws.Config, region string) Instances {
	if c.NewInstances != nil {
		return c.NewInstances(cfg, region)
	}
	return ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) { o.Region = region })
}

// CheckSSORegion lists the Identity Center instances the management account's role sees in region. An instance
// there verifies the region; none is a field error (the tenant named the wrong region, or Identity Center is not
// enabled); a role that may not look, or an account not connected yet, leaves the region unverified.
func (c *Checker) CheckSSORegion(ctx context.Context, a accounts.Account, region string) (accounts.SSORegionCheck, error) {
	now := c.Now().UTC()
	unverified := func(reason string) (accounts.SSORegionCheck, error) {
		return accounts.SSORegionCheck{Status: accounts.SSORegionUnverified, Reason: reason, CheckedAt: now}, nil
	}
	if crossaccount.Usable(a) != nil {
		return unverified("the account is not connected yet: Gangplank looks for IAM Identity Center there once it is")
	}
	sess, err := c.Door.Enter(ctx, a.TenantID, a.AccountID, "identity-center")
	switch {
	case errors.Is(err, crossaccount.ErrNotConnected):
		return unverified("the account is not connected yet: Gangplank looks for IAM Identity Center there once it is")
	case errors.Is(err, crossaccount.ErrAccessDenied):
		return unverified("Gangplank could not assume the account's role just now (" + firstLine(err) + "); the region was taken as given")
	case err != nil:
		return accounts.SSORegionCheck{}, err
	}
	out, err := c.client(sess.Config, region).ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &apiErr) && (apiErr.ErrorCode() == "AccessDeniedException" || apiErr.ErrorCode() == "AccessDenied"):
		return unverified("the role may not read IAM Identity Center (sso:ListInstances), so the region was taken as given")
	case err != nil:
		return unverified("Gangplank could not read IAM Identity Center through the role just now (" + firstLine(err) + "); the region was taken as given")
	}
	for _, in := range out.Instances {
		arn := aws.ToString(in.InstanceArn)
		if p := aws.ToString(in.PrimaryRegion); p != "" && p != region {
			return accounts.SSORegionCheck{Status: accounts.SSORegionVerified, CheckedAt: now, InstanceARN: arn,
				Reason: fmt.Sprintf("IAM Identity Center answers in %s; its primary region is %s", region, p)}, nil
		}
		return accounts.SSORegionCheck{Status: accounts.SSORegionVerified, CheckedAt: now, InstanceARN: arn,
			Reason: "the organization's IAM Identity Center instance is in " + region}, nil
	}
	return accounts.SSORegionCheck{}, validation.Field("ssoRegion",
		"the organization has no IAM Identity Center instance in %s: name the region where Identity Center is enabled "+
			"(its console's Settings page shows it)", region)
}

func firstLine(err error) string {
	s := err.Error()
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	if len(s) > 200 {
		return s[:200]
	}
	return s
}
