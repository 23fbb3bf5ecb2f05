// Package tables holds the one definition of every DynamoDB table Gangplank uses.
//
// The CDK stack (infra/) and the local runtime (pkg/localaws) both build their tables from these values, so the
// keys and indexes the code queries are the keys and indexes that exist, in the cloud and on a laptop alike.
// The access patterns behind each key are written down in docs/data-model.md.
package tables

// AttributeType is a DynamoDB scalar key type.
type AttributeType string

const (
	String AttributeType = "S"
	Number AttributeType = "N"
)

// Attribute is a key attribute: a name and its scalar type.
type Attribute struct {
	Name string
	Type AttributeType
}

// Projection says which attributes a global secondary index copies.
type Projection string

const (
	ProjectAll      Projection = "ALL"
	ProjectKeysOnly Projection = "KEYS_ONLY"
)

// Index is a global secondary index.
type Index struct {
	Name         string
	PartitionKey Attribute
	SortKey      Attribute
	Projection   Projection
}

// Table is a table's whole definition except its physical name, which each environment chooses.
type Table struct {
	// ID is the logical name, stable across environments ("tenants", "accounts").
	ID string
	// EnvVar names the environment variable through which functions learn the physical table name.
	EnvVar       string
	PartitionKey Attribute
	SortKey      Attribute
	Indexes      []Index
	// TTLAttribute holds an epoch-seconds expiry; DynamoDB deletes items after it passes.
	TTLAttribute string
}

// Key attribute names shared by every table: generic names let one table hold several item types.
const (
	PK        = "pk"
	SK        = "sk"
	GSI1PK    = "gsi1pk"
	GSI1SK    = "gsi1sk"
	GSI2PK    = "gsi2pk"
	GSI2SK    = "gsi2sk"
	GSI3PK    = "gsi3pk"
	GSI3SK    = "gsi3sk"
	GSI4PK    = "gsi4pk"
	GSI4SK    = "gsi4sk"
	GSI5PK    = "gsi5pk"
	GSI5SK    = "gsi5sk"
	GSI6PK    = "gsi6pk"
	GSI6SK    = "gsi6sk"
	ExpiresAt = "expiresAt"
)

// Index names on the accounts table.
const (
	AccountsByStatus     = "byStatus"
	AccountsByManagement = "byManagement"
	AccountsByType       = "byType"
	// AccountsByCostSync is sparse: only payers (active management or standalone accounts) with cost sync on.
	AccountsByCostSync = "byCostSync"
	// AccountsByActiveManagement is sparse: only active management accounts, across tenants (daily discovery).
	AccountsByActiveManagement = "byActiveManagement"
)

// TenantsByRotation is sparse: only tenants whose External ID schedule has a warning or rotation pending, sorted
// by when (the daily rotation function).
const TenantsByRotation = "byRotation"

// Tenants holds tenant profiles and each tenant's audit trail.
var Tenants = Table{
	ID:           "tenants",
	EnvVar:       "TENANTS_TABLE",
	PartitionKey: Attribute{PK, String},
	SortKey:      Attribute{SK, String},
	Indexes: []Index{
		{Name: TenantsByRotation, PartitionKey: Attribute{GSI1PK, String}, SortKey: Attribute{GSI1SK, String}, Projection: ProjectKeysOnly},
	},
	TTLAttribute: ExpiresAt,
}

// Accounts holds linked AWS accounts, the per-tenant name reservations, and the global account-ID claims.
var Accounts = Table{
	ID:           "accounts",
	EnvVar:       "ACCOUNTS_TABLE",
	PartitionKey: Attribute{PK, String},
	SortKey:      Attribute{SK, String},
	Indexes: []Index{
		{Name: AccountsByStatus, PartitionKey: Attribute{GSI1PK, String}, SortKey: Attribute{GSI1SK, String}, Projection: ProjectAll},
		{Name: AccountsByManagement, PartitionKey: Attribute{GSI2PK, String}, SortKey: Attribute{GSI2SK, String}, Projection: ProjectAll},
		{Name: AccountsByType, PartitionKey: Attribute{GSI3PK, String}, SortKey: Attribute{GSI3SK, String}, Projection: ProjectAll},
		{Name: AccountsByCostSync, PartitionKey: Attribute{GSI4PK, String}, SortKey: Attribute{GSI4SK, String}, Projection: ProjectKeysOnly},
		{Name: AccountsByActiveManagement, PartitionKey: Attribute{GSI5PK, String}, SortKey: Attribute{GSI5SK, String}, Projection: ProjectKeysOnly},
	},
	TTLAttribute: ExpiresAt,
}

// Costs holds Cost Explorer data per payer: the sync status (which points at the current generation of
// recommendations), the recommendations of each generation, EDP commitments, and the per-tenant sync rate limit.
var Costs = Table{
	ID:           "costs",
	EnvVar:       "COSTS_TABLE",
	PartitionKey: Attribute{PK, String},
	SortKey:      Attribute{SK, String},
	TTLAttribute: ExpiresAt,
}

// Index names on the inventory table.
const (
	// InventoryByTenant: every resource of a tenant, by account, region and type.
	InventoryByTenant = "byTenant"
	// InventoryByRegion: a tenant's resources of one region, by type and account.
	InventoryByRegion = "byRegion"
	// InventoryByType: a tenant's resources of one type, by account and region.
	InventoryByType = "byType"
	// InventoryByTag: a tenant's tag entries of one key, by value, account, region and type (tag filters).
	InventoryByTag = "byTag"
	// InventoryByArn (keys only): finds a tenant's resource by its ARN alone (S3 and IAM ARNs name no account).
	InventoryByArn = "byArn"
	// InventoryByDue (sparse, keys only): every account's inventory status, by the time its next scheduled sync is
	// due, across tenants (the scheduler's one Query).
	InventoryByDue = "byDue"
)

// Inventory holds the resources and tags read from customers' accounts (each resource versioned by the sync that
// read it, so a sync becomes visible at once), the tag index, tenants' tag edits and their write-back state, each
// account's inventory status, and tag summaries.
var Inventory = Table{
	ID:           "inventory",
	EnvVar:       "INVENTORY_TABLE",
	PartitionKey: Attribute{PK, String},
	SortKey:      Attribute{SK, String},
	Indexes: []Index{
		{Name: InventoryByTenant, PartitionKey: Attribute{GSI1PK, String}, SortKey: Attribute{GSI1SK, String}, Projection: ProjectAll},
		{Name: InventoryByRegion, PartitionKey: Attribute{GSI2PK, String}, SortKey: Attribute{GSI2SK, String}, Projection: ProjectAll},
		{Name: InventoryByTag, PartitionKey: Attribute{GSI3PK, String}, SortKey: Attribute{GSI3SK, String}, Projection: ProjectAll},
		{Name: InventoryByArn, PartitionKey: Attribute{GSI4PK, String}, SortKey: Attribute{GSI4SK, String}, Projection: ProjectKeysOnly},
		{Name: InventoryByDue, PartitionKey: Attribute{GSI5PK, String}, SortKey: Attribute{GSI5SK, String}, Projection: ProjectKeysOnly},
		{Name: InventoryByType, PartitionKey: Attribute{GSI6PK, String}, SortKey: Attribute{GSI6SK, String}, Projection: ProjectAll},
	},
	TTLAttribute: ExpiresAt,
}

// Index names on the identities table.
const (
	// IdentitiesByIntegration is sparse: only the integration records, across tenants (the daily sync and key
	// rotation).
	IdentitiesByIntegration = "byIntegration"
)

// Identities holds the IAM integrations of accounts (how each enters, its key's metadata, its sync status), the
// users and groups each sync read, onboarding and offboarding progress, self-service invitations, and the links
// between IAM users and people.
var Identities = Table{
	ID:           "identities",
	EnvVar:       "IDENTITIES_TABLE",
	PartitionKey: Attribute{PK, String},
	SortKey:      Attribute{SK, String},
	Indexes: []Index{
		{Name: IdentitiesByIntegration, PartitionKey: Attribute{GSI1PK, String}, SortKey: Attribute{GSI1SK, String}, Projection: ProjectKeysOnly},
	},
	TTLAttribute: ExpiresAt,
}

// All lists every table, in creation order.
func All() []Table { return []Table{Tenants, Accounts, Costs, Identities, Inventory} }

// Names maps a table's logical ID to its physical name in one environment.
type Names map[string]string

// Tenants returns the physical name of the tenants table.
func (n Names) Tenants() string { return n.name(Tenants) }

// Accounts returns the physical name of the accounts table.
func (n Names) Accounts() string { return n.name(Accounts) }

// Costs returns the physical name of the costs table.
func (n Names) Costs() string { return n.name(Costs) }

// Inventory returns the physical name of the inventory table.
func (n Names) Inventory() string { return n.name(Inventory) }

// Identities returns the physical name of the identities table.
func (n Names) Identities() string { return n.name(Identities) }

// NotWiredError is the panic of code that reaches for a table its function's wiring does not declare: each
// function knows only the tables it is granted (pkg/platform), so using another is a bug to fix in the wiring,
// caught by the tests that run each function with exactly its own configuration.
type NotWiredError struct{ Table string }

func (e NotWiredError) Error() string {
	return "table " + e.Table + " is not in this function's wiring: declare it in its platform.Needs (which grants it)"
}

func (n Names) name(t Table) string {
	v, ok := n[t.ID]
	if !ok {
		panic(NotWiredError{Table: t.ID})
	}
	return v
}

// FromEnv reads the physical names of the given tables (every table when none is given) from their environment
// variables through getenv. It reports the variables that are missing, so a misconfigured function fails at cold
// start.
func FromEnv(getenv func(string) string, only ...Table) (Names, []string) {
	names := Names{}
	var missing []string
	list := only
	if len(list) == 0 {
		list = All()
	}
	for _, t := range list {
		v := getenv(t.EnvVar)
		if v == "" {
			missing = append(missing, t.EnvVar)
			continue
		}
		names[t.ID] = v
	}
	return names, missing
}

// Env returns the environment variables that hand these names to a function.
func (n Names) Env() map[string]string {
	env := map[string]string{}
	for _, t := range All() {
		if v, ok := n[t.ID]; ok {
			env[t.EnvVar] = v
		}
	}
	return env
}
