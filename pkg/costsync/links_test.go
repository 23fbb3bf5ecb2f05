package costsync_test

import (
	"testing"

	"github.com/gangplank/gangplank/pkg/testkit"
)

// TestCoreLinksNoCostExplorerSDK: the cost sync's core reaches Cost Explorer only through its adapter, so a function
// that only reads stored recommendations (the API) does not pay the SDK's init at its cold start (issue 12 §4).
func TestCoreLinksNoCostExplorerSDK(t *testing.T) {
	testkit.NotLinked(t, testkit.SDKService("sqs"), testkit.SDKService("costexplorer"))
}
