package inventory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/validation"
)

// Resource is a resource as the tenant sees it.
type Resource struct {
	ARN       string `json:"arn"`
	AccountID string `json:"accountId"`
	Region    string `json:"region"`
	Type      string `json:"type"`
	Service   string `json:"service"`
	// ID is the ARN's last part: what consoles show as its name or id.
	ID string `json:"id"`
	// Tags are the tags with the tenant's edits; AWSTags AWS's own as the last sync read them. Both are absent at
	// the resources access level, where Gangplank neither reads nor keeps tags.
	Tags        *Tags     `json:"tags,omitempty"`
	AWSTags     *Tags     `json:"awsTags,omitempty"`
	TagEdits    *EditView `json:"tagEdits,omitempty"`
	FirstSeenAt time.Time `json:"firstSeenAt"`
	// TagsChangedAt is when the sync first read the current version.
	TagsChangedAt time.Time `json:"changedAt"`
	ETag          string    `json:"-"`
}

// EditView shows a resource's edits and their write-back.
type EditView struct {
	State         string             `json:"state"`
	Reason        string             `json:"reason,omitempty"`
	Attempts      int                `json:"attempts"`
	LastAttemptAt *time.Time         `json:"lastAttemptAt,omitempty"`
	NextAttemptAt *time.Time         `json:"nextAttemptAt,omitempty"`
	Keys          map[string]KeyEdit `json:"keys"`
	Conflicts     []Conflict         `json:"conflicts,omitempty"`
	Overwritten   []Overwrite        `json:"overwrittenByAws,omitempty"`
}

// etag identifies what the tenant saw: the visible version and the edits' version.
func etag(v *Version, committed int64, e *Edit) string {
	ev := int64(0)
	if e != nil {
		ev = e.Version
	}
	return fmt.Sprintf(`"%s.%d.%d"`, v.Hash, committed, ev)
}

// view builds what the tenant sees of a stored resource.
func view(r Stored, v *Version, committed int64, e *Edit, level accounts.AccessLevel) Resource {
	out := Resource{ARN: r.ARN, AccountID: r.AccountID, Region: r.Region, Type: r.Type, ID: ResourceID(r.ARN),
		FirstSeenAt: r.FirstSeen, TagsChangedAt: v.Since, ETag: etag(v, committed, e)}
	out.Service, _, _ = strings.Cut(r.Type, ":")
	if !ReadsTags(level) || v.Tags == nil {
		return out
	}
	awsTags := v.Tags.Clone()
	effective := e.Apply(v.Tags)
	out.Tags, out.AWSTags = &effective, &awsTags
	if e != nil && (len(e.Keys) > 0 || len(e.Overwritten) > 0) {
		out.TagEdits = &EditView{State: e.WriteBack.State, Reason: e.WriteBack.Reason, Attempts: e.WriteBack.Attempts,
			LastAttemptAt: e.WriteBack.LastAttemptAt, NextAttemptAt: e.WriteBack.NextAttemptAt, Keys: e.Keys,
			Conflicts: e.Conflicts(), Overwritten: e.Overwritten}
		if out.TagEdits.Keys == nil {
			out.TagEdits.Keys = map[string]KeyEdit{}
		}
	}
	return out
}

// Page is one page of a listing.
type Page struct {
	Items      []Resource `json:"items"`
	NextCursor string     `json:"nextCursor,omitempty"`
}

// MaxPageSize bounds a listing's page.
const MaxPageSize = 100

// DefaultPageSize is a listing's page size when none is asked.
const DefaultPageSize = 50

// CheckQuery checks a listing's filters, naming each bad one (a zero limit takes the default).
func CheckQuery(q Query) error {
	var c validation.Collector
	if q.AccountID != "" {
		if _, err := awsid.ParseAccountID(q.AccountID); err != nil {
			c.Add("accountId", "%s", err)
		}
	}
	if q.Region != "" && q.Region != GlobalRegion && !awsid.IsRegion(q.Region) {
		c.Add("region", "%q is not an AWS region, such as us-east-1", q.Region)
	}
	if q.Type != "" && !strings.Contains(q.Type, ":") {
		c.Add("type", "a resource type is service:type, such as ec2:instance or s3:bucket")
	}
	if q.Limit < 0 || q.Limit > MaxPageSize {
		c.Add("limit", "must be between 1 and %d", MaxPageSize)
	}
	return c.Err()
}

// List returns a page of the tenant's resources (of one account when q.AccountID is set), as the last sync of
// each region committed them, with the tenant's edits. Each page is one Query of the table or an index (and, with a
// tag filter, one BatchGetItem of the resources its entries name), one BatchGetItem of edits, and one Query of the
// tenant's inventory statuses.
func (s *Service) List(ctx context.Context, tenantID string, q Query) (Page, error) {
	if q.Limit == 0 {
		q.Limit = DefaultPageSize
	}
	if err := CheckQuery(q); err != nil {
		return Page{}, err
	}
	if q.AccountID != "" {
		if _, err := s.Accounts.Get(ctx, tenantID, q.AccountID); err != nil {
			return Page{}, err
		}
	}
	statuses, err := s.Store.Statuses(ctx, tenantID)
	if err != nil {
		return Page{}, err
	}
	byAccount := map[string]Status{}
	for _, st := range statuses {
		byAccount[st.AccountID] = st
	}
	levels := map[string]accounts.AccessLevel{}
	levelOf := func(ctx context.Context, accountID string) accounts.AccessLevel {
		if l, ok := levels[accountID]; ok {
			return l
		}
		l := accounts.Resources
		if a, err := s.Accounts.Get(ctx, tenantID, accountID); err == nil {
			l = EffectiveLevel(a)
		}
		levels[accountID] = l
		return l
	}
	views := map[string]Resource{} // by ARN: unique in a tenant
	accept := func(ctx context.Context, cands []Candidate) ([]bool, error) {
		res := make([]Stored, len(cands))
		for i, c := range cands {
			res[i] = c.Resource
		}
		edits, err := s.Store.EditsFor(ctx, tenantID, res)
		if err != nil {
			return nil, err
		}
		ok := make([]bool, len(cands))
		for i, c := range cands {
			r := c.Resource
			committed, known := byAccount[r.AccountID].Committed[r.Region]
			if !known {
				continue
			}
			v, visible := r.Visible(committed)
			if !visible {
				continue
			}
			level := levelOf(ctx, r.AccountID)
			var e *Edit
			if ed, has := edits[r.ARN]; has {
				e = &ed
			}
			if q.Tag.Key != "" {
				if !ReadsTags(level) || v.Tags == nil {
					continue
				}
				// One source answers for each resource: its edit if it has one for the key, else AWS's tag.
				_, edited := e.keyEdit(q.Tag.Key)
				if c.FromEdit != edited || !q.Tag.Match(e.Apply(v.Tags)) {
					continue
				}
			}
			ok[i] = true
			views[r.ARN] = view(r, v, committed, e, level)
		}
		return ok, nil
	}
	cands, next, err := s.Store.List(ctx, tenantID, q, accept)
	if err != nil {
		return Page{}, err
	}
	out := Page{Items: make([]Resource, 0, len(cands)), NextCursor: next}
	for _, c := range cands {
		out.Items = append(out.Items, views[c.Resource.ARN])
	}
	return out, nil
}

// keyEdit returns the edit of one key, if any.
func (e *Edit) keyEdit(key string) (KeyEdit, bool) {
	if e == nil {
		return KeyEdit{}, false
	}
	ke, ok := e.Keys[key]
	return ke, ok
}

// find reads a resource as the tenant sees it now.
func (s *Service) find(ctx context.Context, tenantID, arn string) (Stored, *Version, int64, *Edit, accounts.Account, error) {
	r, e, found, err := s.Store.Find(ctx, tenantID, arn)
	if err != nil {
		return Stored{}, nil, 0, nil, accounts.Account{}, err
	}
	if !found {
		return Stored{}, nil, 0, nil, accounts.Account{}, ErrNotFound
	}
	a, err := s.Accounts.Get(ctx, tenantID, r.AccountID)
	if errors.Is(err, accounts.ErrNotFound) {
		return Stored{}, nil, 0, nil, accounts.Account{}, ErrNotFound
	}
	if err != nil {
		return Stored{}, nil, 0, nil, accounts.Account{}, err
	}
	st, err := s.Store.Status(ctx, tenantID, r.AccountID)
	if err != nil {
		return Stored{}, nil, 0, nil, accounts.Account{}, err
	}
	committed, known := st.Committed[r.Region]
	if !known {
		return Stored{}, nil, 0, nil, accounts.Account{}, ErrNotFound
	}
	v, ok := r.Visible(committed)
	if !ok {
		return Stored{}, nil, 0, nil, accounts.Account{}, ErrNotFound
	}
	return r, v, committed, e, a, nil
}

// Get returns one resource of the tenant by ARN.
func (s *Service) Get(ctx context.Context, tenantID, arn string) (Resource, error) {
	r, v, committed, e, a, err := s.find(ctx, tenantID, arn)
	if err != nil {
		return Resource{}, err
	}
	return view(r, v, committed, e, EffectiveLevel(a)), nil
}

// Editor names who edits, for the edit's record.
type Editor struct{ Subject string }

// PatchTags changes a resource's tags as the tenant sees them (a value sets a key, nil removes it), if ifMatch
// names the version the tenant read. At resources_tags the edits stay in Gangplank; at tags_write they are written
// back to AWS by the worker. Every tag rule violation is a field error.
func (s *Service) PatchTags(ctx context.Context, tenantID, arn string, ifMatch []string, patch TagPatch, by string) (Resource, error) {
	if len(ifMatch) == 0 {
		return Resource{}, ErrPreconditionRequired
	}
	r, v, committed, edit, a, err := s.find(ctx, tenantID, arn)
	if err != nil {
		return Resource{}, err
	}
	level := EffectiveLevel(a)
	if !ReadsTags(level) || v.Tags == nil {
		return Resource{}, ErrTagsUnavailable
	}
	if !slices.Contains(ifMatch, "*") && !slices.Contains(ifMatch, etag(v, committed, edit)) {
		return Resource{}, ErrVersionMismatch
	}
	now := s.now()
	var after Edit
	if edit != nil {
		after = cloneEdit(*edit)
	} else {
		after = Edit{ARN: r.ARN, AccountID: r.AccountID, Region: r.Region, Type: r.Type, Keys: map[string]KeyEdit{}}
	}
	state := EditLocal
	if level == accounts.TagsWrite {
		state = EditPending
	}
	for _, k := range sortedKeys(patch) {
		val := patch[k]
		awsValue, has := v.Tags[k]
		if prev, ok := after.Keys[k]; ok && prev.State == EditConflict {
			// The tenant has seen AWS's newer value (the conflict shows it): the edit now stands against it.
			awsValue, has = aws.ToString(prev.AWSValue), !prev.AWSDeleted
		}
		switch {
		case val != nil && has && awsValue == *val, val == nil && !has:
			delete(after.Keys, k) // what AWS has: nothing to change
		default:
			ke := KeyEdit{State: state, EditedAt: now, EditedBy: by}
			if val == nil {
				ke.Delete = true
			} else {
				ke.Value = *val
			}
			if has {
				b := awsValue
				ke.Base = &b
			}
			after.Keys[k] = ke
		}
	}
	beforeTags, afterTags := edit.Apply(v.Tags), after.Apply(v.Tags)
	if err := patch.validate(afterTags); err != nil {
		return Resource{}, err
	}
	if len(after.Keys) > 0 {
		after.WriteBack.Attempts, after.WriteBack.NextAttemptAt = 0, nil
	}
	after.refreshState()
	changes := audit.Diff(&struct {
		Tags Tags `json:"tags"`
	}{beforeTags}, &struct {
		Tags Tags `json:"tags"`
	}{afterTags})
	entry := audit.New(ctx, tenantID, now, "resource.tags_edited", "resource/"+r.ARN, changes)
	if err := s.Store.SaveEdit(ctx, tenantID, edit, &after, &EditGuard{Resource: r, Committed: committed, Audit: &entry}); err != nil {
		if errors.Is(err, ErrConcurrent) {
			return Resource{}, ErrVersionMismatch
		}
		return Resource{}, err
	}
	after.Version++
	if edit != nil {
		after.Version = edit.Version + 1
	}
	if err := s.Store.AdjustSummary(ctx, tenantID, r.AccountID, summaryDelta(beforeTags, afterTags)); err != nil {
		slog.WarnContext(ctx, "could not adjust the tag summary; the next sync recounts it", "arn", r.ARN, "error", err.Error())
	}
	if level == accounts.TagsWrite {
		if err := s.Queue.Send(ctx, []Message{{Kind: KindWriteBack, TenantID: tenantID, AccountID: r.AccountID}}, 0); err != nil {
			slog.WarnContext(ctx, "could not hand the edit to the write-back; the next sync does", "arn", r.ARN, "error", err.Error())
		}
		// The write-back may already have run (inline, locally): show the edit as stored.
		if _, e2, _, err := s.Store.Find(ctx, tenantID, arn); err == nil && e2 != nil {
			after = *e2
		}
	}
	var shown *Edit
	if len(after.Keys) > 0 || len(after.Overwritten) > 0 {
		shown = &after
	}
	return view(r, v, committed, shown, level), nil
}

// summaryDelta is how an edit moves the tag summary: -1 for each key and value the resource loses, +1 for each it
// gains ("" counts the key).
func summaryDelta(before, after Tags) map[string]map[string]int {
	out := map[string]map[string]int{}
	add := func(k, v string, d int) {
		if out[k] == nil {
			out[k] = map[string]int{}
		}
		out[k][v] += d
	}
	for k, v := range before {
		if av, ok := after[k]; !ok {
			add(k, "", -1)
			add(k, v, -1)
		} else if av != v {
			add(k, v, -1)
			add(k, av, 1)
		}
	}
	for k, v := range after {
		if _, ok := before[k]; !ok {
			add(k, "", 1)
			add(k, v, 1)
		}
	}
	return out
}

// AccountStatus is an account's inventory status as the API shows it.
func (s *Service) AccountStatus(ctx context.Context, tenantID, accountID string) (Status, error) {
	a, err := s.Accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return Status{}, err
	}
	st, err := s.Store.Status(ctx, tenantID, accountID)
	if err != nil {
		return Status{}, err
	}
	st.AccountID = accountID
	if st.RegionResources == nil {
		st.RegionResources = map[string]int{}
	}
	if st.Status == "" {
		st.Status = StatusInitializing
		st.Reason = "the first sync has not run yet"
		if err := crossaccount.Usable(a); err != nil {
			st.Reason = err.Error()
		}
	}
	return st, nil
}

// RequestSync starts a sync of the account now (at most once every MinManualSyncInterval), returning its status.
func (s *Service) RequestSync(ctx context.Context, tenantID, accountID string) (Status, error) {
	a, err := s.Accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return Status{}, err
	}
	if err := crossaccount.Usable(a); err != nil {
		return Status{}, err
	}
	wait, err := s.Store.AcquireManual(ctx, tenantID, accountID, s.now(), MinManualSyncInterval)
	if err != nil {
		return Status{}, err
	}
	if wait > 0 {
		return Status{}, &RateLimitedError{RetryAfter: wait}
	}
	if err := s.Queue.Send(ctx, []Message{{Kind: KindPlan, TenantID: tenantID, AccountID: accountID, Trigger: "on_demand"}}, 0); err != nil {
		return Status{}, err
	}
	return s.AccountStatus(ctx, tenantID, accountID)
}

// TagKey counts the resources with a tag key, and its distinct values.
type TagKey struct {
	Key       string `json:"key"`
	Resources int    `json:"resources"`
	Values    int    `json:"values"`
	// ValuesTruncated: some account has more distinct values than the summary counts (MaxSummaryValues).
	ValuesTruncated bool `json:"valuesTruncated,omitempty"`
}

// TagValue counts the resources with one value of a key.
type TagValue struct {
	Value     string `json:"value"`
	Resources int    `json:"resources"`
}

// TagKeys summarises the tenant's tag keys (of one account when accountID is set), most used first.
func (s *Service) TagKeys(ctx context.Context, tenantID, accountID string) ([]TagKey, error) {
	if accountID != "" {
		if _, err := s.Accounts.Get(ctx, tenantID, accountID); err != nil {
			return nil, err
		}
	}
	counts, err := s.Store.TagKeys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	byKey := map[string]*TagKey{}
	for _, c := range counts {
		if (accountID != "" && c.AccountID != accountID) || c.Count <= 0 {
			continue
		}
		k := byKey[c.Key]
		if k == nil {
			k = &TagKey{Key: c.Key}
			byKey[c.Key] = k
		}
		k.Resources += c.Count
	}
	out := make([]TagKey, 0, len(byKey))
	for _, k := range byKey {
		vals, err := s.tagValues(ctx, tenantID, k.Key, accountID)
		if err != nil {
			return nil, err
		}
		k.Values, k.ValuesTruncated = len(vals.Values), vals.Truncated
		out = append(out, *k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Resources != out[j].Resources {
			return out[i].Resources > out[j].Resources
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// KeyValues is a key's values with their counts, most used first.
type KeyValues struct {
	Key       string     `json:"key"`
	Resources int        `json:"resources"`
	Values    []TagValue `json:"values"`
	Truncated bool       `json:"truncated"`
}

// TagValues summarises one key's values in the tenant (of one account when accountID is set).
func (s *Service) TagValues(ctx context.Context, tenantID, key, accountID string) (KeyValues, error) {
	if accountID != "" {
		if _, err := s.Accounts.Get(ctx, tenantID, accountID); err != nil {
			return KeyValues{}, err
		}
	}
	return s.tagValues(ctx, tenantID, key, accountID)
}

func (s *Service) tagValues(ctx context.Context, tenantID, key, accountID string) (KeyValues, error) {
	sums, err := s.Store.TagValues(ctx, tenantID, key)
	if err != nil {
		return KeyValues{}, err
	}
	counts := map[string]int{}
	out := KeyValues{Key: key, Values: []TagValue{}}
	for _, sum := range sums {
		if accountID != "" && sum.AccountID != accountID {
			continue
		}
		out.Truncated = out.Truncated || sum.Truncated
		for v, n := range sum.Values {
			counts[v] += n
		}
	}
	for v, n := range counts {
		if n > 0 {
			out.Values = append(out.Values, TagValue{Value: v, Resources: n})
			out.Resources += n
		}
	}
	sort.Slice(out.Values, func(i, j int) bool {
		if out.Values[i].Resources != out.Values[j].Resources {
			return out.Values[i].Resources > out.Values[j].Resources
		}
		return out.Values[i].Value < out.Values[j].Value
	})
	return out, nil
}

// summarize recounts an account's tag summary from its resources as committed, with the tenant's edits: after a
// sync that changed something, so a second unchanged sync writes none of it.
func (s *Service) summarize(ctx context.Context, tenantID, accountID string) error {
	a, err := s.Accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return err
	}
	st, err := s.Store.Status(ctx, tenantID, accountID)
	if err != nil {
		return err
	}
	sums := map[string]KeySummary{}
	if ReadsTags(EffectiveLevel(a)) {
		edits, err := s.Store.Edits(ctx, tenantID, accountID, nil)
		if err != nil {
			return err
		}
		err = s.Store.AccountResources(ctx, tenantID, accountID, sortedKeys(st.Committed), func(r Stored) error {
			committed, known := st.Committed[r.Region]
			if !known {
				return nil
			}
			v, ok := r.Visible(committed)
			if !ok || v.Tags == nil {
				return nil
			}
			var e *Edit
			if ed, has := edits[r.ARN]; has {
				e = &ed
			}
			for k, val := range e.Apply(v.Tags) {
				sum := sums[k]
				sum.Count++
				if sum.Values == nil {
					sum.Values = map[string]int{}
				}
				if _, seen := sum.Values[val]; seen || len(sum.Values) < MaxSummaryValues {
					sum.Values[val]++
				} else {
					sum.Truncated = true
				}
				sums[k] = sum
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := s.Store.SaveSummary(ctx, tenantID, accountID, st.TagKeys, sums); err != nil {
		return err
	}
	keys := sortedKeys(sums)
	_, err = s.mutateStatus(ctx, tenantID, accountID, func(cur *Status) bool {
		if slices.Equal(cur.TagKeys, keys) {
			return false
		}
		cur.TagKeys = keys
		return true
	})
	return err
}
