package localaws

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// EventBridge Scheduler in moto stores schedules but never fires them. The edge plays the scheduler: it refuses
// the one-time expressions AWS refuses, and FireDueSchedules fires every schedule due at a given time (a clock the
// tests drive, or the wall clock in `make local`), delivering its target's input as AWS does, then deleting it
// when its ActionAfterCompletion says so.

// schedulerGuard refuses a CreateSchedule or UpdateSchedule whose at() expression AWS would refuse (moto accepts
// any text).
type schedulerGuard struct{}

func (schedulerGuard) Intercept(w http.ResponseWriter, c *Call) bool {
	if c.Service != "scheduler" || (c.Request.Method != http.MethodPost && c.Request.Method != http.MethodPut) ||
		!strings.HasPrefix(c.Request.URL.Path, "/schedules/") {
		return false
	}
	var in struct{ ScheduleExpression string }
	if c.DecodeJSON(&in) != nil {
		return false
	}
	if _, ok, err := parseAt(in.ScheduleExpression); ok && err != nil {
		WriteJSONError(w, http.StatusBadRequest, "ValidationException", "Invalid Schedule Expression "+in.ScheduleExpression+": "+err.Error())
		return true
	}
	return false
}

// parseAt reads at(yyyy-mm-ddThh:mm:ss) (ok is false for rate() and cron() expressions).
func parseAt(expr string) (time.Time, bool, error) {
	if !strings.HasPrefix(expr, "at(") {
		return time.Time{}, false, nil
	}
	if !strings.HasSuffix(expr, ")") {
		return time.Time{}, true, fmt.Errorf("at() must be closed")
	}
	t, err := time.Parse("2006-01-02T15:04:05", expr[3:len(expr)-1])
	return t, true, err
}

// FireDueSchedules fires every enabled one-time schedule of the platform's account that is due at now: it sends
// the target's Input to the target queue (SQS) or invokes the target function (a Lambda registered on the edge),
// and deletes the schedule if its ActionAfterCompletion is DELETE (otherwise disables it, as a one-time schedule
// that ran never runs again). It returns the names fired.
func (e *Env) FireDueSchedules(ctx context.Context, now time.Time) ([]string, error) {
	client := scheduler.New(scheduler.Options{Region: Region, BaseEndpoint: aws.String(e.MotoEndpoint), Credentials: staticCredentials, RetryMaxAttempts: 1})
	var fired []string
	in := &scheduler.ListSchedulesInput{State: schedtypes.ScheduleStateEnabled}
	var summaries []schedtypes.ScheduleSummary
	for {
		out, err := client.ListSchedules(ctx, in)
		if err != nil {
			return fired, fmt.Errorf("list schedules: %w", err)
		}
		summaries = append(summaries, out.Schedules...)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	for _, sum := range summaries {
		s, err := client.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: sum.Name, GroupName: sum.GroupName})
		if err != nil {
			return fired, fmt.Errorf("get schedule %s: %w", aws.ToString(sum.Name), err)
		}
		at, ok, err := parseAt(aws.ToString(s.ScheduleExpression))
		if !ok || err != nil || s.State != schedtypes.ScheduleStateEnabled {
			continue
		}
		if tz := aws.ToString(s.ScheduleExpressionTimezone); tz != "" && tz != "UTC" {
			loc, err := time.LoadLocation(tz)
			if err != nil {
				continue
			}
			at = time.Date(at.Year(), at.Month(), at.Day(), at.Hour(), at.Minute(), at.Second(), 0, loc)
		}
		if now.Before(at) {
			continue
		}
		if err := e.deliverScheduled(ctx, s.Target); err != nil {
			slog.WarnContext(ctx, "local scheduler could not deliver; the schedule stays", "schedule", aws.ToString(s.Name), "error", err.Error())
			continue
		}
		fired = append(fired, aws.ToString(s.Name))
		if s.ActionAfterCompletion == schedtypes.ActionAfterCompletionDelete {
			_, err = client.DeleteSchedule(ctx, &scheduler.DeleteScheduleInput{Name: s.Name, GroupName: s.GroupName})
		} else {
			_, err = client.UpdateSchedule(ctx, &scheduler.UpdateScheduleInput{Name: s.Name, GroupName: s.GroupName, State: schedtypes.ScheduleStateDisabled,
				ScheduleExpression: s.ScheduleExpression, FlexibleTimeWindow: s.FlexibleTimeWindow, Target: s.Target})
		}
		if err != nil {
			return fired, fmt.Errorf("finish schedule %s: %w", aws.ToString(s.Name), err)
		}
	}
	return fired, nil
}

// deliverScheduled sends a schedule's input to its target.
func (e *Env) deliverScheduled(ctx context.Context, t *schedtypes.Target) error {
	if t == nil {
		return fmt.Errorf("the schedule has no target")
	}
	arn := strings.Split(aws.ToString(t.Arn), ":")
	if len(arn) < 6 {
		return fmt.Errorf("target %s is not an ARN", aws.ToString(t.Arn))
	}
	service, account, name := arn[2], arn[4], arn[5]
	switch service {
	case "sqs":
		client := sqs.New(sqs.Options{Region: arn[3], BaseEndpoint: aws.String(e.MotoEndpoint), Credentials: staticCredentials,
			HTTPClient: &http.Client{Transport: accountHeader{account}}, RetryMaxAttempts: 1})
		q, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if err != nil {
			return err
		}
		_, err = client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: t.Input})
		return err
	case "lambda":
		fn := arn[len(arn)-1]
		e.lambdas.mu.RLock()
		h, ok := e.lambdas.handlers[fn]
		timeout := e.lambdas.timeout[fn]
		e.lambdas.mu.RUnlock()
		if !ok {
			return fmt.Errorf("no function %s is registered on the edge", fn)
		}
		e.background(func() {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			if _, err := h(ctx, json.RawMessage(aws.ToString(t.Input))); err != nil {
				slog.Warn("scheduled function failed", "function", fn, "error", err.Error())
			}
		})
		return nil
	}
	return fmt.Errorf("the local scheduler delivers to SQS queues and Lambda functions, not to %s", service)
}
