package localaws_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/tables"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func TestTablesMatchDefinitions(t *testing.T) {
	cfg := testkit.AWSConfig(t, nil)
	names := testkit.Tables(t, cfg)
	ddb := dynamodb.NewFromConfig(cfg)
	for _, def := range tables.All() {
		out, err := ddb.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(names[def.ID])})
		if err != nil {
			t.Fatal(err)
		}
		d := out.Table
		if aws.ToString(d.KeySchema[0].AttributeName) != def.PartitionKey.Name || aws.ToString(d.KeySchema[1].AttributeName) != def.SortKey.Name {
			t.Errorf("%s keys = %+v", def.ID, d.KeySchema)
		}
		if len(d.GlobalSecondaryIndexes) != len(def.Indexes) {
			t.Errorf("%s has %d indexes, want %d", def.ID, len(d.GlobalSecondaryIndexes), len(def.Indexes))
		}
		ttl, err := ddb.DescribeTimeToLive(context.Background(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(names[def.ID])})
		if err != nil || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != def.TTLAttribute {
			t.Errorf("%s TTL = %+v, %v", def.ID, ttl, err)
		}
	}
}

// TestInterceptors: an interceptor answers in moto's place, sees the call classified, and can be removed.
func TestInterceptors(t *testing.T) {
	env := testkit.LocalAWS(t)
	cfg := testkit.AWSConfig(t, nil)
	var seen *localaws.Call
	remove := env.Intercept(localaws.InterceptorFunc(func(w http.ResponseWriter, c *localaws.Call) bool {
		if !c.Is("sts", "GetCallerIdentity") {
			return false
		}
		seen = c
		localaws.WriteQueryError(w, http.StatusForbidden, "AccessDenied", "injected <refusal> & more")
		return true
	}))
	_, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" || apiErr.ErrorMessage() != "injected <refusal> & more" {
		t.Fatalf("error = %v", err)
	}
	if seen == nil || seen.AccessKeyID != "testing" || seen.Service != "sts" {
		t.Errorf("call = %+v", seen)
	}
	remove()
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != localaws.PlatformAccountID {
		t.Errorf("after removal: %v, %v", id, err)
	}

	// JSON-protocol calls are classified by X-Amz-Target, and a modeled error reaches the SDK typed.
	remove = env.Intercept(localaws.InterceptorFunc(func(w http.ResponseWriter, c *localaws.Call) bool {
		if !c.Is("dynamodb", "DescribeTable") {
			return false
		}
		localaws.WriteJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", "injected")
		return true
	}))
	defer remove()
	_, err = dynamodb.NewFromConfig(cfg).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("x")})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Errorf("error = %T %v, want a typed ResourceNotFoundException", err, err)
	}
}

// TestTransactionRollback: moto's transactions run with Gangplank's faster snapshot; a cancelled transaction must
// still leave no trace of the items written before the failing one.
func TestTransactionRollback(t *testing.T) {
	cfg := testkit.AWSConfig(t, nil)
	names := testkit.Tables(t, cfg)
	ddb := dynamodb.NewFromConfig(cfg)
	ctx := context.Background()
	put := func(pk, cond string) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(names.Accounts()), ConditionExpression: aws.String(cond),
			Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: "x"}}}}
	}
	if _, err := ddb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put("existing", "attribute_not_exists(pk)")}}); err != nil {
		t.Fatal(err)
	}
	_, err := ddb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		put("new-1", "attribute_not_exists(pk)"),
		{Update: &types.Update{TableName: aws.String(names.Accounts()), UpdateExpression: aws.String("SET touched = :t"),
			Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "existing"}, "sk": &types.AttributeValueMemberS{Value: "x"}},
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}}}},
		put("existing-2", "attribute_exists(pk)"), // fails
	}})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("error = %v", err)
	}
	scan, err := ddb.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(names.Accounts())})
	if err != nil {
		t.Fatal(err)
	}
	if len(scan.Items) != 1 || scan.Items[0]["touched"] != nil {
		t.Errorf("after a cancelled transaction the table holds %v", scan.Items)
	}
}

func TestMotoMissing(t *testing.T) {
	t.Setenv("GANGPLANK_PYTHON", "/nonexistent/python")
	t.Setenv("PATH", t.TempDir())
	_, err := localaws.Start(context.Background(), localaws.Options{})
	if !errors.Is(err, localaws.ErrMotoMissing) {
		t.Fatalf("error = %v, want ErrMotoMissing", err)
	}
}

func TestStopEndsMoto(t *testing.T) {
	env, err := localaws.Start(context.Background(), localaws.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := env.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	env.Stop()
	env.Stop() // idempotent
	client := &http.Client{Timeout: time.Second}
	if resp, err := client.Get(env.MotoEndpoint + "/moto-api/"); err == nil {
		resp.Body.Close()
		t.Error("moto still answers after Stop")
	}
}
