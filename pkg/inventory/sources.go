package inventory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	tagtypes "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"
	"github.com/aws/smithy-go"
)

// Tagging is the part of the Resource Groups Tagging API the inventory uses.
type Tagging interface {
	GetResources(ctx context.Context, in *resourcegroupstaggingapi.GetResourcesInput, optFns ...func(*resourcegroupstaggingapi.Options)) (*resourcegroupstaggingapi.GetResourcesOutput, error)
	TagResources(ctx context.Context, in *resourcegroupstaggingapi.TagResourcesInput, optFns ...func(*resourcegroupstaggingapi.Options)) (*resourcegroupstaggingapi.TagResourcesOutput, error)
	UntagResources(ctx context.Context, in *resourcegroupstaggingapi.UntagResourcesInput, optFns ...func(*resourcegroupstaggingapi.Options)) (*resourcegroupstaggingapi.UntagResourcesOutput, error)
}

// Explorer is what the inventory reads of Resource Explorer in one region, one request per method
// (pkg/inventory/awsresources implements it over the SDK). A page token is "" for the first page; a returned next
// token is "" after the last. Errors are the SDK's, read with their codes (explorerRefusal).
type Explorer interface {
	// Indexes is a page of ListIndexes.
	Indexes(ctx context.Context, pageToken string) (indexes []ExplorerIndex, next string, err error)
	// DefaultView is GetDefaultView's view ARN ("" when the region has none).
	DefaultView(ctx context.Context) (string, error)
	// View is GetView.
	View(ctx context.Context, viewARN string) (ExplorerView, error)
	// Resources is a page of ListResources of a view (ExplorerPageSize a page), with a filter ("" for none).
	Resources(ctx context.Context, viewARN, filter, pageToken string) (resources []ExplorerResource, next string, err error)
}

// ExplorerIndex is a region's Resource Explorer index.
type ExplorerIndex struct {
	Region     string
	Aggregator bool
}

// ExplorerView is a Resource Explorer view: its filter ("" for none), and whether it includes the tags property.
type ExplorerView struct {
	Filter   string
	WithTags bool
}

// ExplorerResource is a resource as a view lists it; the fields Resource Explorer leaves out are "".
type ExplorerResource struct {
	ARN, OwningAccountID, Region, Type string
	// Tags are its "tags" property (empty when the view does not include it).
	Tags Tags
}

// Regions is what the inventory reads of EC2: the account's enabled regions (DescribeRegions without AllRegions).
type Regions interface {
	EnabledRegions(ctx context.Context) ([]string, error)
}

// Clients builds the AWS clients of one customer session, per region (awsresources.New, over the SDK's clients,
// retrying throttling patiently: a sync would rather wait than give up).
type Clients interface {
	Tagging(region string) Tagging
	Explorer(region string) Explorer
	Regions(region string) Regions
}

// ErrClientsNotWired: a sync or a write-back ran in a function built without the customer-account clients.
var ErrClientsNotWired = errors.New("this function is not wired to read customers' resources (Resource Groups Tagging, Resource Explorer, EC2)")

// observed is a resource as a source listed it.
type observed struct {
	ARN, AccountID, Region, Type string
	// Tags are nil when the source did not return them (a Resource Explorer view without the tags property).
	Tags Tags
}

// page is one page of a source's listing.
type page struct {
	resources []observed
	next      string
}

// source lists an account's resources a page at a time, from a token ("" for the first page).
type source interface {
	page(ctx context.Context, token string) (page, error)
	// perPage is the most resources a page holds: the lower bound of calls is one per perPage resources.
	perPage() int
}

// TaggingPageSize is the most resources GetResources returns a page (ResourcesPerPage's maximum).
const TaggingPageSize = 100

// taggingSource lists one region with the Tagging API's GetResources, ResourcesPerPage 100 (its maximum), only the
// chosen resource types.
type taggingSource struct {
	client  Tagging
	region  string
	filters []string
}

func (s taggingSource) perPage() int { return TaggingPageSize }

func (s taggingSource) page(ctx context.Context, token string) (page, error) {
	in := &resourcegroupstaggingapi.GetResourcesInput{ResourcesPerPage: aws.Int32(TaggingPageSize), ResourceTypeFilters: s.filters}
	if token != "" {
		in.PaginationToken = aws.String(token)
	}
	out, err := s.client.GetResources(ctx, in)
	if err != nil {
		return page{}, err
	}
	p := page{next: aws.ToString(out.PaginationToken)}
	for _, m := range out.ResourceTagMappingList {
		arn := aws.ToString(m.ResourceARN)
		tags := Tags{}
		for _, t := range m.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		p.resources = append(p.resources, observed{ARN: arn, AccountID: arnAccount(arn), Region: s.region, Type: TypeOf(arn), Tags: tags})
	}
	return p, nil
}

// ExplorerPageSize is the most resources ListResources returns a page (MaxResults' maximum).
const ExplorerPageSize = 1000

// explorerSource lists every indexed region of the account in one paginated pass of a Resource Explorer view.
type explorerSource struct {
	client   Explorer
	viewARN  string
	filter   string
	withTags bool
}

func (s explorerSource) perPage() int { return ExplorerPageSize }

func (s explorerSource) page(ctx context.Context, token string) (page, error) {
	resources, next, err := s.client.Resources(ctx, s.viewARN, s.filter, token)
	if err != nil {
		return page{}, err
	}
	p := page{next: next}
	for _, r := range resources {
		o := observed{ARN: r.ARN, AccountID: r.OwningAccountID, Region: r.Region, Type: r.Type}
		if o.Region == "" {
			o.Region = GlobalRegion
		}
		if o.Type == "" {
			o.Type = TypeOf(o.ARN)
		}
		if o.AccountID == "" {
			o.AccountID = arnAccount(o.ARN)
		}
		if s.withTags {
			o.Tags = r.Tags
		}
		p.resources = append(p.resources, o)
	}
	return p, nil
}

// GlobalRegion is where Resource Explorer puts resources of no region (IAM's, for one).
const GlobalRegion = "global"

// explorerFilter is a view filter for the chosen types and regions: prefixes of one kind are ORed, of different
// kinds ANDed.
func explorerFilter(types, regions []string) string {
	var parts []string
	for _, t := range types {
		parts = append(parts, "resourcetype:"+t)
	}
	for _, r := range regions {
		parts = append(parts, "region:"+r)
	}
	return strings.Join(parts, " ")
}

func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// explorerPlan is what the plan found of Resource Explorer in the account.
type explorerPlan struct {
	usable bool
	// reason says why it is not usable, for the tenant.
	reason string
	region string // the aggregator index's
	view   string
	// indexed are the regions with an index (the view lists these).
	indexed  []string
	withTags bool
}

// probeExplorer finds the aggregator index, its region's default view and whether the view shows tags and every
// resource (no filter). Three calls; fewer when an answer is already no.
func probeExplorer(ctx context.Context, c Clients, home string) (explorerPlan, error) {
	var p explorerPlan
	var indexes []ExplorerIndex
	for token := ""; ; {
		page, next, err := c.Explorer(home).Indexes(ctx, token)
		if err != nil {
			if reason, ok := explorerRefusal(err, "resource-explorer-2:ListIndexes", ""); ok {
				p.reason = reason
				return p, nil
			}
			return p, err
		}
		indexes = append(indexes, page...)
		if token = next; token == "" {
			break
		}
	}
	for _, ix := range indexes {
		p.indexed = append(p.indexed, ix.Region)
		if ix.Aggregator {
			p.region = ix.Region
		}
	}
	slices.Sort(p.indexed)
	if p.region == "" {
		p.reason = "Resource Explorer has no aggregator index in this account: turn on Resource Explorer with Quick Setup " +
			"(an index in every region, an aggregator index and a default view)"
		return p, nil
	}
	view, err := c.Explorer(p.region).DefaultView(ctx)
	if err != nil {
		if reason, ok := explorerRefusal(err, "resource-explorer-2:GetDefaultView", ""); ok {
			p.reason = reason
			return p, nil
		}
		return p, err
	}
	p.view = view
	if p.view == "" {
		p.reason = fmt.Sprintf("Resource Explorer's aggregator region %s has no default view: create a view of every resource "+
			"(no filter, with the tags property) and make it the default", p.region)
		return p, nil
	}
	v, err := c.Explorer(p.region).View(ctx, p.view)
	if err != nil {
		if reason, ok := explorerRefusal(err, "resource-explorer-2:GetView", p.view); ok {
			p.reason = reason
			return p, nil
		}
		return p, err
	}
	if v.Filter != "" {
		p.reason = fmt.Sprintf("Resource Explorer's default view %s filters resources (%q): make a view without a filter the default, "+
			"so that Gangplank sees every resource", p.view, v.Filter)
		return p, nil
	}
	p.withTags = v.WithTags
	p.usable = true
	return p, nil
}

func errorCode(err error) (string, string) {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode(), apiErr.ErrorMessage()
	}
	return "", ""
}

// explorerRefusal explains a Resource Explorer error the tenant can act on.
func explorerRefusal(err error, action, view string) (string, bool) {
	code, msg := errorCode(err)
	switch code {
	case "AccessDeniedException", "AccessDenied":
		return fmt.Sprintf("the role lacks %s (AWS said: %s): update the onboarding stack with a new link from Gangplank, which grants it", action, msg), true
	case "ResourceNotFoundException":
		return fmt.Sprintf("the Resource Explorer view %s does not exist any more: make another view of every resource the default in the aggregator region", view), true
	case "UnauthorizedException":
		return fmt.Sprintf("Resource Explorer refused the view %s: the region has no default view, or the view's policy does not allow the role", view), true
	}
	return "", false
}

// scanRefusal explains why a source cannot list (the scan's region fails with it; the next sync tries again).
func scanRefusal(err error, src, region string) (string, bool) {
	code, msg := errorCode(err)
	switch {
	case src == SourceExplorer:
		return explorerRefusal(err, "resource-explorer-2:Search", region)
	case code == "AccessDeniedException" || code == "AccessDenied":
		return fmt.Sprintf("the role cannot call tag:GetResources in %s (AWS said: %s): update the onboarding stack with a new link from Gangplank", region, msg), true
	case regionDisabled(code):
		return fmt.Sprintf("the region %s is not enabled in this account (AWS refused the role's credentials there: %s): enable the region, "+
			"or leave it out of the account's inventory regions", region, code), true
	}
	return "", false
}

// regionDisabled: AWS answers calls to an opt-in region the account has not enabled as if the credentials did not
// exist.
func regionDisabled(code string) bool {
	switch code {
	case "UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure", "OptInRequired":
		return true
	}
	return false
}

// tokenExpired: the Tagging API's pagination tokens last 15 minutes.
func tokenExpired(err error) bool {
	code, _ := errorCode(err)
	var expired *tagtypes.PaginationTokenExpiredException
	return errors.As(err, &expired) || code == "PaginationTokenExpiredException"
}

// enabledRegions reads the regions enabled in the account, in order.
func enabledRegions(ctx context.Context, c Regions) ([]string, error) {
	regions, err := c.EnabledRegions(ctx)
	if err != nil {
		return nil, err
	}
	slices.Sort(regions)
	return regions, nil
}
