package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gangplank/gangplank/pkg/activation"
)

// Activations stores bulk activations (accounts table): the header, and one item per account.
type Activations struct{ DB }

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

func (s Activations) table() *string { return aws.String(s.Tables.Accounts()) }

// Create writes the items (a new partition, invisible until the header exists), then the header, conditioned on
// its absence: a concurrent identical request finds it and starts nothing twice.
func (s Activations) Create(ctx context.Context, tenantID string, a activation.Activation, items []activation.Item) error {
	var requests []types.WriteRequest
	for _, it := range items {
		item, err := attributevalue.MarshalMap(activationAccountItem{PK: activationPK(tenantID, a.ID), SK: accountSK(it.AccountID), ItemType: itemActivationItem, Item: it})
		if err != nil {
			return err
		}
		requests = append(requests, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	if err := (Costs{DB: s.DB}).batchTo(ctx, s.Tables.Accounts(), requests); err != nil {
		return err
	}
	item, err := attributevalue.MarshalMap(activationItem{PK: tenantPK(tenantID), SK: activationSK(a.ID), ItemType: itemActivation, Activation: a})
	if err != nil {
		return err
	}
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: s.table(), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if isConditionFailed(err) {
		return nil // the same request, created concurrently
	}
	return err
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

// SetStatus moves a running activation to status (conditioned on it still running).
func (s Activations) SetStatus(ctx context.Context, tenantID, id, status string, finishedAt *time.Time) error {
	values := map[string]types.AttributeValue{":s": str(status), ":running": str(activation.Running)}
	expr := "SET #status = :s"
	if finishedAt != nil {
		values[":f"] = str(finishedAt.UTC().Format(time.RFC3339Nano))
		expr += ", finishedAt = :f"
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
	item, err := attributevalue.MarshalMap(activationAccountItem{PK: activationPK(tenantID, id), SK: accountSK(it.AccountID), ItemType: itemActivationItem, Item: it})
	if err != nil {
		return err
	}
	in := &dynamodb.PutItemInput{TableName: s.table(), Item: item, ConditionExpression: aws.String("attribute_exists(pk)")}
	if len(from) > 0 {
		in.ConditionExpression = aws.String("#status = :from")
		in.ExpressionAttributeNames = map[string]string{"#status": "status"}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":from": str(from[0])}
	}
	_, err = s.Client.PutItem(ctx, in)
	if isConditionFailed(err) {
		return activation.ErrItemChanged
	}
	return err
}

func (s Activations) query(ctx context.Context, pk, prefix string, each func(map[string]types.AttributeValue) error) error {
	return s.queryAll(ctx, &dynamodb.QueryInput{TableName: s.table(), KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":prefix": str(prefix)}}, each)
}

// batchSK is one batch's record: its task token and how many of its accounts are still awaited.
func batchSK(index int) string { return fmt.Sprintf("BATCH#%05d", index) }

// PutBatch records the batch's task token, and its count of awaited accounts unless a previous attempt of the same
// task recorded it already (a retry must not reset what callbacks have counted down).
func (s Activations) PutBatch(ctx context.Context, tenantID, id string, index int, token string, pending int) error {
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: s.table(), Key: key(activationPK(tenantID, id), batchSK(index)),
		UpdateExpression:          aws.String("SET taskToken = :t, pending = if_not_exists(pending, :n), itemType = :type"),
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR attribute_exists(pending)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": str(token), ":n": num(strconv.Itoa(pending)), ":type": str("activationBatch")}})
	return err
}

// CountDown takes n awaited accounts off the batch and returns how many remain, with the batch's task token.
func (s Activations) CountDown(ctx context.Context, tenantID, id string, index, n int) (int, string, error) {
	out, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: s.table(), Key: key(activationPK(tenantID, id), batchSK(index)),
		UpdateExpression: aws.String("ADD pending :minus"), ConditionExpression: aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":minus": num(strconv.Itoa(-n))},
		ReturnValues:              types.ReturnValueAllNew})
	if err != nil {
		return 0, "", err
	}
	var b struct {
		Pending   int    `dynamodbav:"pending"`
		TaskToken string `dynamodbav:"taskToken"`
	}
	err = attributevalue.UnmarshalMap(out.Attributes, &b)
	return b.Pending, b.TaskToken, err
}

// SettleItem moves an account's item from status from to its outcome, keeping what the item recorded before.
func (s Activations) SettleItem(ctx context.Context, tenantID, id, accountID, status, reason string, at time.Time, from string) error {
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: s.table(), Key: key(activationPK(tenantID, id), accountSK(accountID)),
		UpdateExpression:          aws.String("SET #status = :s, reason = :r, finishedAt = :at"),
		ConditionExpression:       aws.String("#status = :from"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": str(status), ":r": str(reason), ":at": str(at.UTC().Format(time.RFC3339Nano)), ":from": str(from)}})
	if isConditionFailed(err) {
		return activation.ErrItemChanged
	}
	return err
}
