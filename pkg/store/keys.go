// Package store keeps Gangplank's data in DynamoDB. Keys are built here and nowhere else; each exported type serves
// one entity's access patterns (docs/data-model.md lists them), and every write it makes is conditional.
package store

import (
	"fmt"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
)

// Item types, stored in every item's itemType attribute so that a table export can be read without the code.
const (
	itemTenant  = "tenant"
	itemAudit   = "audit"
	itemAccount = "account"
	itemName    = "accountName"
	itemClaim   = "accountClaim"
	// itemIntegrationName reserves an account's integration name in its tenant.
	itemIntegrationName = "integrationName"
)

const (
	tenantPrefix    = "TENANT#"
	accountPrefix   = "ACCOUNT#"
	auditPrefix     = "AUDIT#"
	namePrefix      = "NAME#"
	claimPrefix     = "CLAIM#"
	profileSK       = "PROFILE"
	claimSK         = "CLAIM"
	statusSegment   = "#STATUS#"
	typeSegment     = "#TYPE#"
	managementSegmt = "#MANAGEMENT#"
)

// tenantPK is the partition of everything a tenant owns in either table.
func tenantPK(tenantID string) string { return tenantPrefix + tenantID }

// accountSK sorts a tenant's accounts by account ID.
func accountSK(accountID string) string { return accountPrefix + accountID }

// nameSK reserves a case-folded account name within a tenant.
func nameSK(name string) string { return namePrefix + accounts.NameKey(name) }

// integrationSK reserves an integration name within a tenant, compared ignoring case.
func integrationSK(name string) string { return "INTEGRATION#" + accounts.IntegrationNameKey(name) }

// claimPK is the one global item per AWS account ID that says which tenant holds it.
func claimPK(accountID string) string { return claimPrefix + accountID }

// auditSK sorts audit entries by time (zero-padded nanoseconds sort as strings) and keeps same-instant entries apart.
func auditSK(at time.Time, id string) string {
	return fmt.Sprintf("%s%019d#%s", auditPrefix, at.UnixNano(), id)
}

// byStatus index: a tenant's accounts in one status, sorted by type then ID, so "status and type" is one Query.
func statusPK(tenantID string, s accounts.Status) string {
	return tenantPK(tenantID) + statusSegment + string(s)
}
func statusSK(t accounts.Type, accountID string) string {
	return typeSegment[1:] + string(t) + "#" + accountSK(accountID)
}

// byManagement index: the linked accounts of one management account, sorted by status then ID, so "this
// organization's failed accounts" is one Query.
func managementPK(tenantID, managementID string) string {
	return tenantPK(tenantID) + managementSegmt + managementID
}
func managementSK(s accounts.Status, accountID string) string {
	return statusSegment[1:] + string(s) + "#" + accountSK(accountID)
}

// byType index: a tenant's accounts of one type.
func typePK(tenantID string, t accounts.Type) string {
	return tenantPK(tenantID) + typeSegment + string(t)
}

// byCostSync index (sparse): every payer whose Cost Explorer recommendations are synced, across tenants, so the
// daily schedule finds them with one Query a page. An account is in it while it is an active management or
// standalone account with cost sync on; any change to those fields moves it in or out in the same write.
const costSyncPK = "COSTSYNC"

func costSyncSK(tenantID, accountID string) string {
	return tenantPK(tenantID) + "#" + accountSK(accountID)
}

func costSyncPayer(a accounts.Account) bool {
	return a.CostSync && a.Status == accounts.Active && (a.Type == accounts.Management || a.Type == accounts.Standalone)
}

// Costs table: a tenant's sync statuses, commitments and rate limit live in its partition; each generation of a
// payer's recommendations in its own partition, sorted by account so one account's are one Query.
const (
	itemSyncStatus     = "costSyncStatus"
	itemRecommendation = "recommendation"
	itemCommitment     = "commitment"
	itemRateLimit      = "costSyncRateLimit"
	syncPrefix         = "SYNC#"
	commitmentPrefix   = "COMMITMENT#"
	rateLimitSK        = "SYNC-RATE-LIMIT"
)

func syncSK(payerID string) string       { return syncPrefix + payerID }
func commitmentSK(payerID string) string { return commitmentPrefix + payerID }

func generationPK(tenantID, payerID, generation string) string {
	return tenantPK(tenantID) + "#PAYER#" + payerID + "#GEN#" + generation
}

func recommendationSK(accountID, id string) string { return accountSK(accountID) + "#" + id }

// An organization's OU tree, as its management account's latest discovery read it.
const (
	itemOrganization = "organization"
	orgPrefix        = "ORG#"
)

func orgSK(managementID string) string { return orgPrefix + managementID }

// byActiveManagement index (sparse): every active management account, across tenants, for the daily discovery.
const activeManagementPK = "MANAGEMENT"

// Bulk activations: the header in the tenant's partition, each account's progress in the activation's own.
const (
	itemActivation     = "activation"
	itemActivationItem = "activationItem"
	activationPrefix   = "ACTIVATION#"
)

func activationSK(id string) string { return activationPrefix + id }

func activationPK(tenantID, id string) string {
	return tenantPK(tenantID) + "#" + activationPrefix + id
}

// Inventory table: an account's resources live in one partition per region (a scan reads its region's alone),
// its tag entries, its edits and its edits' tag entries each in a partition of their own; resources are also
// indexed tenant-wide (by account, region, type: byTenant, byRegion, byType), by ARN, and tag entries by key and
// value. Statuses live in the tenant's partition, tag summaries in the tenant's summary partitions. Tag keys and
// values cannot hold "#" (AWS's character set), tenant IDs, regions and types neither, so "#" separates every
// part; an ARN always comes last.
const (
	itemResource     = "resource"
	itemTagEntry     = "tagEntry"
	itemEditTagEntry = "editTagEntry"
	itemEdit         = "tagEdit"
	itemInvStatus    = "inventoryStatus"
	itemSeen         = "inventorySeen"
	itemTagKeySum    = "tagKeySummary"
	itemTagValSum    = "tagValueSummary"
	resourcePrefix   = "RES#"
	invStatusPrefix  = "INVENTORY#"
	seenPrefix       = "SEEN#"
	inventoryDuePK   = "INVENTORY-DUE"
)

func inventoryAccountPK(tenantID, accountID string) string {
	return tenantPK(tenantID) + "#" + accountSK(accountID)
}
func resourcePK(tenantID, accountID, region string) string {
	return inventoryAccountPK(tenantID, accountID) + "#REGION#" + region
}
func resourceSK(arn string) string             { return resourcePrefix + arn }
func resourcesTenantPK(tenantID string) string { return tenantPK(tenantID) + "#RES" }
func resourcesTenantSK(accountID, region, typ, arn string) string {
	return accountID + "#" + region + "#" + typ + "#" + arn
}
func resourcesRegionPK(tenantID, region string) string {
	return tenantPK(tenantID) + "#REGION#" + region
}
func resourcesRegionSK(typ, accountID, arn string) string {
	return typ + "#" + accountID + "#" + arn
}
func resourcesTypePK(tenantID, typ string) string { return tenantPK(tenantID) + "#TYPE#" + typ }
func resourcesTypeSK(accountID, region, arn string) string {
	return accountID + "#" + region + "#" + arn
}
func resourceArnPK(tenantID, arn string) string { return tenantPK(tenantID) + "#ARN#" + arn }
func tagEntriesPK(tenantID, accountID string) string {
	return inventoryAccountPK(tenantID, accountID) + "#TAG"
}
func tagEntrySK(key, value, arn string) string { return key + "#" + value + "#" + arn }
func editTagsPK(tenantID, accountID string) string {
	return inventoryAccountPK(tenantID, accountID) + "#ETAG"
}
func editTagSK(key, arn string) string       { return key + "#" + arn }
func tagIndexPK(tenantID, key string) string { return tenantPK(tenantID) + "#TAG#" + key }
func tagIndexSK(value, accountID, region, typ, arn string) string {
	return value + "#" + accountID + "#" + region + "#" + typ + "#" + arn
}
func editsPK(tenantID, accountID string) string {
	return inventoryAccountPK(tenantID, accountID) + "#EDIT"
}
func editSK(region, arn string) string    { return region + "#" + arn }
func invStatusSK(accountID string) string { return invStatusPrefix + accountID }
func inventoryDueSK(due time.Time, tenantID, accountID string) string {
	return due.UTC().Format("2006-01-02T15:04:05Z") + "#" + tenantID + "#" + accountID
}
func runPK(tenantID, accountID string, seq int64) string {
	return inventoryAccountPK(tenantID, accountID) + fmt.Sprintf("#RUN#%d", seq)
}
func seenSK(scan string, pass, chunk, part int) string {
	return fmt.Sprintf("%s%s#%04d#%06d#%03d", seenPrefix, scan, pass, chunk, part)
}
func tagKeysPK(tenantID string) string        { return tenantPK(tenantID) + "#TAGKEYS" }
func tagKeySK(key, accountID string) string   { return key + "#" + accountID }
func tagValuesPK(tenantID, key string) string { return tenantPK(tenantID) + "#TAGVALS#" + key }

// byRotation index (sparse, tenants table): tenants whose External ID schedule has a warning or a rotation pending,
// sorted by when it is due, so the daily function reads only those due with one Query a page.
const rotationPK = "ROTATION"

// rotationSK sorts by time (fixed-width UTC, so strings sort as times) and keeps tenants due at once apart.
func rotationSK(at time.Time, tenantID string) string {
	return at.UTC().Format("2006-01-02T15:04:05Z") + "#" + tenantID
}
