// Package onboarding connects customers' AWS accounts: it issues activation links and the instructions around them
// (quick-create link, CLI, manual policies, Terraform), answers the onboarding stack's custom resource requests
// that arrive through SNS, verifies roles pasted by hand, and keeps each account's health.
package onboarding

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gangplank/gangplank/pkg/awsid"
)

// Config is the environment's onboarding setup.
type Config struct {
	// TemplateURL is where customers' CloudFormation reads the template (the template bucket).
	TemplateURL string
	// PlatformPrincipal is the role customers' roles trust: the platform's connector role.
	PlatformPrincipal string
	// CallbackTopicPattern is the callback topic's ARN with "{region}" for the region: the topic exists in every
	// served region, since a custom resource's ServiceToken must be in its stack's region.
	CallbackTopicPattern string
	// ConsoleURL is the CloudFormation console's base, "{region}" standing for the region.
	ConsoleURL string
	// LocalConsole marks a local console that needs to be told which emulated account to act in.
	LocalConsole bool
	// LinkTTL is how long activation links work.
	LinkTTL time.Duration
	// ResponseEndpoint, when set, is an S3 endpoint serving CloudFormation's response buckets path-style (the
	// local AWS): ResponseURLs are then <ResponseEndpoint>/cloudformation-custom-resource-response-<region>/<key>.
	// Unset in the cloud, where only CloudFormation's own response bucket hosts are allowed.
	ResponseEndpoint string
}

// AWSConsoleURL is CloudFormation's console.
const AWSConsoleURL = "https://{region}.console.aws.amazon.com/cloudformation/home"

// ConfigFromEnv reads the onboarding configuration:
//
//	ONBOARDING_TEMPLATE_URL        the template's URL (required)
//	PLATFORM_PRINCIPAL_ARN         the connector role customers trust (required)
//	CALLBACK_TOPIC_ARN_PATTERN     e.g. arn:aws:sns:{region}:123456789012:gangplank-onboarding (required)
//	CLOUDFORMATION_CONSOLE_URL     optional; the local console when running locally
//	ACTIVATION_LINK_TTL            optional Go duration (default 168h)
//	CFN_RESPONSE_ENDPOINT          optional: an S3 endpoint serving CloudFormation's response buckets path-style (local only)
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		TemplateURL:          getenv("ONBOARDING_TEMPLATE_URL"),
		PlatformPrincipal:    getenv("PLATFORM_PRINCIPAL_ARN"),
		CallbackTopicPattern: getenv("CALLBACK_TOPIC_ARN_PATTERN"),
		ConsoleURL:           getenv("CLOUDFORMATION_CONSOLE_URL"),
		LinkTTL:              DefaultLinkTTL,
	}
	if v := getenv("ACTIVATION_LINK_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("ACTIVATION_LINK_TTL %q is not a positive duration", v)
		}
		c.LinkTTL = d
	}
	c.ResponseEndpoint = getenv("CFN_RESPONSE_ENDPOINT")
	if c.ConsoleURL == "" {
		c.ConsoleURL = AWSConsoleURL
	}
	return c, c.Validate()
}

// Validate reports every problem with the configuration at once.
func (c Config) Validate() error {
	var problems []string
	if u, err := url.Parse(c.TemplateURL); c.TemplateURL == "" || err != nil || u.Host == "" {
		problems = append(problems, "ONBOARDING_TEMPLATE_URL must be the template's URL")
	}
	if _, err := awsid.ParseRoleARN(c.PlatformPrincipal); err != nil {
		problems = append(problems, "PLATFORM_PRINCIPAL_ARN must be the connector role's ARN: "+err.Error())
	}
	if c.ResponseEndpoint != "" {
		if u, err := url.Parse(c.ResponseEndpoint); err != nil || u.Host == "" || u.Path != "" || u.RawQuery != "" {
			problems = append(problems, "CFN_RESPONSE_ENDPOINT must be an endpoint URL without a path (http://host:port)")
		}
	}
	if !strings.Contains(c.CallbackTopicPattern, "{region}") {
		problems = append(problems, "CALLBACK_TOPIC_ARN_PATTERN must contain {region}")
	} else if _, err := awsid.ParseARN(c.CallbackTopic("us-east-1")); err != nil {
		problems = append(problems, "CALLBACK_TOPIC_ARN_PATTERN is not an ARN pattern: "+err.Error())
	}
	if len(problems) > 0 {
		return errors.New("onboarding configuration: " + strings.Join(problems, "; "))
	}
	return nil
}

// CallbackTopic is the callback topic's ARN in region.
func (c Config) CallbackTopic(region string) string {
	return strings.ReplaceAll(c.CallbackTopicPattern, "{region}", region)
}

// responseBucket is CloudFormation's response bucket in region: cloudformation-custom-resource-response-useast1.
func responseBucket(region string) string {
	return "cloudformation-custom-resource-response-" + strings.ReplaceAll(region, "-", "")
}

// partitionDomains are the domain and regions of each partition CloudFormation answers from. Gangplank's callback
// topics live in the commercial partition (awsid.Regions); the others are listed so the rule is the whole rule.
var partitionDomains = map[string]struct {
	domain  string
	regions func(string) bool
}{
	"aws":        {"amazonaws.com", awsid.IsRegion},
	"aws-cn":     {"amazonaws.com.cn", func(r string) bool { return r == "cn-north-1" || r == "cn-northwest-1" }},
	"aws-us-gov": {"amazonaws.com", func(r string) bool { return r == "us-gov-west-1" || r == "us-gov-east-1" }},
}

// responseHosts are the hosts CloudFormation's presigned ResponseURLs use for a stack in partition and region: its
// response bucket of that region, virtual-hosted, on the regional S3 endpoint in either spelling (s3.<region> and
// the older s3-<region>), plus the global endpoint for us-east-1. A bucket of another region, or a look-alike
// bucket name, is not CloudFormation's answer channel for this stack.
func responseHosts(partition, region string) []string {
	p, ok := partitionDomains[partition]
	if !ok || !p.regions(region) {
		return nil
	}
	bucket := responseBucket(region)
	hosts := []string{bucket + ".s3." + region + "." + p.domain, bucket + ".s3-" + region + "." + p.domain}
	if partition == "aws" && region == "us-east-1" {
		hosts = append(hosts, bucket+".s3.amazonaws.com")
	}
	return hosts
}

// responseURLAllowed reports whether the callback may PUT the answer for stackID to raw: a presigned URL of
// CloudFormation's response bucket in the stack's partition and region (or, locally, that bucket path-style on the
// ResponseEndpoint). Anything else is refused, so a forged request cannot make Gangplank PUT anywhere else.
func (c Config) responseURLAllowed(raw, stackID string) bool {
	stack, err := awsid.ParseARN(stackID)
	if err != nil || stack.Service != "cloudformation" {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return false
	}
	if c.ResponseEndpoint != "" {
		e, err := url.Parse(c.ResponseEndpoint)
		key, ok := strings.CutPrefix(u.EscapedPath(), "/"+responseBucket(stack.Region)+"/")
		return err == nil && ok && key != "" && u.Scheme == e.Scheme && u.Host == e.Host && !strings.Contains(u.Path, "/../") &&
			awsid.IsRegion(stack.Region)
	}
	if u.Scheme != "https" || (u.Port() != "" && u.Port() != "443") || u.Path == "" || u.Path == "/" {
		return false
	}
	q := u.Query()
	if q.Get("X-Amz-Signature") == "" && q.Get("Signature") == "" {
		return false // not presigned: CloudFormation's URLs always are.
	}
	return slices.Contains(responseHosts(stack.Partition, stack.Region), strings.ToLower(u.Hostname()))
}
