package inventory_test

import (
	"testing"

	"github.com/gangplank/gangplank/pkg/testkit"
)

// TestCoreLinksNoExplorerOrEC2SDK: the inventory's core reaches Resource Explorer and EC2 only through its adapter,
// so a function that only serves stored inventories (the API) does not pay those SDKs' init at its cold start
// (issue 12 §4). The Tagging API stays in the core: onboarding links it anyway.
func TestCoreLinksNoExplorerOrEC2SDK(t *testing.T) {
	testkit.NotLinked(t, testkit.SDKService("resourcegroupstaggingapi"), testkit.SDKService("resourceexplorer2"), testkit.SDKService("ec2"))
}
