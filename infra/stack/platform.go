package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsschedulertargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"

	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/tables"
)

// Names the stack gives to things other code relies on.
const (
	// StateMachineFile is the bulk-activation workflow's definition, relative to the repository's root.
	StateMachineFile = "statemachines/bulk-activation.asl.json"
	// ConnectorPolicyResource is the platform's only cross-account permission: sts:AssumeRole on roles of
	// Gangplank's naming pattern, in any account.
	ConnectorPolicyResource = "arn:aws:iam::*:role/" + crossaccount.RolePrefix + "*"
	// TemplateKey is where the onboarding template lives in the template bucket (see pkg/devserver/provision.go).
	TemplateKey = "onboarding/" + onboarding.TemplateVersion + "/onboarding.yaml"
	// StateMachineEnv hands the workflow's ARN to the functions that start it.
	StateMachineEnv = "BULK_ACTIVATION_STATE_MACHINE_ARN"
)

// QueueEnv names the variable that hands a Queue-triggered function's queue URL to the functions feeding it:
// "costsync-worker" → COSTSYNC_WORKER_QUEUE_URL.
func QueueEnv(fn string) string {
	return strings.ToUpper(strings.ReplaceAll(fn, "-", "_")) + "_QUEUE_URL"
}

// Platform is the home-region stack.
type Platform struct {
	Stack     awscdk.Stack
	Functions map[string]awslambda.Function
	Tables    map[string]awsdynamodb.Table
	// StateMachine is nil when the repository has no StateMachineFile.
	StateMachine awsstepfunctions.StateMachine
	AlarmTopic   awssns.Topic
}

func (p *Platform) alarm(id string, metric awscloudwatch.IMetric, what string) {
	alarm(p.Stack, p.AlarmTopic, id, metric, what)
}

// alarm fires on any occurrence within five minutes and notifies topic.
func alarm(scope awscdk.Stack, topic awssns.ITopic, id string, metric awscloudwatch.IMetric, what string) {
	a := awscloudwatch.NewAlarm(scope, jsii.String(id), &awscloudwatch.AlarmProps{
		Metric:             metric,
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		AlarmDescription:   jsii.String(what),
	})
	a.AddAlarmAction(snsAction(topic))
}

func newPlatform(app awscdk.App, cfg Config, fns []Function, code map[string]string) *Platform {
	s := awscdk.NewStack(app, jsii.String("Gangplank"), &awscdk.StackProps{
		StackName:   jsii.String(cfg.Prefix + "-platform"),
		Env:         env(cfg, cfg.Region),
		Description: jsii.String("Gangplank: API, functions, tables, workflow, schedules, onboarding template, alarms"),
	})
	p := &Platform{Stack: s, Functions: map[string]awslambda.Function{}, Tables: map[string]awsdynamodb.Table{}}
	p.AlarmTopic = newAlarmTopic(s, cfg)

	bucket := templateBucket(s, cfg)
	templateURL := "https://" + *bucket.BucketRegionalDomainName() + "/" + TemplateKey

	cursorKey := awssecretsmanager.NewSecret(s, jsii.String("CursorKey"), &awssecretsmanager.SecretProps{
		Description: jsii.String("Signs pagination cursors (CURSOR_KEY_SECRET_ARN); at least 32 bytes, shared by every function"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength: jsii.Number(64), ExcludePunctuation: jsii.Bool(true), IncludeSpace: jsii.Bool(false),
		},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	for _, t := range tables.All() {
		p.Tables[t.ID] = newTable(s, t)
	}

	// Each function's role exists before the connector role, whose trust policy names them.
	roles := map[string]awsiam.Role{}
	var trusted []awsiam.IPrincipal
	for _, f := range fns {
		roles[f.Name] = awsiam.NewRole(s, jsii.String(camel(f.Name)+"Role"), &awsiam.RoleProps{
			AssumedBy:       awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description:     jsii.String("Gangplank function " + f.Name),
			ManagedPolicies: &[]awsiam.IManagedPolicy{awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AWSLambdaBasicExecutionRole"))},
		})
		if f.CustomerAccess {
			trusted = append(trusted, awsiam.NewArnPrincipal(roles[f.Name].RoleArn()))
		}
	}
	connector := connectorRole(s, cfg, trusted)
	for _, f := range fns {
		if f.CustomerAccess {
			roles[f.Name].AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("AssumeTheConnectorRoleOnly"), Actions: jsii.Strings("sts:AssumeRole"),
				Resources: &[]*string{connector.RoleArn()},
			}))
		}
	}

	environment := map[string]*string{
		"CURSOR_KEY_SECRET_ARN":      cursorKey.SecretArn(),
		"TENANT_CLAIM":               jsii.String(cfg.TenantClaim),
		"ROLE_CLAIM":                 jsii.String(cfg.RoleClaim),
		"CONNECTOR_ROLE_ARN":         connector.RoleArn(),
		"PLATFORM_PRINCIPAL_ARN":     connector.RoleArn(),
		"ONBOARDING_TEMPLATE_URL":    jsii.String(templateURL),
		"CALLBACK_TOPIC_ARN_PATTERN": jsii.String(callbackTopicPattern(s, cfg)),
	}
	for _, t := range tables.All() {
		environment[t.EnvVar] = p.Tables[t.ID].TableName()
	}

	// Queues of Queue-triggered functions, created first so their feeders learn the URL.
	queues := map[string]awssqs.Queue{}
	for _, f := range fns {
		if f.Trigger == Queue {
			dlq := newQueue(s, camel(f.Name)+"QueueDLQ", nil)
			queues[f.Name] = newQueue(s, camel(f.Name)+"Queue", &awssqs.QueueProps{
				// Six times the timeout: a message is not redelivered while a slow attempt still runs.
				VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(6 * f.Timeout.Seconds())),
				DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(5)},
			})
			p.alarm(camel(f.Name)+"QueueDLQDepth", dlq.MetricApproximateNumberOfMessagesVisible(period()),
				"Messages for "+f.Name+" failed five times and wait in its dead-letter queue")
		}
	}

	for _, f := range fns {
		fn := p.newFunction(cfg, f, code[f.Name], roles[f.Name], environment)
		p.Functions[f.Name] = fn
		for _, id := range sortedKeys(p.Tables) {
			p.Tables[id].GrantReadWriteData(fn)
		}
		cursorKey.GrantRead(fn, nil)
		if q, ok := queues[f.Name]; ok {
			fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(q, &awslambdaeventsources.SqsEventSourceProps{
				BatchSize: jsii.Number(1), ReportBatchItemFailures: jsii.Bool(true),
				MaxConcurrency: jsii.Number(float64(max(2, f.ReservedConcurrency))),
			}))
		}
		if f.Feeds != "" {
			queues[f.Feeds].GrantSendMessages(fn)
			fn.AddEnvironment(jsii.String(QueueEnv(f.Feeds)), queues[f.Feeds].QueueUrl(), nil)
		}
	}

	if fn, ok := p.Functions["callback"]; ok {
		// The callback topics live in the regional stacks; their ARNs are known by name, so no cross-region reference.
		for _, region := range cfg.Regions {
			fn.AddPermission(jsii.String("CallbackTopic-"+region), &awslambda.Permission{
				Principal: awsiam.NewServicePrincipal(jsii.String("sns.amazonaws.com"), nil),
				Action:    jsii.String("lambda:InvokeFunction"),
				SourceArn: jsii.String(callbackTopicARN(s, cfg, region)),
			})
		}
	}

	p.api(cfg)
	p.stateMachine(cfg, fns)
	p.schedules(cfg, fns)

	out := func(id, value, what string) {
		awscdk.NewCfnOutput(s, jsii.String(id), &awscdk.CfnOutputProps{Value: jsii.String(value), Description: jsii.String(what)})
	}
	out("ConnectorRoleArn", *connector.RoleArn(), "The principal customers' roles trust (PLATFORM_PRINCIPAL_ARN)")
	out("TemplateUrl", templateURL, "The onboarding template customers' CloudFormation reads")
	out("CallbackTopicArnPattern", callbackTopicPattern(s, cfg), "The callback topic of each region ({region})")
	out("AlarmTopicArn", *p.AlarmTopic.TopicArn(), "Alarms of the platform stack")
	return p
}

func env(cfg Config, region string) *awscdk.Environment {
	e := &awscdk.Environment{Region: jsii.String(region)}
	if cfg.Account != "" {
		e.Account = jsii.String(cfg.Account)
	}
	return e
}

func period() *awscloudwatch.MetricOptions {
	return &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum")}
}

func sum() *awscloudwatch.MetricOptions {
	return &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}
}

// newQueue is an encrypted (SQS-managed keys: SNS, Lambda and Scheduler deliver to it without a key policy),
// TLS-only queue that keeps messages 14 days, long enough to look at and redrive failures.
func newQueue(s awscdk.Stack, id string, props *awssqs.QueueProps) awssqs.Queue {
	if props == nil {
		props = &awssqs.QueueProps{}
	}
	props.Encryption = awssqs.QueueEncryption_SQS_MANAGED
	props.EnforceSSL = jsii.Bool(true)
	props.RetentionPeriod = awscdk.Duration_Days(jsii.Number(14))
	return awssqs.NewQueue(s, jsii.String(id), props)
}

// newTable builds a table from its one definition in pkg/tables: on-demand, point-in-time recovery, deletion
// protection, retained on stack deletion, encrypted with the AWS-managed key (aws/dynamodb).
func newTable(s awscdk.Stack, t tables.Table) awsdynamodb.Table {
	props := &awsdynamodb.TableProps{
		PartitionKey:                     attribute(t.PartitionKey),
		SortKey:                          attribute(t.SortKey),
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		DeletionProtection:               jsii.Bool(true),
		Encryption:                       awsdynamodb.TableEncryption_AWS_MANAGED,
		RemovalPolicy:                    awscdk.RemovalPolicy_RETAIN,
	}
	if t.TTLAttribute != "" {
		props.TimeToLiveAttribute = jsii.String(t.TTLAttribute)
	}
	table := awsdynamodb.NewTable(s, jsii.String(camel(t.ID)+"Table"), props)
	for _, ix := range t.Indexes {
		table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName: jsii.String(ix.Name), PartitionKey: attribute(ix.PartitionKey), SortKey: attribute(ix.SortKey),
			ProjectionType: awsdynamodb.ProjectionType(ix.Projection),
		})
	}
	return table
}

func attribute(a tables.Attribute) *awsdynamodb.Attribute {
	if a.Name == "" {
		return nil
	}
	typ := awsdynamodb.AttributeType_STRING
	if a.Type == tables.Number {
		typ = awsdynamodb.AttributeType_NUMBER
	}
	return &awsdynamodb.Attribute{Name: jsii.String(a.Name), Type: typ}
}

// connectorRole is the one principal customers' roles trust. Its only permission is sts:AssumeRole on Gangplank*
// roles; only the functions that reach customers' accounts may assume it. It keeps a fixed name and is retained:
// customers' trust policies name its ARN, and a recreated role (same name, new unique ID) would not be trusted.
func connectorRole(s awscdk.Stack, cfg Config, trusted []awsiam.IPrincipal) awsiam.Role {
	var assumedBy awsiam.IPrincipal = awsiam.NewAccountRootPrincipal() // no function reaches customers: nobody may assume it
	if len(trusted) > 0 {
		assumedBy = awsiam.NewCompositePrincipal(trusted...)
	}
	role := awsiam.NewRole(s, jsii.String("ConnectorRole"), &awsiam.RoleProps{
		RoleName:           jsii.String(cfg.Prefix + "-connector"),
		Description:        jsii.String("Gangplank's connector: the one principal customers' roles trust"),
		AssumedBy:          assumedBy,
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
		InlinePolicies: &map[string]awsiam.PolicyDocument{
			"AssumeGangplankRolesOnly": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &[]awsiam.PolicyStatement{
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Sid: jsii.String("AssumeCustomerRolesNamedGangplank"), Actions: jsii.Strings("sts:AssumeRole"),
					Resources: jsii.Strings(ConnectorPolicyResource),
				}),
			}}),
		},
	})
	role.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN)
	return role
}

// templateBucket holds the onboarding template at TemplateKey. Customers' CloudFormation (quick-create links, the
// CLI, any account) must read it, so objects under onboarding/ are publicly readable, and nothing else: the
// template is the same for everyone and holds no secret (the tenant's values travel as stack parameters). For the
// same reason it uses SSE-S3: an SSE-KMS object cannot be read anonymously. Earlier template versions stay (no
// pruning): activation links already sent point at them.
func templateBucket(s awscdk.Stack, cfg Config) awss3.Bucket {
	accessLogs := awss3.NewBucket(s, jsii.String("AccessLogs"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:         jsii.Bool(true),
		LifecycleRules:    &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(365))}},
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	bucket := awss3.NewBucket(s, jsii.String("Templates"), &awss3.BucketProps{
		Encryption: awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL: jsii.Bool(true),
		Versioned:  jsii.Bool(true),
		// ACLs stay blocked; only the bucket policy below may grant public reads.
		BlockPublicAccess: awss3.NewBlockPublicAccess(&awss3.BlockPublicAccessOptions{
			BlockPublicAcls: jsii.Bool(true), IgnorePublicAcls: jsii.Bool(true),
			BlockPublicPolicy: jsii.Bool(false), RestrictPublicBuckets: jsii.Bool(false),
		}),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		ServerAccessLogsBucket: accessLogs,
		ServerAccessLogsPrefix: jsii.String("templates/"),
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
	})
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AnyoneReadsOnboardingTemplates"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:GetObject"),
		Resources:  &[]*string{bucket.ArnForObjects(jsii.String("onboarding/*"))},
	}))
	awss3deployment.NewBucketDeployment(s, jsii.String("OnboardingTemplate"), &awss3deployment.BucketDeploymentProps{
		Sources:              &[]awss3deployment.ISource{awss3deployment.Source_Asset(jsii.String(filepath.Join(cfg.RepoRoot, "pkg/onboarding/templates")), nil)},
		DestinationBucket:    bucket,
		DestinationKeyPrefix: jsii.String("onboarding/" + onboarding.TemplateVersion + "/"),
		Prune:                jsii.Bool(false),
		RetainOnDelete:       jsii.Bool(true),
		ContentType:          jsii.String("application/x-yaml"),
	})
	return bucket
}

func (p *Platform) newFunction(cfg Config, f Function, code string, role awsiam.Role, environment map[string]*string) awslambda.Function {
	id := camel(f.Name)
	logs := awslogs.NewLogGroup(p.Stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/lambda/" + cfg.Prefix + "-" + f.Name),
		Retention:     awslogs.RetentionDays_THREE_MONTHS,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	env := map[string]*string{}
	for k, v := range environment {
		env[k] = v
	}
	props := &awslambda.FunctionProps{
		FunctionName:  jsii.String(cfg.Prefix + "-" + f.Name),
		Description:   jsii.String(fmt.Sprintf("Gangplank %s (functions/%s), triggered by %s", f.Name, f.Name, f.Trigger)),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(code), nil),
		MemorySize:    jsii.Number(float64(f.Memory)),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(f.Timeout.Seconds())),
		Role:          role,
		Environment:   &env,
		Tracing:       awslambda.Tracing_ACTIVE,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		LogGroup:      logs,
	}
	if f.ReservedConcurrency > 0 {
		props.ReservedConcurrentExecutions = jsii.Number(float64(f.ReservedConcurrency))
	}
	if f.Trigger == CallbackTopics || f.Trigger == Schedule {
		// Asynchronous: Lambda retries twice, then the event lands in the function's failure queue.
		dlq := newQueue(p.Stack, id+"Failures", nil)
		props.OnFailure = awslambdadestinations.NewSqsDestination(dlq)
		props.RetryAttempts = jsii.Number(2)
		props.MaxEventAge = awscdk.Duration_Hours(jsii.Number(6))
		p.alarm(id+"FailuresDepth", dlq.MetricApproximateNumberOfMessagesVisible(period()),
			"Asynchronous invocations of "+f.Name+" failed three times and wait in its failure queue")
	}
	fn := awslambda.NewFunction(p.Stack, jsii.String(id+"Function"), props)
	p.alarm(id+"Errors", fn.MetricErrors(sum()), f.Name+" returned errors")
	p.alarm(id+"Throttles", fn.MetricThrottles(sum()), f.Name+" was throttled (concurrency)")
	return fn
}

// api is the HTTP API: every route needs a valid JWT except the health check and the OpenAPI document. The API's
// own router answers unknown paths and methods (problem+json 404/405), so one greedy route per method forwards
// everything; OPTIONS has no route, so API Gateway answers CORS preflights itself.
func (p *Platform) api(cfg Config) {
	fn, ok := p.Functions["api"]
	if !ok {
		return
	}
	s := p.Stack
	var authorizer awsapigatewayv2.IHttpRouteAuthorizer
	if cfg.UsesCognito() {
		pool, client := userPool(s, cfg)
		authorizer = awsapigatewayv2authorizers.NewHttpUserPoolAuthorizer(jsii.String("CognitoAuthorizer"), pool,
			&awsapigatewayv2authorizers.HttpUserPoolAuthorizerProps{UserPoolClients: &[]awscognito.IUserPoolClient{client}})
	} else {
		authorizer = awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("JwtAuthorizer"), jsii.String(cfg.JWTIssuer),
			&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{JwtAudience: jsii.Strings(cfg.JWTAudience...)})
	}
	props := &awsapigatewayv2.HttpApiProps{
		ApiName:            jsii.String(cfg.Prefix + "-api"),
		Description:        jsii.String("Gangplank's HTTP API"),
		CreateDefaultStage: jsii.Bool(false),
		DefaultAuthorizer:  authorizer,
	}
	if len(cfg.AllowedOrigins) > 0 {
		props.CorsPreflight = &awsapigatewayv2.CorsPreflightOptions{
			AllowOrigins: jsii.Strings(cfg.AllowedOrigins...),
			AllowMethods: &[]awsapigatewayv2.CorsHttpMethod{awsapigatewayv2.CorsHttpMethod_GET, awsapigatewayv2.CorsHttpMethod_POST,
				awsapigatewayv2.CorsHttpMethod_PATCH, awsapigatewayv2.CorsHttpMethod_DELETE, awsapigatewayv2.CorsHttpMethod_OPTIONS},
			AllowHeaders:  jsii.Strings("authorization", "content-type", "if-match"),
			ExposeHeaders: jsii.Strings("etag", "location", "retry-after", "x-request-id"),
			MaxAge:        awscdk.Duration_Hours(jsii.Number(1)),
		}
	}
	api := awsapigatewayv2.NewHttpApi(s, jsii.String("Api"), props)
	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("ApiIntegration"), fn,
		&awsapigatewayv2integrations.HttpLambdaIntegrationProps{PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0()})
	api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path: jsii.String("/{proxy+}"), Integration: integration,
		Methods: &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_GET, awsapigatewayv2.HttpMethod_POST, awsapigatewayv2.HttpMethod_PUT,
			awsapigatewayv2.HttpMethod_PATCH, awsapigatewayv2.HttpMethod_DELETE, awsapigatewayv2.HttpMethod_HEAD},
	})
	for _, path := range PublicRoutes {
		routes := api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path: jsii.String(path), Methods: &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_GET},
			Integration: integration, Authorizer: awsapigatewayv2.NewHttpNoneAuthorizer(),
		})
		for _, r := range *routes {
			suppress(r, "AwsSolutions-APIG4", "Public by design: "+path+" needs no token (pkg/httpapi marks it public)")
		}
	}

	accessLogs := awslogs.NewLogGroup(s, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention: awslogs.RetentionDays_THREE_MONTHS, RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	stage := awsapigatewayv2.NewHttpStage(s, jsii.String("ApiStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi: api, StageName: jsii.String("$default"), AutoDeploy: jsii.Bool(true),
		// Per-account limits: enough for the product's traffic, a ceiling on runaway clients and bills.
		Throttle: &awsapigatewayv2.ThrottleSettings{RateLimit: jsii.Number(100), BurstLimit: jsii.Number(200)},
	})
	stage.Node().DefaultChild().(awsapigatewayv2.CfnStage).SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format:         jsii.String(accessLogFormat),
	})
	p.alarm("Api5xx", api.MetricServerError(sum()), "The API answered 5xx")
	awscdk.NewCfnOutput(s, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{Value: api.ApiEndpoint(), Description: jsii.String("The API's base URL")})
}

// PublicRoutes are the GET paths served without a token (the routes pkg/httpapi marks public).
var PublicRoutes = []string{"/healthz", "/v1/openapi.json"}

// accessLogFormat is one JSON line per request; requestId matches the X-Request-Id the API returns.
const accessLogFormat = `{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",` +
	`"method":"$context.httpMethod","routeKey":"$context.routeKey","path":"$context.path","status":"$context.status",` +
	`"protocol":"$context.protocol","responseLength":"$context.responseLength","latencyMs":"$context.responseLatency",` +
	`"integrationLatencyMs":"$context.integrationLatency","subject":"$context.authorizer.claims.sub",` +
	`"authorizerError":"$context.authorizer.error","integrationError":"$context.integrationErrorMessage"}`

// userPool is the default identity provider: no self sign-up (admins invite users and set their tenant and role),
// MFA required, strong passwords. Users cannot write custom:tenant_id or custom:role: the API trusts them.
func userPool(s awscdk.Stack, cfg Config) (awscognito.UserPool, awscognito.UserPoolClient) {
	pool := awscognito.NewUserPool(s, jsii.String("UserPool"), &awscognito.UserPoolProps{
		UserPoolName:      jsii.String(cfg.Prefix + "-users"),
		SelfSignUpEnabled: jsii.Bool(false),
		SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
		Mfa:               awscognito.Mfa_REQUIRED,
		MfaSecondFactor:   &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		PasswordPolicy: &awscognito.PasswordPolicy{MinLength: jsii.Number(12), RequireDigits: jsii.Bool(true),
			RequireLowercase: jsii.Bool(true), RequireUppercase: jsii.Bool(true), RequireSymbols: jsii.Bool(true)},
		AccountRecovery: awscognito.AccountRecovery_EMAIL_ONLY,
		CustomAttributes: &map[string]awscognito.ICustomAttribute{
			"tenant_id": awscognito.NewStringAttribute(&awscognito.StringAttributeProps{Mutable: jsii.Bool(false), MinLen: jsii.Number(1), MaxLen: jsii.Number(64)}),
			"role":      awscognito.NewStringAttribute(&awscognito.StringAttributeProps{Mutable: jsii.Bool(true), MinLen: jsii.Number(1), MaxLen: jsii.Number(16)}),
		},
		DeletionProtection: jsii.Bool(true),
		RemovalPolicy:      awscdk.RemovalPolicy_RETAIN,
	})
	client := pool.AddClient(jsii.String("WebClient"), &awscognito.UserPoolClientOptions{
		UserPoolClientName: jsii.String(cfg.Prefix + "-web"),
		AuthFlows:          &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		GenerateSecret:     jsii.Bool(false),
		// Users may edit their own profile, never the claims that place them in a tenant with a role.
		WriteAttributes:            awscognito.NewClientAttributes().WithStandardAttributes(&awscognito.StandardAttributesMask{Email: jsii.Bool(true), Fullname: jsii.Bool(true)}),
		PreventUserExistenceErrors: jsii.Bool(true),
		IdTokenValidity:            awscdk.Duration_Hours(jsii.Number(1)),
		AccessTokenValidity:        awscdk.Duration_Hours(jsii.Number(1)),
	})
	awscdk.NewCfnOutput(s, jsii.String("UserPoolId"), &awscdk.CfnOutputProps{Value: pool.UserPoolId()})
	awscdk.NewCfnOutput(s, jsii.String("UserPoolClientId"), &awscdk.CfnOutputProps{Value: client.UserPoolClientId(),
		Description: jsii.String("The JWT audience: clients send the ID token (it carries custom:tenant_id and custom:role)")})
	return pool, client
}

// substitution matches ${Name} placeholders in an ASL file.
var substitution = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// stateMachine deploys the bulk-activation workflow from StateMachineFile, if the repository has it. The ASL names
// functions as ${<Camel>FunctionArn} (${ActivationFunctionArn}) and tables as ${<Camel>TableName} /
// ${<Camel>TableArn}; the workflow may invoke (and write) exactly what it names.
func (p *Platform) stateMachine(cfg Config, fns []Function) {
	path := filepath.Join(cfg.RepoRoot, StateMachineFile)
	definition, err := os.ReadFile(path)
	if err != nil {
		return
	}
	used := map[string]bool{}
	for _, m := range substitution.FindAllStringSubmatch(string(definition), -1) {
		used[m[1]] = true
	}
	available := map[string]*string{}
	for name, fn := range p.Functions {
		available[camel(name)+"FunctionArn"] = fn.FunctionArn()
	}
	for id, t := range p.Tables {
		available[camel(id)+"TableName"] = t.TableName()
		available[camel(id)+"TableArn"] = t.TableArn()
	}
	// Only what the definition uses: a substitution is a dependency, and the functions that start the workflow
	// depend on it (a cycle if it depended on them for nothing).
	subs := map[string]*string{}
	for name := range used {
		v, ok := available[name]
		if !ok {
			panic(fmt.Sprintf("%s uses ${%s}, which the stack does not provide (functions: <Camel>FunctionArn, tables: <Camel>TableName/TableArn)", StateMachineFile, name))
		}
		subs[name] = v
	}
	logs := awslogs.NewLogGroup(p.Stack, jsii.String("BulkActivationLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/vendedlogs/states/" + cfg.Prefix + "-bulk-activation"),
		Retention:     awslogs.RetentionDays_THREE_MONTHS,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	sm := awsstepfunctions.NewStateMachine(p.Stack, jsii.String("BulkActivation"), &awsstepfunctions.StateMachineProps{
		StateMachineName:        jsii.String(cfg.Prefix + "-bulk-activation"),
		StateMachineType:        awsstepfunctions.StateMachineType_STANDARD,
		DefinitionBody:          awsstepfunctions.DefinitionBody_FromFile(jsii.String(path), nil),
		DefinitionSubstitutions: &subs,
		// Every event, without execution data: inputs and outputs carry customers' account details.
		Logs:           &awsstepfunctions.LogOptions{Destination: logs, Level: awsstepfunctions.LogLevel_ALL, IncludeExecutionData: jsii.Bool(false)},
		TracingEnabled: jsii.Bool(true),
	})
	p.StateMachine = sm
	for _, name := range sortedKeys(p.Functions) {
		if used[camel(name)+"FunctionArn"] {
			p.Functions[name].GrantInvoke(sm)
		}
	}
	for _, id := range sortedKeys(p.Tables) {
		if used[camel(id)+"TableName"] || used[camel(id)+"TableArn"] {
			p.Tables[id].GrantReadWriteData(sm)
		}
	}
	for _, f := range fns {
		if f.StartsWorkflow {
			fn := p.Functions[f.Name]
			sm.GrantStartExecution(fn)
			sm.GrantTaskResponse(fn)
			fn.AddEnvironment(jsii.String(StateMachineEnv), sm.StateMachineArn(), nil)
		}
	}
	p.alarm("BulkActivationFailed", sm.MetricFailed(sum()), "A bulk activation execution failed")
	p.alarm("BulkActivationTimedOut", sm.MetricTimedOut(sum()), "A bulk activation execution timed out")
	p.alarm("BulkActivationAborted", sm.MetricAborted(sum()), "A bulk activation execution was aborted")
}

// schedules invokes each Schedule-triggered function at its expression (UTC). Scheduler retries twice, then
// parks the event in a dead-letter queue.
func (p *Platform) schedules(cfg Config, fns []Function) {
	var dlq awssqs.Queue
	for _, f := range fns {
		if f.Trigger != Schedule {
			continue
		}
		if dlq == nil {
			dlq = newQueue(p.Stack, "SchedulerDLQ", nil)
			p.alarm("SchedulerDLQDepth", dlq.MetricApproximateNumberOfMessagesVisible(period()),
				"EventBridge Scheduler could not invoke a scheduled function")
		}
		awsscheduler.NewSchedule(p.Stack, jsii.String(camel(f.Name)+"Schedule"), &awsscheduler.ScheduleProps{
			ScheduleName: jsii.String(cfg.Prefix + "-" + f.Name),
			Description:  jsii.String("Runs " + f.Name + " daily"),
			Schedule:     awsscheduler.ScheduleExpression_Expression(jsii.String(f.Schedule), awscdk.TimeZone_ETC_UTC()),
			Target: awsschedulertargets.NewLambdaInvoke(p.Functions[f.Name], &awsschedulertargets.ScheduleTargetBaseProps{
				DeadLetterQueue: dlq, RetryAttempts: jsii.Number(2), MaxEventAge: awscdk.Duration_Hours(jsii.Number(6)),
			}),
		})
	}
}

// callbackTopicName is the callback topic's name in every region.
func callbackTopicName(cfg Config) string { return cfg.Prefix + "-onboarding" }

func callbackTopicARN(s awscdk.Stack, cfg Config, region string) string {
	return "arn:" + *awscdk.Aws_PARTITION() + ":sns:" + region + ":" + *s.Account() + ":" + callbackTopicName(cfg)
}

// callbackTopicPattern is CALLBACK_TOPIC_ARN_PATTERN: the callback topic's ARN with {region}.
func callbackTopicPattern(s awscdk.Stack, cfg Config) string {
	return callbackTopicARN(s, cfg, "{region}")
}

// sortedKeys returns m's keys in order, for deterministic construct order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
