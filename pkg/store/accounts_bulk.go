package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
)

// createBatch is how many accounts one CreateMany transaction writes: four items each (the account, its claim,
// its name and its audit entry) and one linked-count update per management account, within DynamoDB's 100 items.
const createBatch = 24

// CreateMany writes accounts as Create does (claim, name, linked count and audit entry with each), many to a
// transaction. When a transaction is cancelled, the accounts whose own conditions failed get Create's errors and the
// others are written again without them, so one taken name costs its batch one more transaction, not a transaction
// per account. Accounts with integration settings are written one by one (their reservations are Create's).
func (s Accounts) CreateMany(ctx context.Context, as []accounts.Account, entries []audit.Entry) []error {
	errs := make([]error, len(as))
	pending := make([]int, 0, len(as))
	for i, a := range as {
		if a.Integration.Name != "" {
			errs[i] = s.Create(ctx, a, entries[i])
			continue
		}
		pending = append(pending, i)
	}
	for len(pending) > 0 {
		batch, rest := s.batchOf(as, pending)
		retry, err := s.createBatch(ctx, as, entries, batch, errs)
		if err != nil {
			for _, i := range batch {
				errs[i] = err
			}
		}
		pending = append(retry, rest...)
	}
	return errs
}

// batchOf takes up to createBatch accounts from pending whose names differ (a transaction may name each item once;
// a repeated name waits for the next batch, where it fails as a taken name).
func (s Accounts) batchOf(as []accounts.Account, pending []int) (batch, rest []int) {
	names := map[string]bool{}
	for _, i := range pending {
		k := accounts.NameKey(as[i].Name)
		if len(batch) == createBatch || names[k] {
			rest = append(rest, i)
			continue
		}
		names[k] = true
		batch = append(batch, i)
	}
	return batch, rest
}

// createBatch writes one batch; it records the errors of accounts whose conditions failed and returns the others of
// a cancelled batch, to be written again.
func (s Accounts) createBatch(ctx context.Context, as []accounts.Account, entries []audit.Entry, batch []int, errs []error) ([]int, error) {
	var items []types.TransactWriteItem
	first := map[int]int{} // account index → position of its first item
	linked := map[string]int{}
	var managements []string
	for _, i := range batch {
		a := as[i]
		first[i] = len(items)
		for _, v := range []any{
			newAccountItem(a),
			claimItem{PK: claimPK(a.AccountID), SK: claimSK, ItemType: itemClaim, TenantID: a.TenantID, AccountID: a.AccountID, ClaimedAt: a.CreatedAt,
				Awaiting: a.StackWait()},
			s.nameItem(a),
		} {
			put, err := s.putNew(v)
			if err != nil {
				return nil, err
			}
			items = append(items, put)
		}
		log, err := s.auditPut(entries[i])
		if err != nil {
			return nil, err
		}
		items = append(items, log)
		if m := a.ManagementAccountID; m != "" {
			if linked[m] == 0 {
				managements = append(managements, m)
			}
			linked[m]++
		}
	}
	managementAt := len(items)
	for _, m := range managements {
		items = append(items, s.adjustLinked(as[batch[0]].TenantID, m, linked[m]))
	}
	err := s.transact(ctx, items)
	var c *cancelledError
	if !errors.As(err, &c) {
		return nil, err
	}
	if c.failedIn(managementAt, len(items)) {
		return nil, accounts.ErrManagementMissing
	}
	var retry []int
	for _, i := range batch {
		const accountAt, claimAt, nameAt = 0, 1, 2
		switch at := first[i]; {
		case c.failed(at + accountAt):
			errs[i] = accounts.ErrAlreadyLinked
		case c.failed(at + claimAt):
			errs[i] = accounts.ErrClaimedElsewhere
		case c.failed(at + nameAt):
			errs[i] = accounts.ErrNameTaken
		default:
			retry = append(retry, i)
		}
	}
	if len(retry) == len(batch) {
		return nil, err // cancelled for none of its accounts' conditions: not something another try fixes
	}
	return retry, nil
}

// SetMembership writes an account's organization membership and its audit entry, if the account is still at
// version (the one a listing returned): one small update, without reading the account again.
func (s Accounts) SetMembership(ctx context.Context, tenantID, accountID string, version int64, m accounts.Membership, at time.Time, entry audit.Entry) error {
	membership, err := attributevalue.Marshal(m)
	if err != nil {
		return err
	}
	log, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	update := types.TransactWriteItem{Update: &types.Update{
		TableName: s.table(), Key: key(tenantPK(tenantID), accountSK(accountID)),
		UpdateExpression:         aws.String("SET #organization = :organization, #version = :next, #updatedAt = :at"),
		ConditionExpression:      aws.String("#version = :expected"),
		ExpressionAttributeNames: map[string]string{"#organization": "organization", "#version": "version", "#updatedAt": "updatedAt"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":organization": membership, ":at": str(at.UTC().Format(time.RFC3339Nano)),
			":expected": num(strconv.FormatInt(version, 10)), ":next": num(strconv.FormatInt(version+1, 10))},
	}}
	err = s.transact(ctx, []types.TransactWriteItem{update, log})
	var c *cancelledError
	if errors.As(err, &c) && (c.failed(0) || c.conflicted(0)) {
		return accounts.ErrVersionMismatch
	}
	return err
}
