package identity_test

import (
	"testing"

	"github.com/gangplank/gangplank/pkg/testkit"
)

// TestCoreLinksNoVaultOrScheduler: the identity core links IAM, its whole job, and neither Secrets Manager nor
// EventBridge Scheduler, which only some identity functions call (pkg/awssecrets, identity/awsscheduler).
func TestCoreLinksNoVaultOrScheduler(t *testing.T) {
	testkit.NotLinked(t, testkit.SDKService("iam"), testkit.SDKService("secretsmanager"), testkit.SDKService("scheduler"))
}
