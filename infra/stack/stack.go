// Package stack is Gangplank's CDK app: a main stack (API, functions, tables, template bucket, secrets, alarms) in
// the platform's region, and one small stack per callback region (the topic customers' stacks notify, its
// dead-letter queue and alarm), since a custom resource's ServiceToken must be in the customer stack's region.
package stack

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsschedulertargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/httpapi/spec"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/tables"
)

// Gangplank is the synthesized app's stacks and the constructs tests look at.
type Gangplank struct {
	Main      awscdk.Stack
	Regional  map[string]awscdk.Stack
	Functions map[string]awslambda.Function
	Config    Config
}

// New adds Gangplank's stacks to app.
func New(app awscdk.App, cfg Config) (*Gangplank, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	// Server access logs are delivered under a bucket policy, not the legacy LogDeliveryWrite ACL (which needs ACLs
	// enabled on the log bucket).
	app.Node().SetContext(jsii.String("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"), true)
	env := func(region string) *awscdk.Environment {
		e := &awscdk.Environment{Region: jsii.String(region)}
		if cfg.Account != "" {
			e.Account = jsii.String(cfg.Account)
		}
		return e
	}
	main := awscdk.NewStack(app, jsii.String(stackName(cfg.Prefix)), &awscdk.StackProps{Env: env(cfg.Region),
		Description: jsii.String("Gangplank: connects customers' AWS accounts to the platform (API, functions, data)")})
	g := &Gangplank{Main: main, Regional: map[string]awscdk.Stack{}, Functions: map[string]awslambda.Function{}, Config: cfg}
	m := &mainStack{Gangplank: g, stack: main, cfg: cfg}
	if err := m.build(); err != nil {
		return nil, err
	}
	for _, region := range cfg.CallbackRegions {
		rs := awscdk.NewStack(app, jsii.String(stackName(cfg.Prefix)+"-callback-"+region), &awscdk.StackProps{Env: env(region),
			Description: jsii.String("Gangplank: the onboarding callback topic customers' stacks in " + region + " notify")})
		rs.AddDependency(main, jsii.String("the callback function must exist before topics subscribe it"))
		newCallbackRegion(rs, cfg, region)
		g.Regional[region] = rs
	}
	stacks := []awscdk.Stack{main}
	for _, region := range cfg.CallbackRegions {
		stacks = append(stacks, g.Regional[region])
	}
	addNagChecks(app, stacks...)
	return g, nil
}

func stackName(prefix string) string { return strings.ToUpper(prefix[:1]) + prefix[1:] }

// Names shared by the main and the regional stacks (which cannot reference each other across regions).
func callbackFunctionName(prefix string) string { return prefix + "-callback" }
func callbackTopicName(prefix string) string    { return prefix + "-onboarding" }

type mainStack struct {
	*Gangplank
	stack awscdk.Stack
	cfg   Config

	key       awskms.Key
	tables    map[string]awsdynamodb.Table
	cursorKey awssecretsmanager.Secret
	// queues are the platform's queues by ID (platform.Queues).
	queues      map[string]awssqs.Queue
	templateURL string
	alarms      awssns.Topic
	connector   awsiam.Role
	api         awsapigatewayv2.HttpApi
	identity    identityResources
	// userPool and webClient are the Cognito user pool and its web client (nil with an external issuer).
	userPool  awscognito.UserPool
	webClient awscognito.UserPoolClient
}

func (m *mainStack) build() error {
	s := m.stack
	m.key = awskms.NewKey(s, jsii.String("DataKey"), &awskms.KeyProps{
		Alias: jsii.String("alias/" + m.cfg.Prefix + "-data"), EnableKeyRotation: jsii.Bool(true),
		Description:   jsii.String("Encrypts Gangplank's tables, secrets, queues and alarm topic"),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	m.buildTables()
	m.cursorKey = awssecretsmanager.NewSecret(s, jsii.String("CursorKey"), &awssecretsmanager.SecretProps{
		Description:   jsii.String("Signs Gangplank's pagination cursors (at least 32 bytes; every function shares it)"),
		EncryptionKey: m.key,
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength: jsii.Number(64), ExcludePunctuation: jsii.Bool(true),
		},
	})
	m.buildTemplateBucket()
	m.alarms = awssns.NewTopic(s, jsii.String("Alarms"), &awssns.TopicProps{
		TopicName: jsii.String(m.cfg.Prefix + "-alarms"), MasterKey: m.key, EnforceSSL: jsii.Bool(true),
	})
	m.key.GrantEncryptDecrypt(awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil))
	if m.cfg.AlarmEmail != "" {
		m.alarms.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(m.cfg.AlarmEmail), nil))
	}
	m.queues = map[string]awssqs.Queue{
		platform.CostSyncQueue.ID: m.buildQueue("CostSync", "costsync", 6*300, 5, "a payer's cost sync failed five times"),
		// A discovery step is delivered again after the worker's timeout (the visibility timeout is six times it) and,
		// after discovery.MaxDeliveries deliveries, lands in the dead-letter queue; its last delivery has already
		// failed the job with the reason.
		platform.DiscoveryQueue.ID: m.buildQueue("Discovery", "discovery", 6*900, discovery.MaxDeliveries,
			"a discovery step failed every delivery (its job failed with the reason)"),
		platform.InventoryQueue.ID: m.buildQueue("Inventory", "inventory", 6*900, 5, "inventory work failed five times"),
	}
	m.buildIdentity()
	if err := m.buildFunctions(); err != nil {
		return err
	}
	m.buildConnector()
	m.buildCostSync()
	m.buildIdentityWork()
	m.buildDiscovery()
	m.buildRotation()
	m.buildInventory()
	if err := m.buildStateMachine(); err != nil {
		return err
	}
	if err := m.buildAPI(); err != nil {
		return err
	}
	if err := m.buildConsole(); err != nil {
		return err
	}
	m.allowCallbackTopics()
	m.buildAlarms()
	m.outputs()
	return nil
}

// buildTables creates every table of pkg/tables, the definitions the local runtime uses too.
func (m *mainStack) buildTables() {
	m.tables = map[string]awsdynamodb.Table{}
	attr := func(a tables.Attribute) *awsdynamodb.Attribute {
		t := awsdynamodb.AttributeType_STRING
		if a.Type == tables.Number {
			t = awsdynamodb.AttributeType_NUMBER
		}
		return &awsdynamodb.Attribute{Name: jsii.String(a.Name), Type: t}
	}
	for _, def := range tables.All() {
		props := &awsdynamodb.TableProps{
			TableName:    jsii.String(m.cfg.Prefix + "-" + def.ID),
			PartitionKey: attr(def.PartitionKey), BillingMode: awsdynamodb.BillingMode_PAY_PER_REQUEST,
			PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
			DeletionProtection:               jsii.Bool(true),
			Encryption:                       awsdynamodb.TableEncryption_CUSTOMER_MANAGED, EncryptionKey: m.key,
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		}
		if def.SortKey.Name != "" {
			props.SortKey = attr(def.SortKey)
		}
		if def.TTLAttribute != "" {
			props.TimeToLiveAttribute = jsii.String(def.TTLAttribute)
		}
		t := awsdynamodb.NewTable(m.stack, jsii.String("Table"+strings.ToUpper(def.ID[:1])+def.ID[1:]), props)
		for _, ix := range def.Indexes {
			gsi := &awsdynamodb.GlobalSecondaryIndexProps{IndexName: jsii.String(ix.Name), PartitionKey: attr(ix.PartitionKey),
				ProjectionType: awsdynamodb.ProjectionType_ALL}
			if ix.SortKey.Name != "" {
				gsi.SortKey = attr(ix.SortKey)
			}
			if ix.Projection == tables.ProjectKeysOnly {
				gsi.ProjectionType = awsdynamodb.ProjectionType_KEYS_ONLY
			}
			t.AddGlobalSecondaryIndex(gsi)
		}
		m.tables[def.ID] = t
	}
}

// buildTemplateBucket holds the onboarding template customers' CloudFormation reads through quick-create links and
// `create-stack --template-url`. Customers' accounts are unknown in advance, so the template prefix (and only it)
// is world-readable; the template is public by nature (it is also in the docs). SSE-S3 rather than KMS: a
// KMS-encrypted object could not be read by CloudFormation in customers' accounts.
func (m *mainStack) buildTemplateBucket() {
	s := m.stack
	logs := awss3.NewBucket(s, jsii.String("TemplateAccessLogs"), &awss3.BucketProps{
		Encryption: awss3.BucketEncryption_S3_MANAGED, EnforceSSL: jsii.Bool(true), Versioned: jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(), ObjectOwnership: awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	bucket := awss3.NewBucket(s, jsii.String("Templates"), &awss3.BucketProps{
		Encryption: awss3.BucketEncryption_S3_MANAGED, EnforceSSL: jsii.Bool(true), Versioned: jsii.Bool(true),
		BlockPublicAccess: awss3.NewBlockPublicAccess(&awss3.BlockPublicAccessOptions{
			BlockPublicAcls: jsii.Bool(true), IgnorePublicAcls: jsii.Bool(true),
			BlockPublicPolicy: jsii.Bool(false), RestrictPublicBuckets: jsii.Bool(false),
		}),
		ServerAccessLogsBucket: logs, ServerAccessLogsPrefix: jsii.String("templates/"),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("CustomersCloudFormationReadsTheOnboardingTemplate"), Effect: awsiam.Effect_ALLOW,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()}, Actions: jsii.Strings("s3:GetObject"),
		Resources: jsii.Strings(*bucket.ArnForObjects(jsii.String("onboarding/*"))),
	}))
	prefix := "onboarding/" + onboarding.TemplateVersion + "/"
	awss3deployment.NewBucketDeployment(s, jsii.String("OnboardingTemplate"), &awss3deployment.BucketDeploymentProps{
		DestinationBucket: bucket, DestinationKeyPrefix: jsii.String(prefix),
		Sources: &[]awss3deployment.ISource{awss3deployment.Source_Asset(jsii.String(filepath.Join(m.cfg.RepoRoot, "pkg/onboarding/templates")), nil)},
		// Earlier template versions stay: stacks customers launched from them keep working and can be updated.
		Prune: jsii.Bool(false), ContentType: jsii.String("application/x-yaml"),
	})
	m.templateURL = fmt.Sprintf("https://%s.s3.%s.amazonaws.com/%sonboarding.yaml", *bucket.BucketName(), *m.stack.Region(), prefix)
}

// function is one Lambda function: one folder under functions/.
type function struct {
	name        string
	description string
	memoryMB    float64
	timeoutSec  float64
	// reserved caps concurrency where it protects customers' APIs (STS in their accounts) and ours.
	reserved float64
	// async functions (SNS, schedules) get a dead-letter queue for events that fail every retry.
	async bool
}

// functions is every Lambda Gangplank deploys; a test checks it names exactly the folders under functions/.
var functions = []function{
	{name: "api", description: "Gangplank's HTTP API (API Gateway HTTP API, payload v2)", memoryMB: 512, timeoutSec: 29},
	// The callback verifies roles for up to 90 s (IAM propagation) and keeps 15 s to answer CloudFormation, well
	// within the custom resource's 300 s ServiceTimeout.
	{name: "callback", description: "Answers onboarding stacks' custom resources and reads their notifications (SNS)",
		memoryMB: 256, timeoutSec: 120, reserved: 50, async: true},
	// Daily: starts a discovery job for every active management account (one sparse index query, then a job and a
	// message each) and returns; the worker runs the jobs.
	{name: "discovery", description: "Daily: starts a discovery job for every active management account's organization",
		memoryMB: 256, timeoutSec: 300, reserved: 1, async: true},
	// One step of a discovery job per message: it reads and writes for as long as its invocation allows (less a
	// margin for its checkpoint), then queues the job's next step itself. An organization of 50,000 accounts holds
	// its members and their listing in memory (peak heap measured in docs/discovery.md). Reserved concurrency bounds
	// the jobs running at once (Organizations throttles per management account; one job per account at a time).
	{name: "discovery-worker", description: "Runs discovery jobs, one step per message (SQS), each step continuing the job",
		memoryMB: 1024, timeoutSec: 900, reserved: 10},
	// One batch of bulk activation: up to 50 CreateStack calls through two role hops (throttling retried), or one
	// check of their accounts. Reserved concurrency bounds the calls into customers' accounts (and the workflow's
	// Map runs at most 4 batches at once per activation).
	{name: "activation", description: "Bulk activation's task: creates the onboarding stacks of a batch of member accounts and checks on them",
		memoryMB: 512, timeoutSec: 600, reserved: 20},
	// The scheduler only queries an index and sends messages.
	{name: "costsync-scheduler", description: "Daily: enqueues every payer whose Cost Explorer recommendations are synced",
		memoryMB: 256, timeoutSec: 120, async: true},
	// A sync reads 12+ Cost Explorer pages and writes a few hundred items for a large organization; the queue's
	// visibility timeout is six times this.
	{name: "costsync-worker", description: "Syncs one payer's Cost Explorer recommendations per message (SQS)",
		memoryMB: 512, timeoutSec: 300, reserved: 5},
	// The IAM integration's routes: an onboarding or an offboarding is a few dozen IAM calls, well within API
	// Gateway's 30 s.
	{name: "identity-api", description: "The IAM integration's HTTP API routes (x-gangplank-function: identity-api)", memoryMB: 512, timeoutSec: 29},
	// A sync of 5,000 users reads a few pages and writes a few hundred batches; the queue's visibility timeout is
	// six times this. Reserved concurrency bounds the calls into customers' IAM.
	{name: "identity-worker", description: "Does the IAM integrations' work, one message each (SQS): syncs, rotations, scheduled deletions",
		memoryMB: 512, timeoutSec: 600, reserved: 5},
	{name: "identity-scheduler", description: "Daily: enqueues a sync of every IAM integration and the key rotations due",
		memoryMB: 256, timeoutSec: 120, async: true},
	// Daily: the tenants with an External ID warning or rotation due (one sparse index query), each checking its
	// connected roles before a grace period ends, eight at a time.
	{name: "rotation", description: "Daily: rotates External IDs on their tenants' schedule and warns about stacks still on an old one",
		memoryMB: 256, timeoutSec: 900, reserved: 1, async: true},
	// Hourly: the accounts whose scheduled inventory sync is due (one sparse index query), one message each.
	{name: "inventory-scheduler", description: "Hourly: starts the inventory sync of every account whose scheduled sync is due",
		memoryMB: 256, timeoutSec: 120, async: true},
	// One unit of inventory work per message: a sync's plan, a region's scan (continued in a new message a minute
	// before the timeout), tag summaries, a tag write-back. A scan holds at most a region's ARN hashes and a page.
	{name: "inventory-worker", description: "Inventory: plans syncs, scans regions, summarizes tags and writes tag edits back (SQS)",
		memoryMB: 1024, timeoutSec: 900, reserved: 20},
}

// Functions lists the names of the functions the stack deploys.
func Functions() []string {
	var names []string
	for _, f := range functions {
		names = append(names, f.name)
	}
	return names
}

func (m *mainStack) buildFunctions() error {
	s := m.stack
	for _, f := range functions {
		dir, err := BuildFunction(m.cfg.RepoRoot, m.cfg.BuildDir, f.name)
		if err != nil {
			return err
		}
		logs := awslogs.NewLogGroup(s, jsii.String("Logs-"+f.name), &awslogs.LogGroupProps{
			LogGroupName: jsii.String("/aws/lambda/" + m.cfg.Prefix + "-" + f.name), Retention: awslogs.RetentionDays_THREE_MONTHS,
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		})
		props := &awslambda.FunctionProps{
			FunctionName: jsii.String(m.cfg.Prefix + "-" + f.name), Description: jsii.String(f.description),
			Runtime: awslambda.Runtime_PROVIDED_AL2023(), Architecture: awslambda.Architecture_ARM_64(),
			Handler: jsii.String("bootstrap"), Code: awslambda.Code_FromAsset(jsii.String(dir), nil),
			MemorySize: jsii.Number(f.memoryMB), Timeout: awscdk.Duration_Seconds(jsii.Number(f.timeoutSec)),
			LoggingFormat: awslambda.LoggingFormat_JSON, LogGroup: logs, Tracing: awslambda.Tracing_ACTIVE,
			Environment: m.environment(needs(f.name)),
		}
		if f.reserved > 0 {
			props.ReservedConcurrentExecutions = jsii.Number(f.reserved)
		}
		if f.async {
			dlq := awssqs.NewQueue(s, jsii.String("DeadLetters-"+f.name), &awssqs.QueueProps{
				QueueName: jsii.String(m.cfg.Prefix + "-" + f.name + "-dlq"), EncryptionMasterKey: m.key,
				Encryption: awssqs.QueueEncryption_KMS, EnforceSSL: jsii.Bool(true), RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
			})
			props.DeadLetterQueue, props.DeadLetterQueueEnabled = dlq, jsii.Bool(true)
			props.RetryAttempts = jsii.Number(2)
			m.alarm("DeadLetters-"+f.name, dlq.MetricApproximateNumberOfMessagesVisible(nil),
				f.name+" has events that failed every retry: read them from "+m.cfg.Prefix+"-"+f.name+"-dlq")
		}
		fn := awslambda.NewFunction(s, jsii.String("Fn-"+f.name), props)
		m.grant(fn, needs(f.name))
		m.Functions[f.name] = fn
	}
	return nil
}

// environment is what platform.LoadConfig reads for a function with these needs, and nothing more.
func (m *mainStack) environment(n platform.Needs) *map[string]*string {
	env := map[string]*string{}
	for _, def := range tables.All() {
		if _, ok := n.Tables[def.ID]; ok {
			env[def.EnvVar] = m.tables[def.ID].TableName()
		}
	}
	if n.CursorKey {
		env["CURSOR_KEY_SECRET_ARN"] = m.cursorKey.SecretArn()
	}
	if n.Claims {
		env["TENANT_CLAIM"], env["ROLE_CLAIM"] = jsii.String(m.tenantClaim()), jsii.String(m.roleClaim())
	}
	if n.Customers {
		env["CONNECTOR_ROLE_ARN"] = jsii.String(m.connectorARN())
	}
	if n.Onboarding {
		env["ONBOARDING_TEMPLATE_URL"] = jsii.String(m.templateURL)
		env["CALLBACK_TOPIC_ARN_PATTERN"] = jsii.String(fmt.Sprintf("arn:aws:sns:{region}:%s:%s", *awscdk.Aws_ACCOUNT_ID(), callbackTopicName(m.cfg.Prefix)))
		env["PLATFORM_PRINCIPAL_ARN"] = jsii.String(m.connectorARN())
	}
	for _, q := range platform.Queues() {
		if n.Queues[q.ID].Sends() {
			env[q.EnvVar] = m.queues[q.ID].QueueUrl()
		}
	}
	m.identityEnvironment(n, env)
	if len(n.Workflow) > 0 && m.workflowDefined() {
		// The fixed ARN, not a reference: the workflow's definition references the task function, so a reference
		// back would be a cycle.
		env[StateMachineEnv] = jsii.String(m.stateMachineARN())
	}
	return &env
}

// connectorARN is known before the role exists: customers' trust policies name it, and it must never change.
func (m *mainStack) connectorARN() string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", *awscdk.Aws_ACCOUNT_ID(), m.connectorName())
}

func (m *mainStack) connectorName() string { return m.cfg.Prefix + "-platform-connector" }

func (m *mainStack) tenantClaim() string {
	switch {
	case m.cfg.TenantClaim != "":
		return m.cfg.TenantClaim
	case m.cfg.cognito():
		return "custom:tenant_id"
	}
	return "tenant_id"
}

func (m *mainStack) roleClaim() string {
	switch {
	case m.cfg.RoleClaim != "":
		return m.cfg.RoleClaim
	case m.cfg.cognito():
		return "custom:role"
	}
	return "role"
}

// buildConnector is the one principal customers' roles trust. Its only permission is sts:AssumeRole on roles named
// Gangplank*; only the functions whose wiring enters customers' accounts (platform.Needs.Customers) may assume it. It is retained on stack deletion: customers' trust
// policies name it, and a re-created role would not match them.
func (m *mainStack) buildConnector() {
	var principals []awsiam.IPrincipal
	for _, f := range platform.Functions() {
		if f.Needs.Customers {
			principals = append(principals, m.Functions[f.Name].Role())
		}
	}
	m.connector = awsiam.NewRole(m.stack, jsii.String("Connector"), &awsiam.RoleProps{
		RoleName:           jsii.String(m.connectorName()),
		Description:        jsii.String("Gangplank's connector: the principal customers' roles trust (with their External ID)"),
		AssumedBy:          awsiam.NewCompositePrincipal(principals...),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
		InlinePolicies: &map[string]awsiam.PolicyDocument{"AssumeGangplankRolesOnly": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
			Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Effect: awsiam.Effect_ALLOW, Actions: jsii.Strings("sts:AssumeRole"),
				Resources: jsii.Strings("arn:aws:iam::*:role/" + crossaccount.RolePrefix + "*"),
			})},
		})},
	})
	m.connector.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN)
}

// buildAPI is the HTTP API: one route per operation of the OpenAPI document, each with the JWT authorizer except
// the document's public ones (security: []); API Gateway answers anything else 404 before a Lambda runs.
func (m *mainStack) buildAPI() error {
	s := m.stack
	issuer, audience := m.cfg.JWTIssuer, m.cfg.JWTAudience
	if m.cfg.cognito() {
		pool, client := m.buildUserPool()
		m.userPool, m.webClient = pool, client
		issuer = fmt.Sprintf("https://cognito-idp.%s.amazonaws.com/%s", *s.Region(), *pool.UserPoolId())
		audience = []string{*client.UserPoolClientId()}
	}
	authorizer := awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("Jwt"), jsii.String(issuer),
		&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{JwtAudience: jsii.Strings(audience...)})
	cors := &awsapigatewayv2.CorsPreflightOptions{
		AllowHeaders:  jsii.Strings("Authorization", "Content-Type", "If-Match", "Idempotency-Key"),
		ExposeHeaders: jsii.Strings("ETag", "Retry-After", "Location"),
		AllowMethods: &[]awsapigatewayv2.CorsHttpMethod{awsapigatewayv2.CorsHttpMethod_GET, awsapigatewayv2.CorsHttpMethod_POST,
			awsapigatewayv2.CorsHttpMethod_PATCH, awsapigatewayv2.CorsHttpMethod_PUT, awsapigatewayv2.CorsHttpMethod_DELETE},
		MaxAge: awscdk.Duration_Hours(jsii.Number(1)),
	}
	props := &awsapigatewayv2.HttpApiProps{ApiName: jsii.String(m.cfg.Prefix), CreateDefaultStage: jsii.Bool(false)}
	if len(m.cfg.WebOrigins) > 0 {
		cors.AllowOrigins = jsii.Strings(m.cfg.WebOrigins...)
		props.CorsPreflight = cors
	}
	m.api = awsapigatewayv2.NewHttpApi(s, jsii.String("Api"), props)
	accessLogs := awslogs.NewLogGroup(s, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention: awslogs.RetentionDays_ONE_YEAR, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	format, _ := jsonString(map[string]string{
		"requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "time": "$context.requestTime",
		"method": "$context.httpMethod", "route": "$context.routeKey", "status": "$context.status",
		"latencyMs": "$context.responseLatency", "integrationError": "$context.integrationErrorMessage",
		"authorizerError": "$context.authorizer.error", "sub": "$context.authorizer.claims.sub",
	})
	awsapigatewayv2.NewCfnStage(s, jsii.String("DefaultStage"), &awsapigatewayv2.CfnStageProps{
		ApiId: m.api.ApiId(), StageName: jsii.String("$default"), AutoDeploy: jsii.Bool(true),
		AccessLogSettings: &awsapigatewayv2.CfnStage_AccessLogSettingsProperty{DestinationArn: accessLogs.LogGroupArn(), Format: jsii.String(format)},
		DefaultRouteSettings: &awsapigatewayv2.CfnStage_RouteSettingsProperty{
			ThrottlingRateLimit: jsii.Number(m.cfg.ThrottleRate), ThrottlingBurstLimit: jsii.Number(m.cfg.ThrottleBurst),
			DetailedMetricsEnabled: jsii.Bool(true),
		},
	})
	integrations := map[string]awsapigatewayv2.HttpRouteIntegration{}
	integrationOf := func(function string) awsapigatewayv2.HttpRouteIntegration {
		if i, ok := integrations[function]; ok {
			return i
		}
		id := "ApiHandler"
		if function != "api" {
			id = "ApiHandler-" + function
		}
		i := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String(id), m.Functions[function],
			&awsapigatewayv2integrations.HttpLambdaIntegrationProps{PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0()})
		integrations[function] = i
		return i
	}
	routes, err := Routes()
	if err != nil {
		return err
	}
	for _, r := range routes {
		if _, ok := m.Functions[r.Function]; !ok {
			return fmt.Errorf("%s %s: x-gangplank-function names %q, which the stack does not deploy", r.Method, r.Path, r.Function)
		}
		opts := &awsapigatewayv2.AddRoutesOptions{Path: jsii.String(r.Path), Methods: &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(r.Method)},
			Integration: integrationOf(r.Function)}
		if !r.Public {
			opts.Authorizer = authorizer
		}
		added := m.api.AddRoutes(opts)
		if r.Public {
			for _, route := range *added {
				cdknag.NagSuppressions_AddResourceSuppressions(route, &[]*cdknag.NagPackSuppression{
					finding("AwsSolutions-APIG4", "Public by design in the OpenAPI document (security: []): "+r.Method+" "+r.Path+" serves no tenant data.")}, jsii.Bool(true))
			}
		}
	}
	return nil
}

// Route is one API operation as API Gateway routes it.
type Route struct {
	Method, Path string
	Public       bool
	// Function serves the route: the operation's x-gangplank-function, or the main API ("api").
	Function string
}

// Routes reads the operations of the OpenAPI document the handler serves.
func Routes() ([]Route, error) {
	doc, err := spec.Load()
	if err != nil {
		return nil, err
	}
	var routes []Route
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			public := op.Security != nil && len(*op.Security) == 0
			function := "api"
			if f, ok := op.Extensions["x-gangplank-function"].(string); ok {
				function = f
			}
			routes = append(routes, Route{Method: method, Path: path, Public: public, Function: function})
		}
	}
	sort.Slice(routes, func(i, j int) bool {
		return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method
	})
	return routes, nil
}

// buildUserPool is the default identity provider: users carry their tenant and role as custom attributes that
// only the platform (an admin API, not the user) can set.
func (m *mainStack) buildUserPool() (awscognito.UserPool, awscognito.UserPoolClient) {
	pool := awscognito.NewUserPool(m.stack, jsii.String("Users"), &awscognito.UserPoolProps{
		UserPoolName: jsii.String(m.cfg.Prefix + "-users"), SelfSignUpEnabled: jsii.Bool(false),
		SignInAliases: &awscognito.SignInAliases{Email: jsii.Bool(true)},
		PasswordPolicy: &awscognito.PasswordPolicy{MinLength: jsii.Number(12), RequireDigits: jsii.Bool(true),
			RequireLowercase: jsii.Bool(true), RequireUppercase: jsii.Bool(true), RequireSymbols: jsii.Bool(true)},
		Mfa: awscognito.Mfa_REQUIRED, MfaSecondFactor: &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		FeaturePlan:                  awscognito.FeaturePlan_PLUS,
		StandardThreatProtectionMode: awscognito.StandardThreatProtectionMode_FULL_FUNCTION,
		CustomAttributes: &map[string]awscognito.ICustomAttribute{
			"tenant_id": awscognito.NewStringAttribute(&awscognito.StringAttributeProps{Mutable: jsii.Bool(false), MaxLen: jsii.Number(64)}),
			"role":      awscognito.NewStringAttribute(&awscognito.StringAttributeProps{Mutable: jsii.Bool(true), MaxLen: jsii.Number(16)}),
		},
		AccountRecovery: awscognito.AccountRecovery_EMAIL_ONLY, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	// Users may read but never write their tenant and role.
	readable := awscognito.NewClientAttributes().WithStandardAttributes(&awscognito.StandardAttributesMask{Email: jsii.Bool(true)}).
		WithCustomAttributes(jsii.String("tenant_id"), jsii.String("role"))
	writable := awscognito.NewClientAttributes().WithStandardAttributes(&awscognito.StandardAttributesMask{Email: jsii.Bool(true)})
	client := pool.AddClient(jsii.String("Web"), &awscognito.UserPoolClientOptions{
		AuthFlows:      &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		ReadAttributes: readable, WriteAttributes: writable, GenerateSecret: jsii.Bool(false),
		IdTokenValidity: awscdk.Duration_Hours(jsii.Number(1)), PreventUserExistenceErrors: jsii.Bool(true),
	})
	awscdk.NewCfnOutput(m.stack, jsii.String("UserPoolId"), &awscdk.CfnOutputProps{Value: pool.UserPoolId()})
	awscdk.NewCfnOutput(m.stack, jsii.String("UserPoolClientId"), &awscdk.CfnOutputProps{Value: client.UserPoolClientId()})
	return pool, client
}

// allowCallbackTopics lets each region's callback topic invoke the callback function (the subscriptions live in
// the regional stacks, with their dead-letter queues).
func (m *mainStack) allowCallbackTopics() {
	fn := m.Functions["callback"]
	for _, region := range m.cfg.CallbackRegions {
		awslambda.NewCfnPermission(m.stack, jsii.String("CallbackFrom-"+region), &awslambda.CfnPermissionProps{
			Action: jsii.String("lambda:InvokeFunction"), FunctionName: fn.FunctionArn(), Principal: jsii.String("sns.amazonaws.com"),
			SourceArn: jsii.String(fmt.Sprintf("arn:aws:sns:%s:%s:%s", region, *awscdk.Aws_ACCOUNT_ID(), callbackTopicName(m.cfg.Prefix))),
		})
	}
}

func (m *mainStack) buildAlarms() {
	for _, name := range Functions() {
		fn := m.Functions[name]
		m.alarm("Errors-"+name, fn.MetricErrors(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5))}),
			"the "+name+" function failed")
		m.alarm("Throttles-"+name, fn.MetricThrottles(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5))}),
			"the "+name+" function was throttled")
	}
	m.alarm("Api5xx", m.api.MetricServerError(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5))}),
		"the API answered 5xx")
	// The callback counts the messages it rejects (embedded metric format, in its log lines). A few are ordinary (a
	// customer launching a replaced link); a burst is someone publishing forged messages to the callback topic.
	rejected := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String(onboarding.MetricNamespace), MetricName: jsii.String(onboarding.RejectedMetric),
		DimensionsMap: &map[string]*string{"Service": jsii.String(onboarding.MetricService)},
		Statistic:     jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(5)),
	})
	a := awscloudwatch.NewAlarm(m.stack, jsii.String("Alarm-CallbackRejected"), &awscloudwatch.AlarmProps{
		Metric: rejected, Threshold: jsii.Number(rejectedMessagesThreshold), EvaluationPeriods: jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		AlarmDescription: jsii.String("Gangplank: the onboarding callback rejected more messages than customers' mistakes explain " +
			"(forged requests or notifications?): read the callback's logs for rejection"),
	})
	a.AddAlarmAction(awscloudwatchactions.NewSnsAction(m.alarms))
}

// rejectedMessagesThreshold is how many rejected callback messages in five minutes raise the alarm.
const rejectedMessagesThreshold = 20

// alarm fires when metric's sum exceeds zero in a period, notifying the alarm topic.
func (m *mainStack) alarm(id string, metric awscloudwatch.IMetric, what string) {
	alarmOn(m.stack, m.alarms, id, metric, what)
}

func alarmOn(scope constructs.Construct, topic awssns.ITopic, id string, metric awscloudwatch.IMetric, what string) {
	a := awscloudwatch.NewAlarm(scope, jsii.String("Alarm-"+id), &awscloudwatch.AlarmProps{
		Metric: metric, Threshold: jsii.Number(0), EvaluationPeriods: jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING, AlarmDescription: jsii.String("Gangplank: " + what),
	})
	a.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
}

func (m *mainStack) outputs() {
	out := func(id string, v *string) {
		awscdk.NewCfnOutput(m.stack, jsii.String(id), &awscdk.CfnOutputProps{Value: v})
	}
	out("ApiUrl", m.api.ApiEndpoint())
	out("ConnectorRoleArn", m.connector.RoleArn())
	out("OnboardingTemplateUrl", jsii.String(m.templateURL))
	out("AlarmTopicArn", m.alarms.TopicArn())
}

// buildDiscovery makes the worker the discovery queue's consumer, one step at a time per invocation, reporting a
// failed step alone (it is delivered again and resumes from the job's last checkpoint).
func (m *mainStack) buildDiscovery() {
	m.Functions["discovery-worker"].AddEventSource(awslambdaeventsources.NewSqsEventSource(m.queues[platform.DiscoveryQueue.ID], &awslambdaeventsources.SqsEventSourceProps{
		BatchSize: jsii.Number(1), ReportBatchItemFailures: jsii.Bool(true), MaxConcurrency: jsii.Number(10),
	}))
}

// buildCostSync wires the daily schedule, the queue and the worker. The worker's concurrency is capped (reserved
// concurrency and the event source's maximum): Cost Explorer allows few requests per second per account, and the
// schedule should drain steadily rather than throttle itself.
func (m *mainStack) buildCostSync() {
	m.Functions["costsync-worker"].AddEventSource(awslambdaeventsources.NewSqsEventSource(m.queues[platform.CostSyncQueue.ID], &awslambdaeventsources.SqsEventSourceProps{
		BatchSize: jsii.Number(1), ReportBatchItemFailures: jsii.Bool(true), MaxConcurrency: jsii.Number(5),
	}))
	awsscheduler.NewSchedule(m.stack, jsii.String("DailyDiscovery"), &awsscheduler.ScheduleProps{
		Description: jsii.String("Daily Organizations discovery of every active management account (05:00 UTC)"),
		Schedule:    awsscheduler.ScheduleExpression_Cron(&awsscheduler.CronOptionsWithTimezone{Minute: jsii.String("0"), Hour: jsii.String("5")}),
		Target: awsschedulertargets.NewLambdaInvoke(m.Functions["discovery"], &awsschedulertargets.ScheduleTargetBaseProps{
			RetryAttempts: jsii.Number(2), MaxEventAge: awscdk.Duration_Hours(jsii.Number(1)),
		}),
	})
	awsscheduler.NewSchedule(m.stack, jsii.String("DailyCostSync"), &awsscheduler.ScheduleProps{
		Description: jsii.String("Daily Cost Explorer recommendations sync (06:00 UTC, after Cost Explorer's daily refresh)"),
		Schedule:    awsscheduler.ScheduleExpression_Cron(&awsscheduler.CronOptionsWithTimezone{Minute: jsii.String("0"), Hour: jsii.String("6")}),
		Target: awsschedulertargets.NewLambdaInvoke(m.Functions["costsync-scheduler"], &awsschedulertargets.ScheduleTargetBaseProps{
			RetryAttempts: jsii.Number(2), MaxEventAge: awscdk.Duration_Hours(jsii.Number(1)),
		}),
	})
}

// buildRotation runs the External ID schedule daily at 04:00 UTC, before discovery reads organizations.
func (m *mainStack) buildRotation() {
	awsscheduler.NewSchedule(m.stack, jsii.String("DailyExternalIdRotation"), &awsscheduler.ScheduleProps{
		Description: jsii.String("Daily External ID schedule: warnings, rotations due, grace periods ending (04:00 UTC)"),
		Schedule:    awsscheduler.ScheduleExpression_Cron(&awsscheduler.CronOptionsWithTimezone{Minute: jsii.String("0"), Hour: jsii.String("4")}),
		Target: awsschedulertargets.NewLambdaInvoke(m.Functions["rotation"], &awsschedulertargets.ScheduleTargetBaseProps{
			RetryAttempts: jsii.Number(2), MaxEventAge: awscdk.Duration_Hours(jsii.Number(1)),
		}),
	})
}

// buildInventory wires the hourly schedule (each tenant chooses its interval; the scheduler reads the accounts
// due) and the worker on its queue, one message at a time, at most 20 at once (customers' Tagging API quotas are
// per account and region, and scans of one account run side by side).
func (m *mainStack) buildInventory() {
	m.Functions["inventory-worker"].AddEventSource(awslambdaeventsources.NewSqsEventSource(m.queues[platform.InventoryQueue.ID], &awslambdaeventsources.SqsEventSourceProps{
		BatchSize: jsii.Number(1), ReportBatchItemFailures: jsii.Bool(true), MaxConcurrency: jsii.Number(20),
	}))
	awsscheduler.NewSchedule(m.stack, jsii.String("HourlyInventory"), &awsscheduler.ScheduleProps{
		Description: jsii.String("Hourly: starts the inventory syncs that are due (each tenant chooses how often; daily by default)"),
		Schedule:    awsscheduler.ScheduleExpression_Cron(&awsscheduler.CronOptionsWithTimezone{Minute: jsii.String("15")}),
		Target: awsschedulertargets.NewLambdaInvoke(m.Functions["inventory-scheduler"], &awsschedulertargets.ScheduleTargetBaseProps{
			RetryAttempts: jsii.Number(2), MaxEventAge: awscdk.Duration_Hours(jsii.Number(1)),
		}),
	})
}
