package store

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gangplank/gangplank/pkg/discovery"
)

// Organizations stores each management account's OU tree (one item; 5,000 OUs fit in DynamoDB's 400 KB).
type Organizations struct{ DB }

type orgItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	ItemType string `dynamodbav:"itemType"`
	Version  int64  `dynamodbav:"version"`
	discovery.Snapshot
}

// Get returns the stored tree (ok false if discovery never ran).
func (s Organizations) Get(ctx context.Context, tenantID, managementID string) (discovery.Snapshot, int64, bool, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Tables.Accounts()), Key: key(tenantPK(tenantID), orgSK(managementID))})
	if err != nil || out.Item == nil {
		return discovery.Snapshot{}, 0, false, err
	}
	var it orgItem
	err = attributevalue.UnmarshalMap(out.Item, &it)
	return it.Snapshot, it.Version, true, err
}

// Put replaces the tree, conditioned on the version read (its absence for the first).
func (s Organizations) Put(ctx context.Context, tenantID, managementID string, snap discovery.Snapshot, readVersion int64) error {
	item, err := attributevalue.MarshalMap(orgItem{PK: tenantPK(tenantID), SK: orgSK(managementID), ItemType: itemOrganization,
		Version: readVersion + 1, Snapshot: snap})
	if err != nil {
		return err
	}
	in := &dynamodb.PutItemInput{TableName: aws.String(s.Tables.Accounts()), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if readVersion > 0 {
		in.ConditionExpression = aws.String("version = :expected")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":expected": num(strconv.FormatInt(readVersion, 10))}
	}
	_, err = s.Client.PutItem(ctx, in)
	if isConditionFailed(err) {
		return discovery.ErrConcurrentRun
	}
	return err
}
