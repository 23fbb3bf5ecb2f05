package localaws

import (
	"net/url"
	"strings"
)

// protocol is how a service frames requests and errors.
type protocol int

const (
	protoQuery    protocol = iota // form-encoded Action, XML errors (IAM, STS, CloudFormation, SNS)
	protoEC2                      // EC2's own query dialect: <Response><Errors><Error>
	protoJSON                     // X-Amz-Target, JSON 1.0/1.1 (DynamoDB, Organizations, Cost Explorer, Tagging, SQS)
	protoRESTJSON                 // method + path (Lambda, Resource Explorer, Scheduler)
	protoRESTXML                  // S3
)

// operation is a request as IAM authorizes it.
type operation struct {
	// Action is "prefix:Operation" with the IAM service prefix ("tag:GetResources", "s3:ListBucket").
	Action string
	// Resource is the ARN the action acts on, "*" for an action without resources, or "" when the edge does not
	// derive it (see authzRequest.Resource).
	Resource string
	// Free is true for calls IAM never restricts (sts:GetCallerIdentity).
	Free     bool
	protocol protocol
}

// iamPrefixes maps SigV4 signing names to IAM service prefixes where they differ.
var iamPrefixes = map[string]string{
	"tagging":         "tag",            // Resource Groups Tagging API
	"monitoring":      "cloudwatch",     // CloudWatch metrics and alarms
	"email":           "ses",            // SES v1 endpoint prefix
	"cloudcontrolapi": "cloudformation", // Cloud Control API acts under CloudFormation's prefix
	"execute-api":     "execute-api",
}

// operationOf maps a request to its IAM action and, where the edge can tell, its resource:
//   - the action is the IAM prefix of the signing service (iamPrefixes) and the operation: the X-Amz-Target
//     suffix (JSON protocols), the Action form value (query protocols), or the route (S3, Lambda, Resource
//     Explorer, API Gateway), with IAM's names where they differ from the API's (S3's ListObjectsV2 is
//     s3:ListBucket, Lambda's Invoke is lambda:InvokeFunction);
//   - the resource is derived for IAM users, groups, roles, instance profiles and policies (users', groups' and
//     roles' ARNs carry their IAM path, read from IAM), STS AssumeRole's role, S3 buckets and objects, DynamoDB
//     tables, SNS topics, SQS queues, Lambda functions and CloudFormation stacks; "*" for the IAM and S3 actions
//     that have none; unknown ("") for everything else.
func (e *Env) operationOf(c *Call, caller principal) operation {
	prefix := c.Service
	if p, ok := iamPrefixes[prefix]; ok {
		prefix = p
	}
	op := operation{protocol: protocolOf(c)}
	switch op.protocol {
	case protoRESTXML:
		name, resource := s3Operation(c)
		op.Action, op.Resource = "s3:"+name, resource
		return op
	case protoRESTJSON:
		name, resource := restOperation(c, prefix, caller.account)
		op.Action, op.Resource = prefix+":"+name, resource
		return op
	}
	op.Action = prefix + ":" + c.Action
	switch c.Service {
	case "sts":
		switch c.Action {
		case "GetCallerIdentity":
			op.Free = true
		case "AssumeRole":
			op.Resource = c.Form("RoleArn")
		}
	case "iam":
		op.Resource = e.iamResource(c, caller)
	case "dynamodb":
		var in struct{ TableName string }
		if c.DecodeJSON(&in) == nil && in.TableName != "" {
			op.Resource = "arn:aws:dynamodb:" + c.Region + ":" + caller.account + ":table/" + in.TableName
		}
	case "sns":
		switch {
		case c.Form("TopicArn") != "":
			op.Resource = c.Form("TopicArn")
		case c.Action == "CreateTopic":
			op.Resource = "arn:aws:sns:" + c.Region + ":" + caller.account + ":" + c.Form("Name")
		}
	case "sqs":
		var in struct{ QueueUrl, QueueName string }
		_ = c.DecodeJSON(&in)
		name := in.QueueName
		if u, err := url.Parse(in.QueueUrl); err == nil && in.QueueUrl != "" {
			name = u.Path[strings.LastIndexByte(u.Path, '/')+1:]
		}
		if name != "" {
			op.Resource = "arn:aws:sqs:" + c.Region + ":" + caller.account + ":" + name
		}
	case "cloudformation":
		if name := c.Form("StackName"); strings.HasPrefix(name, "arn:") {
			op.Resource = name
		} else if name != "" {
			op.Resource = "arn:aws:cloudformation:" + c.Region + ":" + caller.account + ":stack/" + name + "/*"
		}
	}
	return op
}

// protocolOf tells a request's protocol from its framing.
func protocolOf(c *Call) protocol {
	switch {
	case c.Service == "s3":
		return protoRESTXML
	case c.Request.Header.Get("X-Amz-Target") != "":
		return protoJSON
	case c.Action != "" && c.Service == "ec2":
		return protoEC2
	case c.Action != "":
		return protoQuery
	}
	return protoRESTJSON
}

// iamAccountLevel are IAM actions on no particular resource.
var iamAccountLevel = map[string]bool{
	"GetAccountAuthorizationDetails": true, "GenerateCredentialReport": true, "GetCredentialReport": true,
	"GetAccountPasswordPolicy": true, "UpdateAccountPasswordPolicy": true, "DeleteAccountPasswordPolicy": true,
	"GetAccountSummary": true, "ListAccountAliases": true, "CreateAccountAlias": true, "DeleteAccountAlias": true,
	"ListOpenIDConnectProviders": true, "ListSAMLProviders": true, "ListVirtualMFADevices": true,
	"ListServerCertificates": true, "GetServiceLastAccessedDetails": true, "SimulateCustomPolicy": true,
	"GetContextKeysForCustomPolicy": true, "SetSecurityTokenServicePreferences": true,
}

// iamListPrefixes are the list actions authorized against "<type>/<PathPrefix>" (AWS names
// arn:aws:iam::<account>:user/ when ListUsers is refused).
var iamListPrefixes = map[string]string{
	"ListUsers": "user", "ListRoles": "role", "ListGroups": "group", "ListPolicies": "policy",
	"ListInstanceProfiles": "instance-profile",
}

// iamSelfActions default to the calling user when UserName is omitted.
var iamSelfActions = map[string]bool{
	"GetUser": true, "CreateAccessKey": true, "ListAccessKeys": true, "UpdateAccessKey": true, "DeleteAccessKey": true,
	"ChangePassword": true, "ListSigningCertificates": true, "UploadSigningCertificate": true,
	"UpdateSigningCertificate": true, "DeleteSigningCertificate": true, "ListSSHPublicKeys": true,
	"ListMFADevices": true, "ListServiceSpecificCredentials": true, "GetAccessKeyLastUsed": true,
}

// iamCreates are the actions that create a user, group or role (whose path is then the request's Path).
var iamCreates = map[string]string{"CreateUser": "user", "CreateGroup": "group", "CreateRole": "role"}

// iamResource is the ARN an IAM action is authorized against: the group, instance profile, role, user or policy
// it names (in that order: AddUserToGroup acts on the group, AttachUserPolicy on the user).
func (e *Env) iamResource(c *Call, caller principal) string {
	account := caller.account
	base := "arn:aws:iam::" + account + ":"
	newPath := func() string { // Create* name the new entity's path
		if p := c.Form("Path"); p != "" {
			return p
		}
		return "/"
	}
	pathOf := func(kind, name string) string {
		if iamCreates[c.Action] == kind {
			return newPath()
		}
		return e.policies.entityPath(c.Request.Context(), account, kind, name)
	}
	switch {
	case c.Form("GroupName") != "":
		return base + "group" + pathOf("group", c.Form("GroupName")) + c.Form("GroupName")
	case c.Form("InstanceProfileName") != "":
		return base + "instance-profile" + newPath() + c.Form("InstanceProfileName")
	case c.Form("RoleName") != "":
		return base + "role" + pathOf("role", c.Form("RoleName")) + c.Form("RoleName")
	case c.Form("UserName") != "":
		return base + "user" + pathOf("user", c.Form("UserName")) + c.Form("UserName")
	case c.Action == "DeleteVirtualMFADevice": // authorized against the device (mfa/<name>), whose ARN is its serial
		return c.Form("SerialNumber")
	case c.Action == "CreateVirtualMFADevice":
		return base + "mfa" + newPath() + c.Form("VirtualMFADeviceName")
	case c.Form("PolicyArn") != "":
		return c.Form("PolicyArn")
	case c.Action == "CreatePolicy":
		return base + "policy" + newPath() + c.Form("PolicyName")
	case c.Form("OpenIDConnectProviderArn") != "":
		return c.Form("OpenIDConnectProviderArn")
	case c.Form("SAMLProviderArn") != "":
		return c.Form("SAMLProviderArn")
	case iamSelfActions[c.Action] && caller.kind == kindUser:
		return caller.arn
	case iamListPrefixes[c.Action] != "":
		prefix := c.Form("PathPrefix")
		if prefix == "" {
			prefix = "/"
		}
		return base + iamListPrefixes[c.Action] + prefix
	case iamAccountLevel[c.Action]:
		return "*"
	}
	return ""
}

// s3Operation maps an S3 REST request to its IAM action and resource (arn:aws:s3:::bucket, .../key, or "*").
func s3Operation(c *Call) (action, resource string) {
	r := c.Request
	bucket, key := s3BucketAndKey(r.Host, r.URL.EscapedPath())
	q := r.URL.Query()
	has := func(k string) bool { _, ok := q[k]; return ok }
	if bucket == "" {
		return "ListAllMyBuckets", "*"
	}
	resource = "arn:aws:s3:::" + bucket
	if key != "" {
		resource += "/" + key
		return s3ObjectAction(r.Method, has), resource
	}
	// Bucket subresources: ?tagging is s3:GetBucketTagging / s3:PutBucketTagging (DeleteBucketTagging included).
	for _, sub := range s3BucketSubresources {
		if !has(sub.query) {
			continue
		}
		switch r.Method {
		case "GET", "HEAD":
			return sub.get, resource
		case "DELETE":
			return sub.delete, resource
		default:
			return sub.put, resource
		}
	}
	switch r.Method {
	case "PUT":
		return "CreateBucket", resource
	case "DELETE":
		return "DeleteBucket", resource
	case "POST":
		if has("delete") {
			return "DeleteObject", resource // DeleteObjects is authorized as s3:DeleteObject
		}
		return "PutObject", resource
	}
	switch {
	case has("versions"):
		return "ListBucketVersions", resource
	case has("uploads"):
		return "ListBucketMultipartUploads", resource
	}
	return "ListBucket", resource // ListObjects, ListObjectsV2, HeadBucket
}

type s3Subresource struct{ query, get, put, delete string }

var s3BucketSubresources = []s3Subresource{
	{"tagging", "GetBucketTagging", "PutBucketTagging", "PutBucketTagging"},
	{"policy", "GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"},
	{"policyStatus", "GetBucketPolicyStatus", "GetBucketPolicyStatus", "GetBucketPolicyStatus"},
	{"acl", "GetBucketAcl", "PutBucketAcl", "PutBucketAcl"},
	{"location", "GetBucketLocation", "GetBucketLocation", "GetBucketLocation"},
	{"versioning", "GetBucketVersioning", "PutBucketVersioning", "PutBucketVersioning"},
	{"encryption", "GetEncryptionConfiguration", "PutEncryptionConfiguration", "PutEncryptionConfiguration"},
	{"lifecycle", "GetLifecycleConfiguration", "PutLifecycleConfiguration", "PutLifecycleConfiguration"},
	{"cors", "GetBucketCORS", "PutBucketCORS", "PutBucketCORS"},
	{"website", "GetBucketWebsite", "PutBucketWebsite", "DeleteBucketWebsite"},
	{"logging", "GetBucketLogging", "PutBucketLogging", "PutBucketLogging"},
	{"notification", "GetBucketNotification", "PutBucketNotification", "PutBucketNotification"},
	{"publicAccessBlock", "GetBucketPublicAccessBlock", "PutBucketPublicAccessBlock", "PutBucketPublicAccessBlock"},
	{"ownershipControls", "GetBucketOwnershipControls", "PutBucketOwnershipControls", "PutBucketOwnershipControls"},
	{"object-lock", "GetBucketObjectLockConfiguration", "PutBucketObjectLockConfiguration", "PutBucketObjectLockConfiguration"},
	{"replication", "GetReplicationConfiguration", "PutReplicationConfiguration", "PutReplicationConfiguration"},
	{"requestPayment", "GetBucketRequestPayment", "PutBucketRequestPayment", "PutBucketRequestPayment"},
	{"accelerate", "GetAccelerateConfiguration", "PutAccelerateConfiguration", "PutAccelerateConfiguration"},
}

func s3ObjectAction(method string, has func(string) bool) string {
	switch method {
	case "GET", "HEAD":
		switch {
		case has("tagging"):
			return "GetObjectTagging"
		case has("acl"):
			return "GetObjectAcl"
		case has("uploadId"):
			return "ListMultipartUploadParts"
		case has("versionId"):
			return "GetObjectVersion"
		}
		return "GetObject"
	case "DELETE":
		switch {
		case has("tagging"):
			return "DeleteObjectTagging"
		case has("uploadId"):
			return "AbortMultipartUpload"
		case has("versionId"):
			return "DeleteObjectVersion"
		}
		return "DeleteObject"
	}
	switch {
	case has("tagging"):
		return "PutObjectTagging"
	case has("acl"):
		return "PutObjectAcl"
	}
	return "PutObject" // PutObject, CopyObject, UploadPart and the multipart calls
}

// s3BucketAndKey reads a path-style (/bucket/key) or virtual-hosted (bucket.<host>/key) S3 address.
func s3BucketAndKey(host, escapedPath string) (bucket, key string) {
	path := strings.TrimPrefix(escapedPath, "/")
	if h := strings.Split(host, ":")[0]; strings.Count(h, ".") >= 1 && !isIPv4(h) && !strings.HasPrefix(h, "s3.") {
		if i := strings.IndexByte(h, '.'); i > 0 && (strings.HasSuffix(h, ".localhost") || strings.Contains(h[i:], ".s3")) {
			bucket = h[:i]
			key, _ = url.PathUnescape(path)
			return bucket, key
		}
	}
	bucket, rawKey, _ := strings.Cut(path, "/")
	key, _ = url.PathUnescape(rawKey)
	return bucket, key
}

func isIPv4(h string) bool {
	for _, c := range h {
		if c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// restOperation maps the REST-JSON services the local AWS serves to customers' sessions: Resource Explorer
// (POST /<Operation>, tags under /tags/), Lambda, and API Gateway (whose IAM actions are the HTTP method on the
// resource path). Any other REST call maps to "<prefix>:<METHOD> <path>", which only a statement for every action
// of the service (or "*") allows.
func restOperation(c *Call, prefix, account string) (action, resource string) {
	r := c.Request
	path := r.URL.Path
	switch prefix {
	case "resource-explorer-2":
		if rest, ok := strings.CutPrefix(path, "/tags/"); ok {
			arn, _ := url.PathUnescape(rest)
			return map[string]string{"GET": "ListTagsForResource", "POST": "TagResource", "DELETE": "UntagResource"}[r.Method], arn
		}
		var in struct{ ViewArn, IndexArn string }
		_ = c.DecodeJSON(&in)
		resource = in.ViewArn
		if resource == "" {
			resource = in.IndexArn
		}
		op := strings.Trim(path, "/")
		if op == "ListResources" {
			// ListResources is authorized as resource-explorer-2:Search, on the view (its API reference's minimum
			// permissions).
			op = "Search"
		}
		return op, resource
	case "lambda":
		return lambdaOperation(r.Method, path, c.Region, account)
	case "apigateway":
		return r.Method, "arn:aws:apigateway:" + c.Region + "::" + path
	}
	return r.Method + " " + path, ""
}

// lambdaOperation maps Lambda's routes (/2015-03-31/functions/{name}/...) to IAM actions on the function.
func lambdaOperation(method, path, region, account string) (action, resource string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) < 2 {
		return method + " " + path, ""
	}
	switch parts[1] {
	case "functions":
		if len(parts) == 2 {
			return map[string]string{"GET": "ListFunctions", "POST": "CreateFunction"}[method], lambdaFunctionARN("", region, account)
		}
		fn := lambdaFunctionARN(parts[2], region, account)
		sub := strings.Join(parts[3:], "/")
		if a, ok := lambdaFunctionRoutes[method+" "+sub]; ok {
			return a, fn
		}
		if strings.HasPrefix(sub, "policy/") && method == "DELETE" {
			return "RemovePermission", fn
		}
		if strings.HasPrefix(sub, "aliases/") {
			return map[string]string{"GET": "GetAlias", "PUT": "UpdateAlias", "DELETE": "DeleteAlias"}[method], fn
		}
	case "tags":
		arn, _ := url.PathUnescape(strings.Join(parts[2:], "/"))
		return map[string]string{"GET": "ListTags", "POST": "TagResource", "DELETE": "UntagResource"}[method], arn
	case "event-source-mappings":
		if len(parts) == 2 {
			return map[string]string{"GET": "ListEventSourceMappings", "POST": "CreateEventSourceMapping"}[method], ""
		}
		return map[string]string{"GET": "GetEventSourceMapping", "PUT": "UpdateEventSourceMapping", "DELETE": "DeleteEventSourceMapping"}[method], ""
	case "layers":
		if len(parts) == 2 {
			return "ListLayers", "*"
		}
		return map[string]string{"GET": "GetLayerVersion", "POST": "PublishLayerVersion", "DELETE": "DeleteLayerVersion"}[method], ""
	case "account-settings":
		return "GetAccountSettings", "*"
	}
	return method + " " + path, ""
}

// lambdaFunctionRoutes maps "METHOD <subpath>" under /<version>/functions/{name}/ to IAM actions.
var lambdaFunctionRoutes = map[string]string{
	"GET ":                                "GetFunction",
	"DELETE ":                             "DeleteFunction",
	"POST invocations":                    "InvokeFunction",
	"POST invoke-async":                   "InvokeAsync",
	"POST response-streaming-invocations": "InvokeFunction",
	"GET configuration":                   "GetFunctionConfiguration",
	"PUT configuration":                   "UpdateFunctionConfiguration",
	"PUT code":                            "UpdateFunctionCode",
	"GET policy":                          "GetPolicy",
	"POST policy":                         "AddPermission",
	"GET versions":                        "ListVersionsByFunction",
	"POST versions":                       "PublishVersion",
	"GET aliases":                         "ListAliases",
	"POST aliases":                        "CreateAlias",
	"GET concurrency":                     "GetFunctionConcurrency",
	"PUT concurrency":                     "PutFunctionConcurrency",
	"DELETE concurrency":                  "DeleteFunctionConcurrency",
	"GET url":                             "GetFunctionUrlConfig",
	"GET event-invoke-config":             "GetFunctionEventInvokeConfig",
}

// lambdaFunctionARN is the function's ARN without qualifier ("" for actions on no function: "*").
func lambdaFunctionARN(name, region, account string) string {
	if name == "" {
		return "*"
	}
	name, _ = url.PathUnescape(name)
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return "arn:aws:lambda:" + region + ":" + account + ":function:" + name
}
