package store

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gangplank/gangplank/pkg/accounts"
)

// integrationNameItem reserves an integration name in a tenant, as nameItem reserves an account name: written and
// removed in the same transaction as the account that holds the name, so two accounts can never share a handle.
type integrationNameItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	ItemType  string `dynamodbav:"itemType"`
	AccountID string `dynamodbav:"accountId"`
	Name      string `dynamodbav:"integrationName"`
}

// integrationReservations returns the transaction items that move a's integration name reservation from before's
// name to after's (nil for either side means no name): a conditional put of the new one and a delete of the old
// one conditioned on this account holding it. newAt is the index of the put within the returned items, or -1.
func (s Accounts) integrationReservations(tenantID, accountID, before, after string) (items []types.TransactWriteItem, newAt int, err error) {
	newAt = -1
	if accounts.IntegrationNameKey(before) == accounts.IntegrationNameKey(after) {
		if before == after || after == "" {
			return nil, -1, nil
		}
		// Same handle, new spelling: keep the reservation, record the display form.
		return []types.TransactWriteItem{{Update: &types.Update{
			TableName: s.table(), Key: key(tenantPK(tenantID), integrationSK(after)),
			UpdateExpression:          aws.String("SET integrationName = :name"),
			ConditionExpression:       aws.String("accountId = :id"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":name": str(after), ":id": str(accountID)},
		}}}, -1, nil
	}
	if before != "" {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{
			TableName: s.table(), Key: key(tenantPK(tenantID), integrationSK(before)),
			ConditionExpression:       aws.String("accountId = :id"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(accountID)},
		}})
	}
	if after != "" {
		put, err := s.putNew(integrationNameItem{PK: tenantPK(tenantID), SK: integrationSK(after), ItemType: itemIntegrationName,
			AccountID: accountID, Name: after})
		if err != nil {
			return nil, -1, err
		}
		newAt = len(items)
		items = append(items, put)
	}
	return items, newAt, nil
}

// offset shifts an index within appended items to its index in the whole transaction; -1 (none) stays -1.
func offset(i, by int) int {
	if i < 0 {
		return -1
	}
	return i + by
}
