package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Message kinds on the inventory queue.
const (
	// KindPlan starts a sync of one account: regions, source, scans.
	KindPlan = "plan"
	// KindScan lists one region (or a Resource Explorer view) and continues itself in a new message when its
	// invocation runs out of time.
	KindScan = "scan"
	// KindSummarize recounts an account's tag summary after a sync changed it.
	KindSummarize = "summarize"
	// KindWriteBack writes an account's pending tag edits to AWS.
	KindWriteBack = "writeback"
)

// Message is one unit of inventory work.
type Message struct {
	Kind      string `json:"kind"`
	TenantID  string `json:"tenantId"`
	AccountID string `json:"accountId"`
	// Trigger of a plan: activation, schedule, on_demand.
	Trigger string `json:"trigger,omitempty"`
	// Seq is the run a scan belongs to; Scan names it (a region, or "*" for Resource Explorer).
	Seq  int64  `json:"seq,omitempty"`
	Scan string `json:"scan,omitempty"`
	// Regions a Resource Explorer scan covers; ViewARN and ViewRegion locate its view.
	Regions    []string `json:"regions,omitempty"`
	ViewARN    string   `json:"viewArn,omitempty"`
	ViewRegion string   `json:"viewRegion,omitempty"`
	WithTags   bool     `json:"withTags,omitempty"`
	// Token continues a listing; Pass restarts it (a token that expired); Chunk counts continuations.
	Token string `json:"token,omitempty"`
	Pass  int    `json:"pass,omitempty"`
	Chunk int    `json:"chunk,omitempty"`
	// Progress carries the scan's counts across continuations.
	Progress RegionResult `json:"progress,omitempty"`
}

// Queue carries inventory work to the worker.
type Queue interface {
	Send(ctx context.Context, msgs []Message, delay time.Duration) error
}

// SQS is the part of the SQS API the queue uses.
type SQS interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// SQSQueue sends messages ten to a request.
type SQSQueue struct {
	Client SQS
	URL    string
}

// Send sends every message (delayed by up to 15 minutes, SQS's most), failing if any was refused.
func (q SQSQueue) Send(ctx context.Context, msgs []Message, delay time.Duration) error {
	secs := int32(min(delay, 15*time.Minute) / time.Second)
	for start := 0; start < len(msgs); start += 10 {
		batch := msgs[start:min(start+10, len(msgs))]
		entries := make([]types.SendMessageBatchRequestEntry, 0, len(batch))
		for i, m := range batch {
			body, err := json.Marshal(m)
			if err != nil {
				return err
			}
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body)),
				DelaySeconds: secs})
		}
		out, err := q.Client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.URL), Entries: entries})
		if err != nil {
			return err
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("SQS refused %d of %d inventory messages: %s", len(out.Failed), len(entries), aws.ToString(out.Failed[0].Message))
		}
	}
	return nil
}

// InlineQueue handles each message in the caller, in order, one at a time (the local runtime without a queue):
// messages sent while handling are queued behind and handled before Send returns; delays are not waited for.
type InlineQueue struct {
	Service *Service

	mu       sync.Mutex
	pending  []Message
	draining bool
}

// Send handles every message (and what they send in turn), returning the first failure.
func (q *InlineQueue) Send(ctx context.Context, msgs []Message, _ time.Duration) error {
	q.mu.Lock()
	q.pending = append(q.pending, msgs...)
	if q.draining {
		q.mu.Unlock()
		return nil
	}
	q.draining = true
	q.mu.Unlock()
	var first error
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.draining = false
			q.mu.Unlock()
			return first
		}
		m := q.pending[0]
		q.pending = q.pending[1:]
		q.mu.Unlock()
		if err := q.Service.Handle(ctx, m); err != nil && first == nil {
			first = err
		}
	}
}

// ErrQueueNotWired: a function that does not declare the inventory queue tried to send to it.
var ErrQueueNotWired = errors.New("the inventory queue is not in this function's wiring (platform.Needs.Queues)")

// UnwiredQueue is the queue of a function that hands no work on.
type UnwiredQueue struct{}

// Send refuses.
func (UnwiredQueue) Send(context.Context, []Message, time.Duration) error { return ErrQueueNotWired }
