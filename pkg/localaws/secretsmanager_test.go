package localaws_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/gangplank/gangplank/pkg/testkit"
)

// TestSecretCurrentVersionFollowsRotation: GetSecretValue without a version or stage answers the AWSCURRENT version,
// also after a rotation moved AWSCURRENT to a version put as AWSPENDING (moto kept answering the first version).
func TestSecretCurrentVersionFollowsRotation(t *testing.T) {
	ctx := t.Context()
	c := secretsmanager.NewFromConfig(testkit.AWSConfig(t, nil))
	name := aws.String(testkit.UniqueName("rotated"))
	if _, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: name, SecretString: aws.String("old")}); err != nil {
		t.Fatal(err)
	}
	pending, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: name, SecretString: aws.String("new"), VersionStages: []string{"AWSPENDING"}})
	if err != nil {
		t.Fatal(err)
	}
	read := func() string {
		t.Helper()
		out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: name})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.SecretString)
	}
	if got := read(); got != "old" {
		t.Fatalf("before the switch: %q, want the current version (old)", got)
	}
	d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: name})
	if err != nil {
		t.Fatal(err)
	}
	var current string
	for id, stages := range d.VersionIdsToStages {
		for _, s := range stages {
			if s == "AWSCURRENT" {
				current = id
			}
		}
	}
	if _, err := c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: name, VersionStage: aws.String("AWSCURRENT"),
		MoveToVersionId: pending.VersionId, RemoveFromVersionId: aws.String(current)}); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "new" {
		t.Errorf("after the switch: %q, want the version AWSCURRENT moved to (new)", got)
	}
}
