package awsx

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// PatientRetryer retries up to attempts times with jittered exponential backoff capped at maxBackoff, treating the
// service's own throttling codes as retryable too, and without the SDK's client-side retry quota: a background job
// (a sync, a discovery, a bulk activation) would rather wait out a throttled account than give up on it. Clients
// built over a configuration that sets RetryMaxAttempts must set the same attempts on their options.
func PatientRetryer(attempts int, maxBackoff time.Duration, throttleCodes ...string) aws.Retryer {
	return retry.AddWithErrorCodes(retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts, o.MaxBackoff, o.RateLimiter = attempts, maxBackoff, ratelimit.None
	}), throttleCodes...)
}

// AdaptiveRetryer is PatientRetryer with the SDK's adaptive mode on top: each throttled attempt also slows the rate
// at which the retryer lets attempts out (a client-side token bucket shared by every client given the same retryer),
// so that many calls against one quota (a batch's AssumeRole calls through one management account) back off
// together instead of each hammering the quota on its own schedule. Give one retryer to the clients that share a
// quota, and a retryer of their own to clients that do not.
func AdaptiveRetryer(attempts int, maxBackoff time.Duration) aws.Retryer {
	return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
		o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
			so.MaxAttempts, so.MaxBackoff, so.RateLimiter = attempts, maxBackoff, ratelimit.None
		})
	})
}
