package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/tables"
)

// accountItem is an account as stored, with the keys of the table and of each index it appears in.
type accountItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	ItemType string `dynamodbav:"itemType"`
	GSI1PK   string `dynamodbav:"gsi1pk"`
	GSI1SK   string `dynamodbav:"gsi1sk"`
	GSI2PK   string `dynamodbav:"gsi2pk,omitempty"`
	GSI2SK   string `dynamodbav:"gsi2sk,omitempty"`
	GSI3PK   string `dynamodbav:"gsi3pk"`
	GSI3SK   string `dynamodbav:"gsi3sk"`
	GSI4PK   string `dynamodbav:"gsi4pk,omitempty"`
	GSI4SK   string `dynamodbav:"gsi4sk,omitempty"`
	GSI5PK   string `dynamodbav:"gsi5pk,omitempty"`
	GSI5SK   string `dynamodbav:"gsi5sk,omitempty"`
	// LinkedCount, on management accounts only, counts the linked accounts that name it. Creating or deleting a
	// linked account adjusts it in the same transaction, so a management account can be deleted exactly when it
	// reaches zero, with no window for a linked account to appear in between.
	LinkedCount *int64 `dynamodbav:"linkedCount,omitempty"`
	accounts.Account
}

// counterAttributes are maintained by their own updates and never overwritten by a Replace.
var counterAttributes = []string{"linkedCount"}

// keyAttributes never change after creation.
var keyAttributes = []string{tables.PK, tables.SK}

func newAccountItem(a accounts.Account) accountItem {
	it := accountItem{
		PK: tenantPK(a.TenantID), SK: accountSK(a.AccountID), ItemType: itemAccount,
		GSI1PK: statusPK(a.TenantID, a.Status), GSI1SK: statusSK(a.Type, a.AccountID),
		GSI3PK: typePK(a.TenantID, a.Type), GSI3SK: accountSK(a.AccountID),
		Account: a,
	}
	if a.ManagementAccountID != "" {
		it.GSI2PK, it.GSI2SK = managementPK(a.TenantID, a.ManagementAccountID), managementSK(a.Status, a.AccountID)
	}
	if a.Type == accounts.Management {
		it.LinkedCount = new(int64)
	}
	if costSyncPayer(a) {
		it.GSI4PK, it.GSI4SK = costSyncPK, costSyncSK(a.TenantID, a.AccountID)
	}
	if a.Type == accounts.Management && a.Status == accounts.Active {
		it.GSI5PK, it.GSI5SK = activeManagementPK, costSyncSK(a.TenantID, a.AccountID)
	}
	return it
}

type nameItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	ItemType  string `dynamodbav:"itemType"`
	AccountID string `dynamodbav:"accountId"`
	Name      string `dynamodbav:"name"`
}

type claimItem struct {
	PK        string    `dynamodbav:"pk"`
	SK        string    `dynamodbav:"sk"`
	ItemType  string    `dynamodbav:"itemType"`
	TenantID  string    `dynamodbav:"tenantId"`
	AccountID string    `dynamodbav:"accountId"`
	ClaimedAt time.Time `dynamodbav:"claimedAt"`
	// Awaiting mirrors the account's StackWait, written in the same transaction as every change of it, so a stack
	// notification (which names only the stack) is judged with this one read.
	Awaiting accounts.StackWait `dynamodbav:"awaiting"`
}

// claimAwaitingAttr is claimItem.Awaiting's attribute.
const claimAwaitingAttr = "awaiting"

// Accounts stores accounts with their name reservations and global claims.
type Accounts struct{ DB }

var _ accounts.Store = Accounts{}

func (s Accounts) table() *string { return aws.String(s.Tables.Accounts()) }

func (s Accounts) putNew(v any) (types.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("marshal %T: %w", v, err)
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: s.table(), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}, nil
}

func (s Accounts) nameItem(a accounts.Account) nameItem {
	return nameItem{PK: tenantPK(a.TenantID), SK: nameSK(a.Name), ItemType: itemName, AccountID: a.AccountID, Name: a.Name}
}

// adjustLinked adds delta to a management account's linked count; the condition keeps the counter on a real
// management account only.
func (s Accounts) adjustLinked(tenantID, managementID string, delta int) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 s.table(),
		Key:                       key(tenantPK(tenantID), accountSK(managementID)),
		UpdateExpression:          aws.String("ADD linkedCount :delta"),
		ConditionExpression:       aws.String("#type = :management"),
		ExpressionAttributeNames:  map[string]string{"#type": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":delta": num(strconv.Itoa(delta)), ":management": str(string(accounts.Management))},
	}}
}

// Create claims the account ID globally, reserves the name in the tenant, and writes the account and its audit
// entry in one transaction.
func (s Accounts) Create(ctx context.Context, a accounts.Account, entry audit.Entry) error {
	var items []types.TransactWriteItem
	for _, v := range []any{
		newAccountItem(a),
		claimItem{PK: claimPK(a.AccountID), SK: claimSK, ItemType: itemClaim, TenantID: a.TenantID, AccountID: a.AccountID, ClaimedAt: a.CreatedAt,
			Awaiting: a.StackWait()},
		s.nameItem(a),
	} {
		put, err := s.putNew(v)
		if err != nil {
			return err
		}
		items = append(items, put)
	}
	const accountAt, claimAt, nameAt, managementAt = 0, 1, 2, 3
	if a.ManagementAccountID != "" {
		items = append(items, s.adjustLinked(a.TenantID, a.ManagementAccountID, 1))
	}
	integration, integrationAt, err := s.integrationReservations(a.TenantID, a.AccountID, "", a.Integration.Name)
	if err != nil {
		return err
	}
	integrationAt = offset(integrationAt, len(items))
	items = append(items, integration...)
	log, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	err = s.transact(ctx, append(items, log))
	var c *cancelledError
	if !errors.As(err, &c) {
		return err
	}
	// Several conditions can fail at once (an account already in this tenant also fails the claim); the most
	// specific explanation wins.
	switch {
	case c.failed(accountAt):
		return accounts.ErrAlreadyLinked
	case c.failed(claimAt):
		return accounts.ErrClaimedElsewhere
	case c.failed(nameAt):
		return accounts.ErrNameTaken
	case a.ManagementAccountID != "" && c.failed(managementAt):
		return accounts.ErrManagementMissing
	case integrationAt >= 0 && c.failed(integrationAt):
		return accounts.ErrIntegrationNameTaken
	}
	return err
}

// Get reads one account with a strongly consistent read, since the caller usually writes next.
func (s Accounts) Get(ctx context.Context, tenantID, accountID string) (accounts.Account, error) {
	it, err := s.get(ctx, tenantID, accountID)
	return it.Account, err
}

func (s Accounts) get(ctx context.Context, tenantID, accountID string) (accountItem, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.table(), Key: key(tenantPK(tenantID), accountSK(accountID)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return accountItem{}, err
	}
	if out.Item == nil {
		return accountItem{}, accounts.ErrNotFound
	}
	var it accountItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return accountItem{}, fmt.Errorf("unmarshal account: %w", err)
	}
	return it, nil
}

// List answers every combination of filters with a single Query on the table or one index, so a page costs one
// request and holds exactly the items asked for (no filter expressions that would thin pages out):
//
//	managementAccountId (+status)  → byManagement, sort key prefix STATUS#<status>#
//	status (+type)                 → byStatus, sort key prefix TYPE#<type>#
//	type                           → byType
//	nothing                        → the tenant's partition, sort key prefix ACCOUNT#
func (s Accounts) List(ctx context.Context, tenantID string, q accounts.ListQuery) (accounts.Page, error) {
	var index, pk, prefix string
	keyNames := map[string]string{}
	keyAttrs := []string{tables.PK, tables.SK}
	switch {
	case q.ManagementAccountID != "":
		if q.Type != "" && q.Type != accounts.Linked {
			// Only linked accounts have a management account.
			return accounts.Page{Items: []accounts.Account{}}, nil
		}
		index, pk = tables.AccountsByManagement, managementPK(tenantID, q.ManagementAccountID)
		keyNames["#pk"], keyNames["#sk"] = tables.GSI2PK, tables.GSI2SK
		keyAttrs = append(keyAttrs, tables.GSI2PK, tables.GSI2SK)
		if q.Status != "" {
			prefix = strings.TrimSuffix(managementSK(q.Status, ""), accountPrefix)
		}
	case q.Status != "":
		index, pk = tables.AccountsByStatus, statusPK(tenantID, q.Status)
		keyNames["#pk"], keyNames["#sk"] = tables.GSI1PK, tables.GSI1SK
		keyAttrs = append(keyAttrs, tables.GSI1PK, tables.GSI1SK)
		if q.Type != "" {
			prefix = strings.TrimSuffix(statusSK(q.Type, ""), accountPrefix)
		}
	case q.Type != "":
		index, pk = tables.AccountsByType, typePK(tenantID, q.Type)
		keyNames["#pk"] = tables.GSI3PK
		keyAttrs = append(keyAttrs, tables.GSI3PK, tables.GSI3SK)
	default:
		pk, prefix = tenantPK(tenantID), accountPrefix
		keyNames["#pk"], keyNames["#sk"] = tables.PK, tables.SK
	}
	scope := strings.Join([]string{"accounts", tenantID, index, pk, prefix}, "|")
	start, err := s.Cursors.Decode(scope, q.Cursor)
	if err != nil {
		return accounts.Page{}, err
	}
	in := &dynamodb.QueryInput{
		TableName:                 s.table(),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  keyNames,
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ExclusiveStartKey:         start,
	}
	if index != "" {
		in.IndexName = aws.String(index)
	}
	if prefix != "" {
		in.KeyConditionExpression = aws.String("#pk = :pk AND begins_with(#sk, :prefix)")
		in.ExpressionAttributeValues[":prefix"] = str(prefix)
	} else {
		delete(keyNames, "#sk")
	}
	items, next, err := s.queryPage(ctx, in, q.Limit, keyAttrs...)
	if err != nil {
		return accounts.Page{}, err
	}
	page := accounts.Page{Items: make([]accounts.Account, 0, len(items))}
	for _, raw := range items {
		var it accountItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return accounts.Page{}, fmt.Errorf("unmarshal account: %w", err)
		}
		page.Items = append(page.Items, it.Account)
	}
	page.NextCursor, err = s.Cursors.Encode(scope, next)
	return page, err
}

// Replace writes after over before if the stored version is still before's. It rewrites only the attributes that
// changed, moves the name reservation when the name changes, and leaves counters alone.
func (s Accounts) Replace(ctx context.Context, before, after accounts.Account, entry audit.Entry) error {
	update, err := s.updateFrom(before, after)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{update}
	const accountAt, oldNameAt, newNameAt = 0, 1, 2
	renamed := accounts.NameKey(before.Name) != accounts.NameKey(after.Name)
	if renamed {
		put, err := s.putNew(s.nameItem(after))
		if err != nil {
			return err
		}
		items = append(items, s.deleteName(before), put)
	} else if before.Name != after.Name {
		// Same key, new spelling ("prod" to "Prod"): keep the reservation, record the display form.
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: s.table(), Key: key(tenantPK(after.TenantID), nameSK(after.Name)),
			UpdateExpression:          aws.String("SET #name = :name"),
			ConditionExpression:       aws.String("accountId = :id"),
			ExpressionAttributeNames:  map[string]string{"#name": "name"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":name": str(after.Name), ":id": str(after.AccountID)},
		}})
	}
	integration, integrationAt, err := s.integrationReservations(after.TenantID, after.AccountID, before.Integration.Name, after.Integration.Name)
	if err != nil {
		return err
	}
	integrationFirst := len(items)
	integrationAt = offset(integrationAt, integrationFirst)
	items = append(items, integration...)
	// A linked account that changes management account (one added first is attached once discovered) moves between
	// the management accounts' linked counts in the same transaction.
	managementAt := -1
	if before.ManagementAccountID != after.ManagementAccountID {
		if before.ManagementAccountID != "" {
			items = append(items, s.adjustLinked(before.TenantID, before.ManagementAccountID, -1))
		}
		if after.ManagementAccountID != "" {
			managementAt = len(items)
			items = append(items, s.adjustLinked(after.TenantID, after.ManagementAccountID, 1))
		}
	}
	claimAt := -1
	if before.StackWait() != after.StackWait() {
		mirror, err := s.mirrorAwaiting(after)
		if err != nil {
			return err
		}
		claimAt = len(items)
		items = append(items, mirror)
	}
	log, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	err = s.transact(ctx, append(items, log))
	var c *cancelledError
	if !errors.As(err, &c) {
		return err
	}
	switch {
	case c.failed(accountAt) || c.conflicted(accountAt) || (claimAt >= 0 && c.conflicted(claimAt)):
		return accounts.ErrVersionMismatch
	case managementAt >= 0 && c.failed(managementAt):
		return accounts.ErrManagementMissing
	case renamed && c.failed(newNameAt):
		return accounts.ErrNameTaken
	case integrationAt >= 0 && c.failed(integrationAt):
		return accounts.ErrIntegrationNameTaken
	case c.failedIn(integrationFirst, integrationFirst+len(integration)):
		// The reservation of the integration name we read is gone: the settings changed in between.
		return accounts.ErrVersionMismatch
	case c.failed(oldNameAt):
		// The reservation of the name we read is gone: someone renamed the account in between.
		return accounts.ErrVersionMismatch
	}
	return err
}

// updateFrom builds a conditional UpdateItem that turns before's stored attributes into after's.
func (s Accounts) updateFrom(before, after accounts.Account) (types.TransactWriteItem, error) {
	oldItem, err := attributevalue.MarshalMap(newAccountItem(before))
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	newItem, err := attributevalue.MarshalMap(newAccountItem(after))
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	names := map[string]string{}
	values := map[string]types.AttributeValue{":expected": num(strconv.FormatInt(before.Version, 10))}
	var set, remove []string
	attrs := make([]string, 0, len(newItem))
	for name := range newItem {
		attrs = append(attrs, name)
	}
	slices.Sort(attrs) // Stable expressions make requests comparable in logs and tests.
	for i, name := range attrs {
		if slices.Contains(keyAttributes, name) || slices.Contains(counterAttributes, name) {
			continue
		}
		n, v := fmt.Sprintf("#a%d", i), fmt.Sprintf(":a%d", i)
		names[n], values[v] = name, newItem[name]
		set = append(set, n+" = "+v)
	}
	for name := range oldItem {
		if _, kept := newItem[name]; !kept && !slices.Contains(counterAttributes, name) {
			n := fmt.Sprintf("#r%d", len(remove))
			names[n] = name
			remove = append(remove, n)
		}
	}
	slices.Sort(remove)
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	names["#version"] = "version"
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 s.table(),
		Key:                       key(tenantPK(before.TenantID), accountSK(before.AccountID)),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("#version = :expected"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}, nil
}

// mirrorAwaiting writes what the account waits for onto its claim (which must still be this tenant's).
func (s Accounts) mirrorAwaiting(a accounts.Account) (types.TransactWriteItem, error) {
	w, err := attributevalue.Marshal(a.StackWait())
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: s.table(), Key: key(claimPK(a.AccountID), claimSK),
		UpdateExpression:          aws.String("SET #awaiting = :w"),
		ConditionExpression:       aws.String("tenantId = :tenant"),
		ExpressionAttributeNames:  map[string]string{"#awaiting": claimAwaitingAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":w": w, ":tenant": str(a.TenantID)},
	}}, nil
}

func (s Accounts) deleteName(a accounts.Account) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName: s.table(), Key: key(tenantPK(a.TenantID), nameSK(a.Name)),
		ConditionExpression:       aws.String("accountId = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(a.AccountID)},
	}}
}

// maxLinkedListed bounds how many linked accounts a refused deletion lists.
const maxLinkedListed = 20

// Delete removes the account, its name reservation and its global claim, releasing the account ID for any tenant.
// A management account goes only when no linked account names it any more.
func (s Accounts) Delete(ctx context.Context, a accounts.Account, entry audit.Entry) error {
	// An account with an IAM integration stays until the integration is removed (it sets identityIntegration in
	// the same transaction as its own record, so no integration can appear between the read and this write).
	condition := "#version = :expected AND attribute_not_exists(identityIntegration)"
	values := map[string]types.AttributeValue{":expected": num(strconv.FormatInt(a.Version, 10))}
	if a.Type == accounts.Management {
		condition += " AND (attribute_not_exists(linkedCount) OR linkedCount = :zero)"
		values[":zero"] = num("0")
	}
	items := []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName: s.table(), Key: key(tenantPK(a.TenantID), accountSK(a.AccountID)),
			ConditionExpression:       aws.String(condition),
			ExpressionAttributeNames:  map[string]string{"#version": "version"},
			ExpressionAttributeValues: values,
		}},
		s.deleteName(a),
		{Delete: &types.Delete{
			TableName: s.table(), Key: key(claimPK(a.AccountID), claimSK),
			ConditionExpression:       aws.String("tenantId = :tenant"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":tenant": str(a.TenantID)},
		}},
	}
	if a.ManagementAccountID != "" {
		items = append(items, s.adjustLinked(a.TenantID, a.ManagementAccountID, -1))
	}
	release, _, err := s.integrationReservations(a.TenantID, a.AccountID, a.Integration.Name, "")
	if err != nil {
		return err
	}
	items = append(items, release...)
	log, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	err = s.transact(ctx, append(items, log))
	var c *cancelledError
	if !errors.As(err, &c) || !(c.failed(0) || c.conflicted(0)) {
		return err
	}
	current, err := s.get(ctx, a.TenantID, a.AccountID)
	switch {
	case errors.Is(err, accounts.ErrNotFound):
		return accounts.ErrNotFound
	case err != nil:
		return err
	case current.IdentityIntegration != "":
		return accounts.ErrHasIdentityIntegration
	case current.Version != a.Version:
		return accounts.ErrVersionMismatch
	case current.LinkedCount != nil && *current.LinkedCount > 0:
		return s.linkedAccountsError(ctx, a, *current.LinkedCount)
	}
	return accounts.ErrVersionMismatch
}

func (s Accounts) linkedAccountsError(ctx context.Context, a accounts.Account, total int64) error {
	page, err := s.List(ctx, a.TenantID, accounts.ListQuery{ManagementAccountID: a.AccountID, Limit: maxLinkedListed})
	if err != nil {
		return err
	}
	e := &accounts.LinkedAccountsError{ManagementAccountID: a.AccountID, Total: total}
	for _, l := range page.Items {
		e.Linked = append(e.Linked, l.AccountID)
	}
	return e
}

// LinkedCount returns how many linked accounts name a management account.
func (s Accounts) LinkedCount(ctx context.Context, tenantID, managementID string) (int64, error) {
	it, err := s.get(ctx, tenantID, managementID)
	if err != nil || it.LinkedCount == nil {
		return 0, err
	}
	return *it.LinkedCount, nil
}

// Claim returns the tenant that holds an AWS account ID and what the account waits for, from its global claim: one
// read.
func (s Accounts) Claim(ctx context.Context, accountID string) (accounts.Claim, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.table(), Key: key(claimPK(accountID), claimSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return accounts.Claim{}, err
	}
	if out.Item == nil {
		return accounts.Claim{}, accounts.ErrNotFound
	}
	var c claimItem
	if err := attributevalue.UnmarshalMap(out.Item, &c); err != nil {
		return accounts.Claim{}, fmt.Errorf("unmarshal claim: %w", err)
	}
	return accounts.Claim{TenantID: c.TenantID, Awaiting: c.Awaiting}, nil
}

// ActiveManagementAccounts lists every active management account, across tenants (the daily discovery's work).
func (s Accounts) ActiveManagementAccounts(ctx context.Context) ([]accounts.Ref, error) {
	return s.sparse(ctx, tables.AccountsByActiveManagement, tables.GSI5PK, activeManagementPK)
}
