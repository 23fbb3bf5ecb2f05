// Package awsscheduler runs the IAM integration's delayed deletions of offboarded users as EventBridge Scheduler
// one-time schedules (identity.Scheduler). Only the functions that schedule or cancel deletions link it, so the
// others do not pay EventBridge Scheduler's package init at their cold start.
package awsscheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/gangplank/gangplank/pkg/identity"
)

// API is the part of EventBridge Scheduler the delayed deletions use.
type API interface {
	CreateSchedule(ctx context.Context, in *scheduler.CreateScheduleInput, optFns ...func(*scheduler.Options)) (*scheduler.CreateScheduleOutput, error)
	DeleteSchedule(ctx context.Context, in *scheduler.DeleteScheduleInput, optFns ...func(*scheduler.Options)) (*scheduler.DeleteScheduleOutput, error)
}

var _ API = (*scheduler.Client)(nil)

// Target is where the schedules deliver (identity.ScheduleTarget).
type Target = identity.ScheduleTarget

// New returns the schedules of target, over a Scheduler client built from the platform's configuration.
func New(cfg aws.Config, target Target) identity.Scheduler {
	return Schedules{Client: scheduler.NewFromConfig(cfg), Target: target}
}

// Schedules creates one-time schedules (at(...), UTC) in the identity schedule group that put a message on the
// identity queue, and delete themselves once they ran.
type Schedules struct {
	Client API
	Target
}

var _ identity.Scheduler = Schedules{}

// ScheduleDeletion schedules m at at. A schedule of the same name already there is the same deletion (a retry).
func (s Schedules) ScheduleDeletion(ctx context.Context, name string, at time.Time, m identity.Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = s.Client.CreateSchedule(ctx, &scheduler.CreateScheduleInput{
		Name: aws.String(name), GroupName: aws.String(s.Group),
		ScheduleExpression:         aws.String("at(" + at.UTC().Format("2006-01-02T15:04:05") + ")"),
		ScheduleExpressionTimezone: aws.String("UTC"),
		FlexibleTimeWindow:         &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		ActionAfterCompletion:      schedtypes.ActionAfterCompletionDelete,
		Description:                aws.String(fmt.Sprintf("Gangplank: delete offboarded IAM user %s of account %s", m.UserName, m.AccountID)),
		Target: &schedtypes.Target{Arn: aws.String(s.QueueARN), RoleArn: aws.String(s.RoleARN), Input: aws.String(string(body)),
			RetryPolicy: &schedtypes.RetryPolicy{MaximumRetryAttempts: aws.Int32(10), MaximumEventAgeInSeconds: aws.Int32(86400)}},
	})
	var conflict *schedtypes.ConflictException
	if errors.As(err, &conflict) {
		return nil
	}
	return err
}

// Cancel deletes a schedule (gone already: nothing to cancel).
func (s Schedules) Cancel(ctx context.Context, name string) error {
	_, err := s.Client.DeleteSchedule(ctx, &scheduler.DeleteScheduleInput{Name: aws.String(name), GroupName: aws.String(s.Group)})
	var missing *schedtypes.ResourceNotFoundException
	if errors.As(err, &missing) {
		return nil
	}
	return err
}
