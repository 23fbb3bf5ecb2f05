package devserver

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/gangplank/gangplank/pkg/localaws"
)

// DemoManagementAccount is the local demo organization's management account.
const DemoManagementAccount = "111111111111"

// DemoRegions are the regions the demo's resources live in.
var DemoRegions = []string{"us-east-1", "eu-west-1", "ap-southeast-2"}

// Demo is what SeedDemo made.
type Demo struct {
	// Accounts are the organization's accounts, the management account first.
	Accounts []string
	// Resources counts the resources seeded.
	Resources int
}

// demoKinds are the resources each demo account holds in each region, tagged as a FinOps team would tag them.
var demoKinds = []struct {
	typ   string
	count int
}{{"sns:topic", 4}, {"sqs:queue", 3}, {"logs:log-group", 3}, {"ec2:volume", 2}}

// SeedDemo gives the local AWS a demo organization (the management account and two members) whose accounts hold
// tagged resources in DemoRegions, and turns on Resource Explorer in the management account (an aggregator index in
// us-east-1 with a default view that includes tags), so that a new user who connects the accounts sees an
// inventory at once, whichever access level they choose.
func SeedDemo(ctx context.Context, env *localaws.Env) (Demo, error) {
	orgs := organizations.NewFromConfig(env.AccountConfig(DemoManagementAccount))
	if _, err := orgs.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		return Demo{}, fmt.Errorf("demo organization: %w", err)
	}
	demo := Demo{Accounts: []string{DemoManagementAccount}}
	for _, name := range []string{"demo-production", "demo-staging"} {
		out, err := orgs.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		if err != nil {
			return Demo{}, fmt.Errorf("demo account %s: %w", name, err)
		}
		demo.Accounts = append(demo.Accounts, aws.ToString(out.CreateAccountStatus.AccountId))
	}
	for _, acct := range demo.Accounts {
		for _, region := range DemoRegions {
			for _, k := range demoKinds {
				arns, err := env.SeedResources(ctx, localaws.Seed{Account: acct, Region: region, Type: k.typ, Prefix: "demo-" + region, Count: k.count,
					Tags:  map[string]string{"Name": "demo-{i}"},
					Cycle: map[string][]string{"env": {"prod", "staging", "dev"}, "team": {"payments", "search", "platform", "data"}, "cost-center": {"cc-100", "cc-200"}}})
				if err != nil {
					return Demo{}, err
				}
				demo.Resources += len(arns)
			}
		}
	}
	env.ResourceExplorerSetup(DemoManagementAccount, DemoRegions, "us-east-1", true)
	return demo, nil
}
