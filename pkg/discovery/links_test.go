package discovery_test

import (
	"testing"

	"github.com/gangplank/gangplank/pkg/testkit"
)

// TestCoreLinksNoOrganizationsSDK: discovery's core reaches Organizations only through its adapter, so a function
// that only starts discoveries (the API) does not pay the SDK's init at its cold start
// (issue 12 §4; about 3 ms).
func TestCoreLinksNoOrganizationsSDK(t *testing.T) {
	testkit.NotLinked(t, testkit.SDKService("sqs"), testkit.SDKService("organizations"))
}
