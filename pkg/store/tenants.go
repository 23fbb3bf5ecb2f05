package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/tables"
	"github.com/gangplank/gangplank/pkg/tenants"
)

type tenantItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	ItemType string `dynamodbav:"itemType"`
	// GSI1PK/GSI1SK place the tenant in the sparse byRotation index while its External ID schedule has work pending.
	GSI1PK string `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK string `dynamodbav:"gsi1sk,omitempty"`
	tenants.Tenant
}

func newTenantItem(t tenants.Tenant) tenantItem {
	it := tenantItem{PK: tenantPK(t.TenantID), SK: profileSK, ItemType: itemTenant, Tenant: t}
	if at := t.NextRotationCheck(); at != nil {
		it.GSI1PK, it.GSI1SK = rotationPK, rotationSK(*at, t.TenantID)
	}
	return it
}

// RotationsDue lists the tenants whose External ID schedule needs attention at or before now, from the sparse
// byRotation index: one Query a page, whatever the number of tenants without a schedule.
func (s Tenants) RotationsDue(ctx context.Context, now time.Time) ([]string, error) {
	in := &dynamodb.QueryInput{TableName: aws.String(s.Tables.Tenants()), IndexName: aws.String(tables.TenantsByRotation),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk <= :bound"),
		ExpressionAttributeNames: map[string]string{"#pk": tables.GSI1PK, "#sk": tables.GSI1SK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(rotationPK),
			":bound": str(rotationSK(now, "") + "~")}} // "~" sorts after every tenant ID character
	var ids []string
	err := s.queryAll(ctx, in, func(item map[string]types.AttributeValue) error {
		if pk, ok := item[tables.PK].(*types.AttributeValueMemberS); ok {
			ids = append(ids, strings.TrimPrefix(pk.Value, tenantPrefix))
		}
		return nil
	})
	return ids, err
}

// Tenants stores tenant profiles: one item per tenant, read and written by key.
type Tenants struct{ DB }

var _ tenants.Store = Tenants{}

// Get reads a tenant profile with a strongly consistent read: a tenant created a moment ago must be seen.
func (s Tenants) Get(ctx context.Context, tenantID string) (tenants.Tenant, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Tables.Tenants()),
		Key:            key(tenantPK(tenantID), profileSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return tenants.Tenant{}, err
	}
	if out.Item == nil {
		return tenants.Tenant{}, tenants.ErrNotFound
	}
	var it tenantItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return tenants.Tenant{}, fmt.Errorf("unmarshal tenant: %w", err)
	}
	return it.Tenant, nil
}

func (s Tenants) put(t tenants.Tenant, condition string, values map[string]types.AttributeValue) (types.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(newTenantItem(t))
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("marshal tenant: %w", err)
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName:                 aws.String(s.Tables.Tenants()),
		Item:                      item,
		ConditionExpression:       aws.String(condition),
		ExpressionAttributeValues: values,
	}}, nil
}

// Create writes a new tenant and its audit entry, or fails with tenants.ErrExists.
func (s Tenants) Create(ctx context.Context, t tenants.Tenant, entry audit.Entry) error {
	return s.write(ctx, t, entry, "attribute_not_exists(pk)", nil, tenants.ErrExists)
}

// Replace overwrites a tenant if its stored version is still before's, or fails with tenants.ErrVersionMismatch.
func (s Tenants) Replace(ctx context.Context, before, after tenants.Tenant, entry audit.Entry) error {
	return s.write(ctx, after, entry, "version = :v",
		map[string]types.AttributeValue{":v": num(strconv.FormatInt(before.Version, 10))}, tenants.ErrVersionMismatch)
}

func (s Tenants) write(ctx context.Context, t tenants.Tenant, entry audit.Entry, condition string,
	values map[string]types.AttributeValue, onConflict error) error {
	put, err := s.put(t, condition, values)
	if err != nil {
		return err
	}
	log, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{put, log})
	if c, ok := err.(*cancelledError); ok && (c.failed(0) || c.conflicted(0)) {
		return onConflict
	}
	return err
}
