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
	// ConsumeAndSend consumes the queue and sends to it too: a worker that fans its work out, or continues it, in
	// new messages.
	ConsumeAndSend Access = "consume-send"
)

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
	// Queues maps queue IDs (CostSyncQueue.ID...) to Send, or Consume (the queue is the function's event source).
	Queues map[string]Access
	// Workflow lists the Step Functions actions the function calls on the bulk activation workflow.
	Workflow []string
}

// Queue is one of the platform's SQS queues: the CDK app creates it (with a dead-letter queue), the functions that
// send to it read its URL from EnvVar.
type Queue struct {
	ID, EnvVar string
}

// CostSyncQueue holds the payers to sync, one message each.
var CostSyncQueue = Queue{ID: "costsync", EnvVar: "COSTSYNC_QUEUE_URL"}

// InventoryQueue holds inventory work: an account's sync plan, its scans (one per region, each continuing itself),
// tag summaries and tag write-backs.
var InventoryQueue = Queue{ID: "inventory", EnvVar: "INVENTORY_QUEUE_URL"}

// Queues lists every queue.
func Queues() []Queue { return []Queue{CostSyncQueue, InventoryQueue} }

// Sends reports whether the function sends to the queue (so it is given the queue's URL, and may send to it).
func (n Needs) Sends(q Queue) bool {
	a := n.queue(q)
	return a == Send || a == ConsumeAndSend
}

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
	API = Function{Name: "api", Needs: Needs{
		Tables: rw(tables.Tenants, tables.Accounts, tables.Costs, tables.Inventory), CursorKey: true, Claims: true, Customers: true,
		Onboarding: true, Queues: map[string]Access{CostSyncQueue.ID: Send, InventoryQueue.ID: Send},
		Workflow: []string{StartExecution, StopExecution, SendTaskSuccess},
	}}
	// Callback answers onboarding stacks; what follows an activation (discovery of a management account's
	// organization, the payer's first cost sync, the account's first inventory sync, the bulk activation waiting for
	// the account) starts from here.
	Callback = Function{Name: "callback", Needs: Needs{
		Tables: rw(tables.Tenants, tables.Accounts), Customers: true, Onboarding: true,
		Queues:   map[string]Access{CostSyncQueue.ID: Send, InventoryQueue.ID: Send},
		Workflow: []string{SendTaskSuccess},
	}}
	// Discovery is the daily discovery of every active management account's organization (auto-enrolment
	// starts bulk activations).
	Discovery = Function{Name: "discovery", Needs: Needs{
		Tables: rw(tables.Tenants, tables.Accounts), Customers: true, Onboarding: true, Workflow: []string{StartExecution},
	}}
	// Activation is the bulk activation workflow's task.
	Activation = Function{Name: "activation", Needs: Needs{
		Tables: rw(tables.Tenants, tables.Accounts), Customers: true, Onboarding: true, Workflow: []string{SendTaskSuccess},
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
		Customers: true, Queues: map[string]Access{InventoryQueue.ID: ConsumeAndSend},
	}}
)

// Functions lists every function; a test checks it names exactly the folders under functions/, and the CDK app
// deploys and grants each from it.
func Functions() []Function {
	return []Function{API, Callback, Discovery, Activation, CostSyncScheduler, CostSyncWorker, Rotation, InventoryScheduler, InventoryWorker}
}

// Everything is what one process running the whole platform needs (the local server, the tests).
var Everything = Needs{
	Tables: rw(tables.All()...), CursorKey: true, Claims: true, Customers: true, Onboarding: true,
	Queues:   map[string]Access{CostSyncQueue.ID: ReadWrite, InventoryQueue.ID: ReadWrite},
	Workflow: []string{StartExecution, StopExecution, SendTaskSuccess},
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
