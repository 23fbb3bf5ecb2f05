package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

func finding(id, reason string, appliesTo ...any) *cdknag.NagPackSuppression {
	s := &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		s.AppliesTo = &appliesTo
	}
	return s
}

func regex(r string) *cdknag.RegexAppliesTo { return &cdknag.RegexAppliesTo{Regex: jsii.String(r)} }

// suppress records the cdk-nag findings Gangplank accepts, each with why. Wildcard findings are accepted only for
// the exact actions and resources named (appliesTo), so a new wildcard still fails the checks.
func suppress(stack awscdk.Stack) {
	cdknag.NagSuppressions_AddStackSuppressions(stack, &[]*cdknag.NagPackSuppression{
		finding("AwsSolutions-SQS3", "These queues are themselves dead-letter queues (of the callback subscription and of asynchronous functions); their depth is alarmed."),
		finding("AwsSolutions-SMG4", "The cursor key only signs pagination cursors (HMAC); rotating it would break every cursor in flight and protects no data at rest. docs/deploy.md says how to replace it."),
		finding("AwsSolutions-S2", "The template bucket serves the onboarding template to CloudFormation in customers' accounts, which are not known in advance: its bucket policy makes onboarding/* (and only that) world-readable; ACLs stay blocked."),
		finding("AwsSolutions-L1", "The runtime of CDK's BucketDeployment helper function is chosen and maintained by the CDK."),
		finding("AwsSolutions-IAM4", "Lambda execution roles use AWSLambdaBasicExecutionRole (their own log streams only), as does CDK's BucketDeployment helper.",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
		finding("AwsSolutions-IAM5", "The connector may assume roles in customers' accounts, which are not known in advance; it is limited to sts:AssumeRole on roles named Gangplank*, and customers' roles require their tenant's External ID.",
			"Resource::arn:aws:iam::*:role/Gangplank*"),
		finding("AwsSolutions-IAM5", "X-Ray's PutTraceSegments and PutTelemetryRecords, and the CloudWatch Logs delivery actions Step Functions logging needs, do not support resource-level permissions.", "Resource::*"),
		finding("AwsSolutions-IAM5", "CDK's grants on Gangplank's own tables include their indexes (the access patterns of docs/data-model.md query them).",
			regex("/^Resource::<Table[A-Za-z0-9]+\\.Arn>\\/index\\/\\*$/g")),
		finding("AwsSolutions-IAM5", "CDK's KMS grant for Gangplank's own data key: encrypting and re-encrypting with that one key.",
			"Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*"),
		finding("AwsSolutions-IAM5", "EventBridge Scheduler's role, and the bulk-activation workflow's, may invoke the functions they target, including versions and aliases (CDK's invoke grants), nothing else.",
			regex("/^Resource::<Fn[A-Za-z0-9]+\\.Arn>:\\*$/g")),
		finding("AwsSolutions-IAM5", "The API may stop (cancel) the executions of the bulk activation workflow, whose names are activation ids known only at run time.",
			regex("/^Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:[a-z0-9-]+-bulk-activation:\\*$/g")),
		finding("AwsSolutions-IAM5", "The identity functions keep one secret per IAM integration, created at run time as customers enter keys; their grants are limited to the secrets under the identity prefix (and the identity KMS key).",
			regex("/^Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:[a-z0-9-]+\\/identity\\/\\*$/g")),
		finding("AwsSolutions-IAM5", "The identity functions create one schedule per delayed user deletion, named at run time; their grants are limited to the identity schedule group.",
			regex("/^Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule\\/[a-z0-9-]+-identity\\/\\*$/g")),
		finding("AwsSolutions-IAM5", "CDK's BucketDeployment helper copies the template from the CDK asset bucket into the template bucket.",
			"Action::s3:GetBucket*", "Action::s3:GetObject*", "Action::s3:List*", "Action::s3:Abort*", "Action::s3:DeleteObject*",
			regex("/^Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-(<AWS::AccountId>|[0-9]{12})-[a-z0-9-]+\\/\\*$/g"),
			regex("/^Resource::<Templates[A-Za-z0-9]+\\.Arn>\\/\\*$/g")),
	}, jsii.Bool(true))
}
