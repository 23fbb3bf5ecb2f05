package localaws_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func policy(statements ...map[string]any) string {
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(b)
}

func createRole(t *testing.T, client *iam.Client, name, trust string, inline ...string) string {
	t.Helper()
	out, err := client.CreateRole(t.Context(), &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatalf("create role %s: %v", name, err)
	}
	for i, doc := range inline {
		if _, err := client.PutRolePolicy(t.Context(), &iam.PutRolePolicyInput{RoleName: aws.String(name),
			PolicyName: aws.String(name + "-" + string(rune('a'+i))), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatalf("put role policy: %v", err)
		}
	}
	return aws.ToString(out.Role.Arn)
}

// TestAssumeRoleEnforcesTrust: the local STS refuses what AWS refuses (missing role, untrusted caller, wrong or
// missing External ID, a chained session whose own policies do not allow the next hop) and allows the rest.
func TestAssumeRoleEnforcesTrust(t *testing.T) {
	env := testkit.LocalAWS(t)
	cfg := testkit.AWSConfig(t, nil)
	ctx := t.Context()
	const customer, other = "210987654321", "310987654321"
	suffix := testkit.UniqueName("r")

	// The platform's connector, allowed to assume only Gangplank* roles.
	connector := createRole(t, env.AccountIAM(localaws.PlatformAccountID), "connector-"+suffix,
		policy(map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": map[string]any{"AWS": "arn:aws:iam::" + localaws.PlatformAccountID + ":root"}}),
		policy(map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/Gangplank*"}))
	trustsConnector := policy(map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole",
		"Principal": map[string]any{"AWS": connector}, "Condition": map[string]any{"StringEquals": map[string]any{"sts:ExternalId": "ext-1"}}})
	good := createRole(t, env.AccountIAM(customer), "Gangplank-"+suffix, trustsConnector)
	notGangplank := createRole(t, env.AccountIAM(customer), "Other-"+suffix, trustsConnector)
	trustsSomeoneElse := createRole(t, env.AccountIAM(customer), "Gangplank-else-"+suffix, policy(map[string]any{"Effect": "Allow",
		"Action": "sts:AssumeRole", "Principal": map[string]any{"AWS": "arn:aws:iam::" + other + ":root"}}))
	denied := createRole(t, env.AccountIAM(customer), "Gangplank-deny-"+suffix, policy(
		map[string]any{"Effect": "Allow", "Action": "sts:*", "Principal": map[string]any{"AWS": "*"}},
		map[string]any{"Effect": "Deny", "Action": "sts:AssumeRole", "Principal": map[string]any{"AWS": connector}}))

	platform := sts.NewFromConfig(cfg)
	viaConnector := chained(t, platform, cfg, connector, "")

	tests := []struct {
		name       string
		client     *sts.Client
		role, ext  string
		wantDenied bool
	}{
		{"connector assumed by the platform", platform, connector, "", false},
		{"customer role with its External ID", viaConnector, good, "ext-1", false},
		{"wrong External ID", viaConnector, good, "ext-2", true},
		{"no External ID", viaConnector, good, "", true},
		{"role that does not exist", viaConnector, "arn:aws:iam::" + customer + ":role/Gangplank-missing", "ext-1", true},
		{"role trusting another account", viaConnector, trustsSomeoneElse, "ext-1", true},
		{"explicit deny wins over allow", viaConnector, denied, "ext-1", true},
		{"connector's own policy forbids non-Gangplank roles", viaConnector, notGangplank, "ext-1", true},
		{"platform user is not the trusted connector", platform, good, "ext-1", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &sts.AssumeRoleInput{RoleArn: aws.String(tc.role), RoleSessionName: aws.String("test")}
			if tc.ext != "" {
				in.ExternalId = aws.String(tc.ext)
			}
			_, err := tc.client.AssumeRole(ctx, in)
			var apiErr smithy.APIError
			gotDenied := errors.As(err, &apiErr) && apiErr.ErrorCode() == "AccessDenied"
			if gotDenied != tc.wantDenied || (err != nil && !gotDenied) {
				t.Errorf("AssumeRole(%s, %q) error = %v, want denied=%v", tc.role, tc.ext, err, tc.wantDenied)
			}
		})
	}

	// The session acts in the customer's account (moto keys state by account).
	session := chained(t, viaConnector, cfg, good, "ext-1")
	id, err := session.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != customer {
		t.Errorf("identity = %v, %v", id, err)
	}
}

// chained assumes role with client and returns an STS client acting as the session.
func chained(t *testing.T, client *sts.Client, cfg aws.Config, role, ext string) *sts.Client {
	t.Helper()
	in := &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("chain")}
	if ext != "" {
		in.ExternalId = aws.String(ext)
	}
	out, err := client.AssumeRole(context.Background(), in)
	if err != nil {
		t.Fatalf("assume %s: %v", role, err)
	}
	c := cfg.Copy()
	c.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId),
		aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	return sts.NewFromConfig(c)
}

// TestAssumeRoleOrganizationCondition: a management account's role may hop into member accounts of its own
// organization only (aws:ResourceOrgID = ${aws:PrincipalOrgID}), as the onboarding template's bulk activation
// policy says.
func TestAssumeRoleOrganizationCondition(t *testing.T) {
	env := testkit.LocalAWS(t)
	cfg := testkit.AWSConfig(t, nil)
	ctx := t.Context()
	const management, outsider = "410987654321", "510987654321"
	org := testkit.Organizations(t, management)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: "ALL"}); err != nil {
		t.Fatalf("create organization: %v", err)
	}
	created, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("member"), Email: aws.String("m@example.com")})
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	member := aws.ToString(created.CreateAccountStatus.AccountId)
	// An outsider account with a role of the same name, trusting the management account too.
	createRole(t, env.AccountIAM(outsider), "OrganizationAccountAccessRole", policy(map[string]any{"Effect": "Allow",
		"Action": "sts:AssumeRole", "Principal": map[string]any{"AWS": "arn:aws:iam::" + management + ":root"}}))

	suffix := testkit.UniqueName("m")
	mgmtRole := createRole(t, env.AccountIAM(management), "Gangplank-"+suffix,
		policy(map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": map[string]any{"AWS": "arn:aws:iam::" + localaws.PlatformAccountID + ":root"}}),
		policy(map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/OrganizationAccountAccessRole",
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}}))
	session := chained(t, sts.NewFromConfig(cfg), cfg, mgmtRole, "")

	if _, err := session.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + member + ":role/OrganizationAccountAccessRole"),
		RoleSessionName: aws.String("member")}); err != nil {
		t.Errorf("member of the organization: %v", err)
	}
	_, err = session.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + outsider + ":role/OrganizationAccountAccessRole"),
		RoleSessionName: aws.String("outsider")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" {
		t.Errorf("account outside the organization: error = %v, want AccessDenied", err)
	}
}
