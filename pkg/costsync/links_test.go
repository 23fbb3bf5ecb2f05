package costsync_test

import (
	"testing"

	"github.com/gangplank/gangplank/pkg/testkit"
)

// TestCoreLinksNoCostExplorerSDK: the cost sync's core reaches Cost Explorer only through its adapter, so a function
// that only reads stored recommendations (the API) does not pay the SDK's init at its cold start (issue 12 §4).
func TestCoreLinksNoCostExplorerSDK(t *testing.T) {
	testkit.AssertLinksNone(t, "github.com/gangplank/gangplank/pkg/costsync", "github.com/gangplank/gangplank/pkg/costsync/awscostexplorer",
		"github.com/aws/aws-sdk-go-v2/service/costexplorer")
}
