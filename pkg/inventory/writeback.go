package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	tagtypes "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/awsx"
	"github.com/gangplank/gangplank/pkg/crossaccount"
)

// settleEdit reconciles a resource's edits with the tags AWS listed (listed false: AWS no longer lists it) at the
// account's access level, and reports whether some now wait to be written back.
//
//	resources       edits are never kept: they go.
//	resources_tags  edits stay in Gangplank, except that a key AWS has overwrites Gangplank's value for it.
//	tags_write      an edit AWS already shows is done; an edit whose key AWS changed since the tenant read it,
//	                while the tenant changed it too, is a conflict (both values kept, nothing written); the rest
//	                waits to be written.
func settleEdit(e Edit, aws Tags, listed bool, level accounts.AccessLevel, now time.Time) (*Edit, bool) {
	if !listed || !ReadsTags(level) {
		return nil, false
	}
	after := cloneEdit(e)
	writeBack := false
	for _, k := range sortedKeys(after.Keys) {
		ke := after.Keys[k]
		awsValue, has := aws[k]
		satisfied := (ke.Delete && !has) || (!ke.Delete && has && awsValue == ke.Value)
		overwrite := func() {
			if !satisfied {
				after.Overwritten = append(after.Overwritten, Overwrite{Key: k, GangplankValue: ke.Value, AWSValue: awsValue, At: now})
			}
			delete(after.Keys, k)
		}
		if level == accounts.ResourcesTags {
			switch {
			case has:
				overwrite()
			case ke.Delete:
				delete(after.Keys, k)
			default:
				ke.State = EditLocal
				after.Keys[k] = ke
			}
			continue
		}
		switch {
		case satisfied:
			delete(after.Keys, k)
		case ke.State == EditSynced:
			overwrite() // AWS changed the key after Gangplank wrote it: the later change stands
		case baseMatches(ke.Base, awsValue, has):
			if ke.State != EditFailed {
				ke.State = EditPending
			}
			ke.AWSValue, ke.AWSDeleted = nil, false
			after.Keys[k] = ke
			writeBack = true
		default:
			ke.State = EditConflict
			ke.AWSValue, ke.AWSDeleted = nil, !has
			if has {
				v := awsValue
				ke.AWSValue = &v
			}
			after.Keys[k] = ke
		}
	}
	if n := len(after.Overwritten); n > maxOverwrites {
		after.Overwritten = after.Overwritten[n-maxOverwrites:]
	}
	after.refreshState()
	return &after, writeBack
}

func baseMatches(base *string, awsValue string, has bool) bool {
	if base == nil {
		return !has
	}
	return has && *base == awsValue
}

func cloneEdit(e Edit) Edit {
	out := e
	out.Keys = make(map[string]KeyEdit, len(e.Keys))
	for k, v := range e.Keys {
		out.Keys[k] = v
	}
	out.Overwritten = append([]Overwrite(nil), e.Overwritten...)
	return out
}

func editsEqual(a, b *Edit) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, _ := json.Marshal(struct {
		K map[string]KeyEdit
		W WriteBack
		O []Overwrite
	}{a.Keys, a.WriteBack, a.Overwritten})
	y, _ := json.Marshal(struct {
		K map[string]KeyEdit
		W WriteBack
		O []Overwrite
	}{b.Keys, b.WriteBack, b.Overwritten})
	return string(x) == string(y)
}

// MaxWriteAttempts is how often a write AWS refuses is tried before it waits for the tenant's next edit.
const MaxWriteAttempts = 5

// writeBackDelay is the wait before a refused write is tried again: 30 s, 2, 8, then 15 minutes.
func writeBackDelay(attempts int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempts; i++ {
		d *= 4
	}
	return min(d, 15*time.Minute)
}

// The Tagging API's batch limits.
const (
	maxARNsPerTagCall = 20
	maxARNsPerRead    = 100
)

type writeOutcome struct {
	failed string // AWS's reason, if refused
}

// writeBack writes an account's pending tag edits to AWS (tags_write only): it reads AWS's current values first
// (GetResources by ARN, 100 a call), so that a key AWS changed meanwhile becomes a conflict rather than being
// overwritten, then writes with TagResources and UntagResources, batching resources that get the same change (20
// a call). Each resource's outcome is recorded; refused ones are retried with backoff, without holding up the
// others.
func (s *Service) writeBack(ctx context.Context, tenantID, accountID string) error {
	sess, err := s.Door.Enter(ctx, tenantID, accountID, "inventory-tags")
	var notUsable *crossaccount.NotUsableError
	var refused *crossaccount.AccessError
	switch {
	case errors.Is(err, accounts.ErrNotFound):
		return nil
	case errors.As(err, &notUsable), errors.As(err, &refused):
		slog.InfoContext(ctx, "tag write-back waits: the account cannot be entered", "accountId", accountID, "reason", err.Error())
		return nil
	case err != nil:
		return err
	}
	level := EffectiveLevel(sess.Account)
	edits, err := s.Store.Edits(ctx, tenantID, accountID, nil)
	if err != nil {
		return err
	}
	now := s.now()
	if level != accounts.TagsWrite {
		// The level no longer writes tags back: what waited stays in Gangplank.
		for _, e := range edits {
			after := cloneEdit(e)
			for k, ke := range after.Keys {
				if ke.State == EditPending || ke.State == EditFailed {
					ke.State = EditLocal
					after.Keys[k] = ke
				}
			}
			after.refreshState()
			if !editsEqual(&e, &after) {
				if err := s.Store.SaveEdit(ctx, tenantID, &e, &after, nil); err != nil && !errors.Is(err, ErrConcurrent) {
					return err
				}
			}
		}
		return nil
	}
	due := map[string][]Edit{} // by region
	for _, e := range edits {
		if wantsWrite(e, now) {
			due[e.Region] = append(due[e.Region], e)
		}
	}
	if len(due) == 0 {
		return nil
	}
	counter := awsx.NewCallCounter()
	cfg := sess.Config.Copy()
	counter.Instrument(&cfg)
	c, err := s.clients(cfg)
	if err != nil {
		return err
	}
	retryIn := time.Duration(0)
	for _, region := range sortedKeys(due) {
		list := due[region]
		sort.Slice(list, func(i, j int) bool { return list[i].ARN < list[j].ARN })
		results := s.writeRegion(ctx, c.Tagging(region), region, list, now)
		for i, e := range list {
			after := results[i]
			if editsEqual(&e, &after) {
				continue
			}
			if err := s.Store.SaveEdit(ctx, tenantID, &e, &after, nil); err != nil && !errors.Is(err, ErrConcurrent) {
				return err
			}
			if after.WriteBack.State == EditFailed && after.WriteBack.Attempts < MaxWriteAttempts {
				d := writeBackDelay(after.WriteBack.Attempts)
				if retryIn == 0 || d < retryIn {
					retryIn = d
				}
			}
		}
	}
	if retryIn > 0 {
		return s.Queue.Send(ctx, []Message{{Kind: KindWriteBack, TenantID: tenantID, AccountID: accountID}}, retryIn)
	}
	return nil
}

// wantsWrite reports whether an edit has keys to write now.
func wantsWrite(e Edit, now time.Time) bool {
	for _, ke := range e.Keys {
		switch ke.State {
		case EditPending:
			return true
		case EditFailed:
			if e.WriteBack.Attempts < MaxWriteAttempts && (e.WriteBack.NextAttemptAt == nil || !now.Before(*e.WriteBack.NextAttemptAt)) {
				return true
			}
		}
	}
	return false
}

// writeRegion writes one region's edits and returns each edit as it stands afterwards (same order).
func (s *Service) writeRegion(ctx context.Context, tg Tagging, region string, list []Edit, now time.Time) []Edit {
	out := make([]Edit, len(list))
	arns := make([]string, len(list))
	for i, e := range list {
		out[i] = cloneEdit(e)
		arns[i] = e.ARN
	}
	fail := func(i int, reason string, final bool) {
		e := &out[i]
		for k, ke := range e.Keys {
			if ke.State == EditPending || ke.State == EditFailed {
				ke.State = EditFailed
				e.Keys[k] = ke
			}
		}
		e.WriteBack.Attempts++
		if final {
			e.WriteBack.Attempts = max(e.WriteBack.Attempts, MaxWriteAttempts)
		}
		e.WriteBack.Reason = reason
		at := now
		e.WriteBack.LastAttemptAt = &at
		e.refreshState()
		e.WriteBack.Reason = reason
		if e.WriteBack.Attempts < MaxWriteAttempts {
			next := now.Add(writeBackDelay(e.WriteBack.Attempts))
			e.WriteBack.NextAttemptAt = &next
		} else {
			e.WriteBack.NextAttemptAt = nil
		}
	}
	current, err := currentTags(ctx, tg, arns)
	if err != nil {
		reason := fmt.Sprintf("Gangplank could not read the resource's current tags in %s before writing: %s", region, describe(err))
		for i := range out {
			fail(i, reason, false)
		}
		return out
	}
	type change struct {
		set    map[string]string
		remove []string
	}
	changes := make([]change, len(out))
	for i := range out {
		e := &out[i]
		aws, found := current[e.ARN]
		if !found {
			fail(i, "AWS no longer lists this resource; its edits cannot be written", true)
			continue
		}
		ch := change{set: map[string]string{}}
		for _, k := range sortedKeys(e.Keys) {
			ke := e.Keys[k]
			if ke.State != EditPending && ke.State != EditFailed {
				continue
			}
			awsValue, has := aws[k]
			switch {
			case (ke.Delete && !has) || (!ke.Delete && has && awsValue == ke.Value):
				ke.State = EditSynced
			case !baseMatches(ke.Base, awsValue, has):
				ke.State, ke.AWSValue, ke.AWSDeleted = EditConflict, nil, !has
				if has {
					v := awsValue
					ke.AWSValue = &v
				}
			case ke.Delete:
				ch.remove = append(ch.remove, k)
			default:
				ch.set[k] = ke.Value
			}
			e.Keys[k] = ke
		}
		changes[i] = ch
	}
	// Resources that get the same change share calls: TagResources applies one tag set to up to 20 ARNs.
	outcome := make([]writeOutcome, len(out))
	groups := map[string][]int{}
	for i, ch := range changes {
		if len(ch.set) > 0 {
			sig, _ := json.Marshal(ch.set)
			groups["set "+string(sig)] = append(groups["set "+string(sig)], i)
		}
		if len(ch.remove) > 0 {
			sig, _ := json.Marshal(ch.remove)
			groups["remove "+string(sig)] = append(groups["remove "+string(sig)], i)
		}
	}
	for _, sig := range sortedKeys(groups) {
		idx := groups[sig]
		for start := 0; start < len(idx); start += maxARNsPerTagCall {
			batch := idx[start:min(start+maxARNsPerTagCall, len(idx))]
			batchARNs := make([]string, len(batch))
			for j, i := range batch {
				batchARNs[j] = out[i].ARN
			}
			var failed map[string]string
			var err error
			if strings.HasPrefix(sig, "set ") {
				failed, err = tagResources(ctx, tg, batchARNs, changes[batch[0]].set)
			} else {
				failed, err = untagResources(ctx, tg, batchARNs, changes[batch[0]].remove)
			}
			for _, i := range batch {
				switch {
				case err != nil:
					outcome[i].failed = describe(err)
				case failed[out[i].ARN] != "":
					outcome[i].failed = failed[out[i].ARN]
				}
			}
		}
	}
	for i := range out {
		e := &out[i]
		if outcome[i].failed != "" {
			fail(i, outcome[i].failed, false)
			continue
		}
		written := len(changes[i].set) > 0 || len(changes[i].remove) > 0
		for k, ke := range e.Keys {
			if ke.State == EditPending || ke.State == EditFailed {
				if _, set := changes[i].set[k]; set || contains(changes[i].remove, k) {
					ke.State = EditSynced
					e.Keys[k] = ke
				}
			}
		}
		if written {
			at := now
			e.WriteBack.LastAttemptAt = &at
			e.WriteBack.Attempts = 0
		}
		e.refreshState()
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// currentTags reads the resources' tags as AWS has them now (GetResources by ARN, 100 a call); a resource AWS does
// not return is missing from the result.
func currentTags(ctx context.Context, tg Tagging, arns []string) (map[string]Tags, error) {
	out := map[string]Tags{}
	for start := 0; start < len(arns); start += maxARNsPerRead {
		in := &resourcegroupstaggingapi.GetResourcesInput{ResourceARNList: arns[start:min(start+maxARNsPerRead, len(arns))]}
		for {
			page, err := tg.GetResources(ctx, in)
			if err != nil {
				return nil, err
			}
			for _, m := range page.ResourceTagMappingList {
				t := Tags{}
				for _, tag := range m.Tags {
					t[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
				}
				out[aws.ToString(m.ResourceARN)] = t
			}
			if aws.ToString(page.PaginationToken) == "" {
				break
			}
			in.PaginationToken = page.PaginationToken
		}
	}
	return out, nil
}

func tagResources(ctx context.Context, tg Tagging, arns []string, tags map[string]string) (map[string]string, error) {
	out, err := tg.TagResources(ctx, &resourcegroupstaggingapi.TagResourcesInput{ResourceARNList: arns, Tags: tags})
	if err != nil {
		return nil, err
	}
	return failures(out.FailedResourcesMap), nil
}

func untagResources(ctx context.Context, tg Tagging, arns []string, keys []string) (map[string]string, error) {
	out, err := tg.UntagResources(ctx, &resourcegroupstaggingapi.UntagResourcesInput{ResourceARNList: arns, TagKeys: keys})
	if err != nil {
		return nil, err
	}
	return failures(out.FailedResourcesMap), nil
}

// failures are AWS's reasons for the resources a tag call refused.
func failures(m map[string]tagtypes.FailureInfo) map[string]string {
	out := map[string]string{}
	for arn, f := range m {
		out[arn] = fmt.Sprintf("%s: %s (HTTP %d)", f.ErrorCode, aws.ToString(f.ErrorMessage), f.StatusCode)
	}
	return out
}

// describe says what AWS answered, for the tenant.
func describe(err error) string {
	code, msg := errorCode(err)
	switch {
	case code == "AccessDeniedException" || code == "AccessDenied":
		return "the role may not write tags (AWS said: " + msg + "): check that the account's onboarding stack grants access level tags_write"
	case code != "":
		return code + ": " + msg
	}
	return err.Error()
}
