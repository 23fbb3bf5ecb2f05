package stack

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/tables"
)

// needs is the wiring of the function named name (pkg/platform): the one source of its configuration and grants.
func needs(name string) platform.Needs {
	for _, f := range platform.Functions() {
		if f.Name == name {
			return f.Needs
		}
	}
	panic(fmt.Sprintf("function %s has no wiring in pkg/platform", name))
}

// grant gives a function exactly what its wiring declares in the platform's account: its tables (and their
// indexes) for reading or writing, the cursor key, the queues it sends to, and the connector role. The workflow's
// actions are granted with the workflow (buildStateMachine), the queue's consumption by its event source.
func (m *mainStack) grant(fn awslambda.Function, n platform.Needs) {
	for _, def := range tables.All() {
		switch n.Tables[def.ID] {
		case platform.Read:
			m.tables[def.ID].GrantReadData(fn)
		case platform.ReadWrite:
			m.tables[def.ID].GrantReadWriteData(fn)
		}
	}
	if n.CursorKey {
		m.cursorKey.GrantRead(fn, nil)
	}
	for _, q := range platform.Queues() {
		if n.Queues[q.ID].Sends() {
			m.queues[q.ID].GrantSendMessages(fn)
		}
	}
	if n.Customers {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Effect: awsiam.Effect_ALLOW, Actions: jsii.Strings("sts:AssumeRole"), Resources: jsii.Strings(m.connectorARN()),
		}))
	}
	m.grantIdentity(fn, n)
}
