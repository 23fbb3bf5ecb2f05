package localaws

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gangplank/gangplank/pkg/tables"
)

// CreateTables creates every table in tables.All, named prefix + "-" + its ID, exactly as defined there (keys,
// indexes, TTL), and returns their names.
func CreateTables(ctx context.Context, client *dynamodb.Client, prefix string) (tables.Names, error) {
	names := tables.Names{}
	for _, t := range tables.All() {
		name := prefix + "-" + t.ID
		if _, err := client.CreateTable(ctx, createTableInput(name, t)); err != nil {
			return nil, fmt.Errorf("create table %s: %w", name, err)
		}
		if t.TTLAttribute != "" {
			if _, err := client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName: aws.String(name),
				TimeToLiveSpecification: &types.TimeToLiveSpecification{
					AttributeName: aws.String(t.TTLAttribute), Enabled: aws.Bool(true),
				},
			}); err != nil {
				return nil, fmt.Errorf("enable TTL on %s: %w", name, err)
			}
		}
		names[t.ID] = name
	}
	return names, nil
}

func createTableInput(name string, t tables.Table) *dynamodb.CreateTableInput {
	attrs := map[string]tables.AttributeType{}
	add := func(a tables.Attribute) {
		if a.Name != "" {
			attrs[a.Name] = a.Type
		}
	}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema:   keySchema(t.PartitionKey, t.SortKey),
	}
	add(t.PartitionKey)
	add(t.SortKey)
	for _, ix := range t.Indexes {
		add(ix.PartitionKey)
		add(ix.SortKey)
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(ix.Name),
			KeySchema:  keySchema(ix.PartitionKey, ix.SortKey),
			Projection: &types.Projection{ProjectionType: types.ProjectionType(ix.Projection)},
		})
	}
	for _, a := range sortedKeys(attrs) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a), AttributeType: types.ScalarAttributeType(attrs[a]),
		})
	}
	return in
}

func keySchema(pk, sk tables.Attribute) []types.KeySchemaElement {
	ks := []types.KeySchemaElement{{AttributeName: aws.String(pk.Name), KeyType: types.KeyTypeHash}}
	if sk.Name != "" {
		ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(sk.Name), KeyType: types.KeyTypeRange})
	}
	return ks
}

func sortedKeys(m map[string]tables.AttributeType) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
