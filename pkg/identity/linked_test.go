package identity_test

import (
	"testing"

	"github.com/gangplank/gangplank/pkg/testkit"
)

// TestCoreLinksNoVaultOrScheduler: the identity core links IAM, its whole job, and neither Secrets Manager nor
// EventBridge Scheduler, which only some identity functions call (identity/awssecrets, identity/awsscheduler).
func TestCoreLinksNoVaultOrScheduler(t *testing.T) {
	linked := testkit.NotLinked(t, testkit.SDKService("secretsmanager"), testkit.SDKService("scheduler"))
	if !linked[testkit.SDKService("iam")] {
		t.Error("the identity core does not link IAM: the list is not the core's")
	}
}
