package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gangplank/gangplank/pkg/cursor"
	"github.com/gangplank/gangplank/pkg/tables"
)

// DynamoDB is the part of the DynamoDB API the store uses.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

var _ DynamoDB = (*dynamodb.Client)(nil)

// DB bundles what every access type needs: the client, the table names and the cursor signer.
type DB struct {
	Client  DynamoDB
	Tables  tables.Names
	Cursors *cursor.Signer
}

// transactionConflictRetries is how often a transaction is retried when it lost only to a concurrent transaction
// on the same items (DynamoDB's TransactionConflict), which says nothing about whether our conditions hold.
const transactionConflictRetries = 3

// transact runs a write transaction. On cancellation it returns a *cancelledError with each item's reason code,
// in the order the items were given; conflicts with concurrent transactions are retried first.
func (db DB) transact(ctx context.Context, items []types.TransactWriteItem) error {
	var err error
	for attempt := 0; attempt <= transactionConflictRetries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 20 * time.Millisecond):
			}
		}
		_, err = db.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return err
		}
		c := &cancelledError{cause: err}
		for _, r := range tce.CancellationReasons {
			c.codes = append(c.codes, aws.ToString(r.Code))
		}
		if !c.onlyConflicts() {
			return c
		}
		err = c
	}
	return err
}

// cancelledError is a cancelled transaction with the reason code of each item.
type cancelledError struct {
	codes []string
	cause error
}

func (e *cancelledError) Error() string { return e.cause.Error() }
func (e *cancelledError) Unwrap() error { return e.cause }

// failed reports whether item i failed its condition.
func (e *cancelledError) failed(i int) bool {
	return i < len(e.codes) && e.codes[i] == "ConditionalCheckFailed"
}

// failedIn reports whether any item in [from, to) failed its condition.
func (e *cancelledError) failedIn(from, to int) bool {
	for i := from; i < to; i++ {
		if e.failed(i) {
			return true
		}
	}
	return false
}

// conflicted reports whether item i lost to a concurrent transaction.
func (e *cancelledError) conflicted(i int) bool {
	return i < len(e.codes) && e.codes[i] == "TransactionConflict"
}

func (e *cancelledError) onlyConflicts() bool {
	seen := false
	for _, c := range e.codes {
		switch c {
		case "TransactionConflict":
			seen = true
		case "None", "":
		default:
			return false
		}
	}
	return seen
}

// isConditionFailed reports whether a single-item write failed its condition.
func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

func str(v string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: v} }

func num(v string) *types.AttributeValueMemberN { return &types.AttributeValueMemberN{Value: v} }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{tables.PK: str(pk), tables.SK: str(sk)}
}

// queryPage runs a Query for one page of limit items. It asks for one item more than the page holds, so that the
// page after the last one is never an empty page: a cursor is returned only when an item follows. The cursor's key
// is built from the page's last item, with the attributes that key the table (and the index, if any).
func (db DB) queryPage(ctx context.Context, in *dynamodb.QueryInput, limit int, keyAttrs ...string) ([]map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
	in.Limit = aws.Int32(int32(limit + 1))
	out, err := db.Client.Query(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	if len(out.Items) <= limit {
		return out.Items, nil, nil
	}
	items := out.Items[:limit]
	last := items[limit-1]
	next := make(map[string]types.AttributeValue, len(keyAttrs))
	for _, a := range keyAttrs {
		if v, ok := last[a]; ok {
			next[a] = v
		}
	}
	return items, next, nil
}

// batchWrite writes requests to table 25 at a time (BatchWriteItem's limit), resending what DynamoDB leaves
// unprocessed with backoff.
func (db DB) batchWrite(ctx context.Context, table string, requests []types.WriteRequest) error {
	for len(requests) > 0 {
		n := min(25, len(requests))
		pending := requests[:n]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 8 {
				return fmt.Errorf("DynamoDB left %d writes unprocessed", len(pending))
			}
			if attempt > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Duration(1<<attempt) * 10 * time.Millisecond):
				}
			}
			out, err := db.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: pending}})
			if err != nil {
				return err
			}
			pending = out.UnprocessedItems[table]
		}
		requests = requests[n:]
	}
	return nil
}

// batchGet reads keys from table 100 at a time (BatchGetItem's limit), retrying unprocessed keys, handing each item
// to each.
func (db DB) batchGet(ctx context.Context, table string, keys []map[string]types.AttributeValue, consistent bool, projection *string,
	names map[string]string, each func(map[string]types.AttributeValue) error) error {
	for len(keys) > 0 {
		n := min(100, len(keys))
		pending := keys[:n]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 8 {
				return fmt.Errorf("DynamoDB left %d reads unprocessed", len(pending))
			}
			if attempt > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Duration(1<<attempt) * 10 * time.Millisecond):
				}
			}
			ka := types.KeysAndAttributes{Keys: pending, ConsistentRead: aws.Bool(consistent), ProjectionExpression: projection}
			if len(names) > 0 {
				ka.ExpressionAttributeNames = names
			}
			out, err := db.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: ka}})
			if err != nil {
				return err
			}
			for _, item := range out.Responses[table] {
				if err := each(item); err != nil {
					return err
				}
			}
			pending = nil
			if u, ok := out.UnprocessedKeys[table]; ok {
				pending = u.Keys
			}
		}
		keys = keys[n:]
	}
	return nil
}

// queryAll runs a Query to its last page, handing each item to each: for the few listings that are read whole
// (a payer's recommendations, an activation's accounts, a sparse index's payers).
func (db DB) queryAll(ctx context.Context, in *dynamodb.QueryInput, each func(map[string]types.AttributeValue) error) error {
	for {
		page, err := db.Client.Query(ctx, in)
		if err != nil {
			return err
		}
		for _, item := range page.Items {
			if err := each(item); err != nil {
				return err
			}
		}
		if page.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
