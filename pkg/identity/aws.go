package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/gangplank/gangplank/pkg/crossaccount"
)

// SecretsManager is the part of Secrets Manager the vault uses: writes and deletes, never a read of a value.
type SecretsManager interface {
	CreateSecret(ctx context.Context, in *secretsmanager.CreateSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
	DeleteSecret(ctx context.Context, in *secretsmanager.DeleteSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
}

var _ SecretsManager = (*secretsmanager.Client)(nil)

// SecretVault keeps each integration's key in its own secret, named <Prefix>/<tenant>/<account> and encrypted with
// the identity KMS key, which only the identity functions may use.
type SecretVault struct {
	Client SecretsManager
	// Prefix starts every secret's name ("gangplank/identity"); the functions' grants are limited to it.
	Prefix string
	// KMSKeyID encrypts the secrets.
	KMSKeyID string
}

var _ KeyVault = SecretVault{}

// SecretName names an integration's secret.
func (v SecretVault) SecretName(tenantID, accountID string) string {
	return v.Prefix + "/" + tenantID + "/" + accountID
}

// Store creates the secret, or puts the key as its current version when it exists (a key entered again).
func (v SecretVault) Store(ctx context.Context, tenantID, accountID string, k crossaccount.AccessKey) (string, error) {
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
func (v SecretVault) StagePending(ctx context.Context, secretARN string, k crossaccount.AccessKey) (string, error) {
	out, err := v.Client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(secretARN),
		SecretString: aws.String(k.SecretValue()), VersionStages: []string{crossaccount.StagePending}})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.VersionId), nil
}

// Promote moves AWSCURRENT to the pending version (and takes AWSPENDING off it).
func (v SecretVault) Promote(ctx context.Context, secretARN, versionID string) error {
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
	var missing *smtypes.InvalidParameterException
	if errors.As(err, &missing) {
		return nil // the label was already off
	}
	return err
}

// Delete deletes the secret at once: no recovery window, so no copy of the key outlives the integration.
func (v SecretVault) Delete(ctx context.Context, secretARN string) error {
	_, err := v.Client.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(secretARN), ForceDeleteWithoutRecovery: aws.Bool(true)})
	var missing *smtypes.ResourceNotFoundException
	if errors.As(err, &missing) {
		return nil
	}
	return err
}

// SchedulerAPI is the part of EventBridge Scheduler the delayed deletions use.
type SchedulerAPI interface {
	CreateSchedule(ctx context.Context, in *scheduler.CreateScheduleInput, optFns ...func(*scheduler.Options)) (*scheduler.CreateScheduleOutput, error)
	DeleteSchedule(ctx context.Context, in *scheduler.DeleteScheduleInput, optFns ...func(*scheduler.Options)) (*scheduler.DeleteScheduleOutput, error)
}

var _ SchedulerAPI = (*scheduler.Client)(nil)

// Schedules creates one-time schedules (at(...), UTC) in the identity schedule group that put a message on the
// identity queue, and delete themselves once they ran.
type Schedules struct {
	Client SchedulerAPI
	Group  string
	// RoleARN is the role the scheduler assumes to send to the queue (QueueARN).
	RoleARN, QueueARN string
}

var _ Scheduler = Schedules{}

// ScheduleDeletion schedules m at at. A schedule of the same name already there is the same deletion (a retry).
func (s Schedules) ScheduleDeletion(ctx context.Context, name string, at time.Time, m Message) error {
	body, err := jsonString(m)
	if err != nil {
		return err
	}
	_, err = s.Client.CreateSchedule(ctx, &scheduler.CreateScheduleInput{
		Name: aws.String(name), GroupName: aws.String(s.Group),
		ScheduleExpression:         aws.String("at(" + at.UTC().Format("2006-01-02T15:04:05") + ")"),
		ScheduleExpressionTimezone: aws.String("UTC"),
		FlexibleTimeWindow:         &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		ActionAfterCompletion:      schedtypes.ActionAfterCompletionDelete,
		Description:                aws.String(fmt.Sprintf("Gangplank: delete offboarded IAM user %s of account %s", m.UserName, m.AccountID)),
		Target: &schedtypes.Target{Arn: aws.String(s.QueueARN), RoleArn: aws.String(s.RoleARN), Input: aws.String(body),
			RetryPolicy: &schedtypes.RetryPolicy{MaximumRetryAttempts: aws.Int32(10), MaximumEventAgeInSeconds: aws.Int32(86400)}},
	})
	var conflict *schedtypes.ConflictException
	if errors.As(err, &conflict) {
		return nil
	}
	return err
}

// Cancel deletes a schedule (gone already: nothing to cancel).
func (s Schedules) Cancel(ctx context.Context, name string) error {
	_, err := s.Client.DeleteSchedule(ctx, &scheduler.DeleteScheduleInput{Name: aws.String(name), GroupName: aws.String(s.Group)})
	var missing *schedtypes.ResourceNotFoundException
	if errors.As(err, &missing) {
		return nil
	}
	return err
}

// ErrSchedulerNotWired: a function without the scheduler in its wiring tried to schedule a deletion.
var ErrSchedulerNotWired = errors.New("EventBridge Scheduler is not in this function's wiring (platform.Needs.Scheduler)")

// UnwiredScheduler is the scheduler of a function that schedules nothing.
type UnwiredScheduler struct{}

// ScheduleDeletion refuses.
func (UnwiredScheduler) ScheduleDeletion(context.Context, string, time.Time, Message) error {
	return ErrSchedulerNotWired
}

// Cancel refuses.
func (UnwiredScheduler) Cancel(context.Context, string) error { return ErrSchedulerNotWired }

// ErrKeysNotWired: a function without the identity keys in its wiring tried to store or delete one.
var ErrKeysNotWired = errors.New("the identity keys are not in this function's wiring (platform.Needs.IdentityKeys)")

// UnwiredVault is the vault of a function that stores no keys.
type UnwiredVault struct{}

func (UnwiredVault) Store(context.Context, string, string, crossaccount.AccessKey) (string, error) {
	return "", ErrKeysNotWired
}
func (UnwiredVault) StagePending(context.Context, string, crossaccount.AccessKey) (string, error) {
	return "", ErrKeysNotWired
}
func (UnwiredVault) Promote(context.Context, string, string) error { return ErrKeysNotWired }
func (UnwiredVault) Delete(context.Context, string) error          { return ErrKeysNotWired }
