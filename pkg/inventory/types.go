package inventory

import (
	"slices"
	"sort"
	"strings"
)

// ResourceType is a type of resource the inventory lists and, at tags_write, tags.
type ResourceType struct {
	// Name is the type as Resource Explorer and Gangplank name it ("ec2:instance").
	Name string
	// Filter is the Tagging API's ResourceTypeFilters value for it ("s3" for buckets, whose ARNs carry no type).
	Filter string
	// TagActions are the service's own tag writes, which the Tagging API's TagResources and UntagResources call with
	// the caller's permissions (so the role needs them too).
	TagActions []string
}

// Service is the type's service ("ec2").
func (t ResourceType) Service() string { s, _, _ := strings.Cut(t.Name, ":"); return s }

// serviceTagActions are each service's tag writes.
var serviceTagActions = map[string][]string{
	"acm":                  {"acm:AddTagsToCertificate", "acm:RemoveTagsFromCertificate"},
	"cloudwatch":           {"cloudwatch:TagResource", "cloudwatch:UntagResource"},
	"dynamodb":             {"dynamodb:TagResource", "dynamodb:UntagResource"},
	"ec2":                  {"ec2:CreateTags", "ec2:DeleteTags"},
	"ecr":                  {"ecr:TagResource", "ecr:UntagResource"},
	"ecs":                  {"ecs:TagResource", "ecs:UntagResource"},
	"eks":                  {"eks:TagResource", "eks:UntagResource"},
	"elasticache":          {"elasticache:AddTagsToResource", "elasticache:RemoveTagsFromResource"},
	"elasticfilesystem":    {"elasticfilesystem:TagResource", "elasticfilesystem:UntagResource"},
	"elasticloadbalancing": {"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"},
	"es":                   {"es:AddTags", "es:RemoveTags"},
	"kinesis":              {"kinesis:AddTagsToStream", "kinesis:RemoveTagsFromStream"},
	"kms":                  {"kms:TagResource", "kms:UntagResource"},
	"lambda":               {"lambda:TagResource", "lambda:UntagResource"},
	"logs":                 {"logs:TagResource", "logs:UntagResource"},
	"rds":                  {"rds:AddTagsToResource", "rds:RemoveTagsFromResource"},
	"redshift":             {"redshift:CreateTags", "redshift:DeleteTags"},
	// S3 replaces a bucket's whole tag set, so the Tagging API reads it first.
	"s3":             {"s3:GetBucketTagging", "s3:PutBucketTagging"},
	"secretsmanager": {"secretsmanager:TagResource", "secretsmanager:UntagResource"},
	"sns":            {"sns:TagResource", "sns:UntagResource"},
	"sqs":            {"sqs:TagQueue", "sqs:UntagQueue"},
}

func rt(name, filter string) ResourceType {
	if filter == "" {
		filter = name
	}
	svc, _, _ := strings.Cut(name, ":")
	return ResourceType{Name: name, Filter: filter, TagActions: serviceTagActions[svc]}
}

// catalogue is every type a tenant may choose. IAM's own resources are left out on purpose: with attribute-based
// access control, writing tags on IAM principals can change what they may do (docs/permissions.md).
var catalogue = []ResourceType{
	rt("acm:certificate", ""),
	rt("cloudwatch:alarm", ""),
	rt("dynamodb:table", ""),
	rt("ec2:elastic-ip", ""),
	rt("ec2:image", ""),
	rt("ec2:instance", ""),
	rt("ec2:internet-gateway", ""),
	rt("ec2:natgateway", ""),
	rt("ec2:network-interface", ""),
	rt("ec2:security-group", ""),
	rt("ec2:snapshot", ""),
	rt("ec2:subnet", ""),
	rt("ec2:volume", ""),
	rt("ec2:vpc", ""),
	rt("ecr:repository", ""),
	rt("ecs:cluster", ""),
	rt("ecs:service", ""),
	rt("eks:cluster", ""),
	rt("elasticache:cluster", ""),
	rt("elasticfilesystem:file-system", ""),
	rt("elasticloadbalancing:loadbalancer", ""),
	rt("elasticloadbalancing:targetgroup", ""),
	rt("es:domain", ""),
	rt("kinesis:stream", ""),
	rt("kms:key", ""),
	rt("lambda:function", ""),
	rt("logs:log-group", ""),
	rt("rds:cluster", ""),
	rt("rds:db", ""),
	rt("rds:snapshot", ""),
	rt("redshift:cluster", ""),
	rt("s3:bucket", "s3"),
	rt("secretsmanager:secret", ""),
	rt("sns:topic", "sns"),
	rt("sqs:queue", "sqs"),
}

// Types lists every resource type a tenant may choose, by name.
func Types() []ResourceType { return slices.Clone(catalogue) }

// TypeNames lists the names of every type.
func TypeNames() []string {
	out := make([]string, len(catalogue))
	for i, t := range catalogue {
		out[i] = t.Name
	}
	return out
}

// LookupType finds a type by name.
func LookupType(name string) (ResourceType, bool) {
	for _, t := range catalogue {
		if t.Name == name {
			return t, true
		}
	}
	return ResourceType{}, false
}

// TypeOf is the type of the resource an ARN names ("arn:aws:ec2:us-east-1:1:instance/i-1" is ec2:instance), in
// Resource Explorer's terms.
func TypeOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return "unknown"
	}
	svc, res := parts[2], parts[5]
	switch svc {
	case "s3":
		if !strings.Contains(res, "/") {
			return "s3:bucket"
		}
		return "s3:object"
	case "sqs":
		return "sqs:queue"
	case "sns":
		return "sns:topic"
	}
	kind := res
	if i := strings.IndexAny(res, "/:"); i >= 0 {
		kind = res[:i]
	}
	if svc == "elasticloadbalancing" && kind == "loadbalancer" || svc == "elasticloadbalancing" && kind == "targetgroup" {
		return svc + ":" + kind
	}
	if svc == "elasticache" && kind == "cluster" {
		return "elasticache:cluster"
	}
	if svc == "ec2" && kind == "elastic-ip" {
		return "ec2:elastic-ip"
	}
	return svc + ":" + kind
}

// TagReadActions are the Tagging API's reads the sync makes (resources_tags and tags_write): GetResources, for
// listing resources with their tags and for reading current values before a write-back.
var TagReadActions = []string{"tag:GetResources"}

// NoTagReadActions are denied at the resources level: every read of the Tagging API, so that no policy the role
// also carries (ViewOnlyAccess) can let Gangplank read tags.
var NoTagReadActions = []string{"tag:GetResources", "tag:GetTagKeys", "tag:GetTagValues"}

// InventoryActions are the reads every sync may make at every access level: the account's enabled regions, and
// Resource Explorer's aggregator index, its default view and the view's listing (ListResources is authorized as
// resource-explorer-2:Search).
var InventoryActions = []string{
	"ec2:DescribeRegions",
	"resource-explorer-2:GetDefaultView",
	"resource-explorer-2:GetView",
	"resource-explorer-2:ListIndexes",
	"resource-explorer-2:Search",
}

// TagWriteActions are the writes of tags_write: the Tagging API's and each chosen service's tag actions. Nothing
// that creates, changes or deletes a resource.
func TagWriteActions() []string {
	set := map[string]bool{"tag:TagResources": true, "tag:UntagResources": true}
	for _, t := range catalogue {
		for _, a := range t.TagActions {
			set[a] = true
		}
	}
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		// tag: first, then by service, as the template lists them
		ti, tj := strings.HasPrefix(out[i], "tag:"), strings.HasPrefix(out[j], "tag:")
		if ti != tj {
			return ti
		}
		return out[i] < out[j]
	})
	return out
}
