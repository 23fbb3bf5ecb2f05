// Package inventory reads the resources (and, at the access levels that allow it, the tags) of every connected
// account, keeps them current, and writes tenants' tag edits back to AWS where the account allows it.
//
// A sync of one account is a run: a plan step enters the account, reads its enabled regions and finds its source
// (the Resource Explorer aggregator index's default view when usable, else the Resource Groups Tagging API region by
// region), then scans fan out over SQS, one per region (or one for the whole view), each continuing itself in a new
// message before its Lambda runs out of time. Each resource is stored once, with the version the last committed sync
// read and, while a sync runs, the version it read: readers pick the version of the sync committed for the
// resource's region, so a sync becomes visible at once, when its last scan commits, and an unchanged resource is
// never written. docs/inventory.md tells the whole story.
package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
)

// Tags are a resource's tags, key to value.
type Tags map[string]string

// Clone copies tags (nil stays nil).
func (t Tags) Clone() Tags {
	if t == nil {
		return nil
	}
	out := make(Tags, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

// Keys returns the keys in order.
func (t Tags) Keys() []string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// hashTags identifies a version's content: the tags, or their absence at the resources level (where Gangplank
// neither reads nor keeps them). Two versions with the same hash are the same version: nothing to write.
func hashTags(tags Tags, withTags bool) string {
	if !withTags {
		return "untagged-level"
	}
	h := sha256.New()
	for _, k := range tags.Keys() {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(tags[k]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Version is what one sync read of a resource.
type Version struct {
	// Tags are AWS's tags (nil at the resources level).
	Tags Tags `dynamodbav:"tags"`
	// Hash identifies the content (hashTags).
	Hash string `dynamodbav:"hash"`
	// Since is when this content was first read.
	Since time.Time `dynamodbav:"since"`
	// Gone marks a resource AWS no longer lists (a tombstone, pruned by the next sync).
	Gone bool `dynamodbav:"gone,omitempty"`
}

// Stored is a resource as the table keeps it: the version the committed sync of its region read (Old), and the
// version a later sync read (New, with the sync's sequence number NewSeq). Readers use New once that sync is
// committed for the region, Old before.
type Stored struct {
	ARN       string    `dynamodbav:"arn"`
	AccountID string    `dynamodbav:"accountId"`
	Region    string    `dynamodbav:"region"`
	Type      string    `dynamodbav:"type"`
	FirstSeen time.Time `dynamodbav:"firstSeen"`
	Old       *Version  `dynamodbav:"old,omitempty"`
	New       *Version  `dynamodbav:"new,omitempty"`
	NewSeq    int64     `dynamodbav:"newSeq,omitempty"`
}

// Visible is the version a reader sees when the resource's region is committed at seq committed, if any.
func (s Stored) Visible(committed int64) (*Version, bool) {
	v := s.Old
	if s.New != nil && s.NewSeq <= committed {
		v = s.New
	}
	if v == nil || v.Gone {
		return nil, false
	}
	return v, true
}

// Stub is the little of a stored resource a scan needs to compare it with what AWS lists.
type Stub struct {
	Region  string
	OldHash string
	OldGone bool
	HasOld  bool
	NewHash string
	NewGone bool
	NewSeq  int64
}

// visibleHash is the hash of the version readers see at committed ("" if none: never visible, or gone).
func (s Stub) visibleHash(committed int64) string {
	if s.NewSeq > 0 && s.NewSeq <= committed {
		if s.NewGone {
			return ""
		}
		return s.NewHash
	}
	if !s.HasOld || s.OldGone {
		return ""
	}
	return s.OldHash
}

// dirty reports that a sync that never committed left a version behind (it must be replaced or removed).
func (s Stub) dirty(committed int64) bool { return s.NewSeq > committed }

// settled reports that the item holds one visible version only: nothing of an earlier sync to prune.
func (s Stub) settled(committed int64) bool {
	if s.NewSeq == 0 {
		return !s.OldGone
	}
	return s.NewSeq > committed || (!s.HasOld && !s.NewGone)
}

// Edit states.
const (
	// EditLocal: kept in Gangplank only (the account's access level does not write tags back).
	EditLocal = "local"
	// EditPending: waiting to be written to AWS.
	EditPending = "pending"
	// EditSynced: written to AWS; confirmed (and folded into AWS's tags) by the next sync.
	EditSynced = "synced"
	// EditFailed: AWS refused the write; Reason says why, and it is retried with backoff.
	EditFailed = "failed"
	// EditConflict: AWS's value changed since Gangplank read it, and the tenant changed it too. Neither wins until
	// the tenant edits the key again (choosing either value, or another).
	EditConflict = "conflict"
)

// KeyEdit is a tenant's change to one tag key.
type KeyEdit struct {
	// Value is the new value; Delete removes the key instead.
	Value  string `json:"value,omitempty" dynamodbav:"value,omitempty"`
	Delete bool   `json:"delete,omitempty" dynamodbav:"delete,omitempty"`
	// Base is AWS's value when the tenant edited the key (nil: AWS had no such key).
	Base *string `json:"awsValueWhenEdited,omitempty" dynamodbav:"base,omitempty"`
	// AWSValue is AWS's current value, recorded with a conflict (nil with AWSDeleted: AWS removed the key).
	AWSValue   *string   `json:"awsValue,omitempty" dynamodbav:"awsValue,omitempty"`
	AWSDeleted bool      `json:"awsDeleted,omitempty" dynamodbav:"awsDeleted,omitempty"`
	State      string    `json:"state" dynamodbav:"state"`
	EditedAt   time.Time `json:"editedAt" dynamodbav:"editedAt"`
	EditedBy   string    `json:"editedBy" dynamodbav:"editedBy"`
}

// Edit is every tag edit of one resource with its write-back state.
type Edit struct {
	ARN       string             `dynamodbav:"arn"`
	AccountID string             `dynamodbav:"accountId"`
	Region    string             `dynamodbav:"region"`
	Type      string             `dynamodbav:"type"`
	Keys      map[string]KeyEdit `dynamodbav:"keys"`
	WriteBack WriteBack          `dynamodbav:"writeBack"`
	// Overwritten remembers the latest edits AWS's own values replaced at a sync (resources_tags), so the tenant
	// sees why an edit disappeared.
	Overwritten []Overwrite `dynamodbav:"overwritten,omitempty"`
	Version     int64       `dynamodbav:"version"`
}

// Overwrite is an edit a sync replaced with AWS's value.
type Overwrite struct {
	Key            string    `json:"key" dynamodbav:"key"`
	GangplankValue string    `json:"gangplankValue" dynamodbav:"gangplankValue"`
	AWSValue       string    `json:"awsValue" dynamodbav:"awsValue"`
	At             time.Time `json:"at" dynamodbav:"at"`
}

// maxOverwrites bounds the overwrites remembered per resource.
const maxOverwrites = 10

// WriteBack is the outcome of writing a resource's edits to AWS.
type WriteBack struct {
	State         string     `json:"state" dynamodbav:"state"`
	Reason        string     `json:"reason,omitempty" dynamodbav:"reason,omitempty"`
	Attempts      int        `json:"attempts" dynamodbav:"attempts"`
	LastAttemptAt *time.Time `json:"lastAttemptAt,omitempty" dynamodbav:"lastAttemptAt,omitempty"`
	NextAttemptAt *time.Time `json:"nextAttemptAt,omitempty" dynamodbav:"nextAttemptAt,omitempty"`
}

// Apply overlays the edits on AWS's tags: the tags the tenant sees.
func (e *Edit) Apply(aws Tags) Tags {
	out := aws.Clone()
	if out == nil {
		out = Tags{}
	}
	if e == nil {
		return out
	}
	for k, ke := range e.Keys {
		if ke.Delete {
			delete(out, k)
		} else {
			out[k] = ke.Value
		}
	}
	return out
}

// refreshState derives the resource's write-back state from its keys' states.
func (e *Edit) refreshState() {
	rank := map[string]int{EditSynced: 0, EditLocal: 1, EditPending: 2, EditFailed: 3, EditConflict: 4}
	state := ""
	for _, ke := range e.Keys {
		if state == "" || rank[ke.State] > rank[state] {
			state = ke.State
		}
	}
	e.WriteBack.State = state
	if state != EditFailed {
		e.WriteBack.Reason = ""
	}
	if state != EditFailed && state != EditPending {
		e.WriteBack.NextAttemptAt = nil
	}
}

// Conflicts lists the keys in conflict.
func (e *Edit) Conflicts() []Conflict {
	var out []Conflict
	for _, k := range sortedKeys(e.Keys) {
		ke := e.Keys[k]
		if ke.State != EditConflict {
			continue
		}
		c := Conflict{Key: k, AWSValue: ke.AWSValue, AWSDeleted: ke.AWSDeleted}
		if !ke.Delete {
			v := ke.Value
			c.GangplankValue = &v
		}
		c.GangplankDeleted = ke.Delete
		out = append(out, c)
	}
	return out
}

// Conflict shows both values of a key the tenant and AWS both changed.
type Conflict struct {
	Key              string  `json:"key"`
	GangplankValue   *string `json:"gangplankValue,omitempty"`
	GangplankDeleted bool    `json:"gangplankDeleted,omitempty"`
	AWSValue         *string `json:"awsValue,omitempty"`
	AWSDeleted       bool    `json:"awsDeleted,omitempty"`
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Inventory statuses of an account.
const (
	// StatusInitializing: no full fetch has completed yet (Apono marks an integration active only after its first).
	StatusInitializing = "initializing"
	// StatusActive: the last sync read every region it was asked to.
	StatusActive = "active"
	// StatusError: the last sync could not read some or all of the account; Reason says what to do.
	StatusError = "error"
)

// Sources.
const (
	SourceExplorer = "resource-explorer"
	SourceTagging  = "tagging-api"
)

// RegionResult is what one scan found in one region (or, for Resource Explorer, in every region of its view).
type RegionResult struct {
	Region    string `json:"region" dynamodbav:"region"`
	Source    string `json:"source" dynamodbav:"source"`
	Status    string `json:"status" dynamodbav:"status"` // ok or error
	Reason    string `json:"reason,omitempty" dynamodbav:"reason,omitempty"`
	Resources int    `json:"resources" dynamodbav:"resources"`
	Added     int    `json:"added" dynamodbav:"added"`
	Changed   int    `json:"changed" dynamodbav:"changed"`
	Removed   int    `json:"removed" dynamodbav:"removed"`
	// Calls are the listing calls made (pages); Bound is the fewest pages that could list the resources found.
	Calls         int `json:"calls" dynamodbav:"calls"`
	Retries       int `json:"retries" dynamodbav:"retries"`
	Bound         int `json:"bound" dynamodbav:"bound"`
	Continuations int `json:"continuations" dynamodbav:"continuations"`
	// Writes counts the DynamoDB items the scan wrote or deleted.
	Writes int `json:"writes" dynamodbav:"writes"`
	// PerRegion counts the resources listed in each region (a Resource Explorer scan covers many).
	PerRegion map[string]int `json:"resourcesByRegion,omitempty" dynamodbav:"perRegion,omitempty"`
	// Edits counts the tenant's edits the scan settled against AWS's tags; WriteBack says some await writing.
	Edits     int  `json:"editsSettled" dynamodbav:"edits"`
	WriteBack bool `json:"-" dynamodbav:"writeBack,omitempty"`
}

// Result states of a region.
const (
	RegionOK    = "ok"
	RegionError = "error"
)

// Run is one sync in progress.
type Run struct {
	Seq       int64     `json:"seq" dynamodbav:"seq"`
	StartedAt time.Time `json:"startedAt" dynamodbav:"startedAt"`
	// Trigger is what started it: activation, schedule, on_demand.
	Trigger string `json:"trigger" dynamodbav:"trigger"`
	// Level is the access level the run reads at (the account's, as far as its role grants it).
	Level  accounts.AccessLevel `json:"accessLevel" dynamodbav:"level"`
	Source string               `json:"source" dynamodbav:"source"`
	// Scans names each scan: a region, or "*" for Resource Explorer's one pass.
	Scans []string `json:"scans" dynamodbav:"scans"`
	// ScanRegions are the regions each scan reads (and commits).
	ScanRegions map[string][]string     `json:"-" dynamodbav:"scanRegions"`
	Pending     int                     `json:"pending" dynamodbav:"pending"`
	Results     map[string]RegionResult `json:"results" dynamodbav:"results"`
	// SetupCalls are the calls the plan made (regions, Resource Explorer's index and view).
	SetupCalls int `json:"setupCalls" dynamodbav:"setupCalls"`
	// Deadline abandons a run whose scans stopped (a scan dead-lettered): the next sync replaces it.
	Deadline time.Time `json:"deadline" dynamodbav:"deadline"`
}

// Calls sums the run's calls.
func (r Run) Calls() (listing, retries int) {
	for _, res := range r.Results {
		listing += res.Calls
		retries += res.Retries
	}
	return listing, retries
}

// covers reports whether the run scanned region, or tried to and reported why it could not.
func (r Run) covers(region string) bool {
	if _, tried := r.Results[region]; tried {
		return true
	}
	for _, regions := range r.ScanRegions {
		if slices.Contains(regions, region) {
			return true
		}
	}
	return false
}

// SyncReport is a finished sync: its calls against their lower bound.
type SyncReport struct {
	Seq        int64                `json:"seq" dynamodbav:"seq"`
	Trigger    string               `json:"trigger" dynamodbav:"trigger"`
	Level      accounts.AccessLevel `json:"accessLevel" dynamodbav:"level"`
	Source     string               `json:"source" dynamodbav:"source"`
	StartedAt  time.Time            `json:"startedAt" dynamodbav:"startedAt"`
	FinishedAt time.Time            `json:"finishedAt" dynamodbav:"finishedAt"`
	// Calls counts every AWS call of the sync in the customer's account: setup (regions, Resource Explorer's index
	// and view) and listing pages. Bound is the fewest listing pages that can return the resources found (one per
	// 100 resources and region for the Tagging API, per 1,000 for Resource Explorer, at least one per region
	// scanned); Ratio is listing calls over Bound.
	Calls        int            `json:"calls" dynamodbav:"calls"`
	SetupCalls   int            `json:"setupCalls" dynamodbav:"setupCalls"`
	ListingCalls int            `json:"listingCalls" dynamodbav:"listingCalls"`
	Retries      int            `json:"retries" dynamodbav:"retries"`
	Bound        int            `json:"bound" dynamodbav:"bound"`
	Ratio        float64        `json:"ratio" dynamodbav:"ratio"`
	Writes       int            `json:"writes" dynamodbav:"writes"`
	Regions      []RegionResult `json:"regions" dynamodbav:"regions"`
}

// Status is an account's inventory: where its syncs stand.
type Status struct {
	AccountID string `json:"accountId" dynamodbav:"accountId"`
	// Status is initializing until the first full fetch, then active, or error with Reason.
	Status string `json:"status" dynamodbav:"status"`
	Reason string `json:"reason,omitempty" dynamodbav:"reason,omitempty"`
	// Source is where the last sync read (resource-explorer or tagging-api).
	Source       string     `json:"source,omitempty" dynamodbav:"source,omitempty"`
	LastSyncedAt *time.Time `json:"lastSyncedAt,omitempty" dynamodbav:"lastSyncedAt,omitempty"`
	// Resources counts the account's visible resources, in all and by region.
	Resources       int            `json:"resources" dynamodbav:"resources"`
	RegionResources map[string]int `json:"regionResources" dynamodbav:"regionResources"`
	// Committed is the sequence number of the sync each region shows (0: none yet).
	Committed map[string]int64 `json:"-" dynamodbav:"committed"`
	// Seq is the last run started.
	Seq  int64       `json:"-" dynamodbav:"seq"`
	Run  *Run        `json:"running,omitempty" dynamodbav:"run,omitempty"`
	Last *SyncReport `json:"lastSync,omitempty" dynamodbav:"last,omitempty"`
	// NextDueAt is when the schedule syncs the account next.
	NextDueAt *time.Time `json:"nextSyncDueAt,omitempty" dynamodbav:"nextDueAt,omitempty"`
	// ManualAt is the last on-demand sync, which rate-limits the next.
	ManualAt *time.Time `json:"-" dynamodbav:"manualAt,omitempty"`
	// TagKeys are the keys the account's tag summary holds (so a summary that loses a key deletes it).
	TagKeys []string  `json:"-" dynamodbav:"tagKeys,omitempty"`
	Version int64     `json:"-" dynamodbav:"version"`
	Updated time.Time `json:"updatedAt" dynamodbav:"updatedAt"`
}

// CommittedSeq is the sync a region shows.
func (s Status) CommittedSeq(region string) int64 { return s.Committed[region] }

// Live reports whether a run is in progress and not abandoned.
func (s Status) Live(now time.Time) bool { return s.Run != nil && now.Before(s.Run.Deadline) }

var (
	// ErrNotFound: no such resource in the tenant (or it is gone from AWS).
	ErrNotFound = errors.New("no resource with this ARN in your tenant's inventory")
	// ErrTagsUnavailable: at the resources access level Gangplank neither reads, keeps nor edits tags.
	ErrTagsUnavailable = errors.New("this account's access level is resources: Gangplank neither reads nor keeps its tags, so they cannot be edited; " +
		"choose access level resources_tags (tags kept in Gangplank) or tags_write (written back to AWS) and update the stack")
	// ErrVersionMismatch: If-Match names a version that is no longer current.
	ErrVersionMismatch = errors.New("the resource's tags changed since you read them (a sync or another edit); fetch it again and reapply your change")
	// ErrPreconditionRequired: a tag edit needs If-Match.
	ErrPreconditionRequired = errors.New("send If-Match with the ETag from your last read of this resource")
	// ErrRunInProgress is internal: a run is already going.
	errRunInProgress = errors.New("a sync of this account is already running")
)

// RateLimitedError: on-demand syncs are limited per account.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("this account's inventory was synced on demand less than %s ago; try again in %s",
		MinManualSyncInterval, e.RetryAfter.Round(time.Second))
}

// MinManualSyncInterval bounds on-demand syncs per account: a sync lists every resource of every region.
const MinManualSyncInterval = 5 * time.Minute

// levelRank orders access levels.
func levelRank(l accounts.AccessLevel) int { return slices.Index(accounts.AccessLevels, l) }

// EffectiveLevel is the access level the inventory acts at: the one the tenant chose, as far as the role grants
// it. Changing the level therefore changes behaviour from the next sync on, once the stack grants it.
func EffectiveLevel(a accounts.Account) accounts.AccessLevel {
	l := a.AccessLevel
	if l == "" {
		l = accounts.DefaultAccessLevel
	}
	if a.GrantedAccessLevel != "" && levelRank(a.GrantedAccessLevel) < levelRank(l) {
		return a.GrantedAccessLevel
	}
	return l
}

// ReadsTags reports whether the level reads tags.
func ReadsTags(l accounts.AccessLevel) bool {
	return l == accounts.ResourcesTags || l == accounts.TagsWrite
}

// ResourceID is the last part of an ARN: what consoles show as the resource's name or id.
func ResourceID(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return arn
	}
	res := parts[5]
	if i := strings.LastIndexAny(res, "/:"); i >= 0 && i < len(res)-1 {
		// logs:log-group:name:* ends in a wildcard; keep the name
		if res[i+1:] == "*" {
			res = res[:i]
			if j := strings.LastIndexAny(res, "/:"); j >= 0 {
				return res[j+1:]
			}
			return res
		}
		return res[i+1:]
	}
	return res
}
