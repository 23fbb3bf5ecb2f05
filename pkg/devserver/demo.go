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

// Demo is what SeedDemo made: the sample organization in the local AWS, with nothing in Gangplank yet, so a person
// (or the console's end-to-end tests) adds its management account and discovers it as a customer would.
type Demo struct {
	ManagementAccountID string            `json:"managementAccountId"`
	OUs                 map[string]string `json:"ous"`       // path → OU id
	Members             map[string]string `json:"members"`   // name → account ID
	MemberOUs           map[string]string `json:"memberOus"` // name → OU path ("" for the root)
	// Accounts are the organization's accounts, the management account first, then the members in demoMembers'
	// order.
	Accounts []string `json:"accounts"`
	// Resources counts the tagged resources seeded.
	Resources int `json:"resources"`
}

// demoMembers are the sample member accounts and their OU paths ("" for the root).
var demoMembers = []struct{ name, ou string }{
	{"prod-web", "Workloads/Prod"},
	{"prod-data", "Workloads/Prod"},
	{"dev-web", "Workloads/Dev"},
	{"dev-data", "Workloads/Dev"},
	{"sandbox-alice", "Sandbox"},
	{"sandbox-bob", "Sandbox"},
	{"shared-services", ""},
}

// demoOUs are the sample OUs, parents first.
var demoOUs = []struct{ path, name, parent string }{
	{"Workloads", "Workloads", ""}, {"Workloads/Prod", "Prod", "Workloads"}, {"Workloads/Dev", "Dev", "Workloads"}, {"Sandbox", "Sandbox", ""},
}

// demoKinds are the resources each demo account holds in each region, tagged as a FinOps team would tag them.
var demoKinds = []struct {
	typ   string
	count int
}{{"sns:topic", 4}, {"sqs:queue", 3}, {"logs:log-group", 3}, {"ec2:volume", 2}}

// DemoResourcesPerAccountRegion is how many tagged resources SeedDemo puts in each account and region.
const DemoResourcesPerAccountRegion = 12

// SeedDemo gives the local AWS a demo organization: OUs Workloads (Prod, Dev) and Sandbox with member accounts in
// each (moto gives each an OrganizationAccountAccessRole trusting the management account), every account holding
// tagged resources in DemoRegions, and Resource Explorer on in the management account (an aggregator index in
// us-east-1 with a default view that includes tags), so that a new user who connects the accounts sees an
// inventory at once, whichever access level they choose.
func SeedDemo(ctx context.Context, env *localaws.Env) (Demo, error) {
	org := organizations.NewFromConfig(env.AccountConfig(DemoManagementAccount))
	d := Demo{ManagementAccountID: DemoManagementAccount, OUs: map[string]string{}, Members: map[string]string{}, MemberOUs: map[string]string{},
		Accounts: []string{DemoManagementAccount}}
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		return Demo{}, fmt.Errorf("demo organization: %w", err)
	}
	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		return Demo{}, fmt.Errorf("demo organization's root: %w", err)
	}
	if len(roots.Roots) == 0 {
		return Demo{}, fmt.Errorf("demo organization has no root")
	}
	root := aws.ToString(roots.Roots[0].Id)
	for _, o := range demoOUs {
		parent := root
		if o.parent != "" {
			parent = d.OUs[o.parent]
		}
		out, err := org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{Name: aws.String(o.name), ParentId: aws.String(parent)})
		if err != nil {
			return Demo{}, fmt.Errorf("demo OU %s: %w", o.path, err)
		}
		d.OUs[o.path] = aws.ToString(out.OrganizationalUnit.Id)
	}
	for _, m := range demoMembers {
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(m.name), Email: aws.String(m.name + "@demo.example.com")})
		if err != nil {
			return Demo{}, fmt.Errorf("demo account %s: %w", m.name, err)
		}
		id := aws.ToString(out.CreateAccountStatus.AccountId)
		d.Members[m.name], d.MemberOUs[m.name] = id, m.ou
		d.Accounts = append(d.Accounts, id)
		if m.ou == "" {
			continue
		}
		if _, err := org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String(root),
			DestinationParentId: aws.String(d.OUs[m.ou])}); err != nil {
			return Demo{}, fmt.Errorf("move demo account %s: %w", m.name, err)
		}
	}
	for _, acct := range d.Accounts {
		for _, region := range DemoRegions {
			for _, k := range demoKinds {
				arns, err := env.SeedResources(ctx, localaws.Seed{Account: acct, Region: region, Type: k.typ, Prefix: "demo-" + region, Count: k.count,
					Tags:  map[string]string{"Name": "demo-{i}"},
					Cycle: map[string][]string{"env": {"prod", "staging", "dev"}, "team": {"payments", "search", "platform", "data"}, "cost-center": {"cc-100", "cc-200"}}})
				if err != nil {
					return Demo{}, err
				}
				d.Resources += len(arns)
			}
		}
	}
	env.ResourceExplorerSetup(DemoManagementAccount, DemoRegions, "us-east-1", true)
	return d, nil
}
