package platform_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/awssecrets"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/platform/awsadapters"
	"github.com/gangplank/gangplank/pkg/platform/identityweb"
	"github.com/gangplank/gangplank/pkg/platform/web"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfig(t *testing.T) {
	ctx := context.Background()
	cfg := testkit.AWSConfig(t, nil)
	sm := secretsmanager.NewFromConfig(cfg)
	secret, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("gangplank-cursor-" + t.Name()), SecretString: aws.String(strings.Repeat("s", 40)),
	})
	if err != nil {
		t.Fatal(err)
	}
	full := map[string]string{"TENANTS_TABLE": "t", "ACCOUNTS_TABLE": "a", "COSTS_TABLE": "c", "COSTSYNC_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/gangplank-costsync",
		"INVENTORY_TABLE": "i", "INVENTORY_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/gangplank-inventory",
		"IDENTITY_QUEUE_URL":    "https://sqs.us-east-1.amazonaws.com/123456789012/gangplank-identity",
		"DISCOVERY_QUEUE_URL":   "https://sqs.us-east-1.amazonaws.com/123456789012/gangplank-discovery",
		"CURSOR_KEY_SECRET_ARN": aws.ToString(secret.ARN),
		"TENANT_CLAIM":          "custom:tenant_id", "ROLE_CLAIM": "custom:role",
		"ONBOARDING_TEMPLATE_URL":           "https://gangplank-templates.s3.us-east-1.amazonaws.com/onboarding/1.0.0/onboarding.yaml",
		"PLATFORM_PRINCIPAL_ARN":            "arn:aws:iam::123456789012:role/gangplank-connector",
		"CALLBACK_TOPIC_ARN_PATTERN":        "arn:aws:sns:{region}:123456789012:gangplank-onboarding",
		"CONNECTOR_ROLE_ARN":                "arn:aws:iam::123456789012:role/gangplank-connector",
		"BULK_ACTIVATION_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:gangplank-bulk-activation"}
	got, err := platform.LoadConfig(ctx, env(full), awssecrets.NewReader(cfg), platform.API.Needs)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.CursorKey) != strings.Repeat("s", 40) || got.Tables.Accounts() != "a" || got.Claims != (auth.Claims{Tenant: "custom:tenant_id", Role: "custom:role"}) ||
		got.Onboarding.CallbackTopic("eu-west-1") != "arn:aws:sns:eu-west-1:123456789012:gangplank-onboarding" || got.Onboarding.LinkTTL != 7*24*time.Hour ||
		got.Tables.Costs() != "c" || got.QueueURLs["costsync"] == "" || got.QueueURLs["discovery"] == "" || got.QueueURLs["inventory"] == "" {
		t.Errorf("config = %+v", got)
	}
	// The platform's own account comes from the ARNs of its resources, once.
	if ids := got.PlatformAccounts(); len(ids) != 1 || ids[0] != "123456789012" {
		t.Errorf("PlatformAccounts = %v", ids)
	}
	split := got
	split.ConnectorRoleARN = "arn:aws:iam::210987654321:role/gangplank-connector"
	if ids := split.PlatformAccounts(); len(ids) != 2 || ids[1] != "210987654321" {
		t.Errorf("PlatformAccounts with the connector in another account = %v", ids)
	}
	// The functions that create accounts (the API; the discovery worker adds members) know it from their own wiring.
	for _, f := range []platform.Function{platform.API, platform.DiscoveryWorker} {
		if c, err := platform.LoadConfig(ctx, env(full), awssecrets.NewReader(cfg), f.Needs); err != nil || len(c.PlatformAccounts()) != 1 {
			t.Errorf("%s: platform accounts %v (%v)", f.Name, c.PlatformAccounts(), err)
		}
	}

	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"nothing set", map[string]string{}, []string{"TENANTS_TABLE is not set", "ACCOUNTS_TABLE is not set", "COSTS_TABLE is not set", "CURSOR_KEY or CURSOR_KEY_SECRET_ARN is not set",
			"ONBOARDING_TEMPLATE_URL", "PLATFORM_PRINCIPAL_ARN", "CALLBACK_TOPIC_ARN_PATTERN must contain {region}",
			"CONNECTOR_ROLE_ARN is not set", "COSTSYNC_QUEUE_URL is not set", "IDENTITY_QUEUE_URL is not set", "DISCOVERY_QUEUE_URL is not set", "BULK_ACTIVATION_STATE_MACHINE_ARN is not set",
			"INVENTORY_TABLE is not set", "INVENTORY_QUEUE_URL is not set"}},
		{"short key", map[string]string{"TENANTS_TABLE": "t", "ACCOUNTS_TABLE": "a", "CURSOR_KEY": "short"}, []string{"at least 32 bytes"}},
		{"missing secret", map[string]string{"TENANTS_TABLE": "t", "ACCOUNTS_TABLE": "a",
			"CURSOR_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope"}, []string{"read cursor key secret"}},
	}
	// A function reads what its needs declare and nothing else: the scheduler starts with its table and queue alone,
	// and its configuration holds no other table.
	scheduler, err := platform.LoadConfig(ctx, env(map[string]string{"ACCOUNTS_TABLE": "a", "COSTSYNC_QUEUE_URL": "https://sqs/q"}), nil,
		platform.CostSyncScheduler.Needs)
	if err != nil {
		t.Fatalf("scheduler: %v", err)
	}
	if _, ok := scheduler.Tables["costs"]; ok || scheduler.CursorKey != nil || scheduler.ConnectorRoleARN != "" {
		t.Errorf("the scheduler's configuration holds more than it needs: %+v", scheduler)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := platform.LoadConfig(ctx, env(tt.env), awssecrets.NewReader(cfg), platform.API.Needs)
			if err == nil {
				t.Fatal("LoadConfig accepted it")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestIdentityWiring: only the identity functions read the IAM integrations' keys and schedule deletions; their
// configuration says where, and a function without them neither serves the identity routes nor enters through a
// stored key.
func TestIdentityWiring(t *testing.T) {
	ctx := context.Background()
	_, err := platform.LoadConfig(ctx, env(map[string]string{"TENANTS_TABLE": "t", "ACCOUNTS_TABLE": "a", "IDENTITIES_TABLE": "i",
		"CONNECTOR_ROLE_ARN": "arn:aws:iam::123456789012:role/c", "IDENTITY_QUEUE_URL": "https://sqs/q"}), nil, platform.IdentityWorker.Needs)
	for _, want := range []string{"IDENTITY_SECRET_PREFIX is not set", "IDENTITY_KMS_KEY_ID is not set", "IDENTITY_SCHEDULE_GROUP is not set",
		"IDENTITY_SCHEDULE_ROLE_ARN is not set", "IDENTITY_QUEUE_ARN is not set"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("the identity worker's configuration error %v does not say %q", err, want)
		}
	}
	for _, f := range platform.Functions() {
		identityFn := f.Name == platform.IdentityAPI.Name || f.Name == platform.IdentityWorker.Name
		if (f.Needs.IdentityKeys != "") != identityFn || f.Needs.Scheduler != identityFn {
			t.Errorf("%s: identity keys %q, scheduler %v", f.Name, f.Needs.IdentityKeys, f.Needs.Scheduler)
		}
	}

	p := testkit.NewPlatform(t)
	b := platform.NewBuilder(p.AWS, p.Config.For(platform.API.Needs), platform.API.Needs, awsadapters.All(), time.Now)
	for _, r := range web.NewAPI(b, auth.GatewayClaims{Claims: auth.DefaultClaims}).Routes() {
		if strings.Contains(r, "/iam") {
			t.Errorf("the api function serves %s, an identity route", r)
		}
	}
	if _, err := b.Door().EnterIdentity(ctx, "acme", "111111111111", "test"); !errors.Is(err, crossaccount.ErrKeysNotWired) {
		t.Errorf("the api function's door entered for an identity capability: %v", err)
	}
	routes := identityweb.NewAPI(platform.NewBuilder(p.AWS, p.Config.For(platform.IdentityAPI.Needs), platform.IdentityAPI.Needs, awsadapters.All(), time.Now),
		auth.GatewayClaims{Claims: auth.DefaultClaims}).Routes()
	if !slices.Contains(routes, "POST /v1/accounts/{accountId}/iam/users") || slices.Contains(routes, "GET /v1/accounts") {
		t.Errorf("identity-api routes: %v", routes)
	}
}

// TestLambdaEvents feeds real API Gateway HTTP API (payload v2) events through the API Lambda's handler chain:
// the adapter, the gateway-claims authenticator (the Cognito claim names) and the router.
func TestLambdaEvents(t *testing.T) {
	p := testkit.NewPlatform(t)
	api := web.NewAPI(p.Services.Builder, auth.GatewayClaims{Claims: auth.Claims{Tenant: "custom:tenant_id", Role: "custom:role"}})
	handler := lambda.NewHandler(httpadapter.NewV2(api).ProxyWithContext)

	tests := []struct {
		event, contains string
		status          int
	}{
		{"get-tenant.json", `"tenantId":"acme"`, 200},
		{"create-account.json", `"status":"pending"`, 201},
		{"create-account-as-viewer.json", `"type":"https://gangplank.dev/problems/forbidden"`, 403},
		{"get-tenant-without-authorizer.json", `"type":"https://gangplank.dev/problems/unauthenticated"`, 401},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			payload, err := os.ReadFile("../../events/api/" + tt.event)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := handler.Invoke(context.Background(), payload)
			if err != nil {
				t.Fatal(err)
			}
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(raw, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || !strings.Contains(resp.Body, tt.contains) {
				t.Fatalf("%d %s", resp.StatusCode, resp.Body)
			}
			var event events.APIGatewayV2HTTPRequest
			_ = json.Unmarshal(payload, &event)
			if got := resp.Headers["X-Request-Id"]; got != event.RequestContext.RequestID {
				t.Errorf("X-Request-Id = %q, want API Gateway's %q", got, event.RequestContext.RequestID)
			}
		})
	}
	// The account was created in the tenant named by the verified claims.
	if _, err := p.Services.Accounts.Get(context.Background(), "acme", "111111111111"); err != nil {
		t.Errorf("account not in tenant acme: %v", err)
	}
}

// TestAdaptersFollowNeeds: a process given fewer adapters than its Needs call for does not start, and says which.
func TestAdaptersFollowNeeds(t *testing.T) {
	p := testkit.NewPlatform(t)
	_, err := platform.NewServices(p.AWS, p.Config, platform.Adapters{}, time.Now)
	for _, want := range []string{"Organizations (pkg/discovery/awsorganizations)", "CostExplorer (pkg/costsync/awscostexplorer)",
		"Resources (pkg/inventory/awsresources)", "IdentityCenter (pkg/identitycenter/awsssoadmin)",
		"CloudFormation (pkg/activation/awscloudformation)", "SecretReader (pkg/awssecrets)", "KeyVault (pkg/awssecrets)",
		"Scheduler (pkg/identity/awsscheduler)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewServices without adapters: err = %v, want it to name %s", err, want)
		}
	}
}
