package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/crossaccount"
)

// Kinds of work the identity worker does, one message each.
const (
	// KindVerify proves what the account's way in allows (after a stack launch or update) and syncs.
	KindVerify = "verify"
	// KindSync reads the account's IAM users.
	KindSync = "sync"
	// KindDeleteUser deletes an offboarded user whose cleanup days have passed (sent by its schedule).
	KindDeleteUser = "delete-user"
	// KindRotate rotates the integration's key.
	KindRotate = "rotate"
)

// Message is one piece of identity work.
type Message struct {
	Kind      string `json:"kind"`
	TenantID  string `json:"tenantId"`
	AccountID string `json:"accountId"`
	UserName  string `json:"userName,omitempty"`
}

func (m Message) valid() bool {
	switch m.Kind {
	case KindVerify, KindSync, KindRotate:
		return m.TenantID != "" && m.AccountID != ""
	case KindDeleteUser:
		return m.TenantID != "" && m.AccountID != "" && CheckUserName(m.UserName) == nil
	}
	return false
}

// Queue carries identity work to the worker.
type Queue interface {
	Enqueue(ctx context.Context, msgs ...Message) error
}

// SQS is the part of the SQS API the queue uses.
type SQS interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// SQSQueue sends one message per piece of work, ten to a request.
type SQSQueue struct {
	Client SQS
	URL    string
}

// Enqueue sends every message, failing if any was not accepted.
func (q SQSQueue) Enqueue(ctx context.Context, msgs ...Message) error {
	for start := 0; start < len(msgs); start += 10 {
		batch := msgs[start:min(start+10, len(msgs))]
		entries := make([]sqstypes.SendMessageBatchRequestEntry, 0, len(batch))
		for i, m := range batch {
			body, _ := json.Marshal(m)
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body))})
		}
		out, err := q.Client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.URL), Entries: entries})
		if err != nil {
			return err
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("SQS refused %d of %d identity messages: %s", len(out.Failed), len(entries), aws.ToString(out.Failed[0].Message))
		}
	}
	return nil
}

// InlineQueue does the work at once, in the caller: one process running the whole platform (tests, make local).
type InlineQueue struct{ Service *Service }

// Enqueue handles every message now, returning the first failure.
func (q InlineQueue) Enqueue(ctx context.Context, msgs ...Message) error {
	for _, m := range msgs {
		if err := q.Service.Handle(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// ErrQueueNotWired: a function that does not declare the identity queue tried to enqueue.
var ErrQueueNotWired = errors.New("the identity queue is not in this function's wiring (platform.Needs.Queues)")

// UnwiredQueue is the queue of a function that hands no identity work on.
type UnwiredQueue struct{}

// Enqueue refuses.
func (UnwiredQueue) Enqueue(context.Context, ...Message) error { return ErrQueueNotWired }

// workerActor attributes the worker's changes in the audit trail.
var workerActor = audit.Actor{Type: audit.System, ID: "identity-worker"}

// Handle does one piece of work.
func (s *Service) Handle(ctx context.Context, m Message) error {
	if _, ok := ctx.Value(actorSet{}).(bool); !ok {
		ctx = context.WithValue(audit.WithActor(ctx, workerActor), actorSet{}, true)
	}
	var err error
	switch m.Kind {
	case KindVerify:
		_, err = s.Verify(ctx, m.TenantID, m.AccountID)
	case KindSync:
		_, err = s.Sync(ctx, m.TenantID, m.AccountID)
	case KindDeleteUser:
		_, err = s.DeleteOffboarded(ctx, m.TenantID, m.AccountID, m.UserName)
	case KindRotate:
		_, err = s.Rotate(ctx, m.TenantID, m.AccountID)
	default:
		err = fmt.Errorf("unknown identity message kind %q", m.Kind)
	}
	return err
}

// actorSet marks a context whose actor the caller chose (an API request), which Handle keeps.
type actorSet struct{}

// WithCaller keeps the caller's audit actor through Handle (the inline queue of a request).
func WithCaller(ctx context.Context) context.Context { return context.WithValue(ctx, actorSet{}, true) }

// final reports whether retrying cannot help: the work is dropped (what happened is recorded on the integration).
func final(err error) bool {
	var (
		perm    *PermissionError
		ro      *ReadOnlyError
		outside *OutsidePrefixError
		keyErr  *crossaccount.KeyError
		missing *crossaccount.KeyMissingError
	)
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrRemoving) || errors.Is(err, ErrNoKey) || errors.Is(err, ErrUserNotFound) ||
		errors.Is(err, accounts.ErrNotFound) || errors.Is(err, crossaccount.ErrNotConnected) || errors.Is(err, crossaccount.ErrAccessDenied) ||
		errors.Is(err, ErrRecordNotFound) || errors.As(err, &perm) || errors.As(err, &ro) || errors.As(err, &outside) ||
		errors.As(err, &keyErr) || errors.As(err, &missing)
}

// HandleSQS is the worker: one piece of work per message. Work that may succeed later (throttling, an outage) is
// reported failed for that message alone, so the queue retries it and then dead-letters it; work that cannot
// succeed is dropped with a log line (its reason is on the integration or the offboarding record).
func (s *Service) HandleSQS(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, r := range e.Records {
		var m Message
		if err := json.Unmarshal([]byte(r.Body), &m); err != nil || !m.valid() {
			slog.ErrorContext(ctx, "identity message is not valid work; dropped", "messageId", r.MessageId)
			continue
		}
		err := s.Handle(ctx, m)
		switch {
		case err == nil:
		case final(err):
			slog.InfoContext(ctx, "identity work cannot be done; dropped", "kind", m.Kind, "tenantId", m.TenantID, "accountId", m.AccountID,
				"reason", err.Error())
		default:
			slog.WarnContext(ctx, "identity work failed; will retry", "kind", m.Kind, "tenantId", m.TenantID, "accountId", m.AccountID, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp, nil
}

// ScheduleAll enqueues the daily work: a sync of every integration, and a rotation of every key that is due.
func (s *Service) ScheduleAll(ctx context.Context) (int, error) {
	refs, err := s.Store.Integrations(ctx)
	if err != nil {
		return 0, err
	}
	now := s.now()
	var msgs []Message
	for _, r := range refs {
		msgs = append(msgs, Message{Kind: KindSync, TenantID: r.TenantID, AccountID: r.AccountID})
		in, err := s.Store.Integration(ctx, r.TenantID, r.AccountID)
		if err != nil || in.Via != ViaKey {
			continue
		}
		if a, err := s.Accounts.Get(ctx, r.TenantID, r.AccountID); err == nil && RotationDue(a, in, now) {
			msgs = append(msgs, Message{Kind: KindRotate, TenantID: r.TenantID, AccountID: r.AccountID})
		}
	}
	return len(msgs), s.Queue.Enqueue(ctx, msgs...)
}

// MinManualSyncInterval limits on-demand syncs per account.
const MinManualSyncInterval = time.Minute

// RequestSync is an on-demand sync, at most once a minute per account.
func (s *Service) RequestSync(ctx context.Context, tenantID, accountID string) (View, error) {
	a, err := s.Accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return View{}, err
	}
	now := s.now()
	var wait time.Duration
	_, err = s.mutate(ctx, tenantID, accountID, "", func(cur *Integration) error {
		if cur.RemovingSince != nil {
			return ErrRemoving
		}
		if cur.SyncRequestedAt != nil && now.Sub(*cur.SyncRequestedAt) < MinManualSyncInterval {
			wait = MinManualSyncInterval - now.Sub(*cur.SyncRequestedAt)
			return errNoChange
		}
		cur.SyncRequestedAt = &now
		return nil
	})
	if err != nil {
		return View{}, err
	}
	if wait > 0 {
		return View{}, &RateLimitedError{RetryAfter: wait}
	}
	if err := s.Queue.Enqueue(WithCaller(ctx), Message{Kind: KindSync, TenantID: tenantID, AccountID: accountID}); err != nil {
		return View{}, err
	}
	in, err := s.Store.Integration(ctx, tenantID, accountID)
	if err != nil {
		return View{}, err
	}
	return s.view(a, in), nil
}

func jsonString(m Message) (string, error) {
	b, err := json.Marshal(m)
	return string(b), err
}
