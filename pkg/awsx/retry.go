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
