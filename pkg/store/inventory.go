package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/inventory"
	"github.com/gangplank/gangplank/pkg/tables"
)

// Inventory stores what the inventory reads and what tenants edit (docs/data-model.md, "Inventory table").
type Inventory struct{ DB }

var _ inventory.Store = Inventory{}

func (s Inventory) table() *string { return aws.String(s.Tables.Inventory()) }

// resourceItem is a resource with its index keys; its versions' hashes are copied to the top level so that a scan
// reads them (Stubs) without the tags.
type resourceItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	ItemType string `dynamodbav:"itemType"`
	GSI1PK   string `dynamodbav:"gsi1pk"`
	GSI1SK   string `dynamodbav:"gsi1sk"`
	GSI2PK   string `dynamodbav:"gsi2pk"`
	GSI2SK   string `dynamodbav:"gsi2sk"`
	GSI4PK   string `dynamodbav:"gsi4pk"`
	GSI4SK   string `dynamodbav:"gsi4sk"`
	GSI6PK   string `dynamodbav:"gsi6pk"`
	GSI6SK   string `dynamodbav:"gsi6sk"`
	OldHash  string `dynamodbav:"oh,omitempty"`
	OldGone  bool   `dynamodbav:"og,omitempty"`
	NewHash  string `dynamodbav:"nh,omitempty"`
	NewGone  bool   `dynamodbav:"ng,omitempty"`
	inventory.Stored
}

func (s Inventory) resourceItem(tenantID string, r inventory.Stored) resourceItem {
	it := resourceItem{
		PK: resourcePK(tenantID, r.AccountID, r.Region), SK: resourceSK(r.ARN), ItemType: itemResource,
		GSI1PK: resourcesTenantPK(tenantID), GSI1SK: resourcesTenantSK(r.AccountID, r.Region, r.Type, r.ARN),
		GSI2PK: resourcesRegionPK(tenantID, r.Region), GSI2SK: resourcesRegionSK(r.Type, r.AccountID, r.ARN),
		GSI4PK: resourceArnPK(tenantID, r.ARN), GSI4SK: r.AccountID + "#" + r.Region,
		GSI6PK: resourcesTypePK(tenantID, r.Type), GSI6SK: resourcesTypeSK(r.AccountID, r.Region, r.ARN),
		Stored: r,
	}
	if r.Old != nil {
		it.OldHash, it.OldGone = r.Old.Hash, r.Old.Gone
	}
	if r.New != nil {
		it.NewHash, it.NewGone = r.New.Hash, r.New.Gone
	}
	return it
}

func resourceKey(tenantID, accountID, region, arn string) map[string]types.AttributeValue {
	return key(resourcePK(tenantID, accountID, region), resourceSK(arn))
}

type tagEntryItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	ItemType  string `dynamodbav:"itemType"`
	GSI3PK    string `dynamodbav:"gsi3pk"`
	GSI3SK    string `dynamodbav:"gsi3sk"`
	ARN       string `dynamodbav:"arn"`
	AccountID string `dynamodbav:"accountId"`
	Region    string `dynamodbav:"region"`
	Type      string `dynamodbav:"type"`
	Key       string `dynamodbav:"key"`
	Value     string `dynamodbav:"value"`
	FromEdit  bool   `dynamodbav:"fromEdit,omitempty"`
}

func tagEntry(tenantID string, e inventory.TagEntry, fromEdit bool) tagEntryItem {
	pk, sk, typ := tagEntriesPK(tenantID, e.AccountID), tagEntrySK(e.Key, e.Value, e.ARN), itemTagEntry
	if fromEdit {
		pk, sk, typ = editTagsPK(tenantID, e.AccountID), editTagSK(e.Key, e.ARN), itemEditTagEntry
	}
	return tagEntryItem{PK: pk, SK: sk, ItemType: typ,
		GSI3PK: tagIndexPK(tenantID, e.Key), GSI3SK: tagIndexSK(e.Value, e.AccountID, e.Region, e.Type, e.ARN),
		ARN: e.ARN, AccountID: e.AccountID, Region: e.Region, Type: e.Type, Key: e.Key, Value: e.Value, FromEdit: fromEdit}
}

type editItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	ItemType string `dynamodbav:"itemType"`
	inventory.Edit
}

type statusItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	ItemType string `dynamodbav:"itemType"`
	GSI5PK   string `dynamodbav:"gsi5pk,omitempty"`
	GSI5SK   string `dynamodbav:"gsi5sk,omitempty"`
	inventory.Status
}

// Status returns an account's inventory status (Status "" and Version 0 if it has none).
func (s Inventory) Status(ctx context.Context, tenantID, accountID string) (inventory.Status, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table(), Key: key(tenantPK(tenantID), invStatusSK(accountID)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return inventory.Status{}, err
	}
	if out.Item == nil {
		return inventory.Status{AccountID: accountID}, nil
	}
	var it statusItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return inventory.Status{}, err
	}
	it.Status.AccountID = accountID
	return it.Status, nil
}

// Statuses returns every account's inventory status in the tenant (one Query a page).
func (s Inventory) Statuses(ctx context.Context, tenantID string) ([]inventory.Status, error) {
	in := &dynamodb.QueryInput{TableName: s.table(), KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(tenantPK(tenantID)), ":prefix": str(invStatusPrefix)}}
	var out []inventory.Status
	err := s.queryAll(ctx, in, func(item map[string]types.AttributeValue) error {
		var it statusItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return err
		}
		it.Status.AccountID = strings.TrimPrefix(it.SK, invStatusPrefix)
		out = append(out, it.Status)
		return nil
	})
	return out, err
}

// SaveStatus writes after over before, conditioned on before's version (a first status on its absence); every
// writer of a status moves its version, so a lost race is inventory.ErrConcurrent.
func (s Inventory) SaveStatus(ctx context.Context, tenantID string, before, after inventory.Status) error {
	after.Version = before.Version + 1
	it := statusItem{PK: tenantPK(tenantID), SK: invStatusSK(after.AccountID), ItemType: itemInvStatus, Status: after}
	if after.NextDueAt != nil {
		it.GSI5PK, it.GSI5SK = inventoryDuePK, inventoryDueSK(*after.NextDueAt, tenantID, after.AccountID)
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return err
	}
	cond, values := "attribute_not_exists(pk)", map[string]types.AttributeValue(nil)
	if before.Version > 0 {
		cond, values = "version = :expected", map[string]types.AttributeValue{":expected": num(strconv.FormatInt(before.Version, 10))}
	}
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: s.table(), Item: item, ConditionExpression: aws.String(cond),
		ExpressionAttributeValues: values})
	if isConditionFailed(err) {
		return inventory.ErrConcurrent
	}
	return err
}

// FinishScan records one scan's result in the run seq and counts it done, in one conditional update: a scan
// delivered twice, or for a run that was replaced, changes nothing (false).
func (s Inventory) FinishScan(ctx context.Context, tenantID, accountID string, seq int64, scan string, result inventory.RegionResult) (inventory.Status, bool, error) {
	res, err := attributevalue.Marshal(result)
	if err != nil {
		return inventory.Status{}, false, err
	}
	out, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: s.table(), Key: key(tenantPK(tenantID), invStatusSK(accountID)),
		UpdateExpression:         aws.String("SET #run.#results.#scan = :res ADD #run.#pending :minus, version :one"),
		ConditionExpression:      aws.String("#run.#seq = :seq AND attribute_not_exists(#run.#results.#scan)"),
		ExpressionAttributeNames: map[string]string{"#run": "run", "#results": "results", "#scan": scan, "#pending": "pending", "#seq": "seq"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":res": res, ":minus": num("-1"), ":one": num("1"),
			":seq": num(strconv.FormatInt(seq, 10))},
		ReturnValues: types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return inventory.Status{}, false, nil
	}
	if err != nil {
		return inventory.Status{}, false, err
	}
	var it statusItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return inventory.Status{}, false, err
	}
	it.Status.AccountID = accountID
	return it.Status, true, nil
}

// AcquireManual takes the account's on-demand sync slot if the last was longer than interval ago (one conditional
// update); otherwise it says how long to wait.
func (s Inventory) AcquireManual(ctx context.Context, tenantID, accountID string, now time.Time, interval time.Duration) (time.Duration, error) {
	nowAttr, _ := attributevalue.Marshal(now.UTC())
	cutoff, _ := attributevalue.Marshal(now.Add(-interval).UTC())
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: s.table(), Key: key(tenantPK(tenantID), invStatusSK(accountID)),
		UpdateExpression:    aws.String("SET manualAt = :now, itemType = :type, accountId = :acct ADD version :one"),
		ConditionExpression: aws.String("attribute_not_exists(manualAt) OR manualAt <= :cutoff"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": nowAttr, ":cutoff": cutoff, ":type": str(itemInvStatus),
			":acct": str(accountID), ":one": num("1")},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		var last time.Time
		if v, ok := failed.Item["manualAt"]; ok {
			_ = attributevalue.Unmarshal(v, &last)
		}
		return last.Add(interval).Sub(now), nil
	}
	return 0, err
}

// Due lists the accounts whose next scheduled sync is due, across tenants (the sparse byDue index, keys only).
func (s Inventory) Due(ctx context.Context, now time.Time) ([]accounts.Ref, error) {
	in := &dynamodb.QueryInput{TableName: s.table(), IndexName: aws.String(tables.InventoryByDue),
		KeyConditionExpression:    aws.String("gsi5pk = :pk AND gsi5sk < :bound"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(inventoryDuePK), ":bound": str(now.UTC().Format("2006-01-02T15:04:05Z") + "~")}}
	var out []accounts.Ref
	err := s.queryAll(ctx, in, func(item map[string]types.AttributeValue) error {
		pk, _ := item[tables.PK].(*types.AttributeValueMemberS)
		sk, _ := item[tables.SK].(*types.AttributeValueMemberS)
		if pk != nil && sk != nil {
			out = append(out, accounts.Ref{TenantID: strings.TrimPrefix(pk.Value, tenantPrefix), AccountID: strings.TrimPrefix(sk.Value, invStatusPrefix)})
		}
		return nil
	})
	return out, err
}

// Stubs reads the hashes and sequence numbers of an account's stored resources in regions: one Query a page of
// each region's partition (keeping only what a scan compares, not the tags).
func (s Inventory) Stubs(ctx context.Context, tenantID, accountID string, regions []string) (map[string]inventory.Stub, error) {
	out := map[string]inventory.Stub{}
	for _, region := range regions {
		// No projection: DynamoDB charges a Query by the items' whole size anyway.
		in := &dynamodb.QueryInput{TableName: s.table(), KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(resourcePK(tenantID, accountID, region)),
				":prefix": str(resourcePrefix)}}
		err := s.queryAll(ctx, in, func(item map[string]types.AttributeValue) error {
			var it struct {
				ARN     string `dynamodbav:"arn"`
				Region  string `dynamodbav:"region"`
				OldHash string `dynamodbav:"oh"`
				OldGone bool   `dynamodbav:"og"`
				NewHash string `dynamodbav:"nh"`
				NewGone bool   `dynamodbav:"ng"`
				NewSeq  int64  `dynamodbav:"newSeq"`
			}
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return err
			}
			out[it.ARN] = inventory.Stub{Region: it.Region, OldHash: it.OldHash, OldGone: it.OldGone, HasOld: it.OldHash != "",
				NewHash: it.NewHash, NewGone: it.NewGone, NewSeq: it.NewSeq}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Resources reads stored resources in full (BatchGetItem, 100 a request), keyed by ARN.
func (s Inventory) Resources(ctx context.Context, tenantID, accountID string, keys []inventory.ResourceKey) (map[string]inventory.Stored, error) {
	ks := make([]map[string]types.AttributeValue, len(keys))
	for i, k := range keys {
		ks[i] = resourceKey(tenantID, accountID, k.Region, k.ARN)
	}
	out := map[string]inventory.Stored{}
	err := s.batchGet(ctx, s.Tables.Inventory(), ks, true, nil, nil, func(item map[string]types.AttributeValue) error {
		var it resourceItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return err
		}
		out[it.ARN] = it.Stored
		return nil
	})
	return out, err
}

// AccountResources reads every stored resource of an account in regions (one Query a page of each region's
// partition).
func (s Inventory) AccountResources(ctx context.Context, tenantID, accountID string, regions []string, each func(inventory.Stored) error) error {
	for _, region := range regions {
		in := &dynamodb.QueryInput{TableName: s.table(), KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(resourcePK(tenantID, accountID, region)), ":prefix": str(resourcePrefix)}}
		if err := s.queryAll(ctx, in, func(item map[string]types.AttributeValue) error {
			var it resourceItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return err
			}
			return each(it.Stored)
		}); err != nil {
			return err
		}
	}
	return nil
}

// Apply writes a scan's batch (BatchWriteItem, 25 a request). These puts are unconditional, as cost sync's
// generations are: one scan at a time writes an account's region (its run holds the status), and what it writes
// is invisible until the run commits.
func (s Inventory) Apply(ctx context.Context, tenantID string, w inventory.Writes) error {
	var reqs []types.WriteRequest
	for _, r := range w.Resources {
		item, err := attributevalue.MarshalMap(s.resourceItem(tenantID, r))
		if err != nil {
			return err
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	for _, r := range w.Deleted {
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: resourceKey(tenantID, r.AccountID, r.Region, r.ARN)}})
	}
	for _, e := range w.Entries {
		item, err := attributevalue.MarshalMap(tagEntry(tenantID, e, false))
		if err != nil {
			return err
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	for _, e := range w.DeleteEntries {
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{
			Key: key(tagEntriesPK(tenantID, e.AccountID), tagEntrySK(e.Key, e.Value, e.ARN))}})
	}
	return s.batchWrite(ctx, s.Tables.Inventory(), reqs)
}

// seenPerItem keeps a part of a scan's seen set under DynamoDB's 400 KB item limit.
const seenPerItem = 40000

// SaveSeen records the ARNs (as 64-bit hashes) a scan chunk listed, so that the chunk that finishes the scan knows
// every resource the scan saw, and so which are gone. The items expire after the run.
func (s Inventory) SaveSeen(ctx context.Context, tenantID, accountID string, seq int64, scan string, pass, chunk int, hashes []uint64, expires time.Time) error {
	var reqs []types.WriteRequest
	for part := 0; part*seenPerItem < len(hashes) || part == 0; part++ {
		slice := hashes[part*seenPerItem : min(len(hashes), (part+1)*seenPerItem)]
		buf := make([]byte, 8*len(slice))
		for i, h := range slice {
			binary.BigEndian.PutUint64(buf[8*i:], h)
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			tables.PK: str(runPK(tenantID, accountID, seq)), tables.SK: str(seenSK(scan, pass, chunk, part)),
			"itemType": str(itemSeen), "hashes": &types.AttributeValueMemberB{Value: buf},
			tables.ExpiresAt: num(strconv.FormatInt(expires.Unix(), 10)),
		}}})
	}
	return s.batchWrite(ctx, s.Tables.Inventory(), reqs)
}

// Seen reads back every hash SaveSeen recorded for a scan's pass.
func (s Inventory) Seen(ctx context.Context, tenantID, accountID string, seq int64, scan string, pass int) ([]uint64, error) {
	in := &dynamodb.QueryInput{TableName: s.table(), KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ConsistentRead: aws.Bool(true),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(runPK(tenantID, accountID, seq)),
			":prefix": str(fmt.Sprintf("%s%s#%04d#", seenPrefix, scan, pass))}}
	var out []uint64
	err := s.queryAll(ctx, in, func(item map[string]types.AttributeValue) error {
		b, _ := item["hashes"].(*types.AttributeValueMemberB)
		if b == nil {
			return nil
		}
		for i := 0; i+8 <= len(b.Value); i += 8 {
			out = append(out, binary.BigEndian.Uint64(b.Value[i:]))
		}
		return nil
	})
	return out, err
}

// Edits reads an account's tag edits in regions (all when none is named), keyed by ARN.
func (s Inventory) Edits(ctx context.Context, tenantID, accountID string, regions []string) (map[string]inventory.Edit, error) {
	prefixes := []string{""}
	if len(regions) > 0 {
		prefixes = nil
		for _, r := range regions {
			prefixes = append(prefixes, r+"#")
		}
	}
	out := map[string]inventory.Edit{}
	for _, prefix := range prefixes {
		in := &dynamodb.QueryInput{TableName: s.table(), KeyConditionExpression: aws.String("pk = :pk"), ConsistentRead: aws.Bool(true),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(editsPK(tenantID, accountID))}}
		if prefix != "" {
			in.KeyConditionExpression = aws.String("pk = :pk AND begins_with(sk, :prefix)")
			in.ExpressionAttributeValues[":prefix"] = str(prefix)
		}
		err := s.queryAll(ctx, in, func(item map[string]types.AttributeValue) error {
			var it editItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return err
			}
			out[it.ARN] = it.Edit
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EditsFor reads the edits of resources, if any (one BatchGetItem per 100), keyed by ARN.
func (s Inventory) EditsFor(ctx context.Context, tenantID string, resources []inventory.Stored) (map[string]inventory.Edit, error) {
	var ks []map[string]types.AttributeValue
	seen := map[string]bool{}
	for _, r := range resources {
		if seen[r.ARN] {
			continue
		}
		seen[r.ARN] = true
		ks = append(ks, key(editsPK(tenantID, r.AccountID), editSK(r.Region, r.ARN)))
	}
	out := map[string]inventory.Edit{}
	err := s.batchGet(ctx, s.Tables.Inventory(), ks, true, nil, nil, func(item map[string]types.AttributeValue) error {
		var it editItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return err
		}
		out[it.ARN] = it.Edit
		return nil
	})
	return out, err
}

// SaveEdit writes a resource's edits (after; nil or without keys or history deletes them) in place of before,
// conditioned on before's version, with the tag entries of the values the edits set, in one transaction; a guard
// also conditions it on the resource and its region's committed sync being as the tenant saw them, and adds the
// audit entry.
func (s Inventory) SaveEdit(ctx context.Context, tenantID string, before, after *inventory.Edit, guard *inventory.EditGuard) error {
	ref := after
	if ref == nil {
		ref = before
	}
	if ref == nil {
		return nil
	}
	pk := editsPK(tenantID, ref.AccountID)
	var items []types.TransactWriteItem
	beforeVersion := int64(0)
	if before != nil {
		beforeVersion = before.Version
	}
	versionCond := func() (*string, map[string]types.AttributeValue) {
		if beforeVersion == 0 {
			return aws.String("attribute_not_exists(pk)"), nil
		}
		return aws.String("version = :v"), map[string]types.AttributeValue{":v": num(strconv.FormatInt(beforeVersion, 10))}
	}
	cond, values := versionCond()
	if after == nil || (len(after.Keys) == 0 && len(after.Overwritten) == 0) {
		if before == nil {
			return nil
		}
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: s.table(), Key: key(pk, editSK(ref.Region, ref.ARN)),
			ConditionExpression: cond, ExpressionAttributeValues: values}})
	} else {
		e := *after
		e.Version = beforeVersion + 1
		item, err := attributevalue.MarshalMap(editItem{PK: pk, SK: editSK(e.Region, e.ARN), ItemType: itemEdit, Edit: e})
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: s.table(), Item: item, ConditionExpression: cond,
			ExpressionAttributeValues: values}})
	}
	set := func(e *inventory.Edit) map[string]string {
		out := map[string]string{}
		if e != nil {
			for k, ke := range e.Keys {
				if !ke.Delete {
					out[k] = ke.Value
				}
			}
		}
		return out
	}
	was, now := set(before), set(after)
	for _, k := range sortedKeys(now) {
		if v, ok := was[k]; ok && v == now[k] {
			continue
		}
		item, err := attributevalue.MarshalMap(tagEntry(tenantID, inventory.TagEntry{AccountID: ref.AccountID, Region: ref.Region,
			Type: ref.Type, ARN: ref.ARN, Key: k, Value: now[k]}, true))
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: s.table(), Item: item}})
	}
	for _, k := range sortedKeys(was) {
		if _, ok := now[k]; !ok {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: s.table(), Key: key(editTagsPK(tenantID, ref.AccountID), editTagSK(k, ref.ARN))}})
		}
	}
	guarded := 0
	if guard != nil {
		r := guard.Resource
		rc := "newSeq = :ns"
		rv := map[string]types.AttributeValue{":ns": num(strconv.FormatInt(r.NewSeq, 10))}
		if r.NewSeq == 0 {
			rc, rv = "attribute_not_exists(newSeq) AND oh = :oh", map[string]types.AttributeValue{":oh": str(r.Old.Hash)}
		}
		items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: s.table(),
			Key: resourceKey(tenantID, r.AccountID, r.Region, r.ARN), ConditionExpression: aws.String(rc), ExpressionAttributeValues: rv}})
		sc := "#committed.#region = :c"
		sv := map[string]types.AttributeValue{":c": num(strconv.FormatInt(guard.Committed, 10))}
		if guard.Committed == 0 {
			sc, sv = "attribute_not_exists(#committed.#region)", nil
		}
		items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: s.table(),
			Key: key(tenantPK(tenantID), invStatusSK(r.AccountID)), ConditionExpression: aws.String(sc), ExpressionAttributeValues: sv,
			ExpressionAttributeNames: map[string]string{"#committed": "committed", "#region": r.Region}}})
		guarded = 2
		if guard.Audit != nil {
			log, err := s.auditPut(*guard.Audit)
			if err != nil {
				return err
			}
			items = append(items, log)
		}
	}
	err := s.transact(ctx, items)
	var c *cancelledError
	if errors.As(err, &c) {
		if c.failed(0) || c.conflicted(0) {
			return inventory.ErrConcurrent
		}
		for i := len(items) - guarded - boolInt(guard != nil && guard.Audit != nil); i < len(items); i++ {
			if c.failed(i) || c.conflicted(i) {
				return inventory.ErrConcurrent
			}
		}
	}
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Find reads a resource of the tenant by ARN (the byArn index gives its account and region), with its edits.
func (s Inventory) Find(ctx context.Context, tenantID, arn string) (inventory.Stored, *inventory.Edit, bool, error) {
	out, err := s.Client.Query(ctx, &dynamodb.QueryInput{TableName: s.table(), IndexName: aws.String(tables.InventoryByArn),
		KeyConditionExpression:    aws.String("gsi4pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(resourceArnPK(tenantID, arn))}, Limit: aws.Int32(1)})
	if err != nil || len(out.Items) == 0 {
		return inventory.Stored{}, nil, false, err
	}
	pk, _ := out.Items[0][tables.PK].(*types.AttributeValueMemberS)
	sk, _ := out.Items[0][tables.SK].(*types.AttributeValueMemberS)
	where, _ := out.Items[0][tables.GSI4SK].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil || where == nil {
		return inventory.Stored{}, nil, false, nil
	}
	accountID, region, _ := strings.Cut(where.Value, "#")
	var res inventory.Stored
	var edit *inventory.Edit
	found := false
	err = s.batchGet(ctx, s.Tables.Inventory(), []map[string]types.AttributeValue{key(pk.Value, sk.Value), key(editsPK(tenantID, accountID), editSK(region, arn))}, true, nil, nil,
		func(item map[string]types.AttributeValue) error {
			t, _ := item["itemType"].(*types.AttributeValueMemberS)
			switch {
			case t != nil && t.Value == itemResource:
				var it resourceItem
				found = true
				if err := attributevalue.UnmarshalMap(item, &it); err != nil {
					return err
				}
				res = it.Stored
			case t != nil && t.Value == itemEdit:
				var it editItem
				if err := attributevalue.UnmarshalMap(item, &it); err != nil {
					return err
				}
				edit = &it.Edit
			}
			return nil
		})
	return res, edit, found, err
}

// maxListRounds bounds the Queries one listing page makes when the visibility of what they return (resources of a
// sync not yet committed, tombstones) or a tag filter's residual conditions leave the page short: the page is then
// shorter than asked, with a cursor.
const maxListRounds = 5

// List returns up to q.Limit resources that accept approves, with the cursor after the last. The query is chosen so
// that account, region and type are key conditions (byTenant, byRegion or the account's partition); a tag filter
// queries byTag for the key (and value), its candidates read with one BatchGetItem a page.
func (s Inventory) List(ctx context.Context, tenantID string, q inventory.Query,
	accept func(context.Context, []inventory.Candidate) ([]bool, error)) ([]inventory.Candidate, string, error) {
	in, keyAttrs, scope := s.listQuery(tenantID, q)
	if q.Cursor != "" {
		start, err := s.Cursors.Decode(scope, q.Cursor)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	tagged := q.Tag.Key != ""
	var out []inventory.Candidate
	for round := 0; round < maxListRounds; round++ {
		in.Limit = aws.Int32(int32(q.Limit - len(out) + 1))
		page, err := s.Client.Query(ctx, in)
		if err != nil {
			return nil, "", err
		}
		var cands []inventory.Candidate
		var keys []map[string]types.AttributeValue
		if tagged {
			cands, keys, err = s.tagCandidates(ctx, tenantID, page.Items, keyAttrs)
		} else {
			cands, keys, err = s.resourceCandidates(page.Items, keyAttrs)
		}
		if err != nil {
			return nil, "", err
		}
		ok, err := accept(ctx, cands)
		if err != nil {
			return nil, "", err
		}
		for i, c := range cands {
			if !ok[i] {
				continue
			}
			out = append(out, c)
			if len(out) == q.Limit {
				if i == len(cands)-1 && page.LastEvaluatedKey == nil {
					return out, "", nil
				}
				next, err := s.Cursors.Encode(scope, keys[i])
				return out, next, err
			}
		}
		if page.LastEvaluatedKey == nil {
			return out, "", nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	next, err := s.Cursors.Encode(scope, in.ExclusiveStartKey)
	return out, next, err
}

func (s Inventory) listQuery(tenantID string, q inventory.Query) (*dynamodb.QueryInput, []string, string) {
	in := &dynamodb.QueryInput{TableName: s.table(), ExpressionAttributeNames: map[string]string{}, ExpressionAttributeValues: map[string]types.AttributeValue{}}
	var filters []string
	filter := func(attr, value string) {
		name := "#f" + attr
		in.ExpressionAttributeNames[name] = attr
		in.ExpressionAttributeValues[":f"+attr] = str(value)
		filters = append(filters, name+" = :f"+attr)
	}
	var index, pkAttr, skAttr, pk, prefix string
	switch {
	case q.Tag.Key != "":
		index, pkAttr, skAttr, pk = tables.InventoryByTag, tables.GSI3PK, tables.GSI3SK, tagIndexPK(tenantID, q.Tag.Key)
		if q.Tag.HasValue {
			prefix = q.Tag.Value + "#"
			if q.AccountID != "" {
				prefix += q.AccountID + "#"
				if q.Region != "" {
					prefix += q.Region + "#"
					if q.Type != "" {
						prefix += q.Type + "#"
					}
				}
			}
		}
		if q.AccountID != "" && !q.Tag.HasValue {
			filter("accountId", q.AccountID)
		}
		if q.Region != "" && (q.AccountID == "" || !q.Tag.HasValue) {
			filter("region", q.Region)
		}
		if q.Type != "" && (q.Region == "" || q.AccountID == "" || !q.Tag.HasValue) {
			filter("type", q.Type)
		}
	case q.AccountID != "" && q.Type != "" && q.Region == "":
		index, pkAttr, skAttr, pk, prefix = tables.InventoryByType, tables.GSI6PK, tables.GSI6SK, resourcesTypePK(tenantID, q.Type), q.AccountID+"#"
	case q.AccountID != "":
		index, pkAttr, skAttr, pk, prefix = tables.InventoryByTenant, tables.GSI1PK, tables.GSI1SK, resourcesTenantPK(tenantID), q.AccountID+"#"
		if q.Region != "" {
			prefix += q.Region + "#"
			if q.Type != "" {
				prefix += q.Type + "#"
			}
		}
	case q.Region != "":
		index, pkAttr, skAttr, pk = tables.InventoryByRegion, tables.GSI2PK, tables.GSI2SK, resourcesRegionPK(tenantID, q.Region)
		if q.Type != "" {
			prefix = q.Type + "#"
		}
	case q.Type != "":
		index, pkAttr, skAttr, pk = tables.InventoryByType, tables.GSI6PK, tables.GSI6SK, resourcesTypePK(tenantID, q.Type)
	default:
		index, pkAttr, skAttr, pk = tables.InventoryByTenant, tables.GSI1PK, tables.GSI1SK, resourcesTenantPK(tenantID)
	}
	in.ExpressionAttributeNames["#pk"] = pkAttr
	in.ExpressionAttributeValues[":pk"] = str(pk)
	cond := "#pk = :pk"
	if prefix != "" {
		in.ExpressionAttributeNames["#sk"] = skAttr
		in.ExpressionAttributeValues[":prefix"] = str(prefix)
		cond += " AND begins_with(#sk, :prefix)"
	}
	in.KeyConditionExpression = aws.String(cond)
	if index != "" {
		in.IndexName = aws.String(index)
	}
	if len(filters) > 0 {
		in.FilterExpression = aws.String(strings.Join(filters, " AND "))
	}
	keyAttrs := []string{tables.PK, tables.SK}
	if index != "" {
		keyAttrs = append(keyAttrs, pkAttr, skAttr)
	}
	scope := fmt.Sprintf("inventory|%s|%s|%s|%s|%s", tenantID, index, pk, prefix, aws.ToString(in.FilterExpression))
	for _, v := range []string{q.AccountID, q.Region, q.Type} {
		scope += "|" + v
	}
	return in, keyAttrs, scope
}

func cursorKey(item map[string]types.AttributeValue, attrs []string) map[string]types.AttributeValue {
	k := make(map[string]types.AttributeValue, len(attrs))
	for _, a := range attrs {
		if v, ok := item[a]; ok {
			k[a] = v
		}
	}
	return k
}

func (s Inventory) resourceCandidates(items []map[string]types.AttributeValue, keyAttrs []string) ([]inventory.Candidate, []map[string]types.AttributeValue, error) {
	cands := make([]inventory.Candidate, 0, len(items))
	keys := make([]map[string]types.AttributeValue, 0, len(items))
	for _, item := range items {
		var it resourceItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, nil, err
		}
		cands = append(cands, inventory.Candidate{Resource: it.Stored})
		keys = append(keys, cursorKey(item, keyAttrs))
	}
	return cands, keys, nil
}

// tagCandidates reads the resources a page of tag entries names (one BatchGetItem per 100), in the entries' order;
// an entry whose resource was pruned is dropped.
func (s Inventory) tagCandidates(ctx context.Context, tenantID string, items []map[string]types.AttributeValue, keyAttrs []string) ([]inventory.Candidate, []map[string]types.AttributeValue, error) {
	entries := make([]tagEntryItem, 0, len(items))
	var ks []map[string]types.AttributeValue
	want := map[string]bool{}
	for _, item := range items {
		var e tagEntryItem
		if err := attributevalue.UnmarshalMap(item, &e); err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
		if !want[e.ARN] {
			want[e.ARN] = true
			ks = append(ks, resourceKey(tenantID, e.AccountID, e.Region, e.ARN))
		}
	}
	found := map[string]inventory.Stored{}
	if err := s.batchGet(ctx, s.Tables.Inventory(), ks, false, nil, nil, func(item map[string]types.AttributeValue) error {
		var it resourceItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return err
		}
		found[it.ARN] = it.Stored
		return nil
	}); err != nil {
		return nil, nil, err
	}
	cands := make([]inventory.Candidate, 0, len(entries))
	keys := make([]map[string]types.AttributeValue, 0, len(entries))
	for i, e := range entries {
		r, ok := found[e.ARN]
		if !ok {
			continue
		}
		cands = append(cands, inventory.Candidate{Resource: r, FromEdit: e.FromEdit})
		keys = append(keys, cursorKey(items[i], keyAttrs))
	}
	return cands, keys, nil
}

type tagKeyItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	ItemType string `dynamodbav:"itemType"`
	inventory.KeySummary
}

// SaveSummary replaces an account's tag summary: a count item per key (tenant-wide key listing) and a values item
// per key (a key's values), deleting keys the account no longer has.
func (s Inventory) SaveSummary(ctx context.Context, tenantID, accountID string, before []string, sums map[string]inventory.KeySummary) error {
	var reqs []types.WriteRequest
	for _, k := range sortedKeys(sums) {
		sum := sums[k]
		sum.Key, sum.AccountID = k, accountID
		countOnly := sum
		countOnly.Values, countOnly.Truncated = nil, false
		item, err := attributevalue.MarshalMap(tagKeyItem{PK: tagKeysPK(tenantID), SK: tagKeySK(k, accountID), ItemType: itemTagKeySum, KeySummary: countOnly})
		if err != nil {
			return err
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		if sum.Values == nil {
			sum.Values = map[string]int{}
		}
		item, err = attributevalue.MarshalMap(tagKeyItem{PK: tagValuesPK(tenantID, k), SK: accountID, ItemType: itemTagValSum, KeySummary: sum})
		if err != nil {
			return err
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	for _, k := range before {
		if _, ok := sums[k]; ok {
			continue
		}
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(tagKeysPK(tenantID), tagKeySK(k, accountID))}},
			types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(tagValuesPK(tenantID, k), accountID)}})
	}
	return s.batchWrite(ctx, s.Tables.Inventory(), reqs)
}

// AdjustSummary adds deltas (a key's count, and its values' counts) to an account's tag summary: a tenant's edit
// changes it at once, while the next sync that changes anything recounts it.
func (s Inventory) AdjustSummary(ctx context.Context, tenantID, accountID string, deltas map[string]map[string]int) error {
	for _, k := range sortedKeys(deltas) {
		vals := deltas[k]
		if d := vals[""]; d != 0 {
			if _, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: s.table(), Key: key(tagKeysPK(tenantID), tagKeySK(k, accountID)),
				UpdateExpression:         aws.String("SET #key = :k, accountId = :a, itemType = :t ADD #count :d"),
				ExpressionAttributeNames: map[string]string{"#key": "key", "#count": "count"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(k), ":a": str(accountID), ":t": str(itemTagKeySum),
					":d": num(strconv.Itoa(d))}}); err != nil {
				return err
			}
		}
		vkey := key(tagValuesPK(tenantID, k), accountID)
		if _, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: s.table(), Key: vkey,
			UpdateExpression:         aws.String("SET #key = :k, accountId = :a, itemType = :t, #values = if_not_exists(#values, :empty)"),
			ExpressionAttributeNames: map[string]string{"#key": "key", "#values": "values"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(k), ":a": str(accountID), ":t": str(itemTagValSum),
				":empty": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}}}); err != nil {
			return err
		}
		var sets []string
		names := map[string]string{"#values": "values"}
		values := map[string]types.AttributeValue{":zero": num("0")}
		i := 0
		for _, v := range sortedKeys(vals) {
			if v == "" || vals[v] == 0 {
				continue
			}
			n, d := fmt.Sprintf("#v%d", i), fmt.Sprintf(":d%d", i)
			names[n], values[d] = v, num(strconv.Itoa(vals[v]))
			sets = append(sets, fmt.Sprintf("#values.%s = if_not_exists(#values.%s, :zero) + %s", n, n, d))
			i++
		}
		if len(sets) == 0 {
			continue
		}
		if _, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: s.table(), Key: vkey,
			UpdateExpression: aws.String("SET " + strings.Join(sets, ", ")), ExpressionAttributeNames: names, ExpressionAttributeValues: values}); err != nil {
			return err
		}
	}
	return nil
}

// TagKeys lists every (key, account) count of the tenant (one Query a page of small items).
func (s Inventory) TagKeys(ctx context.Context, tenantID string) ([]inventory.KeySummary, error) {
	return s.summaries(ctx, tagKeysPK(tenantID))
}

// TagValues lists a key's value counts in each account of the tenant.
func (s Inventory) TagValues(ctx context.Context, tenantID, key string) ([]inventory.KeySummary, error) {
	return s.summaries(ctx, tagValuesPK(tenantID, key))
}

func (s Inventory) summaries(ctx context.Context, pk string) ([]inventory.KeySummary, error) {
	in := &dynamodb.QueryInput{TableName: s.table(), KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)}}
	var out []inventory.KeySummary
	err := s.queryAll(ctx, in, func(item map[string]types.AttributeValue) error {
		var it tagKeyItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return err
		}
		out = append(out, it.KeySummary)
		return nil
	})
	return out, err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
