// Package platform wires Gangplank together. Each Lambda function is a Function (functions.go) whose Needs decide
// the configuration it reads, the parts it may build and the permissions the CDK app grants it; its constructor
// builds only those parts, once per cold start (coldstart.go). The local server and the tests run every part in
// one process (NewServices). Either way each part is built in one place, here, so the entry points differ only in
// where their AWS clients point, how callers are authenticated, and what they are allowed.
package platform

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/costsync"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/cursor"
	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/identity"
	"github.com/gangplank/gangplank/pkg/identitycenter"
	"github.com/gangplank/gangplank/pkg/inventory"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/rotation"
	"github.com/gangplank/gangplank/pkg/store"
	"github.com/gangplank/gangplank/pkg/tenants"
)

// NotWiredError is a part asked of a builder whose function does not declare what the part needs.
type NotWiredError struct{ Part, Need string }

func (e *NotWiredError) Error() string {
	return fmt.Sprintf("%s needs %s, which this function's Needs do not declare", e.Part, e.Need)
}

// Builder builds a function's parts on demand, each at most once, from the function's configuration. A part whose
// needs the function does not declare panics with *NotWiredError (ColdStart turns that into a failed cold start).
type Builder struct {
	aws      aws.Config
	cfg      Config
	needs    Needs
	adapters Adapters
	now      func() time.Time

	db         *store.DB
	sqs        *sqs.Client
	tenants    *tenants.Service
	accounts   *accounts.Service
	connector  *crossaccount.Connector
	door       *crossaccount.Door
	onboarding *onboarding.Service
	costSync   *costsync.Service
	discovery  *discovery.Service
	activation *activation.Service
	inventory  *inventory.Service
	identity   *identity.Service
	rotation   *rotation.Service

	tuners []func(Parts)
}

// Parts names one part just built (the others are nil), for a tuner.
type Parts struct {
	Connector  *crossaccount.Connector
	Onboarding *onboarding.Service
	CostSync   *costsync.Service
	Discovery  *discovery.Service
	Activation *activation.Service
	Inventory  *inventory.Service
	Identity   *identity.Service
	Rotation   *rotation.Service
}

// Tune adjusts each part as it is built, and the parts already built: the tests shorten retries and deadlines.
func (b *Builder) Tune(f func(Parts)) {
	b.tuners = append(b.tuners, f)
	for _, p := range []Parts{{Connector: b.connector}, {Onboarding: b.onboarding}, {CostSync: b.costSync},
		{Discovery: b.discovery}, {Activation: b.activation}, {Rotation: b.rotation}, {Identity: b.identity},
		{Inventory: b.inventory}} {
		if p != (Parts{}) {
			f(p)
		}
	}
}

func (b *Builder) built(p Parts) {
	for _, f := range b.tuners {
		f(p)
	}
}

// NewBuilder returns the builder of a function with these needs and adapters. now is the clock (time.Now in
// production).
func NewBuilder(awsCfg aws.Config, cfg Config, needs Needs, adapters Adapters, now func() time.Time) *Builder {
	return &Builder{aws: awsCfg, cfg: cfg, needs: needs, adapters: adapters, now: now}
}

// Needs are the builder's function's needs.
func (b *Builder) Needs() Needs { return b.needs }

func (b *Builder) require(part string, ok bool, need string) {
	if !ok {
		panic(&NotWiredError{Part: part, Need: need})
	}
}

// DB is the DynamoDB access shared by the stores. A function that hands no cursor out signs its internal paging
// with a key of its own cold start: such cursors never leave the process.
func (b *Builder) DB() store.DB {
	if b.db == nil {
		key := b.cfg.CursorKey
		if !b.needs.CursorKey {
			key = make([]byte, cursor.MinKeyBytes)
			_, _ = rand.Read(key)
		}
		signer, err := cursor.NewSigner(key)
		if err != nil {
			panic(&NotWiredError{Part: "the cursor signer", Need: "a valid cursor key (" + err.Error() + ")"})
		}
		b.db = &store.DB{Client: dynamodb.NewFromConfig(b.aws), Tables: b.cfg.Tables, Cursors: signer}
	}
	return *b.db
}

// SQS is the client the queues' senders share.
func (b *Builder) SQS() *sqs.Client {
	if b.sqs == nil {
		b.sqs = sqs.NewFromConfig(b.aws)
	}
	return b.sqs
}

// Tenants is the tenants service.
func (b *Builder) Tenants() *tenants.Service {
	if b.tenants == nil {
		b.tenants = tenants.NewService(store.Tenants{DB: b.DB()}, b.now)
	}
	return b.tenants
}

// Accounts is the accounts service. Where the function checks SSO regions, a management account's SSO region is
// checked against the organization through the door.
func (b *Builder) Accounts() *accounts.Service {
	if b.accounts == nil {
		b.accounts = accounts.NewService(store.Accounts{DB: b.DB()}, b.Tenants(), b.now)
		b.accounts.Reserve(b.cfg.PlatformAccounts()...)
		if b.needs.calls(IdentityCenterAPI) {
			b.accounts.CheckSSORegionsWith(&identitycenter.Checker{Door: lazyDoor{b}, Now: b.now, Instances: b.adapters.IdentityCenter})
		}
	}
	return b.accounts
}

// lazyDoor is the door, built on first use: the accounts service needs a door that needs the accounts service.
type lazyDoor struct{ b *Builder }

func (d lazyDoor) Enter(ctx context.Context, tenantID, accountID, purpose string, require ...func(accounts.Account) error) (crossaccount.Session, error) {
	return d.b.Door().Enter(ctx, tenantID, accountID, purpose, require...)
}

// Audit is the audit trail's reader.
func (b *Builder) Audit() store.AuditLog { return store.AuditLog{DB: b.DB()} }

// Connector is the platform side of the way into customers' accounts.
func (b *Builder) Connector() *crossaccount.Connector {
	if b.connector == nil {
		b.require("the connector", b.needs.Customers, "Customers")
		b.connector = crossaccount.New(b.aws, b.cfg.ConnectorRoleARN)
		b.built(Parts{Connector: b.connector})
	}
	return b.connector
}

// Door is the one way into a customer's account. A function that may read the IAM integrations' keys gets a
// door that enters through them too.
func (b *Builder) Door() *crossaccount.Door {
	if b.door == nil {
		b.door = crossaccount.NewDoor(b.Connector(), b.Accounts(), b.Tenants(), b.now)
		if b.needs.IdentityKeys != "" {
			b.door.WithKeys(store.Identities{DB: b.DB()}, b.adapters.SecretReader(b.aws))
		}
	}
	return b.door
}

// Onboarding answers onboarding stacks, issues launch material and connects roles. What follows an activation is
// wired here, each step built only when an activation happens.
func (b *Builder) Onboarding() *onboarding.Service {
	if b.onboarding == nil {
		b.require("onboarding", b.needs.Onboarding, "Onboarding")
		ob := onboarding.NewService(b.cfg.Onboarding, b.Accounts(), b.Tenants(), b.Connector(), store.Accounts{DB: b.DB()},
			onboarding.NewHTTPResponder(), b.now)
		b.onboarding = ob
		// A management account that becomes active has its organization discovered, and a linked account added
		// without its management account has that one found: a discovery job starts (after CloudFormation has its
		// answer) and the callback returns. A job that cannot start is logged; the daily discovery, or the tenant's
		// POST .../discovery, starts it again.
		ob.AfterAnswer(func(ctx context.Context, a accounts.Account) {
			if a.Status != accounts.Active {
				return
			}
			if a.Type == accounts.Management || (a.Type == accounts.Linked && a.ManagementAccountID == "") {
				if _, err := b.Discovery().Start(ctx, a.TenantID, a.AccountID, discovery.TriggerActivation); err != nil {
					slog.WarnContext(ctx, "discovery after activation could not start", "accountId", a.AccountID, "error", err.Error())
				}
			}
			// Management accounts are connected through the callback or the API, which check SSO regions; bulk
			// activation's task only activates an organization's members.
			if a.Type != accounts.Management || !b.needs.calls(IdentityCenterAPI) {
				return
			}
			// The role can now read IAM Identity Center: look for it in the ssoRegion set before the account was connected.
			if _, err := b.Accounts().RecheckSSORegion(ctx, a.TenantID, a.AccountID); err != nil {
				slog.WarnContext(ctx, "SSO region check after activation failed", "managementAccountId", a.AccountID, "error", err.Error())
			}
		})
		// A payer that becomes active with cost sync on has its first recommendations synced now, not at the next
		// daily run; a failure leaves it to that run.
		ob.AfterAnswer(func(ctx context.Context, a accounts.Account) {
			if err := b.CostSync().FirstSync(ctx, a); err != nil {
				slog.WarnContext(ctx, "first cost sync could not start; the daily sync will run it", "accountId", a.AccountID, "error", err.Error())
			}
		})
		// An account that becomes active has its resources read now (its inventory is initializing until then),
		// not at the next scheduled sync; a failure leaves it to the schedule.
		ob.AfterAnswer(func(ctx context.Context, a accounts.Account) {
			if err := b.Inventory().FirstSync(ctx, a); err != nil {
				slog.WarnContext(ctx, "first inventory sync could not start; the schedule will run it", "accountId", a.AccountID, "error", err.Error())
			}
		})
		// An account whose role may grant identity access has it verified (and its IAM users synced) by the identity
		// worker.
		if b.needs.queue(IdentityQueue) != "" {
			ob.AfterAnswer(func(ctx context.Context, a accounts.Account) {
				if err := b.Identity().Connected(ctx, a); err != nil {
					slog.WarnContext(ctx, "IAM integration not verified after activation; POST .../iam/verify runs it", "accountId", a.AccountID, "error", err.Error())
				}
			})
		}
		// Bulk activation waits on the callbacks of the accounts it started.
		if b.needs.workflow(SendTaskSuccess) {
			ob.Observe(settledObserver{b})
		}
		b.built(Parts{Onboarding: ob})
	}
	return b.onboarding
}

// settledObserver hands settled accounts to bulk activation, built on the first one.
type settledObserver struct{ b *Builder }

func (o settledObserver) Settled(ctx context.Context, a accounts.Account) error {
	return o.b.Activation().Settled(ctx, a)
}

// CostSync syncs Cost Explorer recommendations and reports commitments.
func (b *Builder) CostSync() *costsync.Service {
	if b.costSync == nil {
		s := &costsync.Service{Accounts: b.Accounts(), Tenants: b.Tenants(), Store: store.Costs{DB: b.DB()},
			Payers: store.Accounts{DB: b.DB()}, Now: b.now}
		if b.needs.calls(CostExplorerAPI) {
			s.CostExplorer = b.adapters.CostExplorer
		}
		if b.needs.Customers {
			s.Door = b.Door()
		}
		switch url := b.cfg.QueueURLs[CostSyncQueue.ID]; {
		case url != "":
			s.Queue = costsync.SQSQueue{Client: b.SQS(), URL: url}
		case b.needs.queue(CostSyncQueue) == ReadWrite:
			// One process runs the whole platform (the local server, the tests): the sync runs in the caller.
			s.Queue = costsync.InlineQueue{Service: s}
		default:
			s.Queue = costsync.UnwiredQueue{}
		}
		b.costSync = s
		b.built(Parts{CostSync: s})
	}
	return b.costSync
}

// Discovery starts discovery jobs and (where the function enters customers' accounts) runs them.
func (b *Builder) Discovery() *discovery.Service {
	if b.discovery == nil {
		// Every function that starts or runs discovery jobs has the queue that carries their steps.
		b.require("discovery", b.needs.queue(DiscoveryQueue) != "", "Queues["+DiscoveryQueue.ID+"]")
		orgs := store.Organizations{DB: b.DB()}
		d := &discovery.Service{Accounts: b.Accounts(), Snapshots: orgs, Members: orgs, Jobs: orgs, Now: b.now,
			Managements: store.Accounts{DB: b.DB()}, Queue: discovery.UnwiredQueue{}}
		if b.needs.calls(OrganizationsAPI) {
			d.Organizations = b.adapters.Organizations
		}
		if url := b.cfg.QueueURLs[DiscoveryQueue.ID]; url != "" {
			d.Queue = discovery.SQSQueue{Client: b.SQS(), URL: url}
		}
		if b.needs.Customers {
			d.Door = b.Door()
		}
		if b.needs.workflow(StartExecution) {
			d.Enroller = b.Activation()
		}
		b.discovery = d
		b.built(Parts{Discovery: d})
	}
	return b.discovery
}

// Activation is bulk activation.
func (b *Builder) Activation() *activation.Service {
	if b.activation == nil {
		b.require("bulk activation", len(b.needs.Workflow) > 0, "Workflow")
		b.activation = &activation.Service{Store: store.Activations{DB: b.DB()}, Accounts: b.Accounts(), Tenants: b.Tenants(), Door: b.Door(),
			StepFunctions: sfn.NewFromConfig(b.aws), StateMachineARN: b.cfg.StateMachineARN, Now: b.now}
		if b.needs.calls(CloudFormationAPI) {
			b.activation.CloudFormation = b.adapters.CloudFormation
		}
		if b.needs.Onboarding {
			b.activation.Links = b.Onboarding()
		}
		b.built(Parts{Activation: b.activation})
	}
	return b.activation
}

// Inventory reads customers' resources and tags and writes tag edits back.
func (b *Builder) Inventory() *inventory.Service {
	if b.inventory == nil {
		s := &inventory.Service{Store: store.Inventory{DB: b.DB()}, Accounts: b.Accounts(), Schedules: tenantSchedules{b}, Now: b.now}
		if b.needs.calls(ResourcesAPI) {
			s.Clients = b.adapters.Resources
		}
		if b.needs.Customers {
			s.Door = b.Door()
		}
		switch url := b.cfg.QueueURLs[InventoryQueue.ID]; {
		case url != "":
			s.Queue = inventory.SQSQueue{Client: b.SQS(), URL: url}
		case b.needs.queue(InventoryQueue) == ReadWrite:
			// One process runs the whole platform (the local server, the tests): the work runs in the caller.
			s.Queue = &inventory.InlineQueue{Service: s}
		default:
			s.Queue = inventory.UnwiredQueue{}
		}
		b.inventory = s
		b.built(Parts{Inventory: s})
	}
	return b.inventory
}

// tenantSchedules reads a tenant's inventory sync interval from its settings.
type tenantSchedules struct{ b *Builder }

func (t tenantSchedules) InventoryInterval(ctx context.Context, tenantID string) (time.Duration, error) {
	tn, err := t.b.Tenants().Get(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	return time.Duration(tn.Settings.Inventory.SyncIntervalHours) * time.Hour, nil
}

// Identity is the IAM integration. Its key vault, queue and scheduler are what the function's wiring allows; the
// others refuse (identity.UnwiredVault...), so a function reaching beyond its wiring fails loudly.
func (b *Builder) Identity() *identity.Service {
	if b.identity == nil {
		s := &identity.Service{Accounts: b.Accounts(), Store: store.Identities{DB: b.DB()}, Now: b.now,
			Keys: identity.UnwiredVault{}, Schedules: identity.UnwiredScheduler{}}
		if b.needs.Customers {
			s.Door = b.Door()
		}
		if b.needs.IdentityKeys == ReadWrite {
			s.Keys = b.adapters.KeyVault(b.aws, b.cfg.Identity.SecretPrefix, b.cfg.Identity.KMSKeyID)
		}
		if b.needs.Scheduler {
			s.Schedules = b.adapters.Scheduler(b.aws, identity.ScheduleTarget{Group: b.cfg.Identity.ScheduleGroup,
				RoleARN: b.cfg.Identity.ScheduleRoleARN, QueueARN: b.cfg.Identity.QueueARN})
		}
		switch url := b.cfg.QueueURLs[IdentityQueue.ID]; {
		case url != "":
			s.Queue = identity.SQSQueue{Client: b.SQS(), URL: url}
		case b.needs.queue(IdentityQueue) == ReadWrite:
			// One process runs the whole platform (the local server, the tests): the work runs in the caller.
			s.Queue = identity.InlineQueue{Service: s}
		default:
			s.Queue = identity.UnwiredQueue{}
		}
		b.identity = s
		b.built(Parts{Identity: s})
	}
	return b.identity
}

// Rotation runs tenants' External ID schedules.
func (b *Builder) Rotation() *rotation.Service {
	if b.rotation == nil {
		b.require("the External ID schedule", b.needs.Onboarding, "Onboarding")
		b.rotation = &rotation.Service{Tenants: b.Tenants(), Due: store.Tenants{DB: b.DB()}, Accounts: b.Accounts(), Verifier: b.Connector(),
			PlatformPrincipal: b.cfg.Onboarding.PlatformPrincipal, Now: b.now}
		b.built(Parts{Rotation: b.rotation})
	}
	return b.rotation
}

// Services are every part, for a process that runs the whole platform (the local server, the tests).
type Services struct {
	// Builder built them; the HTTP API is built over it (pkg/platform/web).
	Builder    *Builder
	DB         store.DB
	Accounts   *accounts.Service
	Tenants    *tenants.Service
	Audit      store.AuditLog
	Connector  *crossaccount.Connector
	Door       *crossaccount.Door
	Onboarding *onboarding.Service
	CostSync   *costsync.Service
	Discovery  *discovery.Service
	Activation *activation.Service
	Inventory  *inventory.Service

	Identity *identity.Service
	Rotation *rotation.Service
}

// NewServices builds every part over cfg, as one process running the whole platform needs them, with every adapter
// (pkg/platform/awsadapters.All). now is the clock.
func NewServices(awsCfg aws.Config, cfg Config, adapters Adapters, now func() time.Time) (s *Services, err error) {
	defer func() {
		if nw, ok := recover().(*NotWiredError); ok {
			s, err = nil, nw
		}
	}()
	if err := adapters.missing(Everything); err != nil {
		return nil, err
	}
	b := NewBuilder(awsCfg, cfg, Everything, adapters, now)
	if _, err := cursor.NewSigner(cfg.CursorKey); err != nil {
		return nil, err
	}
	return &Services{
		Builder: b, DB: b.DB(), Tenants: b.Tenants(), Accounts: b.Accounts(), Audit: b.Audit(), Connector: b.Connector(), Door: b.Door(),
		Onboarding: b.Onboarding(), CostSync: b.CostSync(), Discovery: b.Discovery(), Activation: b.Activation(), Rotation: b.Rotation(),
		Inventory: b.Inventory(),
		Identity:  b.Identity(),
	}, nil
}
