package devserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/platform/awsadapters"
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
	// IdentityQueueURL is the IAM integrations' work queue (the identity worker consumes it: ServeFunctions).
	IdentityQueueURL string
	// DiscoveryQueueURL is the queue of discovery jobs' steps, with a dead-letter queue after
	// discovery.MaxDeliveries receives (the discovery worker consumes it: ServeFunctions). Config sends to it.
	DiscoveryQueueURL string
	// InventoryQueueURL is the inventory's work (plans, scans, summaries, write-backs), with a dead-letter queue.
	InventoryQueueURL string
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
	if p.CostSyncQueueURL, _, err = createQueue(ctx, queues, prefix+"-costsync", 5); err != nil {
		return Provisioned{}, fmt.Errorf("create the cost sync queue: %w", err)
	}
	if p.DiscoveryQueueURL, _, err = createQueue(ctx, queues, prefix+"-discovery", discovery.MaxDeliveries); err != nil {
		return Provisioned{}, fmt.Errorf("create the discovery queue: %w", err)
	}
	if p.InventoryQueueURL, _, err = createQueue(ctx, queues, prefix+"-inventory", 5); err != nil {
		return Provisioned{}, fmt.Errorf("create the inventory queue: %w", err)
	}
	identityQueueARN := ""
	if p.IdentityQueueURL, identityQueueARN, err = createQueue(ctx, queues, prefix+"-identity", 5); err != nil {
		return Provisioned{}, fmt.Errorf("create the identity queue: %w", err)
	}
	identity, err := provisionIdentity(ctx, awsCfg, prefix, identityQueueARN)
	if err != nil {
		return Provisioned{}, err
	}

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
		QueueURLs:        map[string]string{platform.DiscoveryQueue.ID: p.DiscoveryQueueURL},
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
		Identity: identity,
	}
	return p, nil
}

// createQueue creates a queue with a dead-letter queue that takes a message after maxReceives receives, as the CDK
// stack does, and returns the queue's URL and ARN.
func createQueue(ctx context.Context, queues *sqs.Client, name string, maxReceives int) (string, string, error) {
	arnOf := func(url *string) (string, error) {
		attrs, err := queues.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: url,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			return "", err
		}
		return attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
	}
	dlq, err := queues.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	if err != nil {
		return "", "", err
	}
	dlqARN, err := arnOf(dlq.QueueUrl)
	if err != nil {
		return "", "", err
	}
	redrive, _ := json.Marshal(map[string]string{"deadLetterTargetArn": dlqARN, "maxReceiveCount": strconv.Itoa(maxReceives)})
	q, err := queues.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name),
		Attributes: map[string]string{string(sqstypes.QueueAttributeNameRedrivePolicy): string(redrive)}})
	if err != nil {
		return "", "", err
	}
	qARN, err := arnOf(q.QueueUrl)
	return aws.ToString(q.QueueUrl), qARN, err
}

// provisionIdentity creates what the IAM integrations use, as the CDK stack does: the KMS key that encrypts their
// keys' secrets, the schedule group of delayed deletions, and the role the scheduler assumes to send to the
// identity queue.
func provisionIdentity(ctx context.Context, awsCfg aws.Config, prefix, queueARN string) (platform.IdentityConfig, error) {
	key, err := kms.NewFromConfig(awsCfg).CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("Gangplank " + prefix + ": IAM integration keys")})
	if err != nil {
		return platform.IdentityConfig{}, fmt.Errorf("create the identity KMS key: %w", err)
	}
	group := prefix + "-identity"
	if _, err := scheduler.NewFromConfig(awsCfg).CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{Name: aws.String(group)}); err != nil {
		return platform.IdentityConfig{}, fmt.Errorf("create the identity schedule group: %w", err)
	}
	trust, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": map[string]string{"Service": "scheduler.amazonaws.com"},
	}}})
	client := iam.NewFromConfig(awsCfg)
	role, err := client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(prefix + "-identity-scheduler"), AssumeRolePolicyDocument: aws.String(string(trust))})
	if err != nil {
		return platform.IdentityConfig{}, fmt.Errorf("create the identity scheduler role: %w", err)
	}
	send, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queueARN,
	}}})
	if _, err := client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: role.Role.RoleName, PolicyName: aws.String("SendToIdentityQueue"),
		PolicyDocument: aws.String(string(send))}); err != nil {
		return platform.IdentityConfig{}, err
	}
	return platform.IdentityConfig{SecretPrefix: prefix + "/identity", KMSKeyID: aws.ToString(key.KeyMetadata.Arn), ScheduleGroup: group,
		ScheduleRoleARN: aws.ToString(role.Role.Arn), QueueARN: queueARN}, nil
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
	// DiscoveryTimeout is the discovery worker's timeout (the CDK stack's: 15 minutes), which each step's budget
	// keeps within.
	DiscoveryTimeout time.Duration
}

// ServeFunctions runs the platform's event-driven functions in-process as the CDK stack deploys them: the callback
// subscribed to the callback topic of every region, and the cost sync, discovery, identity and inventory workers consuming their
// queues. Each is built from its own wiring (platform.Callback, platform.CostSyncWorker, platform.DiscoveryWorker,
// platform.IdentityWorker, platform.InventoryWorker) over the part of cfg it is given, so a function that reaches beyond its wiring fails here
// as it would in the cloud. It returns what stops the consumers.
func ServeFunctions(ctx context.Context, env *localaws.Env, awsCfg aws.Config, p Provisioned, cfg platform.Config, name string, o FunctionOptions) (func(), error) {
	cfg.QueueURLs = map[string]string{platform.CostSyncQueue.ID: p.CostSyncQueueURL, platform.IdentityQueue.ID: p.IdentityQueueURL,
		platform.DiscoveryQueue.ID: p.DiscoveryQueueURL, platform.InventoryQueue.ID: p.InventoryQueueURL}
	build := func(fn platform.Function) *platform.Builder {
		b := platform.NewBuilder(awsCfg, cfg.For(fn.Needs), fn.Needs, awsadapters.All(), time.Now)
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
	stopCosts := env.SubscribeQueue(localaws.SQSSubscription{QueueURL: p.CostSyncQueueURL, Name: name + "-costsync-worker",
		Handler: worker.HandleSQS, Timeout: 5 * time.Minute})
	identity := build(platform.IdentityWorker).Identity()
	stopIdentity := env.SubscribeQueue(localaws.SQSSubscription{QueueURL: p.IdentityQueueURL, Name: name + "-identity-worker",
		Handler: identity.HandleSQS, Timeout: 10 * time.Minute})
	discoverer := build(platform.DiscoveryWorker).Discovery()
	timeout := o.DiscoveryTimeout
	if timeout == 0 {
		timeout = 15 * time.Minute
	}
	stopDiscovery := env.SubscribeQueue(localaws.SQSSubscription{QueueURL: p.DiscoveryQueueURL, Name: name + "-discovery-worker",
		Handler: discoverer.HandleSQS, Timeout: timeout})
	inventory := build(platform.InventoryWorker).Inventory()
	stopInventory := env.SubscribeQueue(localaws.SQSSubscription{QueueURL: p.InventoryQueueURL, Name: name + "-inventory-worker",
		Handler: inventory.HandleSQS, Timeout: 15 * time.Minute})
	return func() { stopInventory(); stopDiscovery(); stopCosts(); stopIdentity() }, nil
}
