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

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/validation"
)

// Instance is an IAM Identity Center instance, as ListInstances describes it.
type Instance struct {
	ARN string
	// PrimaryRegion is where the instance was created, when the region asked is one it is replicated to.
	PrimaryRegion string
}

// ErrAccessDenied is IAM Identity Center refusing the role (sso:ListInstances not allowed).
var ErrAccessDenied = errors.New("the role may not list IAM Identity Center instances")

// Instances is the one IAM Identity Center call the check makes: the instances that cfg's principal sees in region
// (ErrAccessDenied when it may not look). pkg/identitycenter/awsssoadmin implements it; only the functions that
// check SSO regions link that client.
type Instances func(ctx context.Context, cfg aws.Config, region string) ([]Instance, error)

// Door enters a customer's account (crossaccount.Door): the one way in.
type Door interface {
	Enter(ctx context.Context, tenantID, accountID, purpose string, require ...func(accounts.Account) error) (crossaccount.Session, error)
}

// Checker implements accounts.SSORegionChecker.
type Checker struct {
	Door      Door
	Now       func() time.Time
	Instances Instances
}

var _ accounts.SSORegionChecker = (*Checker)(nil)

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
	instances, err := c.Instances(ctx, sess.Config, region)
	switch {
	case errors.Is(err, ErrAccessDenied):
		return unverified("the role may not read IAM Identity Center (sso:ListInstances), so the region was taken as given")
	case err != nil:
		return unverified("Gangplank could not read IAM Identity Center through the role just now (" + firstLine(err) + "); the region was taken as given")
	}
	for _, in := range instances {
		arn := in.ARN
		if p := in.PrimaryRegion; p != "" && p != region {
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
