// Package awsadapters gathers every adapter (platform.Adapters), for one process that runs the whole platform: the
// local server and the tests. No deployed function links it: each function's main passes only the adapters its
// Needs call for.
package awsadapters

import (
	"github.com/gangplank/gangplank/pkg/activation/awscloudformation"
	"github.com/gangplank/gangplank/pkg/awssecrets"
	"github.com/gangplank/gangplank/pkg/costsync/awscostexplorer"
	"github.com/gangplank/gangplank/pkg/discovery/awsorganizations"
	"github.com/gangplank/gangplank/pkg/identity/awsscheduler"
	"github.com/gangplank/gangplank/pkg/identitycenter/awsssoadmin"
	"github.com/gangplank/gangplank/pkg/inventory/awsresources"
	"github.com/gangplank/gangplank/pkg/platform"
)

// All is every adapter.
func All() platform.Adapters {
	return platform.Adapters{Organizations: awsorganizations.New, CostExplorer: awscostexplorer.New, Resources: awsresources.New,
		IdentityCenter: awsssoadmin.ListInstances, CloudFormation: awscloudformation.New, SecretReader: awssecrets.NewReader,
		KeyVault: awssecrets.NewVault, Scheduler: awsscheduler.New}
}
