package costsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQS is the part of the SQS API the queue uses.
type SQS interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// SQSQueue sends one message per payer, ten to a request; the worker consumes them with bounded concurrency.
type SQSQueue struct {
	Client SQS
	URL    string
}

// Enqueue sends every payer, failing if any message was not accepted.
func (q SQSQueue) Enqueue(ctx context.Context, payers []PayerRef) error {
	for start := 0; start < len(payers); start += 10 {
		batch := payers[start:min(start+10, len(payers))]
		var entries []types.SendMessageBatchRequestEntry
		for i, p := range batch {
			body, _ := json.Marshal(p)
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body))})
		}
		out, err := q.Client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.URL), Entries: entries})
		if err != nil {
			return err
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("SQS refused %d of %d cost sync messages: %s", len(out.Failed), len(entries), aws.ToString(out.Failed[0].Message))
		}
	}
	return nil
}

// InlineQueue syncs each payer at once, in the caller: the local runtime's queue.
type InlineQueue struct{ Service *Service }

// Enqueue syncs every payer now, returning the first failure.
func (q InlineQueue) Enqueue(ctx context.Context, payers []PayerRef) error {
	for _, p := range payers {
		if _, err := q.Service.SyncPayer(ctx, p.TenantID, p.AccountID); err != nil {
			return err
		}
	}
	return nil
}

// ErrQueueNotWired: a function that does not declare the cost sync queue tried to enqueue.
var ErrQueueNotWired = errors.New("the cost sync queue is not in this function's wiring (platform.Needs.Queues)")

// UnwiredQueue is the queue of a function that hands no payer on: enqueueing is a wiring bug, reported as such.
type UnwiredQueue struct{}

// Enqueue refuses.
func (UnwiredQueue) Enqueue(context.Context, []PayerRef) error { return ErrQueueNotWired }
