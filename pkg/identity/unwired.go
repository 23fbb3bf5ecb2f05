package identity

import (
	"context"
	"errors"
	"time"

	"github.com/gangplank/gangplank/pkg/crossaccount"
)

// The vault and the scheduler over AWS are adapters (pkg/awssecrets, identity/awsscheduler), so that this
// package links neither Secrets Manager nor EventBridge Scheduler. A function whose wiring has neither gets these.

// ErrSchedulerNotWired: a function without the scheduler in its wiring tried to schedule a deletion.
var ErrSchedulerNotWired = errors.New("EventBridge Scheduler is not in this function's wiring (platform.Needs.Scheduler)")

// UnwiredScheduler is the scheduler of a function that schedules nothing.
type UnwiredScheduler struct{}

var _ Scheduler = UnwiredScheduler{}

// ScheduleDeletion refuses.
func (UnwiredScheduler) ScheduleDeletion(context.Context, string, time.Time, Message) error {
	return ErrSchedulerNotWired
}

// Cancel refuses.
func (UnwiredScheduler) Cancel(context.Context, string) error { return ErrSchedulerNotWired }

// ErrKeysNotWired: a function without the identity keys in its wiring tried to store or delete one.
var ErrKeysNotWired = errors.New("the identity keys are not in this function's wiring (platform.Needs.IdentityKeys)")

// UnwiredVault is the vault of a function that stores no keys.
type UnwiredVault struct{}

var _ KeyVault = UnwiredVault{}

func (UnwiredVault) Store(context.Context, string, string, crossaccount.AccessKey) (string, error) {
	return "", ErrKeysNotWired
}
func (UnwiredVault) StagePending(context.Context, string, crossaccount.AccessKey) (string, error) {
	return "", ErrKeysNotWired
}
func (UnwiredVault) Promote(context.Context, string, string) error { return ErrKeysNotWired }
func (UnwiredVault) Delete(context.Context, string) error          { return ErrKeysNotWired }
