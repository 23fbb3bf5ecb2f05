// Package crossaccount reaches customers' AWS accounts. The platform's own credentials assume the connector role
// (the one principal every customer role trusts), and the connector's session assumes the customer's role with the
// tenant's External ID. Nothing else in the platform holds cross-account permissions: Verify proves a role a
// customer presents, and the Door (door.go) is the one way every capability enters an account once connected.
package crossaccount

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gangplank/gangplank/pkg/awsid"
)

// STS is the part of STS verification uses.
type STS interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

// RolePrefix starts the name of every customer role: the connector may assume roles of this pattern and no other.
const RolePrefix = "Gangplank"

// sessionDuration is one hour: the longest a chained role session may last.
const sessionDuration = time.Hour

// Connector holds the platform side of the chain. Build one per cold start.
type Connector struct {
	platform  aws.Config // the platform's own configuration (endpoints, retries), for keys customers hand over
	connector aws.Config // acts as the connector role (or as the platform itself when there is none)
	sts       STS
	// Backoff is the first wait between attempts while a new role propagates through IAM; it doubles up to 8 s.
	Backoff time.Duration

	mu    sync.Mutex
	cache map[string]*aws.CredentialsCache
}

// New returns a connector. With connectorRoleARN empty, the platform's credentials act directly (useful only where
// the platform principal itself is what customers trust).
func New(platform aws.Config, connectorRoleARN string) *Connector {
	cfg := platform.Copy()
	if connectorRoleARN != "" {
		provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(platform), connectorRoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = "gangplank-connector"
			o.Duration = sessionDuration
		})
		cfg.Credentials = aws.NewCredentialsCache(provider, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 5 * time.Minute })
	}
	return &Connector{platform: platform.Copy(), connector: cfg, sts: sts.NewFromConfig(cfg), Backoff: time.Second, cache: map[string]*aws.CredentialsCache{}}
}

// credentials returns the cached credentials of the customer's role with one External ID, refreshed ahead of
// expiry and shared by every caller of the same role, External ID and purpose. purpose names the session in the
// customer's CloudTrail ("gangplank-discovery"). Only the Door uses it: nothing else enters customers' accounts.
func (c *Connector) credentials(roleARN, externalID, purpose string) *aws.CredentialsCache {
	key := roleARN + "|" + externalID + "|" + purpose
	c.mu.Lock()
	defer c.mu.Unlock()
	creds, ok := c.cache[key]
	if !ok {
		provider := stscreds.NewAssumeRoleProvider(c.sts, roleARN, func(o *stscreds.AssumeRoleOptions) {
			o.ExternalID = aws.String(externalID)
			o.RoleSessionName = "gangplank-" + purpose
			o.Duration = sessionDuration
		})
		creds = aws.NewCredentialsCache(provider, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 5 * time.Minute })
		c.cache[key] = creds
	}
	return creds
}

// Failure says why a role could not be verified.
type Failure string

const (
	// Denied: STS refused AssumeRole. AWS gives the same answer whether the role is missing, does not trust the
	// platform or requires another External ID, so the reason names all three.
	Denied Failure = "denied"
	// WrongIdentity: the role was assumed but is not the expected account's role.
	WrongIdentity Failure = "wrong-identity"
	// Unreachable: STS could not be reached or throttled us; try again later.
	Unreachable Failure = "unreachable"
)

// VerifyError is a failed verification with a reason written for the customer.
type VerifyError struct {
	Failure Failure
	Reason  string
	Cause   error
}

func (e *VerifyError) Error() string { return e.Reason }
func (e *VerifyError) Unwrap() error { return e.Cause }

// Verified is a successful verification.
type Verified struct {
	// ExternalID is the one the role accepted (the tenant's current one, or a previous one in its grace period).
	ExternalID string
	// Identity is the assumed session's ARN.
	Identity string
	Attempts int
	// Session acts as the verified session (15 minutes), for checks that belong to the verification itself (what
	// the role grants); everything else enters the account through the Door.
	Session aws.Config
}

// Target is what to verify: the role, the account it must belong to, and what the customer must have configured.
type Target struct {
	AccountID string
	RoleARN   string
	// ExternalIDs are tried in order: the tenant's current one first, then previous ones still in their grace period.
	ExternalIDs []string
	// PlatformPrincipal is the ARN the role must trust, named in failure reasons.
	PlatformPrincipal string
}

// Verify assumes the role with each External ID and checks, with the session's GetCallerIdentity, that it is the
// role in the expected account. While STS refuses, it keeps trying until retryFor has passed (a new role can take up
// to a minute to become assumable), never past ctx's deadline.
func (c *Connector) Verify(ctx context.Context, t Target, retryFor time.Duration) (Verified, error) {
	role, err := awsid.ParseRoleARN(t.RoleARN)
	if err != nil {
		return Verified{}, &VerifyError{Failure: WrongIdentity, Reason: err.Error(), Cause: err}
	}
	if role.AccountID != t.AccountID {
		return Verified{}, &VerifyError{Failure: WrongIdentity,
			Reason: fmt.Sprintf("the role %s belongs to account %s, not to account %s", t.RoleARN, role.AccountID, t.AccountID)}
	}
	if !strings.HasPrefix(role.Name, RolePrefix) {
		return Verified{}, &VerifyError{Failure: WrongIdentity,
			Reason: fmt.Sprintf("the role's name must start with %q (it is %q): Gangplank may assume only roles named that way", RolePrefix, role.Name)}
	}
	deadline := time.Now().Add(retryFor)
	wait := c.Backoff
	for attempt := 1; ; attempt++ {
		v, err := c.try(ctx, t)
		v.Attempts = attempt
		var ve *VerifyError
		if err == nil || !errors.As(err, &ve) || ve.Failure == WrongIdentity {
			return v, err
		}
		next := time.Now().Add(wait)
		if next.After(deadline) || !beforeDeadline(ctx, next) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(wait):
		}
		wait = min(wait*2, 8*time.Second)
	}
}

// beforeDeadline reports whether t leaves ctx a second to act after waiting.
func beforeDeadline(ctx context.Context, t time.Time) bool {
	d, ok := ctx.Deadline()
	return !ok || t.Add(time.Second).Before(d)
}

func (c *Connector) try(ctx context.Context, t Target) (Verified, error) {
	var lastDenied error
	for _, externalID := range t.ExternalIDs {
		out, err := c.sts.AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn: aws.String(t.RoleARN), RoleSessionName: aws.String("gangplank-verify"),
			ExternalId: aws.String(externalID), DurationSeconds: aws.Int32(900),
		})
		if err != nil {
			if isAccessDenied(err) {
				lastDenied = err
				continue
			}
			return Verified{}, &VerifyError{Failure: Unreachable, Cause: err,
				Reason: "Gangplank could not reach AWS STS to verify the role; it will be checked again, or retry later"}
		}
		session := c.connector.Copy()
		session.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId),
			aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
		id, err := sts.NewFromConfig(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return Verified{}, &VerifyError{Failure: Unreachable, Cause: err,
				Reason: "Gangplank assumed the role but could not confirm its identity with STS; retry later"}
		}
		role, _ := awsid.ParseRoleARN(t.RoleARN)
		wantPrefix := fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/", t.AccountID, role.Name)
		if aws.ToString(id.Account) != t.AccountID || !strings.HasPrefix(aws.ToString(id.Arn), wantPrefix) {
			return Verified{}, &VerifyError{Failure: WrongIdentity,
				Reason: fmt.Sprintf("assuming %s gave the identity %s in account %s, not the role in account %s",
					t.RoleARN, aws.ToString(id.Arn), aws.ToString(id.Account), t.AccountID)}
		}
		return Verified{ExternalID: externalID, Identity: aws.ToString(id.Arn), Session: session}, nil
	}
	return Verified{}, &VerifyError{Failure: Denied, Cause: lastDenied, Reason: fmt.Sprintf(
		"Gangplank cannot assume %s. Check that the role exists in account %s, that its trust policy allows %s "+
			"to call sts:AssumeRole, and that it requires your tenant's External ID (sts:ExternalId) shown in Gangplank",
		t.RoleARN, t.AccountID, principalOrPlatform(t.PlatformPrincipal))}
}

func principalOrPlatform(p string) string {
	if p == "" {
		return "Gangplank's platform principal"
	}
	return p
}

func isAccessDenied(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode() == "AccessDenied" || apiErr.ErrorCode() == "AccessDeniedException")
}
