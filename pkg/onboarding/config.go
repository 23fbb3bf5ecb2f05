// Package onboarding connects customers' AWS accounts: it issues activation links and the instructions around them
// (quick-create link, CLI, manual policies, Terraform), answers the onboarding stack's custom resource requests
// that arrive through SNS, verifies roles pasted by hand, and keeps each account's health.
package onboarding

import (
	"errors"
	"fmt"
	"net/url"
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
	// ResponseURLPrefixes lists extra allowed ResponseURL prefixes (the local AWS's); CloudFormation's own
	// https://cloudformation-custom-resource-response-*.amazonaws.com are always allowed, nothing else.
	ResponseURLPrefixes []string
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
//	RESPONSE_URL_ALLOWED_PREFIXES  optional, comma-separated (local only)
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
	if v := getenv("RESPONSE_URL_ALLOWED_PREFIXES"); v != "" {
		c.ResponseURLPrefixes = strings.Split(v, ",")
	}
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

// responseURLAllowed reports whether the callback may PUT to u: CloudFormation's response buckets, or a prefix the
// environment allows. Anything else is refused, so a forged request cannot make Gangplank call an arbitrary URL.
func (c Config) responseURLAllowed(raw string) bool {
	for _, p := range c.ResponseURLPrefixes {
		if p != "" && strings.HasPrefix(raw, p) {
			return true
		}
	}
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "https" && u.User == nil &&
		strings.HasPrefix(u.Hostname(), "cloudformation-custom-resource-response-") &&
		strings.HasSuffix(u.Hostname(), ".amazonaws.com")
}
