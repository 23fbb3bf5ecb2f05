package localaws

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// trustEnforcer makes STS AssumeRole as strict as AWS: moto hands out credentials for any role ARN, even one that
// does not exist or does not trust the caller, and ignores sts:ExternalId. Here, before moto sees the call, the
// target role is read from moto's IAM in its own account and its trust policy is evaluated against the caller (the
// platform, an account's root, an IAM user or a role session) and the External ID. The caller's own permission
// (sts:AssumeRole on the role in its identity policies, for users and role sessions) was checked before by the
// identity enforcer, with the same evaluator. A refusal is AWS's AccessDenied, with AWS's wording.
type trustEnforcer struct {
	env *Env
}

func (t *trustEnforcer) Intercept(w http.ResponseWriter, c *Call) bool {
	if !c.Is("sts", "AssumeRole") {
		return false
	}
	ctx := c.Request.Context()
	roleARN := c.Form("RoleArn")
	caller, _ := t.env.resolvePrincipal(c)
	deny := func(why string) bool {
		WriteQueryError(w, http.StatusForbidden, "AccessDenied", fmt.Sprintf(
			"User: %s is not authorized to perform: sts:AssumeRole on resource: %s (%s)", caller.arn, roleARN, why))
		return true
	}
	targetAccount, roleName, ok := splitRoleARN(roleARN)
	if !ok {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "RoleArn is not a role ARN: "+roleARN)
		return true
	}
	role, err := t.env.policies.role(ctx, targetAccount, roleName)
	if err != nil {
		return deny(err.Error())
	}
	if !role.exists {
		return deny(fmt.Sprintf("the role %s does not exist in account %s", roleName, targetAccount))
	}
	req := authzRequest{Action: "sts:AssumeRole", Resource: roleARN, Principal: caller, Keys: t.env.requestKeys(c, caller, roleARN)}
	if evaluate([]policyDocument{role.trust}, req, true) != allowed {
		return deny("the role's trust policy does not allow this principal with this External ID")
	}
	return t.forward(w, c, roleARN)
}

// organizationOf is the id of the organization account belongs to, or "" if none.
func (e *Env) organizationOf(ctx context.Context, account string) string {
	client := organizations.New(organizations.Options{
		Region: Region, BaseEndpoint: aws.String(e.MotoEndpoint), Credentials: staticCredentials,
		HTTPClient: &http.Client{Transport: accountHeader{account}}, RetryMaxAttempts: 1,
	})
	out, err := client.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil || out.Organization == nil {
		return ""
	}
	return aws.ToString(out.Organization.Id)
}

// forward lets moto issue the credentials and remembers whose they are.
func (t *trustEnforcer) forward(w http.ResponseWriter, c *Call, roleARN string) bool {
	resp, body, err := t.env.roundTripMoto(c)
	if err != nil {
		WriteQueryError(w, http.StatusServiceUnavailable, "ServiceUnavailable", err.Error())
		return true
	}
	if resp.StatusCode == http.StatusOK {
		var out struct {
			Result struct {
				Credentials     struct{ AccessKeyId string }
				AssumedRoleUser struct{ Arn string }
			} `xml:"AssumeRoleResult"`
		}
		if xml.Unmarshal(body, &out) == nil && out.Result.Credentials.AccessKeyId != "" {
			account, _, _ := splitRoleARN(roleARN)
			t.env.creds.addSession(out.Result.Credentials.AccessKeyId, session{RoleARN: roleARN, AccountID: account, AssumedARN: out.Result.AssumedRoleUser.Arn})
		}
	}
	writeUpstream(w, resp, body)
	return true
}

func splitRoleARN(arn string) (account, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return "", "", false
	}
	name = parts[5][len("role/"):]
	if i := strings.LastIndexByte(name, '/'); i >= 0 { // a role path: role/path/to/Name
		name = name[i+1:]
	}
	return parts[4], name, name != ""
}

// AccountIAM returns an IAM client acting in accountID of the local AWS as the account's root, through the edge (so
// access keys it creates are known to the edge and act in that account).
func (e *Env) AccountIAM(accountID string) *iam.Client {
	return iam.NewFromConfig(e.AccountConfig(accountID))
}

// AccountConfig is an AWS configuration acting in accountID of the local AWS, through the edge: a customer's own
// credentials, as tests and the local console use them to act in customers' accounts.
func (e *Env) AccountConfig(accountID string) aws.Config {
	return aws.Config{
		Region: Region, BaseEndpoint: aws.String(e.Endpoint), Credentials: staticCredentials,
		HTTPClient: &http.Client{Transport: accountHeader{accountID}}, RetryMaxAttempts: 1,
	}
}

// CallerAccount is the account a call acts in (for interceptors that inject faults per account).
func (e *Env) CallerAccount(c *Call) string { return e.callerAccount(c) }

// callerAccount is the account a call acts in: its principal's (a role session's or IAM user's account, the account
// named by moto's account header or a root access key, or the platform's).
func (e *Env) callerAccount(c *Call) string {
	p, _ := e.resolvePrincipal(c)
	if p.account == "" {
		return PlatformAccountID
	}
	return p.account
}

type accountHeader struct{ account string }

func (a accountHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(accountHeaderName, a.account)
	return http.DefaultTransport.RoundTrip(r)
}

var staticCredentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing", Source: "localaws"}, nil
})
