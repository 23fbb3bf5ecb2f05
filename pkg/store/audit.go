package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/tables"
)

// auditItem is an audit entry as stored: in the tenant's partition of the tenants table, newest last by key.
type auditItem struct {
	PK        string      `dynamodbav:"pk"`
	SK        string      `dynamodbav:"sk"`
	ItemType  string      `dynamodbav:"itemType"`
	ID        string      `dynamodbav:"id"`
	At        time.Time   `dynamodbav:"at"`
	Actor     audit.Actor `dynamodbav:"actor"`
	Action    string      `dynamodbav:"action"`
	Target    string      `dynamodbav:"target"`
	Changes   string      `dynamodbav:"changes"` // JSON, so values keep the exact form the API showed.
	RequestID string      `dynamodbav:"requestId,omitempty"`
}

// auditPut is the transaction item that records e. It must never overwrite: two entries with the same key would
// mean a lost record.
func (db DB) auditPut(e audit.Entry) (types.TransactWriteItem, error) {
	changes, err := json.Marshal(e.Changes)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	item, err := attributevalue.MarshalMap(auditItem{
		PK: tenantPK(e.TenantID), SK: auditSK(e.At, e.ID), ItemType: itemAudit,
		ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target, Changes: string(changes), RequestID: e.RequestID,
	})
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("marshal audit entry: %w", err)
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName:           aws.String(db.Tables.Tenants()),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}, nil
}

// AuditLog reads a tenant's audit trail.
type AuditLog struct{ DB }

// List returns up to limit entries, newest first, from one Query.
func (l AuditLog) List(ctx context.Context, tenantID string, limit int, cur string) (audit.Page, error) {
	scope := "audit:" + tenantID
	start, err := l.Cursors.Decode(scope, cur)
	if err != nil {
		return audit.Page{}, err
	}
	items, next, err := l.queryPage(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(l.Tables.Tenants()),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :audit)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(tenantPK(tenantID)), ":audit": str(auditPrefix)},
		ScanIndexForward:          aws.Bool(false),
		ExclusiveStartKey:         start,
	}, limit, tables.PK, tables.SK)
	if err != nil {
		return audit.Page{}, err
	}
	page := audit.Page{Items: make([]audit.Entry, 0, len(items))}
	for _, raw := range items {
		var it auditItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return audit.Page{}, fmt.Errorf("unmarshal audit entry: %w", err)
		}
		e := audit.Entry{TenantID: tenantID, ID: it.ID, At: it.At, Actor: it.Actor, Action: it.Action,
			Target: it.Target, RequestID: it.RequestID}
		if err := json.Unmarshal([]byte(it.Changes), &e.Changes); err != nil {
			return audit.Page{}, fmt.Errorf("unmarshal audit changes: %w", err)
		}
		if e.Changes == nil {
			e.Changes = []audit.Change{}
		}
		page.Items = append(page.Items, e)
	}
	page.NextCursor, err = l.Cursors.Encode(scope, next)
	return page, err
}
