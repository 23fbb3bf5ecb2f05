package crossaccount_test

import (
	"testing"

	"github.com/gangplank/gangplank/pkg/testkit"
)

// TestDoorLinksNoSecretsManager: every function that enters customers' accounts links the door, and only the
// identity functions read stored keys, through identity/awssecrets. The door links STS, which it calls for all.
func TestDoorLinksNoSecretsManager(t *testing.T) {
	linked := testkit.NotLinked(t, testkit.SDKService("secretsmanager"))
	if !linked[testkit.SDKService("sts")] {
		t.Error("the door does not link STS: the list is not the door's")
	}
}
