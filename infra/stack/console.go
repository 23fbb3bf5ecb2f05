package stack

import (
	"fmt"
	"net/url"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/gangplank/gangplank/pkg/webconsole"
)

// consoleRewrite is the console's CloudFront Function: the console routes in the browser, so a path that names no
// file (no dot in its last segment: /accounts/123456789012/organization) is answered with index.html. It runs on the
// console's behaviour only, so the API's own 404s and 403s (problem+json) pass through untouched, which a
// distribution-wide custom error response would not allow.
const consoleRewrite = `function handler(event) {
  var r = event.request;
  var last = r.uri.substring(r.uri.lastIndexOf("/") + 1);
  if (last.indexOf(".") === -1) { r.uri = "/index.html"; }
  return r;
}`

// buildConsole serves the built web console (console/dist) from a private bucket through CloudFront, which reads
// it with origin access control and nothing else can; the API is routed under /v1/ on the same distribution, so the
// console calls its own origin (no CORS). Every answer carries the console's security headers (webconsole.Headers:
// a strict CSP without inline scripts, HSTS, frame-ancestors 'none', nosniff). The console's config.json is written
// at deploy time with the sign-in it uses: the Cognito user pool's hosted UI (authorization code with PKCE, the
// client's only OAuth flow), or the external issuer's endpoints from the configuration.
func (m *mainStack) buildConsole() error {
	s := m.stack
	dir := m.cfg.ConsoleDir
	logs := awss3.NewBucket(s, jsii.String("ConsoleAccessLogs"), &awss3.BucketProps{
		Encryption: awss3.BucketEncryption_S3_MANAGED, EnforceSSL: jsii.Bool(true), Versioned: jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		// CloudFront's standard logs are delivered with an ACL grant, which needs ACLs enabled.
		ObjectOwnership: awss3.ObjectOwnership_OBJECT_WRITER,
		LifecycleRules:  &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(365)), NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(30))}},
		RemovalPolicy:   awscdk.RemovalPolicy_RETAIN,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(logs, &[]*cdknag.NagPackSuppression{
		finding("AwsSolutions-S1", "This bucket is itself the destination of the console's access logs (CloudFront and S3)."),
	}, jsii.Bool(true))
	bucket := awss3.NewBucket(s, jsii.String("Console"), &awss3.BucketProps{
		Encryption: awss3.BucketEncryption_S3_MANAGED, EnforceSSL: jsii.Bool(true), Versioned: jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(), ObjectOwnership: awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		ServerAccessLogsBucket: logs, ServerAccessLogsPrefix: jsii.String("s3/"),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	signIn, connect, err := m.consoleSignIn()
	if err != nil {
		return err
	}
	headers := awscloudfront.NewResponseHeadersPolicy(s, jsii.String("ConsoleHeaders"), &awscloudfront.ResponseHeadersPolicyProps{
		ResponseHeadersPolicyName: jsii.String(m.cfg.Prefix + "-console"),
		Comment:                   jsii.String("Gangplank console: strict CSP, HSTS, no framing, nosniff"),
		SecurityHeadersBehavior:   consoleSecurityHeaders(webconsole.Headers(connect...)),
		CustomHeadersBehavior: &awscloudfront.ResponseCustomHeadersBehavior{CustomHeaders: &[]*awscloudfront.ResponseCustomHeader{
			{Header: jsii.String("Permissions-Policy"), Value: jsii.String(webconsole.Headers()["Permissions-Policy"]), Override: jsii.Bool(true)},
			{Header: jsii.String("Cross-Origin-Opener-Policy"), Value: jsii.String(webconsole.Headers()["Cross-Origin-Opener-Policy"]), Override: jsii.Bool(true)},
		}},
	})
	rewrite := awscloudfront.NewFunction(s, jsii.String("ConsoleRoutes"), &awscloudfront.FunctionProps{
		Runtime: awscloudfront.FunctionRuntime_JS_2_0(), Code: awscloudfront.FunctionCode_FromInline(jsii.String(consoleRewrite)),
		Comment: jsii.String("The console routes in the browser: paths that name no file get index.html"),
	})
	apiDomain := *m.api.ApiId() + ".execute-api." + *s.Region() + "." + *awscdk.Aws_URL_SUFFIX()
	api := &awscloudfront.BehaviorOptions{
		Origin: awscloudfrontorigins.NewHttpOrigin(jsii.String(apiDomain), &awscloudfrontorigins.HttpOriginProps{
			ProtocolPolicy: awscloudfront.OriginProtocolPolicy_HTTPS_ONLY, OriginSslProtocols: &[]awscloudfront.OriginSslPolicy{awscloudfront.OriginSslPolicy_TLS_V1_2},
		}),
		ViewerProtocolPolicy: awscloudfront.ViewerProtocolPolicy_HTTPS_ONLY, AllowedMethods: awscloudfront.AllowedMethods_ALLOW_ALL(),
		// Nothing of the API is cached; every viewer header but Host reaches API Gateway (with caching disabled that
		// includes Authorization, which its JWT authorizer reads; Host must stay API Gateway's own).
		CachePolicy: awscloudfront.CachePolicy_CACHING_DISABLED(), OriginRequestPolicy: awscloudfront.OriginRequestPolicy_ALL_VIEWER_EXCEPT_HOST_HEADER(),
		ResponseHeadersPolicy: headers,
	}
	dist := awscloudfront.NewDistribution(s, jsii.String("ConsoleDistribution"), &awscloudfront.DistributionProps{
		Comment:           jsii.String("Gangplank's web console, and its API on the same origin"),
		DefaultRootObject: jsii.String("index.html"), HttpVersion: awscloudfront.HttpVersion_HTTP2_AND_3,
		MinimumProtocolVersion: awscloudfront.SecurityPolicyProtocol_TLS_V1_2_2021,
		EnableLogging:          jsii.Bool(true), LogBucket: logs, LogFilePrefix: jsii.String("cloudfront/"),
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin:               awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(bucket, nil),
			ViewerProtocolPolicy: awscloudfront.ViewerProtocolPolicy_HTTPS_ONLY, AllowedMethods: awscloudfront.AllowedMethods_ALLOW_GET_HEAD(),
			CachePolicy: awscloudfront.CachePolicy_CACHING_OPTIMIZED(), Compress: jsii.Bool(true), ResponseHeadersPolicy: headers,
			FunctionAssociations: &[]*awscloudfront.FunctionAssociation{{Function: rewrite, EventType: awscloudfront.FunctionEventType_VIEWER_REQUEST}},
		},
		AdditionalBehaviors: &map[string]*awscloudfront.BehaviorOptions{"/v1/*": api, "/healthz": api},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(dist, &[]*cdknag.NagPackSuppression{
		finding("AwsSolutions-CFR1", "The console serves the platform's customers wherever they are; restricting countries is the platform's choice (GeoRestriction), not Gangplank's."),
		finding("AwsSolutions-CFR2", "The console is static files and the API behind it is throttled per route by API Gateway; a platform that runs AWS WAF attaches its web ACL to this distribution."),
		finding("AwsSolutions-CFR4", "The distribution uses CloudFront's default *.cloudfront.net certificate, whose TLS policy AWS sets; the minimum protocol requested is TLSv1.2_2021 for a custom domain."),
	}, jsii.Bool(true))

	origin := "https://" + *dist.DistributionDomainName()
	m.enableConsoleSignIn(origin)
	awss3deployment.NewBucketDeployment(s, jsii.String("ConsoleFiles"), &awss3deployment.BucketDeploymentProps{
		DestinationBucket: bucket,
		Sources: &[]awss3deployment.ISource{
			awss3deployment.Source_Asset(jsii.String(dir), nil),
			awss3deployment.Source_JsonData(jsii.String(webconsole.ConfigFile), webconsole.Config{APIBase: "", Auth: *signIn}, nil),
		},
		// Hashed assets of the previous release stay until the next one: a page loaded before the deploy still
		// finds its lazily loaded chunks.
		Prune:        jsii.Bool(false),
		Distribution: dist, DistributionPaths: jsii.Strings("/index.html", "/"+webconsole.ConfigFile),
	})
	cdknag.NagSuppressions_AddStackSuppressions(s, &[]*cdknag.NagPackSuppression{
		finding("AwsSolutions-IAM5", "CDK's BucketDeployment helper writes the console's files into its bucket and invalidates the distribution's cache (CloudFront invalidations have no resource-level permissions).",
			regex("/^Resource::<Console[A-Za-z0-9]+\\.Arn>\\/\\*$/g"), "Resource::*"),
	}, jsii.Bool(true))
	awscdk.NewCfnOutput(s, jsii.String("ConsoleUrl"), &awscdk.CfnOutputProps{Value: jsii.String(origin + "/"),
		Description: jsii.String("The web console (the API is also under /v1/ on this origin)")})
	return nil
}

// consoleSignIn is the console's OIDC configuration and the origins besides its own that it calls (the token
// endpoint). With Cognito, the user pool gets a hosted UI domain.
func (m *mainStack) consoleSignIn() (*webconsole.OIDC, []string, error) {
	c := &webconsole.OIDC{TokenUse: "id", TenantClaim: m.tenantClaim(), RoleClaim: m.roleClaim(), Scope: "openid email"}
	if !m.cfg.cognito() {
		tokenURL, err := url.Parse(m.cfg.ConsoleTokenEndpoint)
		if err != nil {
			return nil, nil, fmt.Errorf("consoleTokenEndpoint: %w", err)
		}
		c.Issuer, c.ClientID = m.cfg.JWTIssuer, m.cfg.JWTAudience[0]
		c.AuthorizationEndpoint, c.TokenEndpoint, c.LogoutEndpoint = m.cfg.ConsoleAuthorizationEndpoint, m.cfg.ConsoleTokenEndpoint, m.cfg.ConsoleLogoutEndpoint
		return c, []string{tokenURL.Scheme + "://" + tokenURL.Host}, nil
	}
	domain := m.userPool.AddDomain(jsii.String("ConsoleSignIn"), &awscognito.UserPoolDomainOptions{
		CognitoDomain: &awscognito.CognitoDomainOptions{DomainPrefix: jsii.String(m.cfg.Prefix + "-" + *awscdk.Aws_ACCOUNT_ID())},
	})
	base := *domain.BaseUrl(nil)
	c.Issuer = fmt.Sprintf("https://cognito-idp.%s.amazonaws.com/%s", *m.stack.Region(), *m.userPool.UserPoolId())
	c.ClientID = *m.webClient.UserPoolClientId()
	c.AuthorizationEndpoint, c.TokenEndpoint, c.LogoutEndpoint = base+"/oauth2/authorize", base+"/oauth2/token", base+"/logout"
	// The domain's host is a deploy-time value: the CSP names Cognito's hosted UI domains of the region.
	return c, []string{"https://*.auth." + *m.stack.Region() + ".amazoncognito.com"}, nil
}

// enableConsoleSignIn lets the user pool's web client sign users in to the console: the authorization code flow
// only (PKCE, no client secret, no implicit flow), redirecting to the console's callback and sign-out pages.
func (m *mainStack) enableConsoleSignIn(origin string) {
	if !m.cfg.cognito() {
		return
	}
	client := m.webClient.Node().DefaultChild().(awscognito.CfnUserPoolClient)
	client.SetAllowedOAuthFlowsUserPoolClient(jsii.Bool(true))
	client.SetAllowedOAuthFlows(jsii.Strings("code"))
	client.SetAllowedOAuthScopes(jsii.Strings("openid", "email"))
	client.SetSupportedIdentityProviders(jsii.Strings("COGNITO"))
	client.SetCallbackUrLs(jsii.Strings(origin + webconsole.CallbackPath))
	client.SetLogoutUrLs(jsii.Strings(origin + webconsole.SignedOutPath))
}

// consoleSecurityHeaders turns the console's headers (the ones make local serves) into CloudFront's security
// headers, so the two cannot drift.
func consoleSecurityHeaders(h map[string]string) *awscloudfront.ResponseSecurityHeadersBehavior {
	return &awscloudfront.ResponseSecurityHeadersBehavior{
		ContentSecurityPolicy: &awscloudfront.ResponseHeadersContentSecurityPolicy{ContentSecurityPolicy: jsii.String(h["Content-Security-Policy"]), Override: jsii.Bool(true)},
		StrictTransportSecurity: &awscloudfront.ResponseHeadersStrictTransportSecurity{
			AccessControlMaxAge: awscdk.Duration_Seconds(jsii.Number(63072000)), IncludeSubdomains: jsii.Bool(true), Preload: jsii.Bool(true), Override: jsii.Bool(true),
		},
		ContentTypeOptions: &awscloudfront.ResponseHeadersContentTypeOptions{Override: jsii.Bool(true)},
		FrameOptions:       &awscloudfront.ResponseHeadersFrameOptions{FrameOption: awscloudfront.HeadersFrameOption_DENY, Override: jsii.Bool(true)},
		ReferrerPolicy:     &awscloudfront.ResponseHeadersReferrerPolicy{ReferrerPolicy: awscloudfront.HeadersReferrerPolicy_NO_REFERRER, Override: jsii.Bool(true)},
	}
}
