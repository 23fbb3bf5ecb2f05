package stack

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsschedulertargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/gangplank/gangplank/pkg/platform"
)

// The IAM integrations (pkg/identity): a KMS key of their own for the access keys customers hand over (one secret
// per integration, named <prefix>/identity/<tenant>/<account>), which only the identity functions may use; the
// identity queue and its worker; the schedule group of delayed user deletions and the role through which
// EventBridge Scheduler sends them to the queue; and the daily sync.
type identityResources struct {
	key           awskms.Key
	scheduleRole  awsiam.Role
	scheduleGroup awsscheduler.ScheduleGroup
}

func (m *mainStack) secretPrefix() string  { return m.cfg.Prefix + "/identity" }
func (m *mainStack) scheduleGroup() string { return m.cfg.Prefix + "-identity" }

// buildIdentity creates what the identity functions' configuration names; it runs before the functions.
func (m *mainStack) buildIdentity() {
	s := m.stack
	m.identity.key = awskms.NewKey(s, jsii.String("IdentityKey"), &awskms.KeyProps{
		Alias: jsii.String("alias/" + m.cfg.Prefix + "-identity"), EnableKeyRotation: jsii.Bool(true),
		Description:   jsii.String("Encrypts the IAM integrations' access keys (Secrets Manager); only the identity functions may use it"),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	m.queues[platform.IdentityQueue.ID] = m.buildQueue("Identity", "identity", 6*600, 5,
		"IAM integration work (a sync, a rotation, a scheduled deletion) failed five times")
	m.identity.scheduleGroup = awsscheduler.NewScheduleGroup(s, jsii.String("IdentitySchedules"), &awsscheduler.ScheduleGroupProps{
		ScheduleGroupName: jsii.String(m.scheduleGroup()), RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	m.identity.scheduleRole = awsiam.NewRole(s, jsii.String("IdentityScheduler"), &awsiam.RoleProps{
		Description: jsii.String("EventBridge Scheduler sends the delayed deletions of offboarded IAM users to the identity queue"),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}},
		}),
	})
	m.queues[platform.IdentityQueue.ID].GrantSendMessages(m.identity.scheduleRole)
}

// identityEnvironment is what platform.LoadConfig reads for the IAM integrations' keys and schedules.
func (m *mainStack) identityEnvironment(n platform.Needs, env map[string]*string) {
	if n.IdentityKeys == platform.ReadWrite {
		env["IDENTITY_SECRET_PREFIX"] = jsii.String(m.secretPrefix())
		env["IDENTITY_KMS_KEY_ID"] = m.identity.key.KeyArn()
	}
	if n.Scheduler {
		env["IDENTITY_SCHEDULE_GROUP"] = jsii.String(m.scheduleGroup())
		env["IDENTITY_SCHEDULE_ROLE_ARN"] = m.identity.scheduleRole.RoleArn()
		env["IDENTITY_QUEUE_ARN"] = m.queues[platform.IdentityQueue.ID].QueueArn()
	}
}

// grantIdentity gives a function what its wiring declares of the IAM integrations: reading the keys' secrets
// (their name prefix only) and decrypting them, or also creating, versioning and deleting them; and creating and
// deleting the schedules of its group, handing them the scheduler's role.
func (m *mainStack) grantIdentity(fn awslambda.Function, n platform.Needs) {
	secrets := fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s/*", *awscdk.Aws_PARTITION(), *awscdk.Aws_REGION(), *awscdk.Aws_ACCOUNT_ID(), m.secretPrefix())
	switch n.IdentityKeys {
	case platform.Read:
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Effect: awsiam.Effect_ALLOW,
			Actions: jsii.Strings("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"), Resources: jsii.Strings(secrets)}))
		m.identity.key.GrantDecrypt(fn)
	case platform.ReadWrite:
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Effect: awsiam.Effect_ALLOW,
			Actions: jsii.Strings("secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret",
				"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:TagResource", "secretsmanager:UpdateSecretVersionStage"),
			Resources: jsii.Strings(secrets)}))
		m.identity.key.GrantEncryptDecrypt(fn)
	}
	if n.Scheduler {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Effect: awsiam.Effect_ALLOW,
			Actions:   jsii.Strings("scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule"),
			Resources: jsii.Strings(fmt.Sprintf("arn:%s:scheduler:%s:%s:schedule/%s/*", *awscdk.Aws_PARTITION(), *awscdk.Aws_REGION(), *awscdk.Aws_ACCOUNT_ID(), m.scheduleGroup()))}))
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Effect: awsiam.Effect_ALLOW,
			Actions: jsii.Strings("iam:PassRole"), Resources: jsii.Strings(*m.identity.scheduleRole.RoleArn()),
			Conditions: &map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "scheduler.amazonaws.com"}}}))
	}
}

// buildIdentityWork wires the worker to its queue (bounded concurrency: customers' IAM allows a few requests per
// second) and the daily sync at 03:00 UTC.
func (m *mainStack) buildIdentityWork() {
	m.Functions["identity-worker"].AddEventSource(awslambdaeventsources.NewSqsEventSource(m.queues[platform.IdentityQueue.ID], &awslambdaeventsources.SqsEventSourceProps{
		BatchSize: jsii.Number(1), ReportBatchItemFailures: jsii.Bool(true), MaxConcurrency: jsii.Number(5),
	}))
	awsscheduler.NewSchedule(m.stack, jsii.String("DailyIdentitySync"), &awsscheduler.ScheduleProps{
		Description: jsii.String("Daily sync of every IAM integration and rotation of the keys due (03:00 UTC)"),
		Schedule:    awsscheduler.ScheduleExpression_Cron(&awsscheduler.CronOptionsWithTimezone{Minute: jsii.String("0"), Hour: jsii.String("3")}),
		Target: awsschedulertargets.NewLambdaInvoke(m.Functions["identity-scheduler"], &awsschedulertargets.ScheduleTargetBaseProps{
			RetryAttempts: jsii.Number(2), MaxEventAge: awscdk.Duration_Hours(jsii.Number(1)),
		}),
	})
}

// buildQueue is a work queue with a dead-letter queue after maxReceives receives (alarmed), encrypted with the data
// key.
func (m *mainStack) buildQueue(id, name string, visibilitySeconds float64, maxReceives int, what string) awssqs.Queue {
	dlq := awssqs.NewQueue(m.stack, jsii.String(id+"DeadLetters"), &awssqs.QueueProps{
		QueueName: jsii.String(m.cfg.Prefix + "-" + name + "-dlq"), Encryption: awssqs.QueueEncryption_KMS, EncryptionMasterKey: m.key,
		EnforceSSL: jsii.Bool(true), RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	m.alarm(id+"DeadLetters", dlq.MetricApproximateNumberOfMessagesVisible(nil), what+": read it from "+m.cfg.Prefix+"-"+name+"-dlq")
	return awssqs.NewQueue(m.stack, jsii.String(id), &awssqs.QueueProps{
		QueueName: jsii.String(m.cfg.Prefix + "-" + name), Encryption: awssqs.QueueEncryption_KMS, EncryptionMasterKey: m.key,
		EnforceSSL: jsii.Bool(true), VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(visibilitySeconds)),
		DeadLetterQueue: &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(maxReceives)},
	})
}
