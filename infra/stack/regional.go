package stack

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// newCallbackRegion is one callback region: the topic onboarding stacks in this region name as their custom
// resource's ServiceToken and as their NotificationARNs, subscribed by the callback function (in the main region)
// with a dead-letter queue, and an alarm when messages land there.
//
// Who may publish: customers' accounts are not known in advance, so any principal may publish, over TLS only. That is
// safe because the callback trusts nothing in a message: it answers only CloudFormation's own presigned ResponseURLs,
// checks the single-use activation token, and verifies the role by assuming it with the tenant's External ID.
func newCallbackRegion(s awscdk.Stack, cfg Config, region string) {
	key := awskms.NewKey(s, jsii.String("TopicKey"), &awskms.KeyProps{
		EnableKeyRotation: jsii.Bool(true), Description: jsii.String("Encrypts Gangplank's callback topic and its dead letters in " + region),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	// Publishers in customers' accounts need the key through SNS (and only through SNS); a KMS key's policy can say
	// so, where the AWS managed SNS key cannot.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("PublishersUseTheKeyThroughSnsOnly"), Effect: awsiam.Effect_ALLOW,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()}, Actions: jsii.Strings("kms:GenerateDataKey*", "kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": "sns." + region + ".amazonaws.com"}},
	}), jsii.Bool(false))
	for _, svc := range []string{"sns.amazonaws.com", "cloudwatch.amazonaws.com", "cloudformation.amazonaws.com"} {
		key.GrantEncryptDecrypt(awsiam.NewServicePrincipal(jsii.String(svc), nil))
	}

	topic := awssns.NewTopic(s, jsii.String("Callback"), &awssns.TopicProps{
		TopicName: jsii.String(callbackTopicName(cfg.Prefix)), MasterKey: key, EnforceSSL: jsii.Bool(true),
		DisplayName: jsii.String("Gangplank onboarding callback"),
	})
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("CustomersCloudFormationPublishes"), Effect: awsiam.Effect_ALLOW,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal(), awsiam.NewServicePrincipal(jsii.String("cloudformation.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"), Resources: jsii.Strings(*topic.TopicArn()),
	}))

	dlq := awssqs.NewQueue(s, jsii.String("CallbackDeadLetters"), &awssqs.QueueProps{
		QueueName: jsii.String(cfg.Prefix + "-callback-dlq"), Encryption: awssqs.QueueEncryption_KMS, EncryptionMasterKey: key,
		EnforceSSL: jsii.Bool(true), RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	dlq.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Effect: awsiam.Effect_ALLOW, Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("sns.amazonaws.com"), nil)},
		Actions: jsii.Strings("sqs:SendMessage"), Resources: jsii.Strings(*dlq.QueueArn()),
		Conditions: &map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": *topic.TopicArn()}},
	}))
	awssns.NewCfnSubscription(s, jsii.String("CallbackFunction"), &awssns.CfnSubscriptionProps{
		TopicArn: topic.TopicArn(), Protocol: jsii.String("lambda"),
		Endpoint: jsii.String(fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", cfg.Region, *awscdk.Aws_ACCOUNT_ID(), callbackFunctionName(cfg.Prefix))),
		Region:   jsii.String(region), RedrivePolicy: map[string]any{"deadLetterTargetArn": dlq.QueueArn()},
	})

	// CloudWatch alarms notify topics of their own region only.
	alarms := awssns.NewTopic(s, jsii.String("Alarms"), &awssns.TopicProps{
		TopicName: jsii.String(cfg.Prefix + "-alarms"), MasterKey: key, EnforceSSL: jsii.Bool(true),
	})
	if cfg.AlarmEmail != "" {
		alarms.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlarmEmail), nil))
	}
	alarmOn(s, alarms, "CallbackDeadLetters", dlq.MetricApproximateNumberOfMessagesVisible(nil),
		"onboarding callbacks in "+region+" failed every delivery: read them from "+cfg.Prefix+"-callback-dlq")
	awscdk.NewCfnOutput(s, jsii.String("CallbackTopicArn"), &awscdk.CfnOutputProps{Value: topic.TopicArn()})
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
