package inventory

import (
	"context"
	"errors"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
)

// TagEntry indexes one tag of one resource, so that a tag filter is one Query of that key and value.
type TagEntry struct {
	AccountID, Region, Type, ARN, Key, Value string
}

// Writes are a batch of a scan's changes, written with batch writes: new versions and tombstones of resources,
// resources pruned, tag entries added and removed.
type Writes struct {
	Resources     []Stored
	Deleted       []Stored
	Entries       []TagEntry
	DeleteEntries []TagEntry
}

// Len counts the items the batch writes.
func (w Writes) Len() int {
	return len(w.Resources) + len(w.Deleted) + len(w.Entries) + len(w.DeleteEntries)
}

// ResourceKey names a stored resource.
type ResourceKey struct{ Region, ARN string }

// Query selects resources of a tenant, of one account or all. Every combination of account, region and type is a
// key condition of the table or an index; a tag filter queries the tag's entries.
type Query struct {
	AccountID, Region, Type string
	Tag                     TagFilter
	Limit                   int
	Cursor                  string
}

// Candidate is a resource a listing's query returned, before visibility and the tenant's edits are applied.
type Candidate struct {
	Resource Stored
	// FromEdit: found by a tag entry of the tenant's edit (not of AWS's tags).
	FromEdit bool
}

// KeySummary counts an account's resources with a tag key, and with each of its values (the first MaxSummaryValues
// values; Truncated beyond).
type KeySummary struct {
	Key       string         `json:"key" dynamodbav:"key"`
	AccountID string         `json:"accountId" dynamodbav:"accountId"`
	Count     int            `json:"count" dynamodbav:"count"`
	Values    map[string]int `json:"values,omitempty" dynamodbav:"values"`
	Truncated bool           `json:"truncated,omitempty" dynamodbav:"truncated"`
}

// MaxSummaryValues bounds the distinct values a summary counts per key and account (a Name tag has one per resource;
// tag-management screens care about keys with few values).
const MaxSummaryValues = 1000

// EditGuard makes an edit conditional on what the tenant saw: the resource as stored and the sync its region shows.
type EditGuard struct {
	Resource  Stored
	Committed int64
	Audit     *audit.Entry
}

// ErrConcurrent: another writer changed the item first.
var ErrConcurrent = errors.New("changed concurrently")

// Store keeps the inventory (pkg/store.Inventory).
type Store interface {
	Status(ctx context.Context, tenantID, accountID string) (Status, error)
	Statuses(ctx context.Context, tenantID string) ([]Status, error)
	SaveStatus(ctx context.Context, tenantID string, before, after Status) error
	FinishScan(ctx context.Context, tenantID, accountID string, seq int64, scan string, result RegionResult) (Status, bool, error)
	AcquireManual(ctx context.Context, tenantID, accountID string, now time.Time, interval time.Duration) (time.Duration, error)
	Due(ctx context.Context, now time.Time) ([]accounts.Ref, error)

	Stubs(ctx context.Context, tenantID, accountID string, regions []string) (map[string]Stub, error)
	Resources(ctx context.Context, tenantID, accountID string, keys []ResourceKey) (map[string]Stored, error)
	AccountResources(ctx context.Context, tenantID, accountID string, regions []string, each func(Stored) error) error
	Apply(ctx context.Context, tenantID string, w Writes) error
	SaveSeen(ctx context.Context, tenantID, accountID string, seq int64, scan string, pass, chunk int, hashes []uint64, expires time.Time) error
	Seen(ctx context.Context, tenantID, accountID string, seq int64, scan string, pass int) ([]uint64, error)

	Edits(ctx context.Context, tenantID, accountID string, regions []string) (map[string]Edit, error)
	EditsFor(ctx context.Context, tenantID string, resources []Stored) (map[string]Edit, error)
	SaveEdit(ctx context.Context, tenantID string, before, after *Edit, guard *EditGuard) error

	Find(ctx context.Context, tenantID, arn string) (Stored, *Edit, bool, error)
	List(ctx context.Context, tenantID string, q Query, accept func(context.Context, []Candidate) ([]bool, error)) ([]Candidate, string, error)

	SaveSummary(ctx context.Context, tenantID, accountID string, before []string, sums map[string]KeySummary) error
	AdjustSummary(ctx context.Context, tenantID, accountID string, deltas map[string]map[string]int) error
	TagKeys(ctx context.Context, tenantID string) ([]KeySummary, error)
	TagValues(ctx context.Context, tenantID, key string) ([]KeySummary, error)
}
