package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/tables"
)

// Organizations stores what discovery keeps: each management account's OU tree (one item, the OUs compressed),
// discovery jobs with each account's running one, and the chunks of OUs and members an unfinished job has read.
type Organizations struct{ DB }

var (
	_ discovery.Snapshots = Organizations{}
	_ discovery.Jobs      = Organizations{}
	_ discovery.Members   = Organizations{}
)

type orgItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	ItemType string `dynamodbav:"itemType"`
	Version  int64  `dynamodbav:"version"`
	// OUsGz is the OUs as gzipped JSON: 2,000 OUs with their paths outgrow DynamoDB's 400 KB as a list of maps.
	OUsGz []byte `dynamodbav:"ousGz"`
	discovery.Snapshot
}

// Get returns the stored tree (ok false if discovery never ran).
func (s Organizations) Get(ctx context.Context, tenantID, managementID string) (discovery.Snapshot, int64, bool, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Tables.Accounts()), Key: key(tenantPK(tenantID), orgSK(managementID))})
	if err != nil || out.Item == nil {
		return discovery.Snapshot{}, 0, false, err
	}
	var it orgItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return discovery.Snapshot{}, 0, false, err
	}
	if err := unzipJSON(it.OUsGz, &it.Snapshot.OUs); err != nil {
		return discovery.Snapshot{}, 0, false, fmt.Errorf("organization snapshot: %w", err)
	}
	return it.Snapshot, it.Version, true, nil
}

// Put replaces the tree, conditioned on the version read (its absence for the first).
func (s Organizations) Put(ctx context.Context, tenantID, managementID string, snap discovery.Snapshot, readVersion int64) error {
	ous, err := zipJSON(snap.OUs)
	if err != nil {
		return err
	}
	item, err := attributevalue.MarshalMap(orgItem{PK: tenantPK(tenantID), SK: orgSK(managementID), ItemType: itemOrganization,
		Version: readVersion + 1, OUsGz: ous, Snapshot: snap})
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

// listedAttributes are what Members reads of each account: its identity, status and version, and its membership.
var listedAttributes = []string{"accountId", "name", "type", "status", "version", "createdAt", "organization"}

type listedItem struct {
	AccountID    string               `dynamodbav:"accountId"`
	Name         string               `dynamodbav:"name"`
	Type         accounts.Type        `dynamodbav:"type"`
	Status       accounts.Status      `dynamodbav:"status"`
	Version      int64                `dynamodbav:"version"`
	CreatedAt    time.Time            `dynamodbav:"createdAt"`
	Organization *accounts.Membership `dynamodbav:"organization"`
}

// Members lists a management account's linked accounts with one Query per page of the byManagement index (pages
// of DynamoDB's 1 MB, not of an API page size), reading only what discovery compares.
func (s Organizations) Members(ctx context.Context, tenantID, managementID string) ([]accounts.Listed, error) {
	names := map[string]string{"#pk": tables.GSI2PK}
	projection := make([]string, len(listedAttributes))
	for i, a := range listedAttributes {
		n := "#p" + strconv.Itoa(i)
		names[n], projection[i] = a, n
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.Tables.Accounts()), IndexName: aws.String(tables.AccountsByManagement),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(managementPK(tenantID, managementID))},
		ProjectionExpression:      aws.String(strings.Join(projection, ", ")),
	}
	var out []accounts.Listed
	err := s.queryAll(ctx, in, func(raw map[string]types.AttributeValue) error {
		var it listedItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return fmt.Errorf("unmarshal account: %w", err)
		}
		out = append(out, accounts.Listed{AccountID: it.AccountID, Name: it.Name, Type: it.Type, Status: it.Status, Version: it.Version,
			CreatedAt: it.CreatedAt, Organization: it.Organization})
		return nil
	})
	return out, err
}

// Discovery jobs live in the tenant's partition of the accounts table:
//
//	DISCOVERY#<jobId>                    the job (progress, result, and an unfinished job's cursor)
//	DISCOVERY#<jobId>#CHUNK#<writer>#<n>  what an unfinished job read, stored at its checkpoints (gzipped JSON)
//	DISCOVERYLOCK#<accountId>            the account's latest job; while it is unfinished (and within its lease)
//	                                     no other starts: one job per account at a time
//
// Finished jobs are kept jobRetention, chunks chunkRetention after their last write (DynamoDB's TTL removes them).
const (
	itemDiscoveryJob   = "discoveryJob"
	itemDiscoveryChunk = "discoveryChunk"
	itemDiscoveryLock  = "discoveryLock"
	jobRetention       = 30 * 24 * time.Hour
	chunkRetention     = 3 * 24 * time.Hour
)

func jobSK(id string) string       { return "DISCOVERY#" + id }
func chunkPrefix(id string) string { return jobSK(id) + "#CHUNK#" }
func chunkSK(id, writer string, n int) string {
	return fmt.Sprintf("%s%s#%05d", chunkPrefix(id), writer, n)
}
func discoveryLockSK(accountID string) string { return "DISCOVERYLOCK#" + accountID }

type jobItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	ItemType  string `dynamodbav:"itemType"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
	discovery.Job
}

type lockItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	ItemType  string `dynamodbav:"itemType"`
	AccountID string `dynamodbav:"accountId"`
	JobID     string `dynamodbav:"jobId"`
}

type chunkItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	ItemType  string `dynamodbav:"itemType"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
	Data      []byte `dynamodbav:"data"`
}

func (s Organizations) table() *string { return aws.String(s.Tables.Accounts()) }

func (s Organizations) jobPut(j discovery.Job, condition string, values map[string]types.AttributeValue) (*types.Put, error) {
	stored := j
	stored.Version = j.Version + 1
	expires := j.CreatedAt.Add(jobRetention)
	if j.FinishedAt != nil {
		expires = j.FinishedAt.Add(jobRetention)
	}
	item, err := attributevalue.MarshalMap(jobItem{PK: tenantPK(j.TenantID), SK: jobSK(j.ID), ItemType: itemDiscoveryJob,
		ExpiresAt: expires.Unix(), Job: stored})
	if err != nil {
		return nil, err
	}
	return &types.Put{TableName: s.table(), Item: item, ConditionExpression: aws.String(condition), ExpressionAttributeValues: values}, nil
}

func versionIs(v int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{":expected": num(strconv.FormatInt(v, 10))}
}

// StartJob stores j as its account's latest job, unless the account's latest is unfinished and within its lease:
// then it returns that one. The pointer is replaced conditionally on the job it named, so of two starts at once
// one wins and the other returns the winner's job.
func (s Organizations) StartJob(ctx context.Context, j discovery.Job, now time.Time) (discovery.Job, bool, error) {
	for attempt := 0; ; attempt++ {
		out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table(), Key: key(tenantPK(j.TenantID), discoveryLockSK(j.AccountID)),
			ConsistentRead: aws.Bool(true)})
		if err != nil {
			return discovery.Job{}, false, err
		}
		lock := lockItem{PK: tenantPK(j.TenantID), SK: discoveryLockSK(j.AccountID), ItemType: itemDiscoveryLock, AccountID: j.AccountID, JobID: j.ID}
		lockAttrs, err := attributevalue.MarshalMap(lock)
		if err != nil {
			return discovery.Job{}, false, err
		}
		lockPut := types.TransactWriteItem{Put: &types.Put{TableName: s.table(), Item: lockAttrs, ConditionExpression: aws.String("attribute_not_exists(pk)")}}
		var items []types.TransactWriteItem
		if out.Item != nil {
			var held lockItem
			if err := attributevalue.UnmarshalMap(out.Item, &held); err != nil {
				return discovery.Job{}, false, err
			}
			running, err := s.GetJob(ctx, j.TenantID, held.JobID)
			if err != nil && !errors.Is(err, discovery.ErrJobNotFound) {
				return discovery.Job{}, false, err
			}
			if err == nil && !running.Finished() && !running.Stalled(now) {
				return running, false, nil
			}
			lockPut.Put.ConditionExpression = aws.String("jobId = :held")
			lockPut.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":held": str(held.JobID)}
			if err == nil && !running.Finished() {
				// It stopped making progress: it fails, as its account starts another.
				stalled := running.AsSeen(now)
				put, err := s.jobPut(stalled, "version = :expected", versionIs(running.Version))
				if err != nil {
					return discovery.Job{}, false, err
				}
				items = append(items, types.TransactWriteItem{Put: put})
			}
		}
		put, err := s.jobPut(j, "attribute_not_exists(pk)", nil)
		if err != nil {
			return discovery.Job{}, false, err
		}
		items = append(items, lockPut, types.TransactWriteItem{Put: put})
		err = s.transact(ctx, items)
		var c *cancelledError
		if errors.As(err, &c) && attempt < 2 {
			continue // another start (or the job's end) got there first: look again
		}
		if err != nil {
			return discovery.Job{}, false, err
		}
		j.Version++
		return j, true, nil
	}
}

// GetJob reads one job with a strongly consistent read.
func (s Organizations) GetJob(ctx context.Context, tenantID, id string) (discovery.Job, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table(), Key: key(tenantPK(tenantID), jobSK(id)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return discovery.Job{}, err
	}
	if out.Item == nil {
		return discovery.Job{}, discovery.ErrJobNotFound
	}
	var it jobItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return discovery.Job{}, fmt.Errorf("unmarshal discovery job: %w", err)
	}
	return it.Job, nil
}

// LatestJob reads the account's pointer, then the job it names.
func (s Organizations) LatestJob(ctx context.Context, tenantID, accountID string) (discovery.Job, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table(), Key: key(tenantPK(tenantID), discoveryLockSK(accountID)),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return discovery.Job{}, err
	}
	if out.Item == nil {
		return discovery.Job{}, discovery.ErrJobNotFound
	}
	var held lockItem
	if err := attributevalue.UnmarshalMap(out.Item, &held); err != nil {
		return discovery.Job{}, err
	}
	return s.GetJob(ctx, tenantID, held.JobID)
}

// SaveJob writes the step's chunks (each its own request: they are invisible until the job refers to them), then
// the job, conditionally on the version read.
func (s Organizations) SaveJob(ctx context.Context, j discovery.Job, set discovery.ChunkSet, chunks []discovery.Chunk) error {
	expires := time.Now().Add(chunkRetention).Unix()
	for n, c := range chunks {
		data, err := zipJSON(c)
		if err != nil {
			return err
		}
		item, err := attributevalue.MarshalMap(chunkItem{PK: tenantPK(j.TenantID), SK: chunkSK(j.ID, set.Writer, n), ItemType: itemDiscoveryChunk,
			ExpiresAt: expires, Data: data})
		if err != nil {
			return err
		}
		if _, err := s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: s.table(), Item: item}); err != nil {
			return fmt.Errorf("store chunk %d of discovery job %s: %w", n, j.ID, err)
		}
	}
	put, err := s.jobPut(j, "version = :expected", versionIs(j.Version))
	if err != nil {
		return err
	}
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression,
		ExpressionAttributeValues: put.ExpressionAttributeValues})
	if isConditionFailed(err) {
		return discovery.ErrJobMoved
	}
	return err
}

// MarkSent records that the message of the job's next step is on the queue, if the job still expects that step.
// It leaves the version alone: the step may already be running.
func (s Organizations) MarkSent(ctx context.Context, j discovery.Job) error {
	_, err := s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: s.table(), Key: key(tenantPK(j.TenantID), jobSK(j.ID)),
		UpdateExpression:          aws.String("SET #cursor.sent = :step"),
		ConditionExpression:       aws.String("#cursor.step = :step"),
		ExpressionAttributeNames:  map[string]string{"#cursor": "cursor"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":step": num(strconv.Itoa(j.Cursor.Step))},
	})
	if isConditionFailed(err) {
		return discovery.ErrJobMoved
	}
	return err
}

// SaveProgress writes the job's status, progress and lease only.
func (s Organizations) SaveProgress(ctx context.Context, j discovery.Job) error {
	progress, err := attributevalue.Marshal(j.Progress)
	if err != nil {
		return err
	}
	values := versionIs(j.Version)
	values[":next"] = num(strconv.FormatInt(j.Version+1, 10))
	values[":status"], values[":progress"] = str(string(j.Status)), progress
	values[":updated"], values[":lease"] = str(j.UpdatedAt.UTC().Format(time.RFC3339Nano)), str(j.LeaseUntil.UTC().Format(time.RFC3339Nano))
	started := ""
	if j.StartedAt != nil {
		started, values[":started"] = ", startedAt = :started", str(j.StartedAt.UTC().Format(time.RFC3339Nano))
	}
	_, err = s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: s.table(), Key: key(tenantPK(j.TenantID), jobSK(j.ID)),
		UpdateExpression:          aws.String("SET #status = :status, progress = :progress, updatedAt = :updated, leaseUntil = :lease, version = :next" + started),
		ConditionExpression:       aws.String("version = :expected"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: values,
	})
	if isConditionFailed(err) {
		return discovery.ErrJobMoved
	}
	return err
}

// FinishJob saves the finished job. The account's pointer keeps naming it (its latest job), and a finished job
// holds nothing: the account's next start replaces the pointer.
func (s Organizations) FinishJob(ctx context.Context, j discovery.Job) error {
	put, err := s.jobPut(j, "version = :expected", versionIs(j.Version))
	if err != nil {
		return err
	}
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression,
		ExpressionAttributeValues: put.ExpressionAttributeValues})
	if isConditionFailed(err) {
		return discovery.ErrJobMoved
	}
	return err
}

// Chunks reads a job's stored chunks (one Query a page) and returns those of the sets, in the sets' order; chunks
// of step runs that never checkpointed are skipped.
func (s Organizations) Chunks(ctx context.Context, tenantID, id string, sets []discovery.ChunkSet) ([]discovery.Chunk, error) {
	byKey := map[string][]byte{}
	err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName: s.table(), KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(tenantPK(tenantID)), ":prefix": str(chunkPrefix(id))},
		ConsistentRead:            aws.Bool(true),
	}, func(raw map[string]types.AttributeValue) error {
		var it chunkItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return err
		}
		byKey[it.SK] = it.Data
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []discovery.Chunk
	for _, set := range sets {
		for n := range set.Count {
			data, ok := byKey[chunkSK(id, set.Writer, n)]
			if !ok {
				return nil, fmt.Errorf("discovery job %s lost chunk %d of %s", id, n, set.Writer)
			}
			var c discovery.Chunk
			if err := unzipJSON(data, &c); err != nil {
				return nil, fmt.Errorf("discovery job %s chunk %d of %s: %w", id, n, set.Writer, err)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func zipJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(v); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func unzipJSON(data []byte, v any) error {
	if len(data) == 0 {
		return nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(io.LimitReader(zr, 64<<20))
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}
