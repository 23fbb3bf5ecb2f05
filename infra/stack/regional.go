package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"
)

// newCallbackStack is the callback topic of one region, which customers' onboarding stacks in that region use as
// their custom resource's ServiceToken and NotificationARNs, subscribed by the callback function in the home
// region, with a dead-letter queue for deliveries SNS gives up on.
//
// Publishing is open to any AWS principal (customers' accounts are not known in advance), for sns:Publish on this
// topic only, over TLS only. What arrives is not trusted: the callback accepts a request only with a single-use
// activation token bound to the tenant and account, from a stack in that account, and answers only to
// CloudFormation's response URLs. The topic is encrypted with a key of this stack whose policy lets any principal
// use it only through SNS in this region and only for this topic (the aws:sns:topicArn encryption context): an
// AWS-managed key (alias/aws/sns) would refuse publishers from other accounts.
func newCallbackStack(app awscdk.App, cfg Config, region string) awscdk.Stack {
	s := awscdk.NewStack(app, jsii.String("GangplankCallback-"+region), &awscdk.StackProps{
		StackName:   jsii.String(cfg.Prefix + "-callback-" + region),
		Env:         env(cfg, region),
		Description: jsii.String("Gangplank: the onboarding callback topic of " + region),
	})
	topicARN := callbackTopicARN(s, cfg, region)
	key := awskms.NewKey(s, jsii.String("TopicKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts Gangplank's callback topic and alarm topic in " + region),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("PublishersUseTheKeyThroughSnsForTheCallbackTopicOnly"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewStarPrincipal()},
		Actions:    jsii.Strings("kms:GenerateDataKey*", "kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{
			"kms:ViaService":                         "sns." + region + ".amazonaws.com",
			"kms:EncryptionContext:aws:sns:topicArn": topicARN,
		}},
	}), nil)
	allowCloudWatch(s, key)

	topic := awssns.NewTopic(s, jsii.String("CallbackTopic"), &awssns.TopicProps{
		TopicName:   jsii.String(callbackTopicName(cfg)),
		DisplayName: jsii.String("Gangplank onboarding"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CustomersCloudFormationPublishes"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
	}))

	dlq := newQueue(s, "CallbackDeliveryDLQ", nil)
	callbackARN := awscdk.Arn_Format(&awscdk.ArnComponents{
		Service: jsii.String("lambda"), Region: jsii.String(cfg.Region), Resource: jsii.String("function"),
		ResourceName: jsii.String(cfg.Prefix + "-callback"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	}, s)
	awssns.NewSubscription(s, jsii.String("CallbackSubscription"), &awssns.SubscriptionProps{
		Topic: topic, Protocol: awssns.SubscriptionProtocol_LAMBDA, Endpoint: callbackARN, DeadLetterQueue: dlq,
	})

	alarms := newAlarmTopicWithKey(s, cfg, key)
	alarm(s, alarms, "CallbackDeliveryDLQDepth", dlq.MetricApproximateNumberOfMessagesVisible(period()),
		"SNS could not deliver callback messages in "+region+" to the callback function")

	awscdk.NewCfnOutput(s, jsii.String("CallbackTopicArn"), &awscdk.CfnOutputProps{Value: topic.TopicArn()})
	awscdk.NewCfnOutput(s, jsii.String("AlarmTopicArn"), &awscdk.CfnOutputProps{Value: alarms.TopicArn()})
	return s
}

// newAlarmTopic is the platform stack's alarm topic, with its own key.
func newAlarmTopic(s awscdk.Stack, cfg Config) awssns.Topic {
	key := awskms.NewKey(s, jsii.String("AlarmKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts Gangplank's alarm topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	allowCloudWatch(s, key)
	return newAlarmTopicWithKey(s, cfg, key)
}

// allowCloudWatch lets this account's CloudWatch alarms publish to topics encrypted with key.
func allowCloudWatch(s awscdk.Stack, key awskms.Key) {
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsOfThisAccount"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:GenerateDataKey*", "kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": *s.Account()}},
	}), nil)
}

// newAlarmTopicWithKey is an encrypted, TLS-only topic that this account's alarms publish to, and that mails
// cfg.AlarmEmail when set.
func newAlarmTopicWithKey(s awscdk.Stack, cfg Config, key awskms.Key) awssns.Topic {
	topic := awssns.NewTopic(s, jsii.String("Alarms"), &awssns.TopicProps{
		DisplayName: jsii.String("Gangplank alarms"), MasterKey: key, EnforceSSL: jsii.Bool(true),
	})
	// The stack's own topic policy replaces SNS's default one, so CloudWatch must be allowed explicitly.
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsOfThisAccount"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
		Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": *s.Account()}},
	}))
	if cfg.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlarmEmail), nil))
	}
	return topic
}

func snsAction(topic awssns.ITopic) awscloudwatchactions.SnsAction {
	return awscloudwatchactions.NewSnsAction(topic)
}
