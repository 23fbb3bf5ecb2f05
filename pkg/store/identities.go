package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/identity"
	"github.com/gangplank/gangplank/pkg/tables"
)

// Identities stores the IAM integrations (pkg/identity) in the identities table:
//
//	TENANT#<t>              IAM#<account>                      the integration (byIntegration: IAM / TENANT#<t>#ACCOUNT#<a>)
//	TENANT#<t>#IAM#<a>      USER#<name>, GROUP#<name>          what the latest sync read, with a content hash
//	TENANT#<t>              IAMONBOARD#<a>#<user>              an onboarding's progress
//	TENANT#<t>              IAMOFFBOARD#<a>#<user>             an offboarding's progress
//	TENANT#<t>              IAMPERSON#<a>#<user>               the person a user is linked to, and
//	TENANT#<t>              PERSON#<email>#<a>#<user>          the same link, found by person
//	IAMINVITE#<token hash>  INVITATION                         a self-service link (expires: TTL), and
//	TENANT#<t>              IAMINVITEREF#<a>#<id>              its pointer, so removing the integration finds it
//
// The account's own item (accounts table) carries identityIntegration while an integration exists; both change in
// one transaction.
type Identities struct{ DB }

var _ identity.Store = Identities{}
var _ crossaccount.Ways = Identities{}

func (s Identities) table() *string { return aws.String(s.Tables.Identities()) }

const (
	itemIntegration  = "iamIntegration"
	itemIAMUser      = "iamUser"
	itemIAMGroup     = "iamGroup"
	itemOnboarding   = "iamOnboarding"
	itemOffboarding  = "iamOffboarding"
	itemInvitation   = "iamInvitation"
	itemInviteRef    = "iamInvitationRef"
	itemPersonOfUser = "iamPersonLink"
	itemUserOfPerson = "personIAMUser"
	integrationsPK   = "IAM"
)

func iamIntegrationSK(accountID string) string { return "IAM#" + accountID }
func directoryPK(tenantID, accountID string) string {
	return tenantPK(tenantID) + "#IAM#" + accountID
}
func onboardingSK(accountID, user string) string  { return "IAMONBOARD#" + accountID + "#" + user }
func offboardingSK(accountID, user string) string { return "IAMOFFBOARD#" + accountID + "#" + user }
func personOfUserSK(accountID, user string) string {
	return "IAMPERSON#" + accountID + "#" + user
}
func userOfPersonSK(email, accountID, user string) string {
	return "PERSON#" + email + "#" + accountID + "#" + user
}
func invitationPK(hash string) string         { return "IAMINVITE#" + hash }
func inviteRefSK(accountID, id string) string { return "IAMINVITEREF#" + accountID + "#" + id }
func integrationsSK(tenantID, accountID string) string {
	return tenantPK(tenantID) + "#" + accountSK(accountID)
}

type integrationItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	ItemType string `dynamodbav:"itemType"`
	GSI1PK   string `dynamodbav:"gsi1pk"`
	GSI1SK   string `dynamodbav:"gsi1sk"`
	identity.Integration
}

func (s Identities) integrationPut(in identity.Integration, condition string, values map[string]types.AttributeValue) (types.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(integrationItem{PK: tenantPK(in.TenantID), SK: iamIntegrationSK(in.AccountID), ItemType: itemIntegration,
		GSI1PK: integrationsPK, GSI1SK: integrationsSK(in.TenantID, in.AccountID), Integration: in})
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("marshal integration: %w", err)
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: s.table(), Item: item, ConditionExpression: aws.String(condition),
		ExpressionAttributeValues: values}}, nil
}

// accountMark sets (via) or clears ("") the account's identityIntegration, bumping its version so that no write
// made from an earlier read of the account can undo it. resetAccess also turns its identity option off.
func (s Identities) accountMark(tenantID, accountID, via string, resetAccess bool, at time.Time) types.TransactWriteItem {
	values := map[string]types.AttributeValue{":one": num("1"), ":now": str(at.UTC().Format(time.RFC3339Nano))}
	expr := "SET #version = #version + :one, updatedAt = :now"
	if via != "" {
		expr += ", identityIntegration = :via"
		values[":via"] = str(via)
	}
	if resetAccess {
		expr += ", identityAccess = :none"
		values[":none"] = str(string(accounts.IdentityNone))
	}
	if via == "" {
		expr += " REMOVE identityIntegration"
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(s.Tables.Accounts()), Key: key(tenantPK(tenantID), accountSK(accountID)),
		UpdateExpression: aws.String(expr), ConditionExpression: aws.String("attribute_exists(pk)"),
		ExpressionAttributeNames: map[string]string{"#version": "version"}, ExpressionAttributeValues: values,
	}}
}

// Integration reads an account's integration.
func (s Identities) Integration(ctx context.Context, tenantID, accountID string) (identity.Integration, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table(), Key: key(tenantPK(tenantID), iamIntegrationSK(accountID)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return identity.Integration{}, err
	}
	if out.Item == nil {
		return identity.Integration{}, identity.ErrNotFound
	}
	var it integrationItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return identity.Integration{}, fmt.Errorf("unmarshal integration: %w", err)
	}
	it.Integration.TenantID = tenantID
	return it.Integration, nil
}

// IdentityWay tells the Door how the account's integration enters it.
func (s Identities) IdentityWay(ctx context.Context, tenantID, accountID string) (crossaccount.Way, error) {
	in, err := s.Integration(ctx, tenantID, accountID)
	if errors.Is(err, identity.ErrNotFound) {
		return crossaccount.Way{}, crossaccount.ErrNoWay
	}
	if err != nil {
		return crossaccount.Way{}, err
	}
	if in.Via == identity.ViaKey && in.Key != nil {
		return crossaccount.Way{Key: true, SecretID: in.Key.SecretARN}, nil
	}
	return crossaccount.Way{}, nil
}

// CreateIntegration writes a new integration and marks the account, in one transaction with its audit entry.
func (s Identities) CreateIntegration(ctx context.Context, in identity.Integration, entry audit.Entry) error {
	put, err := s.integrationPut(in, "attribute_not_exists(pk)", nil)
	if err != nil {
		return err
	}
	log, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{put, s.accountMark(in.TenantID, in.AccountID, string(in.Via), false, in.CreatedAt), log})
	var c *cancelledError
	switch {
	case errors.As(err, &c) && (c.failed(0) || c.conflicted(0)):
		return identity.ErrConflict
	case errors.As(err, &c) && c.failed(1):
		return accounts.ErrNotFound
	}
	return err
}

// SaveIntegration writes after over before if before's version is still stored; a change of way moves the
// account's mark in the same transaction.
func (s Identities) SaveIntegration(ctx context.Context, before, after identity.Integration, entry *audit.Entry) error {
	put, err := s.integrationPut(after, "#version = :expected", map[string]types.AttributeValue{":expected": num(strconv.FormatInt(before.Version, 10))})
	if err != nil {
		return err
	}
	put.Put.ExpressionAttributeNames = map[string]string{"#version": "version"}
	items := []types.TransactWriteItem{put}
	if before.Via != after.Via {
		items = append(items, s.accountMark(after.TenantID, after.AccountID, string(after.Via), false, after.UpdatedAt))
	}
	if entry != nil {
		log, err := s.auditPut(*entry)
		if err != nil {
			return err
		}
		items = append(items, log)
	}
	if len(items) == 1 {
		_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: s.table(), Item: put.Put.Item, ConditionExpression: put.Put.ConditionExpression,
			ExpressionAttributeNames: put.Put.ExpressionAttributeNames, ExpressionAttributeValues: put.Put.ExpressionAttributeValues})
		if isConditionFailed(err) {
			return identity.ErrConflict
		}
		return err
	}
	err = s.transact(ctx, items)
	var c *cancelledError
	if errors.As(err, &c) && (c.failed(0) || c.conflicted(0)) {
		return identity.ErrConflict
	}
	return err
}

// RemoveIntegration deletes the integration and clears the account's mark (turning a role's identity option off).
func (s Identities) RemoveIntegration(ctx context.Context, in identity.Integration, entry audit.Entry) error {
	del := types.TransactWriteItem{Delete: &types.Delete{TableName: s.table(), Key: key(tenantPK(in.TenantID), iamIntegrationSK(in.AccountID)),
		ConditionExpression: aws.String("attribute_exists(pk)")}}
	log, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{del, s.accountMark(in.TenantID, in.AccountID, "", in.Via == identity.ViaRole, entry.At), log})
	var c *cancelledError
	if errors.As(err, &c) && c.failed(0) {
		return identity.ErrNotFound
	}
	return err
}

// Integrations lists every integration, across tenants (the daily sync), one Query a page of a sparse index.
func (s Identities) Integrations(ctx context.Context) ([]identity.Ref, error) {
	in := &dynamodb.QueryInput{TableName: s.table(), IndexName: aws.String(tables.IdentitiesByIntegration),
		KeyConditionExpression: aws.String("gsi1pk = :pk"), ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(integrationsPK)}}
	var out []identity.Ref
	err := s.queryAll(ctx, in, func(item map[string]types.AttributeValue) error {
		pk, _ := item[tables.PK].(*types.AttributeValueMemberS)
		sk, _ := item[tables.SK].(*types.AttributeValueMemberS)
		if pk != nil && sk != nil {
			out = append(out, identity.Ref{TenantID: strings.TrimPrefix(pk.Value, tenantPrefix), AccountID: strings.TrimPrefix(sk.Value, "IAM#")})
		}
		return nil
	})
	return out, err
}

// directoryItem is a synced user or group, with the hash of its content so that a sync rewrites only changes.
type directoryItem struct {
	PK       string          `dynamodbav:"pk"`
	SK       string          `dynamodbav:"sk"`
	ItemType string          `dynamodbav:"itemType"`
	Hash     string          `dynamodbav:"hash"`
	User     *identity.User  `dynamodbav:"user,omitempty"`
	Group    *identity.Group `dynamodbav:"group,omitempty"`
}

func contentHash(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// ReplaceDirectory makes the stored users and groups those of d: it reads the stored keys and hashes (one Query a
// page, keys only), writes what is new or changed and deletes what is gone, 25 to a BatchWriteItem.
func (s Identities) ReplaceDirectory(ctx context.Context, tenantID, accountID string, d identity.Directory) (int, int, error) {
	pk := directoryPK(tenantID, accountID)
	stored := map[string]string{}
	err := s.queryAll(ctx, &dynamodb.QueryInput{TableName: s.table(), KeyConditionExpression: aws.String("pk = :pk"),
		ProjectionExpression: aws.String("sk, #hash"), ExpressionAttributeNames: map[string]string{"#hash": "hash"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)}}, func(item map[string]types.AttributeValue) error {
		sk, _ := item[tables.SK].(*types.AttributeValueMemberS)
		h, _ := item["hash"].(*types.AttributeValueMemberS)
		if sk != nil {
			stored[sk.Value] = ""
			if h != nil {
				stored[sk.Value] = h.Value
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	var writes []types.WriteRequest
	seen := map[string]bool{}
	add := func(it directoryItem, content any) error {
		it.PK, it.Hash = pk, contentHash(content)
		seen[it.SK] = true
		if stored[it.SK] == it.Hash {
			return nil
		}
		av, err := attributevalue.MarshalMap(it)
		if err != nil {
			return err
		}
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		return nil
	}
	for i := range d.Users {
		u := d.Users[i]
		if err := add(directoryItem{SK: "USER#" + u.UserName, ItemType: itemIAMUser, User: &u}, u); err != nil {
			return 0, 0, err
		}
	}
	for i := range d.Groups {
		g := d.Groups[i]
		if err := add(directoryItem{SK: "GROUP#" + g.GroupName, ItemType: itemIAMGroup, Group: &g}, g); err != nil {
			return 0, 0, err
		}
	}
	written := len(writes)
	for sk := range stored {
		if !seen[sk] {
			writes = append(writes, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(pk, sk)}})
		}
	}
	return written, len(writes) - written, s.batchWrite(ctx, s.Tables.Identities(), writes)
}

// Users returns one page of an account's synced users, by name (one Query).
func (s Identities) Users(ctx context.Context, tenantID, accountID string, limit int, cur string) ([]identity.User, string, error) {
	pk := directoryPK(tenantID, accountID)
	scope := "iam-users:" + pk
	start, err := s.Cursors.Decode(scope, cur)
	if err != nil {
		return nil, "", err
	}
	items, next, err := s.queryPage(ctx, &dynamodb.QueryInput{TableName: s.table(), KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":p": str("USER#")}, ExclusiveStartKey: start}, limit, tables.PK, tables.SK)
	if err != nil {
		return nil, "", err
	}
	users := make([]identity.User, 0, len(items))
	for _, raw := range items {
		var it directoryItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, "", fmt.Errorf("unmarshal user: %w", err)
		}
		if it.User != nil {
			users = append(users, normalizeUser(*it.User))
		}
	}
	nextCursor, err := s.Cursors.Encode(scope, next)
	return users, nextCursor, err
}

// normalizeUser shows empty lists as lists (DynamoDB drops empty lists' distinction from absent ones).
func normalizeUser(u identity.User) identity.User {
	for _, l := range []*[]string{&u.Groups, &u.InlinePolicies, &u.Credentials.VirtualMFADevices} {
		if *l == nil {
			*l = []string{}
		}
	}
	if u.ManagedPolicies == nil {
		u.ManagedPolicies = []identity.PolicyRef{}
	}
	if u.Credentials.AccessKeys == nil {
		u.Credentials.AccessKeys = []identity.KeyState{}
	}
	if u.Credentials.SigningCertificates == nil {
		u.Credentials.SigningCertificates = []identity.CertState{}
	}
	return u
}

// User reads one synced user.
func (s Identities) User(ctx context.Context, tenantID, accountID, userName string) (identity.User, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table(), Key: key(directoryPK(tenantID, accountID), "USER#"+userName)})
	if err != nil {
		return identity.User{}, err
	}
	var it directoryItem
	if out.Item == nil {
		return identity.User{}, identity.ErrUserNotFound
	}
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil || it.User == nil {
		return identity.User{}, fmt.Errorf("unmarshal user: %v", err)
	}
	return normalizeUser(*it.User), nil
}

// PutUser stores a user Gangplank just made, before the next sync reads it.
func (s Identities) PutUser(ctx context.Context, tenantID, accountID string, u identity.User) error {
	av, err := attributevalue.MarshalMap(directoryItem{PK: directoryPK(tenantID, accountID), SK: "USER#" + u.UserName, ItemType: itemIAMUser, User: &u})
	if err != nil {
		return err
	}
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: s.table(), Item: av})
	return err
}

// DeleteUser forgets a deleted user and its person link.
func (s Identities) DeleteUser(ctx context.Context, tenantID, accountID, userName string) error {
	if _, err := s.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: s.table(), Key: key(directoryPK(tenantID, accountID), "USER#"+userName)}); err != nil {
		return err
	}
	p, err := s.Person(ctx, tenantID, accountID, userName)
	if errors.Is(err, identity.ErrRecordNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.batchWrite(ctx, s.Tables.Identities(), []types.WriteRequest{
		{DeleteRequest: &types.DeleteRequest{Key: key(tenantPK(tenantID), personOfUserSK(accountID, userName))}},
		{DeleteRequest: &types.DeleteRequest{Key: key(tenantPK(tenantID), userOfPersonSK(p.Email, accountID, userName))}},
	})
}

// Groups lists an account's synced groups.
func (s Identities) Groups(ctx context.Context, tenantID, accountID string) ([]identity.Group, error) {
	var out []identity.Group
	err := s.queryAll(ctx, &dynamodb.QueryInput{TableName: s.table(), KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(directoryPK(tenantID, accountID)), ":p": str("GROUP#")}},
		func(item map[string]types.AttributeValue) error {
			var it directoryItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return err
			}
			if it.Group != nil {
				g := *it.Group
				if g.InlinePolicies == nil {
					g.InlinePolicies = []string{}
				}
				if g.ManagedPolicies == nil {
					g.ManagedPolicies = []identity.PolicyRef{}
				}
				out = append(out, g)
			}
			return nil
		})
	return out, err
}

// DeleteAccountData deletes the account's synced users and groups, onboarding and offboarding records, person
// links and invitations.
func (s Identities) DeleteAccountData(ctx context.Context, tenantID, accountID string) error {
	var deletes []types.WriteRequest
	collect := func(in *dynamodb.QueryInput, also func(map[string]types.AttributeValue) []map[string]types.AttributeValue) error {
		in.TableName, in.ProjectionExpression = s.table(), nil
		return s.queryAll(ctx, in, func(item map[string]types.AttributeValue) error {
			deletes = append(deletes, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{tables.PK: item[tables.PK], tables.SK: item[tables.SK]}}})
			if also != nil {
				for _, k := range also(item) {
					deletes = append(deletes, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
				}
			}
			return nil
		})
	}
	if err := collect(&dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(directoryPK(tenantID, accountID))}}, nil); err != nil {
		return err
	}
	inTenant := func(prefix string) *dynamodb.QueryInput {
		return &dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(tenantPK(tenantID)), ":p": str(prefix)}}
	}
	for _, prefix := range []string{"IAMONBOARD#" + accountID + "#", "IAMOFFBOARD#" + accountID + "#"} {
		if err := collect(inTenant(prefix), nil); err != nil {
			return err
		}
	}
	if err := collect(inTenant("IAMPERSON#"+accountID+"#"), func(item map[string]types.AttributeValue) []map[string]types.AttributeValue {
		var l personItem
		if attributevalue.UnmarshalMap(item, &l) != nil {
			return nil
		}
		return []map[string]types.AttributeValue{key(tenantPK(tenantID), userOfPersonSK(l.Email, accountID, l.UserName))}
	}); err != nil {
		return err
	}
	if err := collect(inTenant("IAMINVITEREF#"+accountID+"#"), func(item map[string]types.AttributeValue) []map[string]types.AttributeValue {
		h, _ := item["tokenHash"].(*types.AttributeValueMemberS)
		if h == nil {
			return nil
		}
		return []map[string]types.AttributeValue{key(invitationPK(h.Value), "INVITATION")}
	}); err != nil {
		return err
	}
	return s.batchWrite(ctx, s.Tables.Identities(), deletes)
}

// record is a versioned record in the tenant's partition (onboarding, offboarding).
type onboardingItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	ItemType string `dynamodbav:"itemType"`
	identity.Onboarding
}

type offboardingItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	ItemType string `dynamodbav:"itemType"`
	identity.Offboarding
}

func (s Identities) getItem(ctx context.Context, pk, sk string, v any) error {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table(), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return err
	}
	if out.Item == nil {
		return identity.ErrRecordNotFound
	}
	return attributevalue.UnmarshalMap(out.Item, v)
}

// saveVersioned writes item if the stored one is at version before (or absent, when before is 0), with the audit
// entry in the same transaction.
func (s Identities) saveVersioned(ctx context.Context, item any, before int64, entry *audit.Entry) error {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return err
	}
	put := &types.Put{TableName: s.table(), Item: av}
	if before == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		put.ConditionExpression = aws.String("#version = :expected")
		put.ExpressionAttributeNames = map[string]string{"#version": "version"}
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":expected": num(strconv.FormatInt(before, 10))}
	}
	if entry == nil {
		_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression,
			ExpressionAttributeNames: put.ExpressionAttributeNames, ExpressionAttributeValues: put.ExpressionAttributeValues})
		if isConditionFailed(err) {
			return identity.ErrConflict
		}
		return err
	}
	log, err := s.auditPut(*entry)
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{{Put: put}, log})
	var c *cancelledError
	if errors.As(err, &c) && (c.failed(0) || c.conflicted(0)) {
		return identity.ErrConflict
	}
	return err
}

// Onboarding reads a user's onboarding record.
func (s Identities) Onboarding(ctx context.Context, tenantID, accountID, userName string) (identity.Onboarding, error) {
	var it onboardingItem
	err := s.getItem(ctx, tenantPK(tenantID), onboardingSK(accountID, userName), &it)
	return it.Onboarding, err
}

// SaveOnboarding writes an onboarding record (before nil: a new one).
func (s Identities) SaveOnboarding(ctx context.Context, tenantID string, before *identity.Onboarding, after identity.Onboarding, entry *audit.Entry) error {
	var v int64
	if before != nil {
		v = before.Version
	}
	return s.saveVersioned(ctx, onboardingItem{PK: tenantPK(tenantID), SK: onboardingSK(after.AccountID, after.UserName), ItemType: itemOnboarding, Onboarding: after}, v, entry)
}

// Offboarding reads a user's offboarding record.
func (s Identities) Offboarding(ctx context.Context, tenantID, accountID, userName string) (identity.Offboarding, error) {
	var it offboardingItem
	err := s.getItem(ctx, tenantPK(tenantID), offboardingSK(accountID, userName), &it)
	return it.Offboarding, err
}

// SaveOffboarding writes an offboarding record (before nil: a new one).
func (s Identities) SaveOffboarding(ctx context.Context, tenantID string, before *identity.Offboarding, after identity.Offboarding, entry *audit.Entry) error {
	var v int64
	if before != nil {
		v = before.Version
	}
	return s.saveVersioned(ctx, offboardingItem{PK: tenantPK(tenantID), SK: offboardingSK(after.AccountID, after.UserName), ItemType: itemOffboarding, Offboarding: after}, v, entry)
}

// Offboardings lists an account's offboarding records.
func (s Identities) Offboardings(ctx context.Context, tenantID, accountID string) ([]identity.Offboarding, error) {
	var out []identity.Offboarding
	err := s.queryAll(ctx, &dynamodb.QueryInput{TableName: s.table(), KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(tenantPK(tenantID)), ":p": str("IAMOFFBOARD#" + accountID + "#")}},
		func(item map[string]types.AttributeValue) error {
			var it offboardingItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return err
			}
			out = append(out, it.Offboarding)
			return nil
		})
	return out, err
}

// invitationItem is a link as stored: ValidUntil (epoch seconds) decides whether it may be claimed, and a claim
// holds it until ClaimedUntil (epoch seconds) while one acceptance runs, so two cannot use it at once. The item
// expires (TTL) a month after the link.
type invitationItem struct {
	PK           string `dynamodbav:"pk"`
	SK           string `dynamodbav:"sk"`
	ItemType     string `dynamodbav:"itemType"`
	ExpiresAt    int64  `dynamodbav:"expiresAt"`
	ValidUntil   int64  `dynamodbav:"validUntil"`
	ClaimedUntil int64  `dynamodbav:"claimedUntil,omitempty"`
	identity.Invitation
}

type inviteRefItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	ItemType  string `dynamodbav:"itemType"`
	TokenHash string `dynamodbav:"tokenHash"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// PutInvitation stores a new self-service link (by its hash) and its pointer, with the audit entry.
func (s Identities) PutInvitation(ctx context.Context, inv identity.Invitation, entry audit.Entry) error {
	ttl := inv.ExpiresAt.Add(30 * 24 * time.Hour).Unix()
	it, err := attributevalue.MarshalMap(invitationItem{PK: invitationPK(inv.TokenHash), SK: "INVITATION", ItemType: itemInvitation, ExpiresAt: ttl,
		ValidUntil: inv.ExpiresAt.Unix(), Invitation: inv})
	if err != nil {
		return err
	}
	ref, err := attributevalue.MarshalMap(inviteRefItem{PK: tenantPK(inv.TenantID), SK: inviteRefSK(inv.AccountID, inv.ID), ItemType: itemInviteRef, TokenHash: inv.TokenHash, ExpiresAt: ttl})
	if err != nil {
		return err
	}
	log, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	return s.transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{TableName: s.table(), Item: it, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: s.table(), Item: ref}}, log,
	})
}

// Invitation reads a link by its token's hash.
func (s Identities) Invitation(ctx context.Context, tokenHash string) (identity.Invitation, error) {
	var it invitationItem
	err := s.getItem(ctx, invitationPK(tokenHash), "INVITATION", &it)
	return it.Invitation, err
}

// ClaimInvitation holds an unused, unexpired link for one acceptance (ErrConflict: used, expired or held).
func (s Identities) ClaimInvitation(ctx context.Context, tokenHash string, now, until time.Time) (identity.Invitation, error) {
	out, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: s.table(), Key: key(invitationPK(tokenHash), "INVITATION"),
		UpdateExpression: aws.String("SET claimedUntil = :until"),
		ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(usedAt) AND validUntil > :now AND " +
			"(attribute_not_exists(claimedUntil) OR claimedUntil < :now)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":until": num(strconv.FormatInt(until.Unix(), 10)), ":now": num(strconv.FormatInt(now.Unix(), 10))},
		ReturnValues:              types.ReturnValueAllNew})
	if isConditionFailed(err) {
		return identity.Invitation{}, identity.ErrConflict
	}
	if err != nil {
		return identity.Invitation{}, err
	}
	var it invitationItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return identity.Invitation{}, err
	}
	return it.Invitation, nil
}

// ReleaseInvitation lets the link be tried again.
func (s Identities) ReleaseInvitation(ctx context.Context, tokenHash string) error {
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: s.table(), Key: key(invitationPK(tokenHash), "INVITATION"),
		UpdateExpression: aws.String("REMOVE claimedUntil"), ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(usedAt)")})
	if isConditionFailed(err) {
		return nil
	}
	return err
}

// UseInvitation marks the link used up by the user it created.
func (s Identities) UseInvitation(ctx context.Context, inv identity.Invitation, userName string, at time.Time, entry audit.Entry) error {
	atAV, err := attributevalue.Marshal(at)
	if err != nil {
		return err
	}
	log, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	return s.transact(ctx, []types.TransactWriteItem{{Update: &types.Update{TableName: s.table(), Key: key(invitationPK(inv.TokenHash), "INVITATION"),
		UpdateExpression:          aws.String("SET usedAt = :at, userName = :user REMOVE claimedUntil"),
		ConditionExpression:       aws.String("attribute_not_exists(usedAt)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": atAV, ":user": str(userName)}}}, log})
}

type personItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	ItemType string `dynamodbav:"itemType"`
	identity.PersonLink
}

// LinkPerson writes both sides of a link (replacing the user's previous person), with the audit entry.
func (s Identities) LinkPerson(ctx context.Context, tenantID string, l identity.PersonLink, previous *identity.PersonLink, entry audit.Entry) error {
	ofUser, err := attributevalue.MarshalMap(personItem{PK: tenantPK(tenantID), SK: personOfUserSK(l.AccountID, l.UserName), ItemType: itemPersonOfUser, PersonLink: l})
	if err != nil {
		return err
	}
	ofPerson, err := attributevalue.MarshalMap(personItem{PK: tenantPK(tenantID), SK: userOfPersonSK(l.Email, l.AccountID, l.UserName), ItemType: itemUserOfPerson, PersonLink: l})
	if err != nil {
		return err
	}
	first := &types.Put{TableName: s.table(), Item: ofUser, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	items := []types.TransactWriteItem{{Put: first}, {Put: &types.Put{TableName: s.table(), Item: ofPerson}}}
	if previous != nil {
		first.ConditionExpression = aws.String("email = :previous")
		first.ExpressionAttributeValues = map[string]types.AttributeValue{":previous": str(previous.Email)}
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: s.table(), Key: key(tenantPK(tenantID), userOfPersonSK(previous.Email, l.AccountID, l.UserName))}})
	}
	log, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	err = s.transact(ctx, append(items, log))
	var c *cancelledError
	if errors.As(err, &c) && c.failed(0) {
		return identity.ErrConflict
	}
	return err
}

// UnlinkPerson deletes both sides of a link, with the audit entry.
func (s Identities) UnlinkPerson(ctx context.Context, tenantID string, l identity.PersonLink, entry audit.Entry) error {
	log, err := s.auditPut(entry)
	if err != nil {
		return err
	}
	err = s.transact(ctx, []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: s.table(), Key: key(tenantPK(tenantID), personOfUserSK(l.AccountID, l.UserName)),
			ConditionExpression: aws.String("email = :email"), ExpressionAttributeValues: map[string]types.AttributeValue{":email": str(l.Email)}}},
		{Delete: &types.Delete{TableName: s.table(), Key: key(tenantPK(tenantID), userOfPersonSK(l.Email, l.AccountID, l.UserName))}},
		log,
	})
	var c *cancelledError
	if errors.As(err, &c) && c.failed(0) {
		return identity.ErrConflict
	}
	return err
}

// Person reads the person a user is linked to.
func (s Identities) Person(ctx context.Context, tenantID, accountID, userName string) (identity.PersonLink, error) {
	var it personItem
	err := s.getItem(ctx, tenantPK(tenantID), personOfUserSK(accountID, userName), &it)
	return it.PersonLink, err
}

// PersonLinks lists a person's users across the tenant's accounts (one Query a page).
func (s Identities) PersonLinks(ctx context.Context, tenantID, email string) ([]identity.PersonLink, error) {
	var out []identity.PersonLink
	err := s.queryAll(ctx, &dynamodb.QueryInput{TableName: s.table(), KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(tenantPK(tenantID)), ":p": str("PERSON#" + email + "#")}},
		func(item map[string]types.AttributeValue) error {
			var it personItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return err
			}
			out = append(out, it.PersonLink)
			return nil
		})
	return out, err
}

// AccountPeople maps an account's linked users to their people.
func (s Identities) AccountPeople(ctx context.Context, tenantID, accountID string) (map[string]string, error) {
	out := map[string]string{}
	err := s.queryAll(ctx, &dynamodb.QueryInput{TableName: s.table(), KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(tenantPK(tenantID)), ":p": str("IAMPERSON#" + accountID + "#")}},
		func(item map[string]types.AttributeValue) error {
			var it personItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return err
			}
			out[it.UserName] = it.Email
			return nil
		})
	return out, err
}
