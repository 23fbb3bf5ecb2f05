// Package awsx holds what every AWS-facing part of Gangplank shares: loading configuration once per cold start and
// counting the AWS calls it makes, because calls are what the platform pays for (Cost Explorer bills each request)
// and what customers' accounts throttle.
package awsx

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// CallCounter counts AWS API calls by service and operation. Calls are counted once per logical call; Attempts
// once per HTTP attempt, so retries after throttling show up as Attempts above Calls.
// It is safe for concurrent use.
type CallCounter struct {
	mu       sync.Mutex
	calls    map[string]int64
	attempts map[string]int64
	// spent is the wall time spent inside calls, per service, so benchmarks can tell their own cost from AWS's.
	spent map[string]time.Duration
	// label, when set, names who makes each call (the Lambda function it runs in, say), for Labelled.
	label    func(ctx context.Context) string
	labelled map[string]int64
}

// NewCallCounter returns an empty counter.
func NewCallCounter() *CallCounter {
	return &CallCounter{calls: map[string]int64{}, attempts: map[string]int64{}, spent: map[string]time.Duration{}, labelled: map[string]int64{}}
}

// LabelBy makes the counter also count each call under label(ctx) (see Labelled): benchmarks tell which function
// of a flow made which calls.
func (c *CallCounter) LabelBy(label func(ctx context.Context) string) {
	c.mu.Lock()
	c.label = label
	c.mu.Unlock()
}

// Labelled returns the calls counted under each label, keyed "label Service.Operation".
func (c *CallCounter) Labelled() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.labelled))
	for k, v := range c.labelled {
		out[k] = v
	}
	return out
}

// Instrument makes every client built from cfg report to the counter.
func (c *CallCounter) Instrument(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, c.register)
}

func (c *CallCounter) register(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("gangplankCallCounter",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.add(c.calls, key(ctx))
			c.mu.Lock()
			if c.label != nil {
				c.labelled[c.label(ctx)+" "+key(ctx)]++
			}
			c.mu.Unlock()
			start := time.Now()
			out, md, err := next.HandleInitialize(ctx, in)
			c.mu.Lock()
			c.spent[awsmiddleware.GetServiceID(ctx)] += time.Since(start)
			c.mu.Unlock()
			return out, md, err
		}), middleware.After); err != nil { // after the client's own Initialize steps, which put the service ID in the context
		return err
	}
	// Finalize runs once per attempt when placed after the retry middleware.
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("gangplankAttemptCounter",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			c.add(c.attempts, key(ctx))
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

func key(ctx context.Context) string {
	return awsmiddleware.GetServiceID(ctx) + "." + awsmiddleware.GetOperationName(ctx)
}

func (c *CallCounter) add(m map[string]int64, k string) {
	c.mu.Lock()
	m[k]++
	c.mu.Unlock()
}

// Calls returns the number of calls to one operation, such as Calls("DynamoDB", "Query").
func (c *CallCounter) Calls(service, operation string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[service+"."+operation]
}

// ServiceCalls returns the number of calls to every operation of one service.
func (c *CallCounter) ServiceCalls(service string) int64 {
	return c.sum(c.calls, service)
}

// ServiceAttempts returns the number of HTTP attempts (calls plus retries) to one service.
func (c *CallCounter) ServiceAttempts(service string) int64 {
	return c.sum(c.attempts, service)
}

func (c *CallCounter) sum(m map[string]int64, service string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for k, v := range m {
		if len(k) > len(service) && k[:len(service)] == service && k[len(service)] == '.' {
			n += v
		}
	}
	return n
}

// Spent returns the wall time spent in calls to one service. Concurrent calls add up, so it can exceed elapsed time.
func (c *CallCounter) Spent(service string) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.spent[service]
}

// Snapshot returns a copy of the call counts, keyed "Service.Operation".
func (c *CallCounter) Snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.calls))
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

// Operations lists the counted operations in order, for stable reports.
func (c *CallCounter) Operations() []string {
	snap := c.Snapshot()
	ops := make([]string, 0, len(snap))
	for k := range snap {
		ops = append(ops, k)
	}
	sort.Strings(ops)
	return ops
}

// Reset forgets every count.
func (c *CallCounter) Reset() {
	c.mu.Lock()
	c.calls = map[string]int64{}
	c.attempts = map[string]int64{}
	c.spent = map[string]time.Duration{}
	c.labelled = map[string]int64{}
	c.mu.Unlock()
}
