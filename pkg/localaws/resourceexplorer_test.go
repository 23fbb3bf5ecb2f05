package localaws_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/resourceexplorer2"
	retypes "github.com/aws/aws-sdk-go-v2/service/resourceexplorer2/types"
	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func seed(t *testing.T, env *localaws.Env, s localaws.Seed) []string {
	t.Helper()
	arns, err := env.SeedResources(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(arns) != s.Count {
		t.Fatalf("seeded %d of %d", len(arns), s.Count)
	}
	return arns
}

func errCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// TestResourceExplorer: Quick Setup's indexes and default view; ListResources over every indexed region of the
// aggregator's view, with tags, filtered, paginated; the errors of a missing view, a region without a default view,
// and injected faults, each typed as the SDK models them.
func TestResourceExplorer(t *testing.T) {
	env := testkit.LocalAWS(t)
	account := "610000000001"
	topics := seed(t, env, localaws.Seed{Account: account, Region: "us-east-1", Type: "sns:topic", Prefix: "re-topic", Count: 5,
		Tags: map[string]string{"Name": "topic-{i}"}, Cycle: map[string][]string{"env": {"prod", "dev"}}})
	queues := seed(t, env, localaws.Seed{Account: account, Region: "eu-west-1", Type: "sqs:queue", Prefix: "re-queue", Count: 3,
		Tags: map[string]string{"team": "data"}})
	cfg := env.AccountConfig(account)
	client := func(region string) *resourceexplorer2.Client {
		return resourceexplorer2.NewFromConfig(cfg, func(o *resourceexplorer2.Options) { o.Region = region })
	}
	ctx := t.Context()

	idx, err := client("us-east-1").ListIndexes(ctx, &resourceexplorer2.ListIndexesInput{})
	if err != nil || len(idx.Indexes) != 0 {
		t.Fatalf("indexes before setup = %v, %v", idx, err)
	}
	_, err = client("us-east-1").ListResources(ctx, &resourceexplorer2.ListResourcesInput{})
	var unauthorized *retypes.UnauthorizedException
	if !errors.As(err, &unauthorized) {
		t.Fatalf("ListResources without a default view: %v, want UnauthorizedException", err)
	}

	if _, err := client("us-east-1").CreateResourceExplorerSetup(ctx, &resourceexplorer2.CreateResourceExplorerSetupInput{
		RegionList: []string{"us-east-1", "eu-west-1"}, AggregatorRegions: []string{"us-east-1"}, ViewName: aws.String("all")}); err != nil {
		t.Fatal(err)
	}
	idx, err = client("eu-west-1").ListIndexes(ctx, &resourceexplorer2.ListIndexesInput{})
	if err != nil || len(idx.Indexes) != 2 {
		t.Fatalf("indexes after setup = %+v, %v", idx, err)
	}
	agg, _ := client("us-east-1").ListIndexes(ctx, &resourceexplorer2.ListIndexesInput{Type: retypes.IndexTypeAggregator})
	if len(agg.Indexes) != 1 || aws.ToString(agg.Indexes[0].Region) != "us-east-1" {
		t.Fatalf("aggregator = %+v", agg.Indexes)
	}
	def, err := client("us-east-1").GetDefaultView(ctx, &resourceexplorer2.GetDefaultViewInput{})
	if err != nil || aws.ToString(def.ViewArn) == "" {
		t.Fatalf("default view = %v, %v", def, err)
	}
	view, err := client("us-east-1").GetView(ctx, &resourceexplorer2.GetViewInput{ViewArn: def.ViewArn})
	if err != nil || len(view.View.IncludedProperties) != 1 || aws.ToString(view.View.IncludedProperties[0].Name) != "tags" {
		t.Fatalf("view = %+v, %v", view, err)
	}

	// Every indexed region in one paginated pass, three to a page.
	var got []string
	tagged := 0
	p := resourceexplorer2.NewListResourcesPaginator(client("us-east-1"), &resourceexplorer2.ListResourcesInput{ViewArn: def.ViewArn, MaxResults: aws.Int32(3)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range page.Resources {
			got = append(got, aws.ToString(r.Arn))
			for _, prop := range r.Properties {
				var tags []struct{ Key, Value string }
				if aws.ToString(prop.Name) == "tags" && prop.Data.UnmarshalSmithyDocument(&tags) == nil && len(tags) > 0 {
					tagged++
				}
			}
		}
	}
	want := append(append([]string{}, topics...), queues...)
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) || pages != 3 || tagged != 8 {
		t.Errorf("listed %d resources in %d pages (%d with tags), want the 8 seeded in 3 pages:\n%v", len(got), pages, tagged, got)
	}
	// A token can be used again (a client retrying a page), the last page's too: the same page comes back.
	first, err := client("us-east-1").ListResources(ctx, &resourceexplorer2.ListResourcesInput{ViewArn: def.ViewArn, MaxResults: aws.Int32(6)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page = %+v, %v", first, err)
	}
	for range 2 {
		last, err := client("us-east-1").ListResources(ctx, &resourceexplorer2.ListResourcesInput{ViewArn: def.ViewArn, MaxResults: aws.Int32(6),
			NextToken: first.NextToken})
		if err != nil || len(last.Resources) != 2 || last.NextToken != nil {
			t.Fatalf("the last page asked again = %d resources, next %v, %v; want the same 2", len(last.Resources), last.NextToken, err)
		}
	}
	only, err := client("us-east-1").ListResources(ctx, &resourceexplorer2.ListResourcesInput{ViewArn: def.ViewArn,
		Filters: &retypes.SearchFilter{FilterString: aws.String("resourcetype:sqs:queue region:eu-west-1")}})
	if err != nil || len(only.Resources) != 3 {
		t.Errorf("filtered listing = %d, %v", len(only.Resources), err)
	}

	tests := []struct {
		name   string
		call   func() error
		want   string
		region string
	}{
		{"view of another region", func() error {
			_, err := client("eu-west-1").ListResources(ctx, &resourceexplorer2.ListResourcesInput{ViewArn: def.ViewArn})
			return err
		}, "UnauthorizedException", ""},
		{"missing view", func() error {
			_, err := client("us-east-1").ListResources(ctx, &resourceexplorer2.ListResourcesInput{
				ViewArn: aws.String("arn:aws:resource-explorer-2:us-east-1:" + account + ":view/gone/0")})
			return err
		}, "ResourceNotFoundException", ""},
		{"injected AccessDenied", func() error {
			env.SetResourceExplorerFault(account, "ListResources", "AccessDeniedException", 1)
			_, err := client("us-east-1").ListResources(ctx, &resourceexplorer2.ListResourcesInput{ViewArn: def.ViewArn})
			return err
		}, "AccessDeniedException", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code := errCode(tc.call()); code != tc.want {
				t.Errorf("error code = %q, want %s", code, tc.want)
			}
		})
	}
	calls := env.Calls(account)
	if calls["resource-explorer-2:ListResources"] < 5 {
		t.Errorf("the call log missed ListResources: %v", calls)
	}
}

// TestTaggingAPI: GetResources pages by ResourcesPerPage alone and honours ResourceARNList; TagResources and
// UntagResources reach EC2, S3, SQS and SNS (moto's own did not); a refused resource fails alone in
// FailedResourcesMap; throttling is injected; an S3 bucket is listed in its own region only.
func TestTaggingAPI(t *testing.T) {
	env := testkit.LocalAWS(t)
	account := "610000000002"
	topics := seed(t, env, localaws.Seed{Account: account, Region: "us-east-1", Type: "sns:topic", Prefix: "tg-topic", Count: 150,
		Tags: map[string]string{"a": "1", "b": "2", "c": "3"}})
	volumes := seed(t, env, localaws.Seed{Account: account, Region: "us-east-1", Type: "ec2:volume", Count: 2, Tags: map[string]string{"a": "1"}})
	queues := seed(t, env, localaws.Seed{Account: account, Region: "us-east-1", Type: "sqs:queue", Prefix: "tg-q", Count: 1, Tags: map[string]string{"a": "1"}})
	buckets := seed(t, env, localaws.Seed{Account: account, Region: "eu-west-1", Type: "s3:bucket", Prefix: "tg-bucket-610000000002", Count: 1,
		Tags: map[string]string{"a": "1"}})
	cfg := env.AccountConfig(account)
	tg := func(region string) *resourcegroupstaggingapi.Client {
		return resourcegroupstaggingapi.NewFromConfig(cfg, func(o *resourcegroupstaggingapi.Options) { o.Region = region })
	}
	ctx := t.Context()
	first, err := tg("us-east-1").GetResources(ctx, &resourcegroupstaggingapi.GetResourcesInput{ResourcesPerPage: aws.Int32(100)})
	if err != nil || len(first.ResourceTagMappingList) != 100 {
		t.Fatalf("first page holds %d resources (%v), want 100 whatever their tags", len(first.ResourceTagMappingList), err)
	}
	east, _ := tg("us-east-1").GetResources(ctx, &resourcegroupstaggingapi.GetResourcesInput{ResourceTypeFilters: []string{"s3"}})
	west, _ := tg("eu-west-1").GetResources(ctx, &resourcegroupstaggingapi.GetResourcesInput{ResourceTypeFilters: []string{"s3"}})
	if len(east.ResourceTagMappingList) != 0 || len(west.ResourceTagMappingList) != 1 {
		t.Errorf("the bucket is listed %d times in us-east-1 and %d in eu-west-1, want 0 and 1", len(east.ResourceTagMappingList), len(west.ResourceTagMappingList))
	}

	arns := []string{topics[0], volumes[0], queues[0]}
	env.RefuseTagging(volumes[1], "InvalidParameterException")
	defer env.RefuseTagging(volumes[1], "")
	out, err := tg("us-east-1").TagResources(ctx, &resourcegroupstaggingapi.TagResourcesInput{ResourceARNList: append(arns, volumes[1]),
		Tags: map[string]string{"owner": "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.FailedResourcesMap) != 1 || string(out.FailedResourcesMap[volumes[1]].ErrorCode) != "InvalidParameterException" {
		t.Errorf("failures = %+v, want only the refusing volume", out.FailedResourcesMap)
	}
	bucketOut, err := tg("eu-west-1").TagResources(ctx, &resourcegroupstaggingapi.TagResourcesInput{ResourceARNList: buckets, Tags: map[string]string{"owner": "alice"}})
	if err != nil || len(bucketOut.FailedResourcesMap) != 0 {
		t.Fatalf("tag the bucket: %+v, %v", bucketOut, err)
	}
	read, err := tg("us-east-1").GetResources(ctx, &resourcegroupstaggingapi.GetResourcesInput{ResourceARNList: append(arns, volumes[1])})
	if err != nil || len(read.ResourceTagMappingList) != 4 {
		t.Fatalf("read by ARN: %d, %v", len(read.ResourceTagMappingList), err)
	}
	for _, m := range read.ResourceTagMappingList {
		has := false
		for _, tag := range m.Tags {
			has = has || (aws.ToString(tag.Key) == "owner" && aws.ToString(tag.Value) == "alice")
		}
		if has != (aws.ToString(m.ResourceARN) != volumes[1]) {
			t.Errorf("%s owner tag = %v", aws.ToString(m.ResourceARN), has)
		}
	}
	if _, err := tg("us-east-1").UntagResources(ctx, &resourcegroupstaggingapi.UntagResourcesInput{ResourceARNList: arns, TagKeys: []string{"owner", "a"}}); err != nil {
		t.Fatal(err)
	}
	topicTags, _ := sns.NewFromConfig(cfg).ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(topics[0])})
	if len(topicTags.Tags) != 2 {
		t.Errorf("the topic's tags after untagging owner and a = %+v", topicTags.Tags)
	}

	env.SetTaggingFault(account, "us-east-1", "GetResources", "ThrottlingException", 1)
	_, err = tg("us-east-1").GetResources(ctx, &resourcegroupstaggingapi.GetResourcesInput{})
	if errCode(err) != "ThrottlingException" {
		t.Errorf("injected throttling: %v", err)
	}
	if calls := env.Calls(account); calls["tag:TagResources"] != 2 || calls["tag:UntagResources"] != 1 {
		t.Errorf("the call log = %v", calls)
	}
}

// TestAccountRegions: an account's enabled regions are AWS's defaults plus those opted in; a call to a disabled
// region is refused as AWS refuses unknown credentials.
func TestAccountRegions(t *testing.T) {
	env := testkit.LocalAWS(t)
	account := "610000000003"
	cfg := env.AccountConfig(account)
	regions := func() []string {
		out, err := ec2.NewFromConfig(cfg).DescribeRegions(t.Context(), &ec2.DescribeRegionsInput{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range out.Regions {
			names = append(names, aws.ToString(r.RegionName))
		}
		return names
	}
	if got := regions(); len(got) != len(localaws.DefaultRegions) {
		t.Errorf("enabled regions = %v", got)
	}
	env.EnableRegion(account, "af-south-1")
	env.DisableRegion(account, "eu-west-3")
	got := regions()
	if !slices.Contains(got, "af-south-1") || slices.Contains(got, "eu-west-3") {
		t.Errorf("after opting in and out: %v", got)
	}
	_, err := resourcegroupstaggingapi.NewFromConfig(cfg, func(o *resourcegroupstaggingapi.Options) { o.Region = "eu-west-3" }).
		GetResources(context.Background(), &resourcegroupstaggingapi.GetResourcesInput{})
	if errCode(err) != "UnrecognizedClientException" {
		t.Errorf("a call to a disabled region: %v", err)
	}
}
