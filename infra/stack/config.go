package stack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/gangplank/gangplank/pkg/awsid"
)

// Config is what an installation of Gangplank chooses. Every field can be set as CDK context
// (`cdk deploy -c webOrigins=https://app.example.com`), in cdk.json, or left to its default.
type Config struct {
	// Account and Region of the main stack (default: the CLI's, from CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION).
	Account, Region string
	// Prefix names every resource (default "gangplank").
	Prefix string
	// CallbackRegions are the regions whose customers can launch the onboarding stack: each gets a callback topic,
	// since a custom resource's ServiceToken must be in the stack's region (default: every supported region).
	CallbackRegions []string
	// WebOrigins may call the API from a browser (CORS). Empty: no browser origin is allowed.
	WebOrigins []string
	// JWTIssuer and JWTAudience name an external identity provider; when empty, a Cognito user pool is created.
	JWTIssuer   string
	JWTAudience []string
	// TenantClaim and RoleClaim name the token claims carrying the tenant and role (default: the Cognito user
	// pool's custom attributes, custom:tenant_id and custom:role).
	TenantClaim, RoleClaim string
	// AlarmEmail, if set, is subscribed to the alarm topic.
	AlarmEmail string
	// ThrottleRate and ThrottleBurst bound the API's requests per second (default 200 and 400).
	ThrottleRate  float64
	ThrottleBurst float64

	// ConsoleAuthorizationEndpoint, ConsoleTokenEndpoint and ConsoleLogoutEndpoint are the external issuer's OAuth
	// endpoints the web console signs in with (authorization code with PKCE; the client id is JWTAudience's first).
	// With Cognito they are the user pool's hosted UI, created by the stack.
	ConsoleAuthorizationEndpoint, ConsoleTokenEndpoint, ConsoleLogoutEndpoint string
	// ConsoleDir holds the built web console (default RepoRoot/console/dist: `make console`).
	ConsoleDir string

	// RepoRoot is the repository's root (where functions/ and pkg/ are); BuildDir receives the built functions.
	RepoRoot, BuildDir string
}

// DefaultCallbackRegions are the regions enabled by default in every AWS account; opt-in regions are added with
// the callbackRegions setting (each needs `cdk bootstrap` there, and the region enabled in the platform account).
var DefaultCallbackRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
	"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
	"ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
}

// ConfigFromContext reads the configuration from the app's context.
func ConfigFromContext(app awscdk.App, account, region string) Config {
	get := func(k string) string {
		if v, ok := app.Node().TryGetContext(&k).(string); ok {
			return strings.TrimSpace(v)
		}
		return ""
	}
	list := func(k string) []string {
		var out []string
		for _, v := range strings.Split(get(k), ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	cfg := Config{
		Account: account, Region: region, Prefix: get("prefix"), CallbackRegions: list("callbackRegions"),
		WebOrigins: list("webOrigins"), JWTIssuer: get("jwtIssuer"), JWTAudience: list("jwtAudience"),
		TenantClaim: get("tenantClaim"), RoleClaim: get("roleClaim"), AlarmEmail: get("alarmEmail"),
		ConsoleAuthorizationEndpoint: get("consoleAuthorizationEndpoint"), ConsoleTokenEndpoint: get("consoleTokenEndpoint"),
		ConsoleLogoutEndpoint: get("consoleLogoutEndpoint"),
	}
	return cfg
}

// withDefaults fills what was left empty and reports every invalid setting at once.
func (c Config) withDefaults() (Config, error) {
	if c.Prefix == "" {
		c.Prefix = "gangplank"
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if len(c.CallbackRegions) == 0 {
		c.CallbackRegions = DefaultCallbackRegions
	}
	if !slices.Contains(c.CallbackRegions, c.Region) {
		c.CallbackRegions = append([]string{c.Region}, c.CallbackRegions...)
	}
	if c.ThrottleRate == 0 {
		c.ThrottleRate, c.ThrottleBurst = 200, 400
	}
	if c.RepoRoot == "" {
		c.RepoRoot = "."
	}
	if c.BuildDir == "" {
		c.BuildDir = "cdk.out/.build"
	}
	if c.ConsoleDir == "" {
		c.ConsoleDir = filepath.Join(c.RepoRoot, "console", "dist")
	}
	var problems []string
	for _, r := range c.CallbackRegions {
		if !awsid.IsRegion(r) {
			problems = append(problems, fmt.Sprintf("callbackRegions: %q is not a supported region", r))
		}
	}
	if (c.JWTIssuer == "") != (len(c.JWTAudience) == 0) {
		problems = append(problems, "jwtIssuer and jwtAudience go together: set both (an external identity provider) or neither (a Cognito user pool)")
	}
	if c.JWTIssuer != "" && !strings.HasPrefix(c.JWTIssuer, "https://") {
		problems = append(problems, "jwtIssuer must be an https:// URL")
	}
	for _, o := range c.WebOrigins {
		if o == "*" || !(strings.HasPrefix(o, "https://") || strings.HasPrefix(o, "http://localhost")) {
			problems = append(problems, fmt.Sprintf("webOrigins: %q must be an https:// origin (or http://localhost for development); * is not allowed with credentials", o))
		}
	}
	if _, err := os.Stat(filepath.Join(c.ConsoleDir, "index.html")); err != nil {
		problems = append(problems, fmt.Sprintf("consoleDir: the web console is not built in %s: run `make console` (npm ci and npm run build in console/)", c.ConsoleDir))
	}
	if c.JWTIssuer != "" {
		for _, e := range []struct{ key, url string }{{"consoleAuthorizationEndpoint", c.ConsoleAuthorizationEndpoint}, {"consoleTokenEndpoint", c.ConsoleTokenEndpoint}} {
			if !strings.HasPrefix(e.url, "https://") {
				problems = append(problems, fmt.Sprintf("%s: the web console signs in at the external issuer: set its https:// URL", e.key))
			}
		}
		if v := c.ConsoleLogoutEndpoint; v != "" && !strings.HasPrefix(v, "https://") {
			problems = append(problems, "consoleLogoutEndpoint must be an https:// URL")
		}
	}
	if len(problems) > 0 {
		return c, errors.New(strings.Join(problems, "; "))
	}
	return c, nil
}

// cognito reports whether Gangplank creates its own user pool.
func (c Config) cognito() bool { return c.JWTIssuer == "" }
