package onboarding_test

import (
	"testing"

	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/gangplank/gangplank/pkg/costsync"
)

// TestFirstRecommendationsAfterActivation: a payer activated by its stack with cost sync on has its
// recommendations right after CloudFormation is answered (the callback hands it to the cost sync queue, whose worker
// syncs it), not at the next daily run.
func TestFirstRecommendationsAfterActivation(t *testing.T) {
	w := newWorld(t)
	ins := w.addAccount(t, "acme", "111111111113", "standalone")
	if stack := w.launch(t, "111111111113", ins, nil).Stacks[0]; stack.StackStatus != cfntypes.StackStatusCreateComplete {
		t.Fatalf("stack: %s", stack.StackStatus)
	}
	status, err := w.Services.CostSync.Status(t.Context(), "acme", "111111111113")
	if err != nil {
		t.Fatal(err)
	}
	// The sync read every service and plan type (12 Cost Explorer requests) and made its result current.
	if status.Status != costsync.StatusOK || status.Calls != 12 || status.LastSuccessAt == nil || status.Generation == "" {
		t.Errorf("sync after activation: %+v, want the payer's first sync done", status)
	}
}

// TestBackgroundAuditCarriesTheInvocation: the audit entry the callback writes names the Lambda invocation that
// wrote it, as the API's entries name their request.
func TestBackgroundAuditCarriesTheInvocation(t *testing.T) {
	w := newWorld(t)
	ins := w.addAccount(t, "acme", "111111111114", "standalone")
	w.launch(t, "111111111114", ins, nil)
	page, err := w.Services.Audit.List(t.Context(), "acme", 50, "")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range page.Items {
		if e.Actor.Type == "system" && e.Actor.ID == "onboarding-callback" {
			found = true
			if e.RequestID == "" {
				t.Errorf("the callback's entry %s names no invocation", e.Action)
			}
		}
	}
	if !found {
		t.Fatalf("no entry by the callback in %+v", page.Items)
	}
}
