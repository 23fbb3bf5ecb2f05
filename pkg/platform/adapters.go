package platform

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/costsync"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/identity"
	"github.com/gangplank/gangplank/pkg/identitycenter"
	"github.com/gangplank/gangplank/pkg/inventory"
)

// CustomerAPI is an AWS service that some functions call in customers' accounts, beyond what every function that
// enters them calls (STS, through the door, and the Tagging API, which probes a role's access level).
type CustomerAPI string

// The services called through adapters, in customers' accounts.
const (
	// OrganizationsAPI reads organizations: discovery jobs.
	OrganizationsAPI CustomerAPI = "organizations"
	// CostExplorerAPI reads recommendations (cost sync) and a payer's monthly costs (the commitment report).
	CostExplorerAPI CustomerAPI = "costexplorer"
	// ResourcesAPI is Resource Explorer and EC2 (a region list): the inventory's scans and write-backs.
	ResourcesAPI CustomerAPI = "resources"
	// IdentityCenterAPI looks for an organization's IAM Identity Center (SSO regions).
	IdentityCenterAPI CustomerAPI = "ssoadmin"
	// CloudFormationAPI creates and reads onboarding stacks in member accounts: the bulk activation task.
	CloudFormationAPI CustomerAPI = "cloudformation"
)

// Adapters are the clients of the AWS services that only some functions call. Each is implemented in a package of
// its own (pkg/<domain>/aws<service>) that only those functions' mains import, and handed to ColdStart: a Go binary
// runs the init of every package it links, and an SDK service package's init (its operation schemas, its endpoint
// rules) costs each cold start up to 5 ms whether the function calls the service or not (docs/deploy.md, Cold
// start). pkg/platform itself links none of them; pkg/platform/awsadapters has them all, for one process running
// the whole platform (the local server, the tests).
type Adapters struct {
	// Organizations is pkg/discovery/awsorganizations.New.
	Organizations func(cfg aws.Config, maxBackoff time.Duration) discovery.Organizations
	// CostExplorer is pkg/costsync/awscostexplorer.New.
	CostExplorer func(cfg aws.Config, maxBackoff time.Duration) costsync.CostExplorer
	// Resources is pkg/inventory/awsresources.New.
	Resources func(cfg aws.Config, maxBackoff time.Duration) inventory.Clients
	// IdentityCenter is pkg/identitycenter/awsssoadmin.ListInstances.
	IdentityCenter identitycenter.Instances
	// CloudFormation is pkg/activation/awscloudformation.New.
	CloudFormation func(cfg aws.Config) activation.CloudFormation

	// The platform account's own services.

	// SecretReader is pkg/awssecrets.NewReader: the cursor key (Needs.CursorKey) and the IAM integrations' keys
	// (Needs.IdentityKeys).
	SecretReader func(cfg aws.Config) crossaccount.SecretReader
	// KeyVault is pkg/awssecrets.NewVault: the IAM integrations' keys, written (Needs.IdentityKeys ReadWrite).
	KeyVault func(cfg aws.Config, prefix, kmsKeyID string) identity.KeyVault
	// Scheduler is pkg/identity/awsscheduler.New: delayed deletions of offboarded IAM users (Needs.Scheduler).
	Scheduler func(cfg aws.Config, target identity.ScheduleTarget) identity.Scheduler
}

// missing names the adapters a function with these needs must be given and was not.
func (a Adapters) missing(n Needs) error {
	var out []string
	for _, c := range []struct {
		needed, given bool
		pkg           string
	}{
		{n.calls(OrganizationsAPI), a.Organizations != nil, "Organizations (pkg/discovery/awsorganizations)"},
		{n.calls(CostExplorerAPI), a.CostExplorer != nil, "CostExplorer (pkg/costsync/awscostexplorer)"},
		{n.calls(ResourcesAPI), a.Resources != nil, "Resources (pkg/inventory/awsresources)"},
		{n.calls(IdentityCenterAPI), a.IdentityCenter != nil, "IdentityCenter (pkg/identitycenter/awsssoadmin)"},
		{n.calls(CloudFormationAPI), a.CloudFormation != nil, "CloudFormation (pkg/activation/awscloudformation)"},
		{n.CursorKey || n.IdentityKeys != "", a.SecretReader != nil, "SecretReader (pkg/awssecrets)"},
		{n.IdentityKeys == ReadWrite, a.KeyVault != nil, "KeyVault (pkg/awssecrets)"},
		{n.Scheduler, a.Scheduler != nil, "Scheduler (pkg/identity/awsscheduler)"},
	} {
		if c.needed && !c.given {
			out = append(out, c.pkg)
		}
	}
	if len(out) > 0 {
		return fmt.Errorf("the function's main does not pass the adapters its Needs call for: %s", strings.Join(out, ", "))
	}
	return nil
}

func (n Needs) calls(api CustomerAPI) bool { return slices.Contains(n.Calls, api) }
