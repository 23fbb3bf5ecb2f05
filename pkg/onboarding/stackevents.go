package onboarding

import (
	"context"
	"crypto/subtle"
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

// ConnectionResource is the logical id of the template's custom resource.
const ConnectionResource = "GangplankConnection"

// stackFailure is the reason to record for a failure event, or "" when the event is not a failure worth recording.
// Failures of the custom resource that Gangplank answered itself are skipped, and so is the stack's summary of them:
// the answer already recorded the outcome (or, for a token that proves nothing, deliberately left the account alone).
// The reason quotes what CloudFormation reported as its word, bounded and without control characters.
func stackFailure(e StackEvent) string {
	stackLevel := e.ResourceType == "AWS::CloudFormation::Stack"
	switch {
	case !stackLevel && e.LogicalResourceID == ConnectionResource && strings.HasPrefix(e.ResourceStatusReason, "Received response status"):
		return ""
	case stackLevel && strings.Contains(e.ResourceStatusReason, "["+ConnectionResource+"]"):
		return ""
	case !stackLevel && strings.HasSuffix(e.ResourceStatus, "_FAILED") && e.ResourceStatusReason != "" &&
		!strings.Contains(e.ResourceStatusReason, "Resource creation cancelled"):
		return fmt.Sprintf("The onboarding stack failed before Gangplank could answer it. CloudFormation reported for %s (%s): “%s”",
			reported(e.LogicalResourceID, 64), reported(e.ResourceType, 64), reported(e.ResourceStatusReason, maxReportedBytes))
	case stackLevel && (e.ResourceStatus == "ROLLBACK_IN_PROGRESS" || e.ResourceStatus == "CREATE_FAILED") && e.ResourceStatusReason != "":
		return "The onboarding stack failed before Gangplank could answer it. CloudFormation reported: “" +
			reported(e.ResourceStatusReason, maxReportedBytes) + "”"
	}
	return ""
}

var stackEventActor = audit.Actor{Type: audit.System, ID: "stack-notifications"}

// HandleStackEvent marks an account failed when an onboarding stack in it fails before its custom resource could
// answer (the role's creation failed, the answer never came, the stack was rolled back). A notification names only
// a stack, and anyone can publish one, so it counts only if it is about a stack the account waits for, by something
// its sender cannot guess: the stack name of the account's unused activation link (whose suffix only the link's
// holder knows), or the exact StackId Gangplank got back when it created the stack itself (bulk activation). An
// active account waits for nothing. The first failure wins, so the precise resource error is kept over the stack's
// summary that follows it. A notification that proves nothing costs one read (the account's claim) and changes
// nothing.
func (s *Service) HandleStackEvent(ctx context.Context, topicARN string, e StackEvent) error {
	reason := stackFailure(e)
	if reason == "" {
		return nil
	}
	stack, err := awsid.ParseARN(e.StackID)
	if err != nil || stack.Service != "cloudformation" {
		reject(ctx, rejectMalformed, "stack notification without a stack ARN", "stackId", reported(e.StackID, 300))
		return nil
	}
	if !sameRegion(topicARN, e.StackID) {
		// CloudFormation notifies topics of the stack's own region only.
		reject(ctx, rejectRegion, "stack notification not delivered through the topic of its stack's region", "stackId", reported(e.StackID, 300),
			"topicArn", topicARN)
		return nil
	}
	suffix, named := stackNameSuffix(stackName(e.StackID))
	claim, err := s.claims.Claim(ctx, stack.AccountID)
	switch {
	case errors.Is(err, accounts.ErrNotFound):
		reject(ctx, rejectNotification, "stack notification about an account nobody holds", "stackId", reported(e.StackID, 300))
		return nil
	case err != nil:
		return err
	case claim.Awaiting.Reported != "" && subtle.ConstantTimeCompare([]byte(claim.Awaiting.Reported), []byte(e.StackID)) == 1:
		// The stack whose failure is recorded already: a redelivery (or the stack's later events).
		a, err := s.accounts.Get(ctx, claim.TenantID, stack.AccountID)
		if errors.Is(err, accounts.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return s.renotify(ctx, a, e.StackID)
	case !waitsFor(claim.Awaiting, e.StackID, suffix, named):
		reject(ctx, rejectNotification, "stack notification about a stack no account waits for", "stackId", reported(e.StackID, 300))
		return nil
	}
	ctx = audit.WithActor(ctx, stackEventActor)
	var changed bool
	a, err := s.accounts.Mutate(ctx, claim.TenantID, stack.AccountID, "account.stack_failed", func(a *accounts.Account) error {
		changed = false
		if !waitsFor(a.StackWait(), e.StackID, suffix, named) {
			return accounts.ErrNoChange
		}
		a.StackFailed(e.StackID, reason, s.now().UTC())
		changed = true
		return nil
	})
	if errors.Is(err, accounts.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !changed {
		// Another delivery recorded it between the claim's read and ours.
		return s.renotify(ctx, a, e.StackID)
	}
	slog.InfoContext(ctx, "onboarding stack failed", "accountId", a.AccountID, "stackId", e.StackID, "reason", reason)
	return s.tellObservers(ctx, a)
}

// renotify tells the observers again of an account that the failure of stackID failed: the delivery that recorded
// it may have died before telling them (they are idempotent), and a bulk activation's batch waits for them. An
// account failed since by anything else, or connected since, is not that failure's any more.
func (s *Service) renotify(ctx context.Context, a accounts.Account, stackID string) error {
	if a.Status != accounts.Failed || a.ReportedStackID != stackID {
		return nil
	}
	return s.tellObservers(ctx, a)
}

// tellObservers tells each observer of an account a stack's failure settled; their errors fail the delivery, which
// is then retried.
func (s *Service) tellObservers(ctx context.Context, a accounts.Account) error {
	var errs []error
	for _, o := range s.observers {
		errs = append(errs, o.Settled(ctx, a))
	}
	return errors.Join(errs...)
}

// waitsFor reports whether an account waiting for w waits for the stack stackID (whose name has the given suffix,
// if named): the very stack Gangplank created, or a stack named after the account's unused link, unless that
// stack's failure was recorded already.
func waitsFor(w accounts.StackWait, stackID, suffix string, named bool) bool {
	if w.Reported == stackID {
		return false
	}
	if w.StackID != "" && subtle.ConstantTimeCompare([]byte(w.StackID), []byte(stackID)) == 1 {
		return true
	}
	return named && w.NameSuffixHash != "" && sameHash(hashToken(suffix), w.NameSuffixHash)
}
