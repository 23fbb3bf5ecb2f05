package platform

import (
	"slices"

	"github.com/gangplank/gangplank/pkg/tables"
)

// Access is how a function may use a table or a queue.
type Access string

const (
	// Read only.
	Read Access = "read"
	// ReadWrite reads and writes data (items, or messages).
	ReadWrite Access = "read-write"
	// Send only puts messages on a queue.
	Send Access = "send"
	// Consume receives and deletes messages (the queue is the function's event source).
	Consume Access = "consume"
	// ConsumeAndSend consumes the queue and sends to it too: a worker that continues its work (discovery's steps,
	// an inventory scan's pages) or fans it out in new messages.
	ConsumeAndSend Access = "consume-send"
)

// Sends reports whether a function with this access puts messages on the queue.
func (a Access) Sends() bool { return a == Send || a == ConsumeAndSend }

// Needs is everything a function may touch in the platform's account. It decides three things at once: which
// configuration the function reads at its cold start (LoadConfig reads nothing else), which parts the builder
// may build for it (asking for another is a cold-start failure, and a table not listed panics with
// tables.NotWiredError), and which permissions the CDK app grants it (infra/stack grants exactly these). So least
// privilege follows from the wiring, rather than being promised beside it.
type Needs struct {
	// Tables maps table IDs (tables.Accounts.ID...) to how the function uses them.
	Tables map[string]Access
	// CursorKey signs pagination cursors: the cursor key secret is read at the cold start.
	CursorKey bool
	// Claims names the token claims carrying the tenant and role (the API).
	Claims bool
	// Customers enters customers' accounts: the function may assume the connector role (crossaccount).
	Customers bool
	// Onboarding reads the onboarding configuration (template, callback topics, console): the function issues
	// launch material or answers onboarding stacks. It grants nothing.
	Onboarding bool
	// Queues maps queue IDs (CostSyncQueue.ID...) to Send, Consume (the queue is the function's event source), or
	// ConsumeAndSend.
	Queues map[string]Access
	// Workflow lists the Step Functions actions the function calls on the bulk activation workflow.
	Workflow []string
	// IdentityKeys: Read lets the function's Door enter accounts through the IAM integrations' stored access keys
	// (it reads their secrets, encrypted with the identity KMS key); ReadWrite also stores, rotates and deletes
	// them. Only the identity functions have it.
	IdentityKeys Access
	// Scheduler creates and deletes the one-time schedules (EventBridge Scheduler) that delete offboarded IAM users
	// after the account's user cleanup days.
	Scheduler bool
	// Calls lists the AWS services the function calls in customers' accounts beyond STS and the Tagging API (which
	// every function that enters them calls), each through an adapter its main passes to ColdStart (Adapters): a
	// function's binary links only the services it calls. It grants nothing: customers' roles decide what the
	// door may do there.
	Calls []CustomerAPI
}

// Queue is one of the platform's SQS queues: the CDK app creates it (with a dead-letter queue), the functions that
// send to it read its URL from EnvVar.
type Queue struct {
	ID, EnvVar string
}

// CostSyncQueue holds the payers to sync, one message each.
var CostSyncQueue = Queue{ID: "costsync", EnvVar: "COSTSYNC_QUEUE_URL"}

// IdentityQueue holds the IAM integrations' work (verify, sync, rotate a key, delete an offboarded user), one
// message each; the delayed deletions' schedules send to it too.
var IdentityQueue = Queue{ID: "identity", EnvVar: "IDENTITY_QUEUE_URL"}

// DiscoveryQueue holds the steps of discovery jobs, one a message: started by the API, activations and the daily
// schedule, continued by the discovery worker itself.
var DiscoveryQueue = Queue{ID: "discovery", EnvVar: "DISCOVERY_QUEUE_URL"}

// InventoryQueue holds inventory work: an account's sync plan, its scans (one per region, each continuing itself),
// tag summaries and tag write-backs.
var InventoryQueue = Queue{ID: "inventory", EnvVar: "INVENTORY_QUEUE_URL"}

// Queues lists every queue.
func Queues() []Queue { return []Queue{CostSyncQueue, IdentityQueue, DiscoveryQueue, InventoryQueue} }

func (n Needs) queue(q Queue) Access { return n.Queues[q.ID] }

// Function is one Lambda function of the platform: its name (its folder under functions/) and what it needs.
type Function struct {
	Name  string
	Needs Needs
}

// Step Functions actions on the bulk activation workflow.
const (
	StartExecution  = "states:StartExecution"
	StopExecution   = "states:StopExecution"
	SendTaskSuccess = "states:SendTaskSuccess"
)

func rw(ts ...tables.Table) map[string]Access {
	m := map[string]Access{}
	for _, t := range ts {
		m[t.ID] = ReadWrite
	}
	return m
}

// The platform's functions. Audit entries live in the tenants table, so every function that changes an account
// writes there too.
var (
	// API is the HTTP API: every table, cursors, and everything the API starts (bulk activations, syncs); a role
	// connected by hand settles an account a bulk activation may be waiting for.
	// It serves every route but the IAM integration's (IdentityAPI), and never reads an integration's key.
	API = Function{Name: "api", Needs: Needs{
		Tables: rw(tables.Tenants, tables.Accounts, tables.Costs, tables.Inventory), CursorKey: true, Claims: true, Customers: true,
		Onboarding: true, Queues: map[string]Access{CostSyncQueue.ID: Send, IdentityQueue.ID: Send, DiscoveryQueue.ID: Send, InventoryQueue.ID: Send},
		Workflow: []string{StartExecution, StopExecution, SendTaskSuccess},
		// The commitment report reads the payer's monthly costs; setting ssoRegion checks it.
		Calls: []CustomerAPI{CostExplorerAPI, IdentityCenterAPI},
	}}
	// Callback answers onboarding stacks; what follows an activation (a discovery job for a management account's
	// organization or a linked account's management account, the payer's first cost sync, the account's first
	// inventory sync, the bulk activation waiting for the account, the verification of the role's identity access)
	// starts from here.
	Callback = Function{Name: "callback", Needs: Needs{
		Tables: rw(tables.Tenants, tables.Accounts), Customers: true, Onboarding: true,
		Queues:   map[string]Access{CostSyncQueue.ID: Send, IdentityQueue.ID: Send, DiscoveryQueue.ID: Send, InventoryQueue.ID: Send},
		Workflow: []string{SendTaskSuccess},
		// Once a management account is connected, its ssoRegion is looked for again through its role.
		Calls: []CustomerAPI{IdentityCenterAPI},
	}}
	// IdentityAPI serves the IAM integration's routes (the OpenAPI operations marked x-gangplank-function:
	// identity-api): it enters accounts through roles or stored keys, stores and deletes keys, onboards and
	// offboards users, and schedules delayed deletions.
	IdentityAPI = Function{Name: "identity-api", Needs: Needs{
		Tables: rw(tables.Tenants, tables.Accounts, tables.Identities), CursorKey: true, Claims: true, Customers: true,
		Queues: map[string]Access{IdentityQueue.ID: Send}, IdentityKeys: ReadWrite, Scheduler: true,
	}}
	// IdentityWorker does the IAM integrations' work from the identity queue: verifications, syncs, key rotations
	// and the delayed deletions of offboarded users.
	IdentityWorker = Function{Name: "identity-worker", Needs: Needs{
		Tables: rw(tables.Tenants, tables.Accounts, tables.Identities), Customers: true,
		Queues: map[string]Access{IdentityQueue.ID: Consume}, IdentityKeys: ReadWrite, Scheduler: true,
	}}
	// IdentityScheduler enqueues the daily sync of every IAM integration and the key rotations that are due.
	// It reads the integrations' sparse index, and each key integration's account (its rotation settings).
	IdentityScheduler = Function{Name: "identity-scheduler", Needs: Needs{
		Tables: map[string]Access{tables.Identities.ID: Read, tables.Accounts.ID: Read}, Queues: map[string]Access{IdentityQueue.ID: Send},
	}}
	// Discovery is the daily schedule's target: it starts a discovery job for every active management account (one
	// sparse index query, a job and a message each) and returns.
	Discovery = Function{Name: "discovery", Needs: Needs{
		Tables: map[string]Access{tables.Accounts.ID: ReadWrite}, Queues: map[string]Access{DiscoveryQueue.ID: Send},
	}}
	// DiscoveryWorker runs discovery jobs, one step per message, queueing each job's next step itself; it enters
	// customers' accounts, writes their accounts (audited), and starts bulk activations (auto-enrolment).
	DiscoveryWorker = Function{Name: "discovery-worker", Needs: Needs{
		Tables: rw(tables.Tenants, tables.Accounts), Customers: true, Queues: map[string]Access{DiscoveryQueue.ID: ConsumeAndSend},
		Workflow: []string{StartExecution}, Calls: []CustomerAPI{OrganizationsAPI},
	}}
	// Activation is the bulk activation workflow's task: it launches onboarding stacks in an organization's member
	// accounts (never a management account, whose SSO region the callback or the API checks).
	Activation = Function{Name: "activation", Needs: Needs{
		Tables: rw(tables.Tenants, tables.Accounts), Customers: true, Onboarding: true, Workflow: []string{SendTaskSuccess},
		Calls: []CustomerAPI{CloudFormationAPI},
	}}
	// CostSyncScheduler enqueues every payer whose cost sync is on: it reads one sparse index.
	CostSyncScheduler = Function{Name: "costsync-scheduler", Needs: Needs{
		Tables: map[string]Access{tables.Accounts.ID: Read}, Queues: map[string]Access{CostSyncQueue.ID: Send},
	}}
	// Rotation is the daily External ID schedule: it rotates tenants' External IDs when due and, beforehand, checks
	// which External ID each connected role accepts (so it verifies roles, and needs the platform principal).
	Rotation = Function{Name: "rotation", Needs: Needs{
		Tables: map[string]Access{tables.Tenants.ID: ReadWrite, tables.Accounts.ID: Read}, Customers: true, Onboarding: true,
	}}
	// CostSyncWorker syncs one payer per message.
	CostSyncWorker = Function{Name: "costsync-worker", Needs: Needs{
		Tables: rw(tables.Tenants, tables.Accounts, tables.Costs), Customers: true, Queues: map[string]Access{CostSyncQueue.ID: Consume},
		Calls: []CustomerAPI{CostExplorerAPI},
	}}
	// InventoryScheduler starts the sync of every account whose scheduled sync is due: it reads one sparse index.
	InventoryScheduler = Function{Name: "inventory-scheduler", Needs: Needs{
		Tables: map[string]Access{tables.Inventory.ID: Read}, Queues: map[string]Access{InventoryQueue.ID: Send},
	}}
	// InventoryWorker does the inventory's work, one message at a time: it enters customers' accounts, reads their
	// resources and writes tag edits back, and fans its work out (and continues it) on its own queue. It reads
	// accounts and tenants (External IDs, the sync interval) and changes neither.
	InventoryWorker = Function{Name: "inventory-worker", Needs: Needs{
		Tables:    map[string]Access{tables.Tenants.ID: Read, tables.Accounts.ID: Read, tables.Inventory.ID: ReadWrite},
		Customers: true, Queues: map[string]Access{InventoryQueue.ID: ConsumeAndSend}, Calls: []CustomerAPI{ResourcesAPI},
	}}
)

// Functions lists every function; a test checks it names exactly the folders under functions/, and the CDK app
// deploys and grants each from it.
func Functions() []Function {
	return []Function{API, Callback, Discovery, DiscoveryWorker, Activation, CostSyncScheduler, CostSyncWorker, Rotation, IdentityAPI, IdentityWorker, IdentityScheduler, InventoryScheduler, InventoryWorker}
}

// Everything is what one process running the whole platform needs (the local server, the tests).
var Everything = Needs{
	Tables: rw(tables.All()...), CursorKey: true, Claims: true, Customers: true, Onboarding: true,
	Queues:   map[string]Access{CostSyncQueue.ID: ReadWrite, IdentityQueue.ID: ReadWrite, DiscoveryQueue.ID: ReadWrite, InventoryQueue.ID: ReadWrite},
	Workflow: []string{StartExecution, StopExecution, SendTaskSuccess}, IdentityKeys: ReadWrite, Scheduler: true,
	Calls: []CustomerAPI{OrganizationsAPI, CostExplorerAPI, ResourcesAPI, IdentityCenterAPI, CloudFormationAPI},
}

func (n Needs) workflow(action string) bool { return slices.Contains(n.Workflow, action) }

// tableList is the tables the function uses, in tables.All's order.
func (n Needs) tableList() []tables.Table {
	var out []tables.Table
	for _, t := range tables.All() {
		if _, ok := n.Tables[t.ID]; ok {
			out = append(out, t)
		}
	}
	return out
}
