// Package awssecrets is AWS Secrets Manager for the platform's own secrets: the reader of the cursor key (at a
// cold start) and of the IAM integrations' access keys (the door enters with them), and the vault that writes
// those keys (identity.KeyVault). Only the functions that read the cursor key or use stored keys link it, so the
// others do not pay Secrets Manager's package init at their cold start.
package awssecrets

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/identity"
)

// ValueReader is the part of Secrets Manager the door reads the keys with.
type ValueReader interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ ValueReader = (*secretsmanager.Client)(nil)

// Reader reads secrets: the cursor key, and a stored key's secret for the door.
type Reader struct {
	Client ValueReader
}

var _ crossaccount.SecretReader = Reader{}

// NewReader returns a reader over a Secrets Manager client built from the platform's configuration.
func NewReader(cfg aws.Config) crossaccount.SecretReader {
	return Reader{Client: secretsmanager.NewFromConfig(cfg)}
}

// SecretValue reads the version of the secret labelled stage (crossaccount.ErrSecretNotFound: the secret, or a
// version so labelled, does not exist).
func (r Reader) SecretValue(ctx context.Context, secretID, stage string) (string, error) {
	out, err := r.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID), VersionStage: aws.String(stage)})
	if missing(err) {
		return "", crossaccount.ErrSecretNotFound
	}
	if err != nil {
		return "", err
	}
	return aws.ToString(out.SecretString), nil
}

// Writer is the part of Secrets Manager the vault uses: writes and deletes, never a read of a value.
type Writer interface {
	CreateSecret(ctx context.Context, in *secretsmanager.CreateSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
	DeleteSecret(ctx context.Context, in *secretsmanager.DeleteSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
}

var _ Writer = (*secretsmanager.Client)(nil)

// Vault keeps each integration's key in its own secret, named <Prefix>/<tenant>/<account> and encrypted with the
// identity KMS key, which only the identity functions may use.
type Vault struct {
	Client Writer
	// Prefix starts every secret's name ("gangplank/identity"); the functions' grants are limited to it.
	Prefix string
	// KMSKeyID encrypts the secrets.
	KMSKeyID string
}

var _ identity.KeyVault = Vault{}

// NewVault returns the vault of the secrets named <prefix>/..., encrypted with kmsKeyID, over a Secrets Manager
// client built from the platform's configuration.
func NewVault(cfg aws.Config, prefix, kmsKeyID string) identity.KeyVault {
	return Vault{Client: secretsmanager.NewFromConfig(cfg), Prefix: prefix, KMSKeyID: kmsKeyID}
}

// SecretName names an integration's secret.
func (v Vault) SecretName(tenantID, accountID string) string {
	return v.Prefix + "/" + tenantID + "/" + accountID
}

// Store creates the secret, or puts the key as its current version when it exists (a key entered again).
func (v Vault) Store(ctx context.Context, tenantID, accountID string, k crossaccount.AccessKey) (string, error) {
	name := v.SecretName(tenantID, accountID)
	out, err := v.Client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(name), KmsKeyId: aws.String(v.KMSKeyID), SecretString: aws.String(k.SecretValue()),
		Description: aws.String("Gangplank IAM integration: the access key of an IAM user of account " + accountID),
		Tags:        []smtypes.Tag{{Key: aws.String("gangplank:tenant"), Value: aws.String(tenantID)}, {Key: aws.String("gangplank:account"), Value: aws.String(accountID)}},
	})
	var exists *smtypes.ResourceExistsException
	if errors.As(err, &exists) {
		put, err := v.Client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(k.SecretValue())})
		if err != nil {
			return "", err
		}
		return aws.ToString(put.ARN), nil
	}
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ARN), nil
}

// StagePending adds the key as the secret's AWSPENDING version; the current version stays in use.
func (v Vault) StagePending(ctx context.Context, secretARN string, k crossaccount.AccessKey) (string, error) {
	out, err := v.Client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(secretARN),
		SecretString: aws.String(k.SecretValue()), VersionStages: []string{crossaccount.StagePending}})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.VersionId), nil
}

// Promote moves AWSCURRENT to the pending version (and takes AWSPENDING off it).
func (v Vault) Promote(ctx context.Context, secretARN, versionID string) error {
	d, err := v.Client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretARN)})
	if err != nil {
		return err
	}
	current := ""
	for id, stages := range d.VersionIdsToStages {
		for _, st := range stages {
			if st == crossaccount.StageCurrent {
				current = id
			}
		}
	}
	if current != versionID {
		in := &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(secretARN), VersionStage: aws.String(crossaccount.StageCurrent),
			MoveToVersionId: aws.String(versionID)}
		if current != "" {
			in.RemoveFromVersionId = aws.String(current)
		}
		if _, err := v.Client.UpdateSecretVersionStage(ctx, in); err != nil {
			return err
		}
	}
	_, err = v.Client.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String(secretARN),
		VersionStage: aws.String(crossaccount.StagePending), RemoveFromVersionId: aws.String(versionID)})
	var offAlready *smtypes.InvalidParameterException
	if errors.As(err, &offAlready) {
		return nil // the label was already off
	}
	return err
}

// Delete deletes the secret at once: no recovery window, so no copy of the key outlives the integration.
func (v Vault) Delete(ctx context.Context, secretARN string) error {
	_, err := v.Client.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(secretARN), ForceDeleteWithoutRecovery: aws.Bool(true)})
	if missing(err) {
		return nil
	}
	return err
}

// missing reports Secrets Manager's answer for a secret, or a staged version of it, that does not exist.
func missing(err error) bool {
	var notFound *smtypes.ResourceNotFoundException
	return errors.As(err, &notFound)
}
