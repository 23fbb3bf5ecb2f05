package discovery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SQS is the part of the SQS API the queue uses.
type SQS interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// SQSQueue puts a job's steps on the discovery queue, which the discovery worker consumes.
type SQSQueue struct {
	Client SQS
	URL    string
}

// Send queues one step.
func (q SQSQueue) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = q.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.URL), MessageBody: aws.String(string(body))})
	return err
}

// ErrQueueNotWired: a function that does not declare the discovery queue tried to start a discovery.
var ErrQueueNotWired = errors.New("the discovery queue is not in this function's wiring (platform.Needs.Queues)")

// UnwiredQueue is the queue of a function that starts no discovery: sending is a wiring bug, reported as such.
type UnwiredQueue struct{}

// Send refuses.
func (UnwiredQueue) Send(context.Context, Message) error { return ErrQueueNotWired }

// HandleSQS is the discovery worker: one step per message. A step that failed in a way another delivery may not
// is reported failed alone (partial batch response), so the queue delivers it again; its last delivery (the
// queue's MaxDeliveries) ends the job with the reason instead.
func (s *Service) HandleSQS(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, r := range e.Records {
		var m Message
		dec := json.NewDecoder(bytes.NewReader([]byte(r.Body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			slog.ErrorContext(ctx, "discovery message is not a step; dropped", "messageId", r.MessageId, "error", err.Error())
			continue
		}
		received, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
		if err := s.Step(ctx, m, received >= MaxDeliveries); err != nil {
			slog.WarnContext(ctx, "discovery step failed; the queue delivers it again", "jobId", m.JobID, "step", m.Step,
				"delivery", received, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp, nil
}
