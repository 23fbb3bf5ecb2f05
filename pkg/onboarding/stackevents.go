package onboarding

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

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

// stackFailure is the reason to record for a failure event, or "" when the event is not a failure worth recording.
func stackFailure(e StackEvent) string {
	stackLevel := e.ResourceType == "AWS::CloudFormation::Stack"
	switch {
	case !stackLevel && strings.HasSuffix(e.ResourceStatus, "_FAILED") && e.ResourceStatusReason != "" &&
		!strings.Contains(e.ResourceStatusReason, "Resource creation cancelled"):
		return fmt.Sprintf("CloudFormation could not create %s (%s) in the onboarding stack: %s",
			e.LogicalResourceID, e.ResourceType, e.ResourceStatusReason)
	case stackLevel && (e.ResourceStatus == "ROLLBACK_IN_PROGRESS" || e.ResourceStatus == "CREATE_FAILED" || e.ResourceStatus == "ROLLBACK_COMPLETE"):
		reason := e.ResourceStatusReason
		if reason == "" {
			reason = e.ResourceStatus
		}
		return "The onboarding stack failed: " + reason
	}
	return ""
}

var stackEventActor = audit.Actor{Type: audit.System, ID: "stack-notifications"}

// HandleStackEvent marks an account failed when the onboarding stack Gangplank launched in it fails before its
// custom resource could answer (the role's creation failed, the stack was rolled back). Only stacks Gangplank is
// waiting for are considered: the account's recorded stack, while it is activating or pending. The first failure
// wins, so the precise resource error is kept over the stack's summary that follows it.
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
		if a.StackID != e.StackID || (a.Status != accounts.Activating && a.Status != accounts.Pending) {
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
	if changed {
		slog.InfoContext(ctx, "onboarding stack failed", "accountId", a.AccountID, "stackId", e.StackID, "reason", reason)
		for _, o := range s.observers {
			o.Settled(ctx, a)
		}
	}
	return nil
}
