package stack

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// App is everything Build added to a CDK app.
type App struct {
	Platform *Platform
	// Callback maps each served region to its callback stack.
	Callback map[string]awscdk.Stack
	// Code maps each function to the folder holding its bootstrap binary.
	Code map[string]string
}

// Build builds the functions, adds Gangplank's stacks to app and applies cdk-nag's AwsSolutions checks (findings
// become errors in the cloud assembly, which fail `cdk synth` and the tests).
func Build(app awscdk.App, cfg Config) (*App, error) {
	// Log delivery to the access-log bucket by bucket policy, not ACL, so that bucket can enforce bucket-owner
	// object ownership (ACLs off).
	app.Node().SetContext(jsii.String("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"), true)
	fns, err := Deployed(cfg.RepoRoot)
	if err != nil {
		return nil, err
	}
	code, err := BuildBinaries(cfg.RepoRoot, cfg.BuildDir, fns)
	if err != nil {
		return nil, err
	}
	a := &App{Platform: newPlatform(app, cfg, fns, code), Callback: map[string]awscdk.Stack{}, Code: code}
	for _, region := range cfg.Regions {
		s := newCallbackStack(app, cfg, region)
		// The subscription needs the callback function; the function's permission names the topic by ARN only.
		s.AddDependency(a.Platform.Stack, jsii.String("the callback function exists before its subscriptions"))
		a.Callback[region] = s
	}
	suppressFindings(a)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return a, nil
}

// suppress silences one cdk-nag rule on construct (and its children), with the reason.
func suppress(c constructs.IConstruct, rule, reason string, appliesTo ...interface{}) {
	s := &cdknag.NagPackSuppression{Id: jsii.String(rule), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		s.AppliesTo = &appliesTo
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{s}, jsii.Bool(true))
}

// suppressFindings silences the AwsSolutions findings that are deliberate, each with its reason. Everything else
// fails the synth.
func suppressFindings(a *App) {
	p := a.Platform
	for name, fn := range p.Functions {
		suppress(fn.Role(), "AwsSolutions-IAM4", "AWSLambdaBasicExecutionRole grants only CloudWatch Logs writes "+
			"(logs:CreateLogGroup, CreateLogStream, PutLogEvents), which every function needs",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
		suppress(fn.Role(), "AwsSolutions-IAM5", "X-Ray's PutTraceSegments and PutTelemetryRecords support no "+
			"resource-level permissions, so tracing needs Resource *", "Resource::*")
		suppress(fn.Role(), "AwsSolutions-IAM5", "Queries on a table's global secondary indexes need its "+
			"<table>/index/* ARN (the indexes come from pkg/tables)", regex(`^Resource::<[A-Za-z0-9]+Table[0-9A-F]{8}\.Arn>/index/\*$`))
		_ = name
	}
	for _, c := range *p.Stack.Node().Children() {
		if id := *c.Node().Id(); strings.HasPrefix(id, "Custom::CDKBucketDeployment") {
			suppress(c, "AwsSolutions-IAM4", "CDK's BucketDeployment provider (uploads the onboarding template) uses "+
				"AWSLambdaBasicExecutionRole for its logs", "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
			suppress(c, "AwsSolutions-IAM5", "CDK's BucketDeployment provider copies the template from the CDK "+
				"asset bucket into the template bucket; CDK generates these grants (object wildcards of both buckets)")
			suppress(c, "AwsSolutions-L1", "CDK's BucketDeployment provider pins its own Python runtime; it runs "+
				"only during deployments")
		}
	}
	if sm := p.StateMachine; sm != nil {
		suppress(sm.Role(), "AwsSolutions-IAM5", "X-Ray tracing and CloudWatch Logs delivery (logs:CreateLogDelivery "+
			"and related) support no resource-level permissions", "Resource::*")
		suppress(sm.Role(), "AwsSolutions-IAM5", "Invoking a function named by the definition covers its versions "+
			"and aliases (<function ARN>:*)", regex(`^Resource::<[A-Za-z0-9]+Function[0-9A-F]{8}\.Arn>:\*$`))
		suppress(sm.Role(), "AwsSolutions-IAM5", "A table named by the definition is queried through its indexes",
			regex(`^Resource::<[A-Za-z0-9]+Table[0-9A-F]{8}\.Arn>/index/\*$`))
	}
	for _, c := range *p.Stack.Node().Children() {
		if strings.HasPrefix(*c.Node().Id(), "SchedulerRoleForTarget") {
			suppress(c, "AwsSolutions-IAM5", "EventBridge Scheduler's role invokes the scheduled function, including "+
				"its versions and aliases (<function ARN>:*)", regex(`^Resource::<[A-Za-z0-9]+Function[0-9A-F]{8}\.Arn>:\*$`))
		}
	}
	suppress(p.Stack.Node().FindChild(jsii.String("ConnectorRole")), "AwsSolutions-IAM5", "The platform's one "+
		"cross-account permission by design: sts:AssumeRole on roles named Gangplank* in customers' accounts (which "+
		"are not known in advance); each customer role also requires the tenant's External ID",
		"Resource::"+ConnectorPolicyResource)
	suppress(p.Stack.Node().FindChild(jsii.String("Templates")), "AwsSolutions-S2", "Customers' CloudFormation "+
		"(quick-create links in any account) must read the onboarding template; the bucket policy makes onboarding/* "+
		"readable and nothing else, ACLs stay blocked, and the template holds no secret")
	suppress(p.Stack.Node().FindChild(jsii.String("CursorKey")), "AwsSolutions-SMG4", "The cursor key only signs "+
		"pagination cursors (a leak lets nobody read another tenant's data: cursors are bound to the tenant); "+
		"functions read it once per cold start, so rotating it would break cursors in flight for no gain")
	if pool := p.Stack.Node().TryFindChild(jsii.String("UserPool")); pool != nil {
		suppress(pool, "AwsSolutions-COG3", "Advanced security (threat protection) needs Cognito's paid Plus plan; "+
			"the pool already requires MFA, strong passwords and admin-created users. Enable it per deployment if wanted")
	}
	for _, s := range append([]awscdk.Stack{p.Stack}, values(a.Callback)...) {
		for _, c := range *s.Node().Children() {
			if q, ok := c.(awssqs.Queue); ok && isDeadLetterQueue(*c.Node().Id()) {
				suppress(q, "AwsSolutions-SQS3", "This queue is itself a dead-letter queue or failure destination")
			}
		}
	}
}

// isDeadLetterQueue reports whether a queue's construct ID names it a dead-letter queue or failure destination.
func isDeadLetterQueue(id string) bool {
	return strings.HasSuffix(id, "DLQ") || strings.HasSuffix(id, "Failures")
}

func regex(re string) map[string]interface{} { return map[string]interface{}{"regex": "/" + re + "/"} }

func values[V any](m map[string]V) []V {
	out := make([]V, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}
