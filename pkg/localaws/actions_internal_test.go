package localaws

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestOperationOf: requests map to IAM's action names (service prefixes that differ from the signing name, S3's and
// Lambda's routes) and to the resource they act on.
func TestOperationOf(t *testing.T) {
	caller := principal{kind: kindSession, account: "111111111111"}
	tests := []struct {
		name, service, method, target, url, body string
		header                                   map[string]string
		wantAction, wantResource                 string
	}{
		{"Tagging API is tag:", "tagging", "POST", "ResourceGroupsTaggingAPI_20170126.GetResources", "/", "{}", nil, "tag:GetResources", ""},
		{"Organizations", "organizations", "POST", "AWSOrganizationsV20161128.ListAccounts", "/", "{}", nil, "organizations:ListAccounts", ""},
		{"Cost Explorer is ce:", "ce", "POST", "AWSInsightsIndexService.GetSavingsPlansPurchaseRecommendation", "/", "{}", nil, "ce:GetSavingsPlansPurchaseRecommendation", ""},
		{"CloudWatch signs as monitoring", "monitoring", "POST", "", "/", "Action=DescribeAlarms&Version=2010-08-01", nil, "cloudwatch:DescribeAlarms", ""},
		{"DynamoDB table", "dynamodb", "POST", "DynamoDB_20120810.GetItem", "/", `{"TableName":"accounts"}`, nil, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:111111111111:table/accounts"},
		{"SQS queue", "sqs", "POST", "AmazonSQS.SendMessage", "/", `{"QueueUrl":"http://localhost/111111111111/jobs"}`, nil, "sqs:SendMessage", "arn:aws:sqs:us-east-1:111111111111:jobs"},
		{"STS AssumeRole", "sts", "POST", "", "/", "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A2%3Arole%2FR", nil, "sts:AssumeRole", "arn:aws:iam::2:role/R"},
		{"CloudFormation stack by name", "cloudformation", "POST", "", "/", "Action=CreateStack&StackName=Gangplank-Onboarding", nil, "cloudformation:CreateStack", "arn:aws:cloudformation:us-east-1:111111111111:stack/Gangplank-Onboarding/*"},
		{"Resource Explorer Search", "resource-explorer-2", "POST", "", "/Search", `{"QueryString":"","ViewArn":"arn:aws:resource-explorer-2:us-east-1:111111111111:view/all/1"}`, nil, "resource-explorer-2:Search", "arn:aws:resource-explorer-2:us-east-1:111111111111:view/all/1"},
		{"Resource Explorer ListResources is authorized as Search", "resource-explorer-2", "POST", "", "/ListResources", `{"ViewArn":"arn:aws:resource-explorer-2:us-east-1:111111111111:view/all/1"}`, nil, "resource-explorer-2:Search", "arn:aws:resource-explorer-2:us-east-1:111111111111:view/all/1"},
		{"Resource Explorer ListViews", "resource-explorer-2", "POST", "", "/ListViews", `{}`, nil, "resource-explorer-2:ListViews", ""},
		{"Resource Explorer tags", "resource-explorer-2", "GET", "", "/tags/arn%3Aaws%3Aresource-explorer-2%3Aus-east-1%3A1%3Aview%2Fv", "", nil, "resource-explorer-2:ListTagsForResource", "arn:aws:resource-explorer-2:us-east-1:1:view/v"},
		{"Lambda Invoke is InvokeFunction", "lambda", "POST", "", "/2015-03-31/functions/fn/invocations", "{}", nil, "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:111111111111:function:fn"},
		{"Lambda ListFunctions", "lambda", "GET", "", "/2015-03-31/functions/", "", nil, "lambda:ListFunctions", "*"},
		{"Lambda tags", "lambda", "POST", "", "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af", "{}", nil, "lambda:TagResource", "arn:aws:lambda:us-east-1:1:function:f"},
		{"API Gateway is the method on the path", "apigateway", "GET", "", "/restapis", "", nil, "apigateway:GET", "arn:aws:apigateway:us-east-1::/restapis"},
		{"an unmapped REST call", "scheduler", "GET", "", "/schedules", "", nil, "scheduler:GET /schedules", ""},
		{"S3 ListBuckets", "s3", "GET", "", "/", "", nil, "s3:ListAllMyBuckets", "*"},
		{"S3 CreateBucket", "s3", "PUT", "", "/b", "", nil, "s3:CreateBucket", "arn:aws:s3:::b"},
		{"S3 ListObjectsV2", "s3", "GET", "", "/b?list-type=2", "", nil, "s3:ListBucket", "arn:aws:s3:::b"},
		{"S3 HeadBucket", "s3", "HEAD", "", "/b", "", nil, "s3:ListBucket", "arn:aws:s3:::b"},
		{"S3 ListObjectVersions", "s3", "GET", "", "/b?versions", "", nil, "s3:ListBucketVersions", "arn:aws:s3:::b"},
		{"S3 GetBucketTagging", "s3", "GET", "", "/b?tagging", "", nil, "s3:GetBucketTagging", "arn:aws:s3:::b"},
		{"S3 DeleteBucketTagging is PutBucketTagging", "s3", "DELETE", "", "/b?tagging", "", nil, "s3:PutBucketTagging", "arn:aws:s3:::b"},
		{"S3 DeleteObjects is DeleteObject", "s3", "POST", "", "/b?delete", "<Delete/>", nil, "s3:DeleteObject", "arn:aws:s3:::b"},
		{"S3 GetObject", "s3", "GET", "", "/b/a/b%20c.txt", "", nil, "s3:GetObject", "arn:aws:s3:::b/a/b c.txt"},
		{"S3 HeadObject is GetObject", "s3", "HEAD", "", "/b/k", "", nil, "s3:GetObject", "arn:aws:s3:::b/k"},
		{"S3 CopyObject is PutObject", "s3", "PUT", "", "/b/k", "", map[string]string{"X-Amz-Copy-Source": "/a/k"}, "s3:PutObject", "arn:aws:s3:::b/k"},
		{"S3 PutObjectTagging", "s3", "PUT", "", "/b/k?tagging", "", nil, "s3:PutObjectTagging", "arn:aws:s3:::b/k"},
		{"S3 AbortMultipartUpload", "s3", "DELETE", "", "/b/k?uploadId=1", "", nil, "s3:AbortMultipartUpload", "arn:aws:s3:::b/k"},
		{"S3 virtual-hosted bucket", "s3", "GET", "", "http://b.s3.localhost/k", "", nil, "s3:GetObject", "arn:aws:s3:::b/k"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/"+tc.service+"/aws4_request, SignedHeaders=host, Signature=x")
			if tc.target != "" {
				r.Header.Set("X-Amz-Target", tc.target)
				r.Header.Set("Content-Type", "application/x-amz-json-1.1")
			} else if strings.HasPrefix(tc.body, "Action=") {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			c, err := ParseCall(r)
			if err != nil {
				t.Fatal(err)
			}
			op := (&Env{}).operationOf(c, caller)
			if op.Action != tc.wantAction || op.Resource != tc.wantResource {
				t.Errorf("operation = %s on %q, want %s on %q", op.Action, op.Resource, tc.wantAction, tc.wantResource)
			}
		})
	}
}
