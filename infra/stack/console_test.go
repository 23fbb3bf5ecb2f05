package stack_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/gangplank/gangplank/infra/stack"
	"github.com/gangplank/gangplank/pkg/webconsole"
)

// builtConsole is a console build as `make console` leaves it (index.html naming a hashed script), so that the
// app's tests do not depend on npm: the construct deploys whatever the folder holds.
func builtConsole(tmp string) (string, error) {
	dir := filepath.Join(tmp, "console-dist")
	if err := os.MkdirAll(filepath.Join(dir, "assets"), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(`<!doctype html><script type="module" src="/assets/index-abc123.js"></script>`), 0o644); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "assets", "index-abc123.js"), []byte(`console.log("gangplank")`), 0o644)
}

// TestConsole: the console is served from a private bucket through CloudFront with origin access control, HTTPS
// only, with the security headers make local serves (strict CSP without inline scripts, HSTS, frame-ancestors
// 'none', nosniff); the API is on the same origin under /v1/ with the token forwarded; Cognito signs users in with
// the authorization code flow only, back to the console's own callback.
func TestConsole(t *testing.T) {
	s := synth(t)
	dists := s.main.resources("AWS::CloudFront::Distribution")
	if len(dists) != 1 {
		t.Fatalf("distributions: %s", js(dists))
	}
	for _, d := range dists {
		cfg := d["DistributionConfig"].(map[string]any)
		def := cfg["DefaultCacheBehavior"].(map[string]any)
		if def["ViewerProtocolPolicy"] != "https-only" || len(def["FunctionAssociations"].([]any)) != 1 {
			t.Errorf("default behaviour: %s", js(def))
		}
		var paths []string
		for _, b := range cfg["CacheBehaviors"].([]any) {
			b := b.(map[string]any)
			paths = append(paths, b["PathPattern"].(string))
			// AWS's managed CachingDisabled and AllViewerExceptHostHeader: nothing cached, the token forwarded.
			if b["ViewerProtocolPolicy"] != "https-only" || !strings.Contains(js(b["AllowedMethods"]), "PATCH") ||
				b["CachePolicyId"] != "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" || b["OriginRequestPolicyId"] != "b689b0a8-53d0-40ab-baf2-68738e2966ac" {
				t.Errorf("behaviour %s: %s", b["PathPattern"], js(b))
			}
		}
		if sort.Strings(paths); js(paths) != `["/healthz","/v1/*"]` {
			t.Errorf("API paths on the console's origin: %v", paths)
		}
		origins := js(cfg["Origins"])
		if !strings.Contains(origins, "OriginAccessControlId") || !strings.Contains(origins, "execute-api") || strings.Contains(origins, "OriginAccessIdentity\":\"origin-access-identity") {
			t.Errorf("origins: %s", origins)
		}
		if cfg["Logging"] == nil {
			t.Error("no access logs")
		}
	}
	if oac := s.main.resources("AWS::CloudFront::OriginAccessControl"); len(oac) != 1 || !strings.Contains(js(oac), `"SigningBehavior":"always"`) {
		t.Errorf("origin access control: %s", js(oac))
	}
	policies := s.main.resources("AWS::CloudFront::ResponseHeadersPolicy")
	if len(policies) != 1 {
		t.Fatalf("response headers policies: %s", js(policies))
	}
	for _, p := range policies {
		sec := p["ResponseHeadersPolicyConfig"].(map[string]any)["SecurityHeadersConfig"].(map[string]any)
		csp := sec["ContentSecurityPolicy"].(map[string]any)["ContentSecurityPolicy"].(string)
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "https://*.auth.us-east-1.amazoncognito.com"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || !strings.HasPrefix(csp, "default-src 'none'") {
			t.Errorf("CSP is not strict: %q", csp)
		}
		if hsts := js(sec["StrictTransportSecurity"]); !strings.Contains(hsts, `"AccessControlMaxAgeSec":63072000`) || !strings.Contains(hsts, `"IncludeSubdomains":true`) {
			t.Errorf("HSTS: %s", hsts)
		}
		if js(sec["ContentTypeOptions"]) != `{"Override":true}` || !strings.Contains(js(sec["FrameOptions"]), `"DENY"`) {
			t.Errorf("nosniff / frame options: %s", js(sec))
		}
	}
	// The bucket is private: only CloudFront (with the distribution's ARN as source) may read it.
	for id, b := range s.main.resources("AWS::S3::Bucket") {
		if strings.HasPrefix(id, "Console") && !strings.HasPrefix(id, "ConsoleAccessLogs") && js(b["PublicAccessBlockConfiguration"]) !=
			`{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}` {
			t.Errorf("console bucket %s: %s", id, js(b))
		}
	}
	if bp := js(s.main.resources("AWS::S3::BucketPolicy")); !strings.Contains(bp, "cloudfront.amazonaws.com") || !strings.Contains(bp, "AWS:SourceArn") {
		t.Errorf("the console bucket's policy does not limit reads to the distribution: %s", bp)
	}
	// Cognito: code flow only, no implicit grant, redirecting to the console.
	clients := s.main.resources("AWS::Cognito::UserPoolClient")
	for id, c := range clients {
		if js(c["AllowedOAuthFlows"]) != `["code"]` || c["GenerateSecret"] != false {
			t.Errorf("client %s: flows %s secret %v", id, js(c["AllowedOAuthFlows"]), c["GenerateSecret"])
		}
		if cb := js(c["CallbackURLs"]); !strings.Contains(cb, webconsole.CallbackPath) || !strings.Contains(cb, "ConsoleDistribution") {
			t.Errorf("client %s callback: %s", id, cb)
		}
	}
	if len(s.main.resources("AWS::Cognito::UserPoolDomain")) != 1 {
		t.Error("no hosted UI domain for the console's sign-in")
	}
	// config.json is deployed beside the files, naming the user pool's endpoints.
	deploy := js(s.main.resources("Custom::CDKBucketDeployment"))
	if !strings.Contains(deploy, "/index.html") || !strings.Contains(deploy, "/config.json") {
		t.Errorf("console deployment does not invalidate index.html and config.json: %s", deploy)
	}
	if !strings.Contains(js(s.main["Outputs"]), "ConsoleUrl") {
		t.Error("no ConsoleUrl output")
	}
}

// TestConsoleConfig: the console must be built, and an external issuer must name its OAuth endpoints.
func TestConsoleConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  stack.Config
		want string
	}{
		{"not built", stack.Config{ConsoleDir: t.TempDir()}, "make console"},
		{"external issuer without endpoints", stack.Config{JWTIssuer: "https://idp.example.com", JWTAudience: []string{"x"}}, "consoleAuthorizationEndpoint"},
		{"plain http token endpoint", stack.Config{JWTIssuer: "https://idp.example.com", JWTAudience: []string{"x"},
			ConsoleAuthorizationEndpoint: "https://idp.example.com/authorize", ConsoleTokenEndpoint: "http://idp.example.com/token"}, "consoleTokenEndpoint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := stack.New(awscdk.NewApp(nil), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
