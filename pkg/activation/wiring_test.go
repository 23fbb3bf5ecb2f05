package activation_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// TestCoreLinksNoCloudFormation: every function that starts or resumes activations links the core (and Step
// Functions, which it calls for all); only the one that runs the workflow's tasks creates stacks, through
// activation/awscloudformation.
func TestCoreLinksNoCloudFormation(t *testing.T) {
	testkit.NotLinked(t, testkit.SDKService("sfn"), testkit.SDKService("cloudformation"))
}

// TestActivateWithoutCloudFormation: a function whose wiring has no CloudFormation fails the activate task with
// ErrCloudFormationNotWired (a TaskError the workflow retries), before it changes anything: the items stay pending.
func TestActivateWithoutCloudFormation(t *testing.T) {
	p := newPlatform(t)
	members := testkit.NewOrganization(t, "750000000031", 2)
	p.ConnectManagement(t, "acme", "750000000031")
	a := activation.Activation{ID: "act-unwired-test", ManagementAccountID: "750000000031", Status: activation.Running, Total: 2, CreatedAt: time.Now()}
	items := []activation.Item{{AccountID: members[0], Status: activation.Pending}, {AccountID: members[1], Status: activation.Pending}}
	if err := p.Services.Activation.Store.Create(t.Context(), "acme", a, items, "", ""); err != nil {
		t.Fatal(err)
	}
	unwired := *p.Services.Activation
	unwired.CloudFormation = nil
	_, err := unwired.Handle(t.Context(), activation.Batch{Action: "activate", TenantID: "acme", ActivationID: a.ID,
		ManagementAccountID: "750000000031", AccountIDs: members})
	var task *activation.TaskError
	if !errors.As(err, &task) || !errors.Is(err, activation.ErrCloudFormationNotWired) {
		t.Fatalf("activate without CloudFormation: %v (%T), want a TaskError of ErrCloudFormationNotWired", err, err)
	}
	pr, _, err := p.Services.Activation.Get(t.Context(), "acme", a.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range pr.Items {
		if it.Status != activation.Pending {
			t.Errorf("account %s: %s, want pending (nothing started)", it.AccountID, it.Status)
		}
	}
	if len(pr.Items) != 2 {
		t.Errorf("%d items, want 2", len(pr.Items))
	}
}
