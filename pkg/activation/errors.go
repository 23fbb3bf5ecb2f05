package activation

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The errors a workflow task returns. Lambda reports a Go error's type name as its errorType, and
// statemachines/bulk-activation.asl.json matches these names in Retry and Catch: Handle returns nothing else.

// RetryLaterError: the task stopped before it had started every account of its batch, because STS or
// CloudFormation kept throttling after the clients' adaptive backoff, or the invocation was running out of time.
// No account failed for it: the workflow retries the task after a pause (Retry on RetryLaterError), and the retry
// goes on where this attempt stopped.
type RetryLaterError struct {
	// Left is how many accounts wait for the retry.
	Left   int
	Reason string
}

func (e *RetryLaterError) Error() string {
	return fmt.Sprintf("%d accounts left for the next attempt: %s", e.Left, e.Reason)
}

// ManagementAccessError: Gangplank cannot enter the management account (it is not active, or its role refuses
// every External ID still accepted). No retry helps: the workflow fails the batch's accounts with this reason.
type ManagementAccessError struct {
	AccountID string
	Cause     error
}

func (e *ManagementAccessError) Error() string {
	return fmt.Sprintf("Gangplank could not enter the management account %s: %v", e.AccountID, e.Cause)
}

func (e *ManagementAccessError) Unwrap() error { return e.Cause }

// TaskError: anything else went wrong (DynamoDB, Step Functions, an unexpected answer). The workflow retries the
// task a few times, then fails the batch's accounts with this reason.
type TaskError struct {
	Action string
	Cause  error
}

func (e *TaskError) Error() string { return fmt.Sprintf("the %s task failed: %v", e.Action, e.Cause) }

func (e *TaskError) Unwrap() error { return e.Cause }

// named returns err as one of the named types (the workflow matches nothing else).
func named(action string, err error) error {
	if err == nil {
		return nil
	}
	var later *RetryLaterError
	if errors.As(err, &later) {
		return later
	}
	var access *ManagementAccessError
	if errors.As(err, &access) {
		return access
	}
	var task *TaskError
	if errors.As(err, &task) {
		return task
	}
	return &TaskError{Action: action, Cause: err}
}

// maxCauseLength bounds the part of a caught error that goes into a reason a tenant reads.
const maxCauseLength = 600

// describe says what the workflow caught, for a reason: the Lambda error's message (Step Functions passes it as
// the Cause, a JSON object), or the Cause as it is, bounded.
func describe(e *CaughtError) string {
	if e == nil {
		return "the workflow stopped"
	}
	msg := e.Cause
	var lambdaErr struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal([]byte(e.Cause), &lambdaErr) == nil && lambdaErr.ErrorMessage != "" {
		msg = lambdaErr.ErrorMessage
	}
	msg = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimSpace(msg))
	if msg == "" {
		msg = e.Error
	}
	if len(msg) > maxCauseLength {
		cut := maxCauseLength
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}
