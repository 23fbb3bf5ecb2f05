package devserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/tables"
	"github.com/gangplank/gangplank/statemachines"
)

// Provisioned is what Provision created: the platform's configuration and the names behind it.
type Provisioned struct {
	Config         platform.Config
	Tables         tables.Names
	ConnectorRole  string
	TemplateBucket string
	// TopicARNs maps each served region to its callback topic.
	TopicARNs map[string]string
	// ActivationFunction is the name under which the bulk activation task function must be registered
	// (RegisterActivation does it).
	ActivationFunction string
	// CostSyncQueueURL is the queue of payers to sync, with a dead-letter queue after five receives (the worker
	// consumes it: ServeFunctions).
	CostSyncQueueURL string
}

// Provision creates in the local AWS what the CDK stack creates in the cloud: the tables, the connector role (the
// one principal customers' roles trust, allowed only sts:AssumeRole on Gangplank* roles), a callback topic in every
// served region, and the template bucket holding the onboarding template. Names start with prefix, so several
// platforms (one per test) can share one local AWS.
func Provision(ctx context.Context, env *localaws.Env, awsCfg aws.Config, prefix string, regions []string) (Provisioned, error) {
	names, err := localaws.CreateTables(ctx, dynamodb.NewFromConfig(awsCfg), prefix)
	if err != nil {
		return Provisioned{}, err
	}
	p := Provisioned{Tables: names, TemplateBucket: strings.ToLower(prefix) + "-templates", TopicARNs: map[string]string{}}

	role, err := createConnectorRole(ctx, iam.NewFromConfig(awsCfg), prefix+"-connector")
	if err != nil {
		return Provisioned{}, err
	}
	p.ConnectorRole = role

	topicName := prefix + "-onboarding"
	for _, region := range regions {
		out, err := sns.NewFromConfig(awsCfg, func(o *sns.Options) { o.Region = region }).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(topicName)})
		if err != nil {
			return Provisioned{}, fmt.Errorf("create the callback topic in %s: %w", region, err)
		}
		p.TopicARNs[region] = aws.ToString(out.TopicArn)
	}

	s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(p.TemplateBucket)}); err != nil {
		return Provisioned{}, fmt.Errorf("create the template bucket: %w", err)
	}
	key := "onboarding/" + onboarding.TemplateVersion + "/onboarding.yaml"
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(p.TemplateBucket), Key: aws.String(key),
		Body: bytes.NewReader(onboarding.Template), ContentType: aws.String("application/x-yaml")}); err != nil {
		return Provisioned{}, fmt.Errorf("upload the onboarding template: %w", err)
	}

	queues := sqs.NewFromConfig(awsCfg)
	dlq, err := queues.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(prefix + "-costsync-dlq")})
	if err != nil {
		return Provisioned{}, fmt.Errorf("create the cost sync dead-letter queue: %w", err)
	}
	dlqAttrs, err := queues.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return Provisioned{}, err
	}
	redrive, _ := json.Marshal(map[string]string{"deadLetterTargetArn": dlqAttrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], "maxReceiveCount": "5"})
	q, err := queues.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(prefix + "-costsync"),
		Attributes: map[string]string{string(sqstypes.QueueAttributeNameRedrivePolicy): string(redrive)}})
	if err != nil {
		return Provisioned{}, fmt.Errorf("create the cost sync queue: %w", err)
	}
	p.CostSyncQueueURL = aws.ToString(q.QueueUrl)

	p.ActivationFunction = prefix + "-activation"
	definition := statemachines.Substitute(statemachines.BulkActivation, map[string]string{
		"ActivationFunctionArn": fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", localaws.Region, localaws.PlatformAccountID, p.ActivationFunction),
		"AccountsTableName":     names.Accounts()})
	sm, err := sfn.NewFromConfig(awsCfg).CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(prefix + "-bulk-activation"),
		Definition: aws.String(definition), RoleArn: aws.String(role)})
	if err != nil {
		return Provisioned{}, fmt.Errorf("create the bulk activation state machine: %w", err)
	}

	p.Config = platform.Config{
		StateMachineARN:  aws.ToString(sm.StateMachineArn),
		Tables:           names,
		ConnectorRoleARN: role,
		Onboarding: onboarding.Config{
			TemplateURL:          env.Endpoint + "/" + p.TemplateBucket + "/" + key,
			PlatformPrincipal:    role,
			CallbackTopicPattern: fmt.Sprintf("arn:aws:sns:{region}:%s:%s", localaws.PlatformAccountID, topicName),
			ConsoleURL:           env.ConsoleURL(),
			LocalConsole:         true,
			LinkTTL:              onboarding.DefaultLinkTTL,
			// The local AWS serves CloudFormation's response buckets path-style on its edge, as S3 does.
			ResponseEndpoint: env.Endpoint,
		},
	}
	return p, nil
}

func createConnectorRole(ctx context.Context, client *iam.Client, name string) (string, error) {
	trust, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect": "Allow", "Action": "sts:AssumeRole",
		"Principal": map[string]string{"AWS": "arn:aws:iam::" + localaws.PlatformAccountID + ":root"},
	}}})
	out, err := client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(string(trust)),
		Description: aws.String("Gangplank's connector: the one principal customers' roles trust")})
	if err != nil {
		return "", fmt.Errorf("create the connector role: %w", err)
	}
	policy, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/" + crossaccount.RolePrefix + "*",
	}}})
	if _, err := client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("AssumeGangplankRolesOnly"),
		PolicyDocument: aws.String(string(policy))}); err != nil {
		return "", fmt.Errorf("grant the connector role: %w", err)
	}
	return aws.ToString(out.Role.Arn), nil
}

// LocalRegions are the regions the local platform serves: every region Gangplank supports.
func LocalRegions() []string { return awsid.Regions() }

// RegisterActivation serves the bulk activation workflow's task function in-process, as Lambda does in the cloud.
func RegisterActivation(env *localaws.Env, p Provisioned, s *platform.Services) {
	env.RegisterLambda(p.ActivationFunction, 5*time.Minute, func(ctx context.Context, payload json.RawMessage) (any, error) {
		var b activation.Batch
		if err := json.Unmarshal(payload, &b); err != nil {
			return nil, err
		}
		return s.Activation.Handle(ctx, b)
	})
}

// FunctionOptions tune the functions ServeFunctions runs.
type FunctionOptions struct {
	// CallbackTimeout is the callback function's timeout (the CDK stack's: 120 s).
	CallbackTimeout time.Duration
	// ExtraDeliveries delivers every callback message this many more times (SNS delivers at least once).
	ExtraDeliveries int
	// RetryDelay is the wait before the callback's retries (AWS: a minute or two).
	RetryDelay time.Duration
	// Tune adjusts each function's parts before it serves (tests shorten retries).
	Tune func(*platform.Builder)
}

// ServeFunctions runs the platform's event-driven functions in-process as the CDK stack deploys them: the callback
// subscribed to the callback topic of every region, and the cost sync worker consuming its queue. Each is built
// from its own wiring (platform.Callback, platform.CostSyncWorker) over the part of cfg it is given, so a function
// that reaches beyond its wiring fails here as it would in the cloud. It returns what stops the consumers.
func ServeFunctions(ctx context.Context, env *localaws.Env, awsCfg aws.Config, p Provisioned, cfg platform.Config, name string, o FunctionOptions) (func(), error) {
	cfg.QueueURLs = map[string]string{platform.CostSyncQueue.ID: p.CostSyncQueueURL}
	build := func(fn platform.Function) *platform.Builder {
		b := platform.NewBuilder(awsCfg, cfg.For(fn.Needs), fn.Needs, time.Now)
		if o.Tune != nil {
			o.Tune(b)
		}
		return b
	}
	callback := build(platform.Callback).Onboarding()
	for region, topic := range p.TopicARNs {
		if _, err := env.SubscribeLambda(ctx, localaws.SNSSubscription{TopicARN: topic, Name: name + "-callback-" + region,
			Handler: callback.HandleSNS, Timeout: o.CallbackTimeout, ExtraDeliveries: o.ExtraDeliveries, RetryDelay: o.RetryDelay}); err != nil {
			return nil, err
		}
	}
	worker := build(platform.CostSyncWorker).CostSync()
	return env.SubscribeQueue(localaws.SQSSubscription{QueueURL: p.CostSyncQueueURL, Name: name + "-costsync-worker",
		Handler: worker.HandleSQS, Timeout: 5 * time.Minute}), nil
}
