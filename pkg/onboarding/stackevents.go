package onboarding

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/awsid"
)

// StackEvent is one CloudFormation stack notification, as published to a stack's NotificationARNs.
type StackEvent struct {
	StackID              string
	StackName            string
	LogicalResourceID    string
	ResourceType         string
	ResourceStatus       string
	ResourceStatusReason string
	Timestamp            string
}

// ParseStackEvent reads CloudFormation's notification text: one Key='value' line per field. It reports false for
// anything else.
func ParseStackEvent(message string) (StackEvent, bool) {
	fields := map[string]string{}
	for _, line := range strings.Split(message, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
			continue
		}
		fields[k] = v[1 : len(v)-1]
	}
	e := StackEvent{
		StackID: fields["StackId"], StackName: fields["StackName"], LogicalResourceID: fields["LogicalResourceId"],
		ResourceType: fields["ResourceType"], ResourceStatus: fields["ResourceStatus"],
		ResourceStatusReason: fields["ResourceStatusReason"], Timestamp: fields["Timestamp"],
	}
	return e, e.StackID != "" && e.ResourceStatus != ""
}

// ConnectionResource is the logical id of the template's custom resource.
const ConnectionResource = "GangplankConnection"

// stackFailure is the reason to record for a failure event, or "" when the event is not a failure worth recording.
// Failures of the custom resource that Gangplank answered itself are skipped, and so is the stack's summary of them:
// the answer already recorded the outcome (or, for a token that proves nothing, deliberately left the account alone).
func stackFailure(e StackEvent) string {
	stackLevel := e.ResourceType == "AWS::CloudFormation::Stack"
	switch {
	case !stackLevel && e.LogicalResourceID == ConnectionResource && strings.HasPrefix(e.ResourceStatusReason, "Received response status"):
		return ""
	case stackLevel && strings.Contains(e.ResourceStatusReason, "["+ConnectionResource+"]"):
		return ""
	case !stackLevel && strings.HasSuffix(e.ResourceStatus, "_FAILED") && e.ResourceStatusReason != "" &&
		!strings.Contains(e.ResourceStatusReason, "Resource creation cancelled"):
		return fmt.Sprintf("CloudFormation could not create %s (%s) in the onboarding stack: %s",
			e.LogicalResourceID, e.ResourceType, e.ResourceStatusReason)
	case stackLevel && (e.ResourceStatus == "ROLLBACK_IN_PROGRESS" || e.ResourceStatus == "CREATE_FAILED") && e.ResourceStatusReason != "":
		return "The onboarding stack failed: " + e.ResourceStatusReason
	}
	return ""
}

var stackEventActor = audit.Actor{Type: audit.System, ID: "stack-notifications"}

// HandleStackEvent marks an account failed when an onboarding stack in it fails before its custom resource could
// answer (the role's creation failed, the answer never came, the stack was rolled back). Only stacks Gangplank is
// waiting for are considered, while the account is activating or pending: the stack Gangplank launched itself
// (recorded on the account), or an onboarding stack (by its name) the customer launched after the current link was
// issued. Only the account's owner can run a stack in it, so this cannot be used against anyone else's account.
// The first failure wins, so the precise resource error is kept over the stack's summary that follows it.
func (s *Service) HandleStackEvent(ctx context.Context, e StackEvent) error {
	reason := stackFailure(e)
	if reason == "" {
		return nil
	}
	stack, err := awsid.ParseARN(e.StackID)
	if err != nil {
		return nil
	}
	tenantID, err := s.owners.Owner(ctx, stack.AccountID)
	if errors.Is(err, accounts.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	ctx = audit.WithActor(ctx, stackEventActor)
	var changed bool
	a, err := s.accounts.Mutate(ctx, tenantID, stack.AccountID, "account.stack_failed", func(a *accounts.Account) error {
		changed = false
		if (a.Status != accounts.Activating && a.Status != accounts.Pending) || !awaited(*a, e) {
			return accounts.ErrNoChange
		}
		now := s.now().UTC()
		a.Status, a.StatusReason = accounts.Failed, reason
		a.Health = accounts.Health{Status: accounts.Unhealthy, Reason: reason, CheckedAt: &now}
		changed = true
		return nil
	})
	if errors.Is(err, accounts.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// A redelivery finds the account failed already by this very stack: its observers hear of it again, since the
	// first delivery may have died before telling them (they are idempotent).
	redelivered := !changed && a.Status == accounts.Failed && a.Activation != nil && a.Activation.StackID == e.StackID
	if changed {
		slog.InfoContext(ctx, "onboarding stack failed", "accountId", a.AccountID, "stackId", e.StackID, "reason", reason)
	}
	var errs []error
	if changed || redelivered {
		for _, o := range s.observers {
			errs = append(errs, o.Settled(ctx, a))
		}
	}
	return errors.Join(errs...)
}

// awaited reports whether the event is about a stack the account is waiting for.
func awaited(a accounts.Account, e StackEvent) bool {
	if a.StackID != "" && a.StackID == e.StackID {
		return true
	}
	if !strings.HasPrefix(e.StackName, StackName) || a.Link == nil {
		return false
	}
	at, err := time.Parse("2006-01-02T15:04:05.000Z", e.Timestamp)
	return err == nil && !at.Before(a.Link.IssuedAt.Truncate(time.Millisecond))
}
