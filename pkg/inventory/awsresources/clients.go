// Package awsresources builds the inventory's AWS clients over the SDK: the Resource Groups Tagging API, Resource
// Explorer and EC2 (for the enabled regions). It is the only package of the inventory that links the Resource
// Explorer and EC2 SDKs (whose init every function linking them pays at each cold start), so only the functions
// that read customers' resources link them.
package awsresources

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/resourceexplorer2"
	retypes "github.com/aws/aws-sdk-go-v2/service/resourceexplorer2/types"
	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"

	"github.com/gangplank/gangplank/pkg/awsx"
	"github.com/gangplank/gangplank/pkg/inventory"
)

// retryAttempts: every client retries throttling patiently (a sync would rather wait than give up).
const retryAttempts = 8

// Clients are the SDK's clients of one customer session.
type Clients struct {
	cfg        aws.Config
	maxBackoff time.Duration
}

var _ inventory.Clients = Clients{}

// New builds the clients over a customer session's configuration (inventory.Service.Clients), each waiting out
// throttling with backoff up to maxBackoff.
func New(cfg aws.Config, maxBackoff time.Duration) inventory.Clients {
	return Clients{cfg: cfg, maxBackoff: maxBackoff}
}

// Tagging is the Resource Groups Tagging API in a region.
func (c Clients) Tagging(region string) inventory.Tagging {
	return resourcegroupstaggingapi.NewFromConfig(c.cfg, func(o *resourcegroupstaggingapi.Options) {
		o.Region = region
		o.Retryer = awsx.PatientRetryer(retryAttempts, c.maxBackoff, "ThrottlingException", "ThrottledException")
		o.RetryMaxAttempts = retryAttempts
	})
}

// Explorer is Resource Explorer in a region.
func (c Clients) Explorer(region string) inventory.Explorer {
	return explorer{api: resourceexplorer2.NewFromConfig(c.cfg, func(o *resourceexplorer2.Options) {
		o.Region = region
		o.Retryer = awsx.PatientRetryer(retryAttempts, c.maxBackoff, "ThrottlingException")
		o.RetryMaxAttempts = retryAttempts
	})}
}

// Regions is EC2 in a region.
func (c Clients) Regions(region string) inventory.Regions {
	return regions{api: ec2.NewFromConfig(c.cfg, func(o *ec2.Options) {
		o.Region = region
		o.Retryer = awsx.PatientRetryer(retryAttempts, c.maxBackoff, "RequestLimitExceeded")
		o.RetryMaxAttempts = retryAttempts
	})}
}

type explorer struct{ api *resourceexplorer2.Client }

func (e explorer) Indexes(ctx context.Context, pageToken string) ([]inventory.ExplorerIndex, string, error) {
	out, err := e.api.ListIndexes(ctx, &resourceexplorer2.ListIndexesInput{NextToken: token(pageToken)})
	if err != nil {
		return nil, "", err
	}
	indexes := make([]inventory.ExplorerIndex, 0, len(out.Indexes))
	for _, ix := range out.Indexes {
		indexes = append(indexes, inventory.ExplorerIndex{Region: aws.ToString(ix.Region), Aggregator: ix.Type == retypes.IndexTypeAggregator})
	}
	return indexes, aws.ToString(out.NextToken), nil
}

func (e explorer) DefaultView(ctx context.Context) (string, error) {
	out, err := e.api.GetDefaultView(ctx, &resourceexplorer2.GetDefaultViewInput{})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ViewArn), nil
}

func (e explorer) View(ctx context.Context, viewARN string) (inventory.ExplorerView, error) {
	out, err := e.api.GetView(ctx, &resourceexplorer2.GetViewInput{ViewArn: aws.String(viewARN)})
	if err != nil || out.View == nil {
		return inventory.ExplorerView{}, err
	}
	var v inventory.ExplorerView
	if out.View.Filters != nil {
		v.Filter = aws.ToString(out.View.Filters.FilterString)
	}
	for _, ip := range out.View.IncludedProperties {
		v.WithTags = v.WithTags || aws.ToString(ip.Name) == "tags"
	}
	return v, nil
}

func (e explorer) Resources(ctx context.Context, viewARN, filter, pageToken string) ([]inventory.ExplorerResource, string, error) {
	in := &resourceexplorer2.ListResourcesInput{ViewArn: aws.String(viewARN), MaxResults: aws.Int32(inventory.ExplorerPageSize),
		NextToken: token(pageToken)}
	if filter != "" {
		in.Filters = &retypes.SearchFilter{FilterString: aws.String(filter)}
	}
	out, err := e.api.ListResources(ctx, in)
	if err != nil {
		return nil, "", err
	}
	resources := make([]inventory.ExplorerResource, 0, len(out.Resources))
	for _, r := range out.Resources {
		resources = append(resources, inventory.ExplorerResource{ARN: aws.ToString(r.Arn), OwningAccountID: aws.ToString(r.OwningAccountId),
			Region: aws.ToString(r.Region), Type: aws.ToString(r.ResourceType), Tags: tags(r.Properties)})
	}
	return resources, aws.ToString(out.NextToken), nil
}

// tags reads the "tags" property: a list of {"Key": ..., "Value": ...}.
func tags(props []retypes.ResourceProperty) inventory.Tags {
	out := inventory.Tags{}
	for _, p := range props {
		if aws.ToString(p.Name) != "tags" || p.Data == nil {
			continue
		}
		var list []struct{ Key, Value string }
		if err := p.Data.UnmarshalSmithyDocument(&list); err != nil {
			continue
		}
		for _, t := range list {
			out[t.Key] = t.Value
		}
	}
	return out
}

type regions struct{ api *ec2.Client }

func (r regions) EnabledRegions(ctx context.Context) ([]string, error) {
	out, err := r.api.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, region := range out.Regions {
		names = append(names, aws.ToString(region.RegionName))
	}
	return names, nil
}

func token(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
