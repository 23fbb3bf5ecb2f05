package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/costsync"
	"github.com/gangplank/gangplank/pkg/tables"
)

// Costs stores the cost sync's data: per payer a sync status pointing at the current generation of
// recommendations, the generations themselves, EDP commitments, and the per-tenant rate limit of on-demand syncs.
type Costs struct{ DB }

func (s Costs) table() *string { return aws.String(s.Tables.Costs()) }

type syncItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	ItemType string `dynamodbav:"itemType"`
	costsync.SyncStatus
}

type recommendationItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	ItemType string `dynamodbav:"itemType"`
	costsync.Recommendation
}

// Status returns a payer's sync status (never_synced if it has none).
func (s Costs) Status(ctx context.Context, tenantID, payerID string) (costsync.SyncStatus, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table(), Key: key(tenantPK(tenantID), syncSK(payerID)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return costsync.SyncStatus{}, err
	}
	if out.Item == nil {
		return costsync.SyncStatus{PayerAccountID: payerID, Status: costsync.StatusNeverSynced}, nil
	}
	var it syncItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return costsync.SyncStatus{}, err
	}
	return it.SyncStatus, nil
}

// Statuses returns every payer's sync status in the tenant (one Query a page).
func (s Costs) Statuses(ctx context.Context, tenantID string) ([]costsync.SyncStatus, error) {
	var out []costsync.SyncStatus
	in := &dynamodb.QueryInput{TableName: s.table(), KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(tenantPK(tenantID)), ":prefix": str(syncPrefix)}}
	err := s.queryAll(ctx, in, func(item map[string]types.AttributeValue) error {
		var it syncItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return err
		}
		out = append(out, it.SyncStatus)
		return nil
	})
	return out, err
}

// ErrStatusChanged: another sync of the same payer finished first.
var ErrStatusChanged = errors.New("the payer's sync status changed concurrently")

// SaveStatus writes after over before, conditioned on before's version (a first status on its absence).
func (s Costs) SaveStatus(ctx context.Context, tenantID string, before, after costsync.SyncStatus) error {
	after.Version = before.Version + 1
	item, err := attributevalue.MarshalMap(syncItem{PK: tenantPK(tenantID), SK: syncSK(after.PayerAccountID), ItemType: itemSyncStatus, SyncStatus: after})
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
		return ErrStatusChanged
	}
	return err
}

// WriteGeneration writes a generation's recommendations into the generation's own partition, 25 to a request.
// These puts are the one unconditional write in Gangplank: the partition is new (a random generation id) and
// invisible until SaveStatus points at it, which is conditional, so nothing can be overwritten or half-read.
func (s Costs) WriteGeneration(ctx context.Context, tenantID, payerID, generation string, recs []costsync.Recommendation) error {
	var requests []types.WriteRequest
	for _, r := range recs {
		item, err := attributevalue.MarshalMap(recommendationItem{PK: generationPK(tenantID, payerID, generation),
			SK: recommendationSK(r.AccountID, r.ID), ItemType: itemRecommendation, Recommendation: r})
		if err != nil {
			return err
		}
		requests = append(requests, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	return s.batch(ctx, requests)
}

// DeleteGeneration removes a generation nobody points at any more.
func (s Costs) DeleteGeneration(ctx context.Context, tenantID, payerID, generation string) error {
	recs, err := s.Generation(ctx, tenantID, payerID, generation, "")
	if err != nil {
		return err
	}
	var requests []types.WriteRequest
	for _, r := range recs {
		requests = append(requests, types.WriteRequest{DeleteRequest: &types.DeleteRequest{
			Key: key(generationPK(tenantID, payerID, generation), recommendationSK(r.AccountID, r.ID))}})
	}
	return s.batch(ctx, requests)
}

func (s Costs) batch(ctx context.Context, requests []types.WriteRequest) error {
	return s.batchTo(ctx, s.Tables.Costs(), requests)
}

// batchTo writes requests to table 25 at a time, resending what DynamoDB leaves unprocessed.
func (s Costs) batchTo(ctx context.Context, table string, requests []types.WriteRequest) error {
	return s.batchWrite(ctx, table, requests)
}

// Generation reads a generation's recommendations, all of them or one account's (one Query a page).
func (s Costs) Generation(ctx context.Context, tenantID, payerID, generation, accountID string) ([]costsync.Recommendation, error) {
	if generation == "" {
		return nil, nil
	}
	prefix := accountPrefix
	if accountID != "" {
		prefix = accountSK(accountID) + "#"
	}
	in := &dynamodb.QueryInput{TableName: s.table(), KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(generationPK(tenantID, payerID, generation)), ":prefix": str(prefix)}}
	var out []costsync.Recommendation
	err := s.queryAll(ctx, in, func(item map[string]types.AttributeValue) error {
		var it recommendationItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return err
		}
		out = append(out, it.Recommendation)
		return nil
	})
	return out, err
}

type commitmentItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	ItemType string `dynamodbav:"itemType"`
	Version  int64  `dynamodbav:"version"`
	costsync.Commitment
}

// Commitment returns the payer's EDP commitment, if any.
func (s Costs) Commitment(ctx context.Context, tenantID, payerID string) (costsync.Commitment, int64, bool, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table(), Key: key(tenantPK(tenantID), commitmentSK(payerID)), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return costsync.Commitment{}, 0, false, err
	}
	var it commitmentItem
	err = attributevalue.UnmarshalMap(out.Item, &it)
	return it.Commitment, it.Version, true, err
}

// PutCommitment records a commitment (conditioned on the version read) with its audit entry, in one transaction.
func (s Costs) PutCommitment(ctx context.Context, tenantID string, c costsync.Commitment, readVersion int64, entry audit.Entry) error {
	item, err := attributevalue.MarshalMap(commitmentItem{PK: tenantPK(tenantID), SK: commitmentSK(c.PayerAccountID), ItemType: itemCommitment,
		Version: readVersion + 1, Commitment: c})
	if err != nil {
		return err
	}
	put := &types.Put{TableName: s.table(), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if readVersion > 0 {
		put.ConditionExpression = aws.String("version = :expected")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":expected": num(strconv.FormatInt(readVersion, 10))}
	}
	log, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{{Put: put}, log})
	var c2 *cancelledError
	if errors.As(err, &c2) && (c2.failed(0) || c2.conflicted(0)) {
		return costsync.ErrCommitmentChanged
	}
	return err
}

// DeleteCommitment removes a commitment (conditioned on the version read) with its audit entry, in one transaction.
func (s Costs) DeleteCommitment(ctx context.Context, tenantID, payerID string, readVersion int64, entry audit.Entry) error {
	log, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	del := &types.Delete{TableName: s.table(), Key: key(tenantPK(tenantID), commitmentSK(payerID)),
		ConditionExpression:       aws.String("version = :expected"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":expected": num(strconv.FormatInt(readVersion, 10))}}
	err = s.transact(ctx, []types.TransactWriteItem{{Delete: del}, log})
	var c *cancelledError
	if errors.As(err, &c) && (c.failed(0) || c.conflicted(0)) {
		return costsync.ErrCommitmentChanged
	}
	return err
}

// AcquireManualSync takes the tenant's on-demand sync slot if the last one is older than interval, in one
// conditional update; otherwise it says how long to wait.
func (s Costs) AcquireManualSync(ctx context.Context, tenantID string, now time.Time, interval time.Duration) (time.Duration, error) {
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: s.table(), Key: key(tenantPK(tenantID), rateLimitSK),
		UpdateExpression:    aws.String("SET lastAt = :now, itemType = :type"),
		ConditionExpression: aws.String("attribute_not_exists(lastAt) OR lastAt <= :cutoff"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(strconv.FormatInt(now.UnixMilli(), 10)),
			":cutoff": num(strconv.FormatInt(now.Add(-interval).UnixMilli(), 10)), ":type": str(itemRateLimit)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		last := int64(0)
		if v, ok := failed.Item["lastAt"].(*types.AttributeValueMemberN); ok {
			last, _ = strconv.ParseInt(v.Value, 10, 64)
		}
		return time.UnixMilli(last).Add(interval).Sub(now), nil
	}
	return 0, err
}

// CostSyncPayers lists every payer with cost sync on, across tenants, from the sparse byCostSync index.
func (s Accounts) CostSyncPayers(ctx context.Context) ([]costsync.PayerRef, error) {
	return s.sparse(ctx, tables.AccountsByCostSync, tables.GSI4PK, costSyncPK)
}

// sparse lists the accounts in a sparse index's one partition (keys only), one Query a page.
func (s Accounts) sparse(ctx context.Context, index, pkAttr, pk string) ([]costsync.PayerRef, error) {
	in := &dynamodb.QueryInput{TableName: aws.String(s.Tables.Accounts()), IndexName: aws.String(index),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": pkAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)}}
	var out []costsync.PayerRef
	err := s.queryAll(ctx, in, func(item map[string]types.AttributeValue) error {
		pk, _ := item[tables.PK].(*types.AttributeValueMemberS)
		sk, _ := item[tables.SK].(*types.AttributeValueMemberS)
		if pk != nil && sk != nil {
			out = append(out, costsync.PayerRef{TenantID: strings.TrimPrefix(pk.Value, tenantPrefix), AccountID: strings.TrimPrefix(sk.Value, accountPrefix)})
		}
		return nil
	})
	return out, err
}
