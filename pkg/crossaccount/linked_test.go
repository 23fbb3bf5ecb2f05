package crossaccount_test

import (
	"testing"

	"github.com/gangplank/gangplank/pkg/testkit"
)

// TestDoorLinksNoSecretsManager: every function that enters customers' accounts links the door (and STS, which it
// calls for all); only the identity functions read stored keys, through pkg/awssecrets.
func TestDoorLinksNoSecretsManager(t *testing.T) {
	testkit.NotLinked(t, testkit.SDKService("sts"), testkit.SDKService("secretsmanager"))
}
