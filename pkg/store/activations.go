package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/activation"
)

// Activations stores bulk activations (accounts table): in the tenant's partition the header and one record per
// request key (which activation a request names); in the activation's own partition one item per account and one
// record per batch (its task token and the accounts it still awaits).
type Activations struct{ DB }

var _ activation.Store = Activations{}

type activationItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	ItemType string `dynamodbav:"itemType"`
	activation.Activation
}

type activationAccountItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	ItemType string `dynamodbav:"itemType"`
	activation.Item
}

type activationRequestItem struct {
	PK           string `dynamodbav:"pk"`
	SK           string `dynamodbav:"sk"`
	ItemType     string `dynamodbav:"itemType"`
	ActivationID string `dynamodbav:"activationId"`
}

// batchRecord is one batch of an activation: the token its task waits on and the accounts it still awaits (a
// string set: taking an account off twice is taking it off once). DynamoDB removes an empty set, so opened says
// whether the set was ever written.
type batchRecord struct {
	TaskToken string   `dynamodbav:"taskToken"`
	Awaiting  []string `dynamodbav:"awaiting,stringset,omitempty"`
	Opened    bool     `dynamodbav:"opened"`
}

const (
	itemActivationRequest = "activationRequest"
	itemActivationBatch   = "activationBatch"
	activationRequestPfx  = "ACTIVATION-REQUEST#"
)

func activationRequestSK(key string) string { return activationRequestPfx + key }

// batchSK is one batch's record.
func batchSK(index int) string { return fmt.Sprintf("BATCH#%05d", index) }

func (s Activations) table() *string { return aws.String(s.Tables.Accounts()) }

// Create writes the items (a new partition, invisible until the header exists), then the header and the request
// key's record in one transaction: the key record is written only if it is absent or still names replaces, so of
// two identical requests racing, one creates its activation and the other gets activation.ErrRequestRaced (its
// items are removed again).
func (s Activations) Create(ctx context.Context, tenantID string, a activation.Activation, items []activation.Item, requestKey, replaces string) error {
	var requests []types.WriteRequest
	for _, it := range items {
		item, err := attributevalue.MarshalMap(activationAccountItem{PK: activationPK(tenantID, a.ID), SK: accountSK(it.AccountID), ItemType: itemActivationItem, Item: it})
		if err != nil {
			return err
		}
		requests = append(requests, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	costs := Costs{DB: s.DB}
	if err := costs.batchTo(ctx, s.Tables.Accounts(), requests); err != nil {
		return err
	}
	header, err := attributevalue.MarshalMap(activationItem{PK: tenantPK(tenantID), SK: activationSK(a.ID), ItemType: itemActivation, Activation: a})
	if err != nil {
		return err
	}
	tx := []types.TransactWriteItem{{Put: &types.Put{TableName: s.table(), Item: header, ConditionExpression: aws.String("attribute_not_exists(pk)")}}}
	if requestKey != "" {
		req, err := attributevalue.MarshalMap(activationRequestItem{PK: tenantPK(tenantID), SK: activationRequestSK(requestKey),
			ItemType: itemActivationRequest, ActivationID: a.ID})
		if err != nil {
			return err
		}
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: s.table(), Item: req,
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR activationId = :replaces"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":replaces": str(replaces)}}})
	}
	err = s.transact(ctx, tx)
	var c *cancelledError
	if errors.As(err, &c) && c.failed(1) {
		var deletes []types.WriteRequest
		for _, it := range items {
			deletes = append(deletes, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(activationPK(tenantID, a.ID), accountSK(it.AccountID))}})
		}
		_ = costs.batchTo(ctx, s.Tables.Accounts(), deletes) // unreferenced either way
		return activation.ErrRequestRaced
	}
	return err
}

// ByRequest returns the activation a request key names.
func (s Activations) ByRequest(ctx context.Context, tenantID, requestKey string) (string, bool, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table(), Key: key(tenantPK(tenantID), activationRequestSK(requestKey)),
		ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return "", false, err
	}
	var it activationRequestItem
	err = attributevalue.UnmarshalMap(out.Item, &it)
	return it.ActivationID, err == nil, err
}

// Get returns an activation's header.
func (s Activations) Get(ctx context.Context, tenantID, id string) (activation.Activation, bool, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table(), Key: key(tenantPK(tenantID), activationSK(id)), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return activation.Activation{}, false, err
	}
	var it activationItem
	err = attributevalue.UnmarshalMap(out.Item, &it)
	return it.Activation, true, err
}

// List returns the tenant's activations.
func (s Activations) List(ctx context.Context, tenantID string) ([]activation.Activation, error) {
	var out []activation.Activation
	err := s.query(ctx, tenantPK(tenantID), activationPrefix, func(m map[string]types.AttributeValue) error {
		var it activationItem
		if err := attributevalue.UnmarshalMap(m, &it); err != nil {
			return err
		}
		out = append(out, it.Activation)
		return nil
	})
	return out, err
}

// Finish moves a running activation to status (conditioned on it still running).
func (s Activations) Finish(ctx context.Context, tenantID, id, status, reason string, at time.Time) error {
	values := map[string]types.AttributeValue{":s": str(status), ":running": str(activation.Running),
		":f": str(at.UTC().Format(time.RFC3339Nano))}
	expr := "SET #status = :s, finishedAt = :f"
	if reason != "" {
		values[":r"] = str(reason)
		expr += ", reason = :r"
	}
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: s.table(), Key: key(tenantPK(tenantID), activationSK(id)),
		UpdateExpression: aws.String(expr), ConditionExpression: aws.String("#status = :running"),
		ExpressionAttributeNames: map[string]string{"#status": "status"}, ExpressionAttributeValues: values})
	if isConditionFailed(err) {
		return nil // already finished or cancelled
	}
	return err
}

// Items returns every account of the activation, by account id (one Query a page).
func (s Activations) Items(ctx context.Context, tenantID, id string) ([]activation.Item, error) {
	var out []activation.Item
	err := s.query(ctx, activationPK(tenantID, id), accountPrefix, func(m map[string]types.AttributeValue) error {
		var it activationAccountItem
		if err := attributevalue.UnmarshalMap(m, &it); err != nil {
			return err
		}
		out = append(out, it.Item)
		return nil
	})
	return out, err
}

// PutItem records an account's progress, conditioned on the status it was read in (from), so a cancel and a worker
// never overwrite each other.
func (s Activations) PutItem(ctx context.Context, tenantID, id string, it activation.Item, from ...string) error {
	in, err := s.putItem(tenantID, id, it, from...)
	if err != nil {
		return err
	}
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: in.TableName, Item: in.Item, ConditionExpression: in.ConditionExpression,
		ExpressionAttributeNames: in.ExpressionAttributeNames, ExpressionAttributeValues: in.ExpressionAttributeValues})
	if isConditionFailed(err) {
		return activation.ErrItemChanged
	}
	return err
}

func (s Activations) putItem(tenantID, id string, it activation.Item, from ...string) (*types.Put, error) {
	item, err := attributevalue.MarshalMap(activationAccountItem{PK: activationPK(tenantID, id), SK: accountSK(it.AccountID), ItemType: itemActivationItem, Item: it})
	if err != nil {
		return nil, err
	}
	put := &types.Put{TableName: s.table(), Item: item, ConditionExpression: aws.String("attribute_exists(pk)")}
	if len(from) > 0 {
		put.ConditionExpression = aws.String("#status = :from")
		put.ExpressionAttributeNames = map[string]string{"#status": "status"}
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":from": str(from[0])}
	}
	return put, nil
}

func (s Activations) query(ctx context.Context, pk, prefix string, each func(map[string]types.AttributeValue) error) error {
	return s.queryAll(ctx, &dynamodb.QueryInput{TableName: s.table(), KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":prefix": str(prefix)}}, each)
}

// batchGetKeys is BatchGetItem's limit of keys per request.
const batchGetKeys = 100

// LoadBatch reads the activation items and the accounts of accountIDs with consistent BatchGetItem requests (50
// accounts a request: an item and an account each), retrying what DynamoDB leaves unprocessed.
func (s Activations) LoadBatch(ctx context.Context, tenantID, id string, accountIDs []string) (map[string]activation.Item, map[string]accounts.Account, error) {
	items, accts := map[string]activation.Item{}, map[string]accounts.Account{}
	itemPK, accountPK := activationPK(tenantID, id), tenantPK(tenantID)
	for start := 0; start < len(accountIDs); start += batchGetKeys / 2 {
		var keys []map[string]types.AttributeValue
		for _, acct := range accountIDs[start:min(start+batchGetKeys/2, len(accountIDs))] {
			keys = append(keys, key(itemPK, accountSK(acct)), key(accountPK, accountSK(acct)))
		}
		request := map[string]types.KeysAndAttributes{s.Tables.Accounts(): {Keys: keys, ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(request) > 0; attempt++ {
			if attempt > 0 {
				if err := pause(ctx, attempt); err != nil {
					return nil, nil, err
				}
			}
			out, err := s.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: request})
			if err != nil {
				return nil, nil, err
			}
			for _, m := range out.Responses[s.Tables.Accounts()] {
				pk := m["pk"].(*types.AttributeValueMemberS).Value
				if pk == itemPK {
					var it activationAccountItem
					if err := attributevalue.UnmarshalMap(m, &it); err != nil {
						return nil, nil, err
					}
					items[it.AccountID] = it.Item
					continue
				}
				var a accountItem
				if err := attributevalue.UnmarshalMap(m, &a); err != nil {
					return nil, nil, fmt.Errorf("unmarshal account: %w", err)
				}
				accts[a.AccountID] = a.Account
			}
			request = out.UnprocessedKeys
		}
	}
	return items, accts, nil
}

// pause waits before another attempt at what DynamoDB left unprocessed (it does so under load).
func pause(ctx context.Context, attempt int) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(min(attempt*attempt, 25)) * 40 * time.Millisecond):
		return nil
	}
}

// OpenBatch records the batch's task token, and the accounts it awaits unless an earlier attempt of the same task
// recorded them (a retry must not put back accounts that callbacks have taken off).
func (s Activations) OpenBatch(ctx context.Context, tenantID, id string, index int, token string, awaited []string) error {
	values := map[string]types.AttributeValue{":t": str(token), ":type": str(itemActivationBatch), ":yes": &types.AttributeValueMemberBOOL{Value: true}}
	expr := "SET taskToken = :t, itemType = :type, opened = :yes"
	if len(awaited) > 0 {
		values[":awaited"] = &types.AttributeValueMemberSS{Value: awaited}
		expr += ", awaiting = :awaited"
	}
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: s.table(), Key: key(activationPK(tenantID, id), batchSK(index)),
		UpdateExpression: aws.String(expr), ConditionExpression: aws.String("attribute_not_exists(opened)"), ExpressionAttributeValues: values})
	if !isConditionFailed(err) {
		return err
	}
	// A retried task: the batch's awaited set stands; only the token is new.
	_, err = s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: s.table(), Key: key(activationPK(tenantID, id), batchSK(index)),
		UpdateExpression: aws.String("SET taskToken = :t"), ExpressionAttributeValues: map[string]types.AttributeValue{":t": str(token)}})
	return err
}

// startItems is the transaction items of one account's start: the account, its audit entry, its item, and the
// mirror on its claim of what it now waits for.
const startItems = 4

// StartAccounts writes each start (the account with its audit entry and its claim's mirror, and its item) in
// transactions of up to 25 accounts. Each write stays conditional: the account on the version read, the item on
// the status read. When a transaction is cancelled, the accounts whose conditions failed are returned with their
// error and the others are written again without them.
func (s Activations) StartAccounts(ctx context.Context, tenantID, id string, starts []activation.Start) (map[string]error, error) {
	refused := map[string]error{}
	accts := Accounts{DB: s.DB}
	build := func(st activation.Start) ([]types.TransactWriteItem, error) {
		update, err := accts.updateFrom(st.Before, st.After)
		if err != nil {
			return nil, err
		}
		entry, err := s.auditPut(st.Entry)
		if err != nil {
			return nil, err
		}
		put, err := s.putItem(tenantID, id, st.Item, st.ItemFrom)
		if err != nil {
			return nil, err
		}
		// Written whether or not what the account waits for changed, so that every start has startItems items.
		mirror, err := accts.mirrorAwaiting(st.After)
		if err != nil {
			return nil, err
		}
		return []types.TransactWriteItem{update, entry, {Put: put}, mirror}, nil
	}
	return refused, s.inGroups(ctx, len(starts), startItems, func(i int) (string, []types.TransactWriteItem, error) {
		tx, err := build(starts[i])
		return starts[i].After.AccountID, tx, err
	}, func(acct string, c *cancelledError, at int) bool {
		switch {
		case c.failed(at) || c.conflicted(at) || c.conflicted(at+3):
			refused[acct] = accounts.ErrVersionMismatch
		case c.failed(at + 2):
			refused[acct] = activation.ErrItemChanged
		case c.failed(at + 3):
			refused[acct] = accounts.ErrNotFound // the account's claim is not the tenant's: it is being deleted
		default:
			return false
		}
		return true
	})
}

// stackItems is the transaction items of one recorded stack: the account, its item, its audit entry, its claim.
const stackItems = 4

// RecordStacks records each StackId on the item, and on the account as the stack it awaits (accounts.AwaitStack;
// mirrored on its claim in the same transaction, so that the stack's notifications are recognised by it) while
// the activation still awaits the account, with an audit entry. The account's version goes up, so that a callback
// that read the account before writes nothing over it without reading it again.
func (s Activations) RecordStacks(ctx context.Context, tenantID, id string, stacks []activation.StackRecord) (map[string]error, error) {
	refused := map[string]error{}
	return refused, s.inGroups(ctx, len(stacks), stackItems, func(i int) (string, []types.TransactWriteItem, error) {
		st := stacks[i]
		entry, err := s.auditPut(st.Entry)
		if err != nil {
			return "", nil, err
		}
		return st.AccountID, []types.TransactWriteItem{
			{Update: &types.Update{TableName: s.table(), Key: key(tenantPK(tenantID), accountSK(st.AccountID)),
				UpdateExpression:         aws.String("SET awaitedStackId = :stack, #version = #version + :one, updatedAt = :now"),
				ConditionExpression:      aws.String("activationRef.activationId = :id AND #status = :activating"),
				ExpressionAttributeNames: map[string]string{"#version": "version", "#status": "status"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":stack": str(st.StackID), ":one": num("1"),
					":now": str(st.Entry.At.UTC().Format(time.RFC3339Nano)), ":id": str(id), ":activating": str(string(accounts.Activating))}}},
			{Update: &types.Update{TableName: s.table(), Key: key(activationPK(tenantID, id), accountSK(st.AccountID)),
				UpdateExpression: aws.String("SET stackId = :stack"), ConditionExpression: aws.String("attribute_exists(pk)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":stack": str(st.StackID)}}},
			entry,
			// The start wrote the claim's whole mirror; only the stack is new.
			{Update: &types.Update{TableName: s.table(), Key: key(claimPK(st.AccountID), claimSK),
				UpdateExpression:          aws.String("SET #awaiting.stackId = :stack"),
				ConditionExpression:       aws.String("tenantId = :tenant AND attribute_type(#awaiting, :map)"),
				ExpressionAttributeNames:  map[string]string{"#awaiting": claimAwaitingAttr},
				ExpressionAttributeValues: map[string]types.AttributeValue{":stack": str(st.StackID), ":tenant": str(tenantID), ":map": str("M")}}},
		}, nil
	}, func(acct string, c *cancelledError, at int) bool {
		if c.failed(at) || c.failed(at+1) || c.failed(at+3) {
			refused[acct] = activation.ErrItemChanged
			return true
		}
		return false
	})
}

// inGroups writes n units of size transaction items each in as few transactions as DynamoDB allows (100 items).
// When a transaction is cancelled, refuse names each unit whose conditions failed (given its first item's index):
// those are left out and the rest is written again.
func (s Activations) inGroups(ctx context.Context, n, size int, unit func(i int) (string, []types.TransactWriteItem, error),
	refuse func(id string, c *cancelledError, at int) bool) error {
	per := 100 / size
	for start := 0; start < n; start += per {
		var ids []string
		var groups [][]types.TransactWriteItem
		for i := start; i < min(start+per, n); i++ {
			id, tx, err := unit(i)
			if err != nil {
				return err
			}
			ids, groups = append(ids, id), append(groups, tx)
		}
		for len(groups) > 0 {
			var tx []types.TransactWriteItem
			for _, g := range groups {
				tx = append(tx, g...)
			}
			err := s.transact(ctx, tx)
			var c *cancelledError
			if !errors.As(err, &c) {
				if err != nil {
					return err
				}
				break
			}
			var keepIDs []string
			var keep [][]types.TransactWriteItem
			for i := range groups {
				if !refuse(ids[i], c, i*size) {
					keepIDs, keep = append(keepIDs, ids[i]), append(keep, groups[i])
				}
			}
			if len(keep) == len(groups) {
				return err // cancelled for a reason no unit owns
			}
			ids, groups = keepIDs, keep
		}
	}
	return nil
}

// Settle records an account's outcome and takes it off its batch's awaited set in one transaction. While others
// remain awaited that is all (one request). Otherwise this is the batch's last account, a duplicate, or the
// batch is over (index < 0): the settlement is then written without the awaited-set condition, and the batch's
// record read back for its task token, so that the caller resumes a batch that awaits nothing more.
func (s Activations) Settle(ctx context.Context, tenantID, id string, index int, st activation.Settlement) (activation.Countdown, error) {
	item := s.settleItem(tenantID, id, st)
	settleAlone := func() (activation.Countdown, error) {
		_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: item.TableName, Key: item.Key, UpdateExpression: item.UpdateExpression,
			ConditionExpression: item.ConditionExpression, ExpressionAttributeNames: item.ExpressionAttributeNames, ExpressionAttributeValues: item.ExpressionAttributeValues})
		if isConditionFailed(err) {
			return activation.Countdown{}, activation.ErrItemChanged
		}
		return activation.Countdown{Changed: err == nil}, err
	}
	if index < 0 {
		return settleAlone()
	}
	batch := key(activationPK(tenantID, id), batchSK(index))
	acct := &types.AttributeValueMemberSS{Value: []string{st.AccountID}}
	err := s.transact(ctx, []types.TransactWriteItem{{Update: item}, {Update: &types.Update{TableName: s.table(), Key: batch,
		UpdateExpression:    aws.String("DELETE awaiting :acct"),
		ConditionExpression: aws.String("contains(awaiting, :id) AND size(awaiting) > :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":acct": acct, ":id": str(st.AccountID),
			":one": num("1")}}}})
	var c *cancelledError
	switch {
	case err == nil:
		return activation.Countdown{Changed: true}, nil
	case !errors.As(err, &c):
		return activation.Countdown{}, err
	case c.failed(0):
		// Settled before (a duplicate delivery, or an outcome recorded by the task): make sure the account is off
		// the awaited set all the same; the delivery that settled it may have died before.
		return s.Release(ctx, tenantID, id, index, []string{st.AccountID})
	}
	// The batch's last awaited account (or one it does not await).
	err = s.transact(ctx, []types.TransactWriteItem{{Update: item}, {Update: &types.Update{TableName: s.table(), Key: batch,
		UpdateExpression: aws.String("DELETE awaiting :acct"), ConditionExpression: aws.String("attribute_exists(opened)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":acct": acct}}}})
	switch {
	case errors.As(err, &c) && c.failed(0):
		return s.Release(ctx, tenantID, id, index, []string{st.AccountID})
	case errors.As(err, &c) && c.failed(1):
		return settleAlone() // the batch never opened (its task never ran): nothing waits on it
	case err != nil:
		return activation.Countdown{}, err
	}
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table(), Key: batch, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return activation.Countdown{}, err
	}
	cd, err := countdown(out.Item)
	cd.Changed = true
	return cd, err
}

// settleItem is the update that records an outcome on an item in one of the statuses st may settle from.
func (s Activations) settleItem(tenantID, id string, st activation.Settlement) *types.Update {
	values := map[string]types.AttributeValue{":s": str(st.Status), ":r": str(st.Reason), ":at": str(st.At.UTC().Format(time.RFC3339Nano))}
	var from []string
	for i, f := range st.From {
		name := ":from" + strconv.Itoa(i)
		values[name] = str(f)
		from = append(from, name)
	}
	expr := "SET #status = :s, reason = :r, finishedAt = :at"
	if st.StackID != "" {
		values[":stack"] = str(st.StackID)
		expr += ", stackId = if_not_exists(stackId, :stack)"
	}
	cond := "attribute_exists(pk)"
	if len(from) > 0 {
		cond = "#status IN (" + strings.Join(from, ", ") + ")"
	}
	return &types.Update{TableName: s.table(), Key: key(activationPK(tenantID, id), accountSK(st.AccountID)),
		UpdateExpression: aws.String(expr), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: map[string]string{"#status": "status"}, ExpressionAttributeValues: values}
}

// Release takes accounts off the batch's awaited set (idempotently) and returns what remains awaited.
func (s Activations) Release(ctx context.Context, tenantID, id string, index int, accountIDs []string) (activation.Countdown, error) {
	if index < 0 {
		return activation.Countdown{}, nil
	}
	batch := key(activationPK(tenantID, id), batchSK(index))
	if len(accountIDs) == 0 {
		out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table(), Key: batch, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return activation.Countdown{}, err
		}
		return countdown(out.Item)
	}
	out, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: s.table(), Key: batch,
		UpdateExpression: aws.String("DELETE awaiting :accts"), ConditionExpression: aws.String("attribute_exists(opened)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":accts": &types.AttributeValueMemberSS{Value: accountIDs}},
		ReturnValues:              types.ReturnValueAllNew})
	if isConditionFailed(err) {
		return activation.Countdown{}, nil // no such batch: nothing waits
	}
	if err != nil {
		return activation.Countdown{}, err
	}
	return countdown(out.Attributes)
}

func countdown(m map[string]types.AttributeValue) (activation.Countdown, error) {
	if m == nil {
		return activation.Countdown{}, nil
	}
	var b batchRecord
	if err := attributevalue.UnmarshalMap(m, &b); err != nil {
		return activation.Countdown{}, err
	}
	return activation.Countdown{Done: b.Opened && len(b.Awaiting) == 0, Token: b.TaskToken}, nil
}
