package devserver

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/gangplank/gangplank/pkg/localaws"
)

// DemoManagementAccount manages the sample organization make local puts in the local AWS.
const DemoManagementAccount = "210987654321"

// Demo is the sample organization in the local AWS: nothing in Gangplank yet, so a person (or the console's
// end-to-end tests) adds its management account and discovers it as a customer would.
type Demo struct {
	ManagementAccountID string            `json:"managementAccountId"`
	OUs                 map[string]string `json:"ous"`       // path → OU id
	Members             map[string]string `json:"members"`   // name → account ID
	MemberOUs           map[string]string `json:"memberOus"` // name → OU path
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

// SeedDemo creates the sample organization in the local AWS: OUs Workloads (Prod, Dev) and Sandbox, and member
// accounts in each (moto gives each an OrganizationAccountAccessRole trusting the management account).
func SeedDemo(ctx context.Context, env *localaws.Env) (Demo, error) {
	org := organizations.NewFromConfig(env.AccountConfig(DemoManagementAccount))
	d := Demo{ManagementAccountID: DemoManagementAccount, OUs: map[string]string{}, Members: map[string]string{}, MemberOUs: map[string]string{}}
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: "ALL"}); err != nil {
		return d, fmt.Errorf("demo organization: %w", err)
	}
	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) == 0 {
		return d, fmt.Errorf("demo organization's root: %v", err)
	}
	root := aws.ToString(roots.Roots[0].Id)
	ou := func(path, name, parent string) error {
		out, err := org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{Name: aws.String(name), ParentId: aws.String(parent)})
		if err != nil {
			return fmt.Errorf("demo OU %s: %w", path, err)
		}
		d.OUs[path] = aws.ToString(out.OrganizationalUnit.Id)
		return nil
	}
	for _, o := range []struct{ path, name, parent string }{
		{"Workloads", "Workloads", ""}, {"Workloads/Prod", "Prod", "Workloads"}, {"Workloads/Dev", "Dev", "Workloads"}, {"Sandbox", "Sandbox", ""},
	} {
		parent := root
		if o.parent != "" {
			parent = d.OUs[o.parent]
		}
		if err := ou(o.path, o.name, parent); err != nil {
			return d, err
		}
	}
	for _, m := range demoMembers {
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(m.name), Email: aws.String(m.name + "@demo.example.com")})
		if err != nil {
			return d, fmt.Errorf("demo account %s: %w", m.name, err)
		}
		id := aws.ToString(out.CreateAccountStatus.AccountId)
		d.Members[m.name], d.MemberOUs[m.name] = id, m.ou
		if m.ou == "" {
			continue
		}
		if _, err := org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String(root),
			DestinationParentId: aws.String(d.OUs[m.ou])}); err != nil {
			return d, fmt.Errorf("move demo account %s: %w", m.name, err)
		}
	}
	return d, nil
}
