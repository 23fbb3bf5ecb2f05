// Package stack is Gangplank's CDK app: the platform stack in the home region (API, functions, tables, workflow,
// schedules, template bucket, secrets, connector role, alarms) and one small callback stack in every region
// customers' onboarding stacks may run in (the custom resource's ServiceToken must be a topic in the stack's own
// region). infra/main.go only reads the configuration and calls Build; the tests build the same app.
package stack

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/gangplank/gangplank/pkg/awsid"
)

// Config is one deployment's configuration. Every field can come from CDK context (`cdk deploy -c key=value`,
// cdk.json or cdk.context.json) or from the environment variable named in its comment; the environment wins.
type Config struct {
	// Prefix starts every physical name that must be known in advance (functions, topics, the connector role), so
	// two deployments can share an account. Context gangplank:prefix, env GANGPLANK_PREFIX; default "gangplank".
	Prefix string
	// Account and Region place the platform stack. Account may be empty (an environment-agnostic synth, as offline).
	// Region: context gangplank:region, env GANGPLANK_REGION, else CDK_DEFAULT_REGION, else us-east-1.
	Account, Region string
	// Regions get a callback topic each: the regions customers may launch the onboarding stack in. Each must be
	// bootstrapped. Context gangplank:regions, env GANGPLANK_REGIONS (comma-separated); default: the home region.
	Regions []string
	// AllowedOrigins are the web origins CORS lets call the API. Context gangplank:allowedOrigins, env
	// GANGPLANK_ALLOWED_ORIGINS (comma-separated). Empty: no browser origin is allowed.
	AllowedOrigins []string
	// JWTIssuer and JWTAudience name an external identity provider. Both empty: the stack creates a Cognito user
	// pool and app client and trusts those. Context gangplank:jwtIssuer / gangplank:jwtAudience (comma-separated),
	// env GANGPLANK_JWT_ISSUER / GANGPLANK_JWT_AUDIENCE.
	JWTIssuer   string
	JWTAudience []string
	// TenantClaim and RoleClaim name the token claims carrying the tenant and the role. Defaults: custom:tenant_id
	// and custom:role with Cognito, tenant_id and role with an external issuer. Context gangplank:tenantClaim /
	// gangplank:roleClaim, env GANGPLANK_TENANT_CLAIM / GANGPLANK_ROLE_CLAIM.
	TenantClaim, RoleClaim string
	// AlarmEmail, when set, is subscribed to the alarm topics. Context gangplank:alarmEmail, env GANGPLANK_ALARM_EMAIL.
	AlarmEmail string
	// RepoRoot is the repository's root (functions/, statemachines/, pkg/onboarding/templates/). BuildDir receives
	// the built function binaries. Both absolute.
	RepoRoot, BuildDir string
}

// UsesCognito reports whether the stack creates its own user pool.
func (c Config) UsesCognito() bool { return c.JWTIssuer == "" }

// ConfigFromApp reads the configuration from the app's context and the environment. repoRoot is the repository's
// root; the function binaries are built under repoRoot/dist/functions.
func ConfigFromApp(app awscdk.App, repoRoot string) (Config, error) {
	get := func(ctxKey, envKey string) string {
		if v := os.Getenv(envKey); v != "" {
			return v
		}
		if v, ok := app.Node().TryGetContext(&ctxKey).(string); ok {
			return v
		}
		return ""
	}
	c := Config{
		Prefix:         or(get("gangplank:prefix", "GANGPLANK_PREFIX"), "gangplank"),
		Account:        os.Getenv("CDK_DEFAULT_ACCOUNT"),
		Region:         or(get("gangplank:region", "GANGPLANK_REGION"), or(os.Getenv("CDK_DEFAULT_REGION"), "us-east-1")),
		Regions:        list(get("gangplank:regions", "GANGPLANK_REGIONS")),
		AllowedOrigins: list(get("gangplank:allowedOrigins", "GANGPLANK_ALLOWED_ORIGINS")),
		JWTIssuer:      get("gangplank:jwtIssuer", "GANGPLANK_JWT_ISSUER"),
		JWTAudience:    list(get("gangplank:jwtAudience", "GANGPLANK_JWT_AUDIENCE")),
		TenantClaim:    get("gangplank:tenantClaim", "GANGPLANK_TENANT_CLAIM"),
		RoleClaim:      get("gangplank:roleClaim", "GANGPLANK_ROLE_CLAIM"),
		AlarmEmail:     get("gangplank:alarmEmail", "GANGPLANK_ALARM_EMAIL"),
		RepoRoot:       repoRoot,
		BuildDir:       repoRoot + "/dist/functions",
	}
	return c.withDefaults()
}

// withDefaults fills in what depends on other fields and reports every problem at once.
func (c Config) withDefaults() (Config, error) {
	if len(c.Regions) == 0 {
		c.Regions = []string{c.Region}
	}
	slices.Sort(c.Regions)
	c.Regions = slices.Compact(c.Regions)
	if c.UsesCognito() {
		c.TenantClaim, c.RoleClaim = or(c.TenantClaim, "custom:tenant_id"), or(c.RoleClaim, "custom:role")
	} else {
		c.TenantClaim, c.RoleClaim = or(c.TenantClaim, "tenant_id"), or(c.RoleClaim, "role")
	}
	var problems []string
	for _, r := range append([]string{c.Region}, c.Regions...) {
		if !awsid.IsRegion(r) {
			problems = append(problems, fmt.Sprintf("%q is not a region Gangplank supports (pkg/awsid)", r))
		}
	}
	if !slices.Contains(c.Regions, c.Region) {
		problems = append(problems, fmt.Sprintf("the regions (%s) must include the home region %s", strings.Join(c.Regions, ","), c.Region))
	}
	if (c.JWTIssuer == "") != (len(c.JWTAudience) == 0) {
		problems = append(problems, "set both the JWT issuer and audience (an external identity provider), or neither (a Cognito user pool)")
	}
	if c.JWTIssuer != "" && !strings.HasPrefix(c.JWTIssuer, "https://") {
		problems = append(problems, "the JWT issuer must be an https:// URL")
	}
	for _, o := range c.AllowedOrigins {
		if o == "*" || !(strings.HasPrefix(o, "https://") || strings.HasPrefix(o, "http://localhost")) {
			problems = append(problems, fmt.Sprintf("allowed origin %q must be https://host (or http://localhost:port), not a wildcard", o))
		}
	}
	if c.Prefix == "" || strings.ToLower(c.Prefix) != c.Prefix || len(c.Prefix) > 20 {
		problems = append(problems, "the prefix must be lower-case, 1-20 characters")
	}
	if len(problems) > 0 {
		return Config{}, fmt.Errorf("configuration: %s", strings.Join(problems, "; "))
	}
	return c, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
