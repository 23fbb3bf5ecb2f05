package localaws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// SNSHandler is an SNS-triggered Lambda function's handler.
type SNSHandler func(context.Context, events.SNSEvent) error

// SNSSubscription subscribes a Go handler to a topic the way AWS subscribes a Lambda function: each message is one
// asynchronous invocation with one record, retried twice after an error, and possibly delivered more than once.
type SNSSubscription struct {
	TopicARN string
	// Name is the function's name (one route per name on the edge).
	Name    string
	Handler SNSHandler
	// Timeout is the function's timeout: the invocation's context deadline (default 60 s).
	Timeout time.Duration
	// ExtraDeliveries delivers every message this many more times, concurrently: at-least-once delivery made
	// certain, for tests of idempotency.
	ExtraDeliveries int
	// RetryDelay is the wait before each retry of a failed invocation (AWS: about a minute, then two; default 1 s).
	RetryDelay time.Duration
}

// invocations tracks asynchronous invocations in flight, so a test can wait until the local AWS is quiet.
type invocations struct {
	mu       sync.Mutex
	inFlight int
	idle     chan struct{}
	errs     []error
}

func (iv *invocations) start() {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	if iv.inFlight == 0 {
		iv.idle = make(chan struct{})
	}
	iv.inFlight++
}

func (iv *invocations) done(err error) {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	if err != nil {
		iv.errs = append(iv.errs, err)
	}
	iv.inFlight--
	if iv.inFlight == 0 {
		close(iv.idle)
	}
}

// SubscribeLambda subscribes the handler to the topic (an SNS http subscription to the edge, created in the
// topic's own account and region) and returns the subscription's ARN.
func (e *Env) SubscribeLambda(ctx context.Context, s SNSSubscription) (string, error) {
	if s.Timeout == 0 {
		s.Timeout = 60 * time.Second
	}
	if s.RetryDelay == 0 {
		s.RetryDelay = time.Second
	}
	region, account, ok := topicParts(s.TopicARN)
	if !ok {
		return "", fmt.Errorf("not a topic ARN: %q", s.TopicARN)
	}
	path := "/_localaws/sns-lambda/" + s.Name
	e.Handle("POST "+path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.deliverSNS(w, r, s)
	}))
	cfg := e.AccountConfig(account)
	cfg.BaseEndpoint = aws.String(e.MotoEndpoint)
	out, err := sns.NewFromConfig(cfg, func(o *sns.Options) { o.Region = region }).Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: aws.String(s.TopicARN), Protocol: aws.String("http"), Endpoint: aws.String(e.Endpoint + path),
	})
	if err != nil {
		return "", fmt.Errorf("subscribe %s to %s: %w", s.Name, s.TopicARN, err)
	}
	return aws.ToString(out.SubscriptionArn), nil
}

// deliverSNS accepts moto's http delivery at once (SNS does not wait for Lambda) and invokes the handler in the
// background.
func (e *Env) deliverSNS(w http.ResponseWriter, r *http.Request, s SNSSubscription) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var env struct {
		Type, MessageId, TopicArn, Subject, Message, Timestamp      string
		SignatureVersion, Signature, SigningCertURL, UnsubscribeURL string
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Type != "Notification" {
		http.Error(w, "not an SNS notification", http.StatusBadRequest)
		return
	}
	ts, _ := time.Parse(time.RFC3339Nano, env.Timestamp)
	event := events.SNSEvent{Records: []events.SNSEventRecord{{
		EventVersion: "1.0", EventSource: "aws:sns", EventSubscriptionArn: s.TopicARN + ":" + s.Name,
		SNS: events.SNSEntity{
			Type: env.Type, MessageID: env.MessageId, TopicArn: env.TopicArn, Subject: env.Subject, Message: env.Message,
			Timestamp: ts, SignatureVersion: env.SignatureVersion, Signature: env.Signature,
			SigningCertURL: env.SigningCertURL, UnsubscribeURL: env.UnsubscribeURL, MessageAttributes: map[string]any{},
		},
	}}}
	for range 1 + s.ExtraDeliveries {
		e.invocations.start()
		go func() { e.invocations.done(e.invokeAsync(s, event)) }()
	}
	w.WriteHeader(http.StatusOK)
}

// invokeAsync is Lambda's asynchronous invocation: the first attempt and two retries.
func (e *Env) invokeAsync(s SNSSubscription, event events.SNSEvent) error {
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			time.Sleep(s.RetryDelay)
		}
		if err = e.invokeOnce(s, event); err == nil {
			return nil
		}
		slog.Warn("local Lambda invocation failed", "function", s.Name, "attempt", attempt+1, "error", err.Error())
	}
	return fmt.Errorf("%s: %w", s.Name, err)
}

func (e *Env) invokeOnce(s SNSSubscription, event events.SNSEvent) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       event.Records[0].SNS.MessageID + "-" + fmt.Sprint(time.Now().UnixNano()),
		InvokedFunctionArn: fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", Region, PlatformAccountID, s.Name),
	})
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return s.Handler(ctx, event)
}

// WaitIdle waits until no asynchronous invocation is in flight (including those they cause) and no subscribed
// queue holds a message, and returns the errors of invocations that failed every attempt since the last call.
func (e *Env) WaitIdle(ctx context.Context) error {
	for {
		e.invocations.mu.Lock()
		idle, n := e.invocations.idle, e.invocations.inFlight
		e.invocations.mu.Unlock()
		if n == 0 && e.queuesBusy(ctx) {
			select {
			case <-time.After(20 * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		if n == 0 {
			// Quiet now; wait a moment for deliveries that moto is about to make (a publish in progress).
			select {
			case <-time.After(20 * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
			e.invocations.mu.Lock()
			n = e.invocations.inFlight
			errs := e.invocations.errs
			if n == 0 {
				e.invocations.errs = nil
			}
			e.invocations.mu.Unlock()
			if n == 0 {
				return errors.Join(errs...)
			}
			continue
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// topicParts splits arn:aws:sns:<region>:<account>:<name>.
func topicParts(arn string) (region, account string, ok bool) {
	p := strings.Split(arn, ":")
	if len(p) != 6 || p[0] != "arn" || p[2] != "sns" {
		return "", "", false
	}
	return p[3], p[4], true
}
