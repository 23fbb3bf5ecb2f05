package localaws

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSHandler is an SQS-triggered Lambda function's handler, reporting failed messages (partial batch responses).
type SQSHandler func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// SQSSubscription makes a Go handler a queue's consumer the way a Lambda event source mapping does: batches of
// received messages, each batch one invocation; the messages it did not report failed are deleted, the others
// come back after the visibility timeout and end in the queue's dead-letter queue (its redrive policy) after
// their last receive.
type SQSSubscription struct {
	QueueURL string
	// Name is the function's name.
	Name    string
	Handler SQSHandler
	// BatchSize is the most messages per invocation (default 1).
	BatchSize int32
	// Timeout is the function's timeout (default 60 s).
	Timeout time.Duration
	// VisibilityTimeout hides a received message until it is retried (default 1 s: AWS's is the queue's, minutes).
	VisibilityTimeout time.Duration
}

// queueConsumers are the subscribed queues, so that WaitIdle also waits for their messages.
type queueConsumers struct {
	mu   sync.Mutex
	urls []string
}

// SubscribeQueue starts consuming the queue and returns a function that stops it.
func (e *Env) SubscribeQueue(s SQSSubscription) (stop func()) {
	if s.BatchSize == 0 {
		s.BatchSize = 1
	}
	if s.Timeout == 0 {
		s.Timeout = 60 * time.Second
	}
	if s.VisibilityTimeout == 0 {
		s.VisibilityTimeout = time.Second
	}
	e.consumers.mu.Lock()
	e.consumers.urls = append(e.consumers.urls, s.QueueURL)
	e.consumers.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	client := e.motoSQS()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.QueueURL),
				MaxNumberOfMessages: s.BatchSize, VisibilityTimeout: int32(max(1, s.VisibilityTimeout/time.Second)),
				MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount}})
			if err != nil || len(out.Messages) == 0 {
				select {
				case <-ctx.Done():
				case <-time.After(25 * time.Millisecond):
				}
				continue
			}
			e.invocations.start()
			e.invocations.done(e.consume(ctx, client, s, out.Messages))
		}
	}()
	return func() {
		cancel()
		<-done
		e.consumers.mu.Lock()
		defer e.consumers.mu.Unlock()
		for i, u := range e.consumers.urls {
			if u == s.QueueURL {
				e.consumers.urls = append(e.consumers.urls[:i], e.consumers.urls[i+1:]...)
				break
			}
		}
	}
}

// consume is one invocation over a received batch.
func (e *Env) consume(ctx context.Context, client *sqs.Client, s SQSSubscription, msgs []sqstypes.Message) error {
	event := events.SQSEvent{}
	for _, m := range msgs {
		event.Records = append(event.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
			Body: aws.ToString(m.Body), EventSource: "aws:sqs", EventSourceARN: s.QueueURL,
			Attributes: map[string]string{"ApproximateReceiveCount": m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)]}})
	}
	resp, err := e.invokeSQS(s, event)
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, m := range msgs {
		if err != nil || failed[aws.ToString(m.MessageId)] {
			continue // back in the queue after its visibility timeout
		}
		if _, derr := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(s.QueueURL), ReceiptHandle: m.ReceiptHandle}); derr != nil && ctx.Err() == nil {
			slog.Warn("local SQS consumer could not delete a message", "function", s.Name, "error", derr.Error())
		}
	}
	if err != nil {
		slog.Warn("local Lambda invocation failed; its messages return to the queue", "function", s.Name, "error", err.Error())
	}
	return nil // failures are the queue's to retry, not the caller's to see
}

func (e *Env) invokeSQS(s SQSSubscription, event events.SQSEvent) (resp events.SQSEventResponse, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       event.Records[0].MessageId + "-" + strconv.FormatInt(time.Now().UnixNano(), 10),
		InvokedFunctionArn: fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", Region, PlatformAccountID, s.Name),
	})
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return s.Handler(ctx, event)
}

// queuesBusy reports whether a subscribed queue still holds messages (visible, or received and not yet deleted).
func (e *Env) queuesBusy(ctx context.Context) bool {
	e.consumers.mu.Lock()
	urls := append([]string(nil), e.consumers.urls...)
	e.consumers.mu.Unlock()
	client := e.motoSQS()
	for _, u := range urls {
		out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u), AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		if err != nil {
			continue
		}
		for _, v := range out.Attributes {
			if v != "0" && v != "" {
				return true
			}
		}
	}
	return false
}

// motoSQS reaches moto's SQS directly, as the platform account: the event source mapping is AWS's own machinery.
func (e *Env) motoSQS() *sqs.Client {
	cfg := e.AccountConfig(PlatformAccountID)
	cfg.BaseEndpoint = aws.String(e.MotoEndpoint)
	return sqs.NewFromConfig(cfg)
}
