package discovery_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// org is an organization built in the local AWS: OUs five levels deep, accounts spread over them.
type org struct {
	management string
	rootID     string
	ous        map[string]string // id → path
	children   map[string][]string
	accounts   map[string]string // account id → expected path
}

// buildOrg creates an organization with fan-out OUs per level (depth 5) and n accounts spread round-robin over the
// root and every OU.
func buildOrg(t testing.TB, management string, fanout []int, n int) *org {
	t.Helper()
	ctx := t.Context()
	client := testkit.Organizations(t, management)
	if _, err := client.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: "ALL"}); err != nil {
		t.Fatal(err)
	}
	roots, err := client.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	o := &org{management: management, rootID: aws.ToString(roots.Roots[0].Id), ous: map[string]string{}, children: map[string][]string{}, accounts: map[string]string{}}
	o.ous[o.rootID] = "Root"
	level := []string{o.rootID}
	for depth, k := range fanout {
		var next []string
		for _, parent := range level {
			for i := range k {
				name := fmt.Sprintf("L%d-%d", depth+1, len(o.ous))
				out, err := client.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(parent), Name: aws.String(name)})
				if err != nil {
					t.Fatal(err)
				}
				_ = i
				id := aws.ToString(out.OrganizationalUnit.Id)
				o.ous[id] = o.ous[parent] + "/" + name
				o.children[parent] = append(o.children[parent], id)
				next = append(next, id)
			}
		}
		level = next
	}
	containers := make([]string, 0, len(o.ous))
	for id := range o.ous {
		containers = append(containers, id)
	}
	for i := range n {
		out, err := client.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(fmt.Sprintf("acct-%04d", i)),
			Email: aws.String(fmt.Sprintf("a%04d@example.com", i))})
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(out.CreateAccountStatus.AccountId)
		dest := containers[i%len(containers)]
		if dest != o.rootID {
			if _, err := client.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String(o.rootID),
				DestinationParentId: aws.String(dest)}); err != nil {
				t.Fatal(err)
			}
		}
		o.accounts[id] = o.ous[dest]
	}
	return o
}

func members(t *testing.T, p *testkit.Platform, tenant, mgmt string) map[string]accounts.Account {
	t.Helper()
	out := map[string]accounts.Account{}
	q := accounts.ListQuery{ManagementAccountID: mgmt, Limit: 100}
	for {
		page, err := p.Services.Accounts.List(t.Context(), tenant, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Items {
			out[a.AccountID] = a
		}
		if q.Cursor = page.NextCursor; q.Cursor == "" {
			return out
		}
	}
}

// TestDiscoverOrganization: 300 accounts in OUs five levels deep. Connecting the management account discovers them
// all (not_activated, with OU paths), with requests near the lower bound; a moved account is updated, one that left
// is marked (and kept), and a second run changes nothing else.
func TestDiscoverOrganization(t *testing.T) {
	p := testkit.NewPlatform(t)
	o := buildOrg(t, "730000000001", []int{3, 2, 2, 2, 2}, 300)
	p.ConnectManagement(t, "acme", "730000000001") // activation runs the first discovery

	mgmt, _ := p.Services.Accounts.Get(t.Context(), "acme", "730000000001")
	if mgmt.Discovery == nil || mgmt.Discovery.LastRun == nil {
		t.Fatalf("activation did not discover the organization: %+v", mgmt.Discovery)
	}
	run := mgmt.Discovery.LastRun
	found := members(t, p, "acme", "730000000001")
	if run.Found != 300 || run.Added != 300 || len(found) != 300 || run.OUs != len(o.ous)-1 {
		t.Errorf("run = %+v, %d accounts listed, %d OUs built", run, len(found), len(o.ous)-1)
	}
	for id, path := range o.accounts {
		a := found[id]
		if a.Status != accounts.NotActivated || a.Organization == nil || a.Organization.Path != path || a.Organization.Status != "ACTIVE" {
			t.Fatalf("account %s = %s %+v, want path %s", id, a.Status, a.Organization, path)
		}
	}
	bound := (300+19)/20 + len(o.ous) - 1
	ratio := float64(run.Calls) / float64(bound)
	t.Logf("%d accounts, %d OUs: %d Organizations requests, lower bound %d, ratio %.2f", 300, len(o.ous)-1, run.Calls, bound, ratio)
	if ratio > 2.0 {
		t.Errorf("%d requests for a lower bound of %d (ratio %.2f)", run.Calls, bound, ratio)
	}

	// One account moves to another OU, one leaves the organization.
	client := testkit.Organizations(t, "730000000001")
	var moved, left string
	for id, path := range o.accounts {
		if path == "Root" && moved == "" {
			moved = id
		} else if left == "" && path != "Root" {
			left = id
		}
	}
	dest := o.children[o.rootID][0]
	if _, err := client.MoveAccount(t.Context(), &organizations.MoveAccountInput{AccountId: aws.String(moved), SourceParentId: aws.String(o.rootID), DestinationParentId: aws.String(dest)}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.RemoveAccountFromOrganization(t.Context(), &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(left)}); err != nil {
		t.Fatal(err)
	}
	job := p.Discover(t, "acme", "730000000001")
	if job.Status != discovery.Succeeded || job.Run == nil || job.Run.Added != 0 || job.Run.Updated != 1 || job.Run.Left != 1 {
		t.Fatalf("second run = %s %q %+v, want 1 updated and 1 left", job.Status, job.Error, job.Run)
	}
	after := members(t, p, "acme", "730000000001")
	if a := after[moved]; a.Organization.Path != o.ous[dest] {
		t.Errorf("moved account path = %s, want %s", a.Organization.Path, o.ous[dest])
	}
	if a, ok := after[left]; !ok || a.Organization.Status != accounts.MembershipLeft || a.Organization.LeftAt == nil {
		t.Errorf("the account that left = %+v (it must be kept, marked LEFT)", a.Organization)
	}

	view, err := p.Services.Discovery.Organization(t.Context(), "acme", "730000000001")
	if err != nil {
		t.Fatal(err)
	}
	if len(view.OUs) != len(o.ous) || len(view.Accounts) != 300 || view.RootID != o.rootID {
		t.Errorf("view: %d OUs, %d accounts, root %s", len(view.OUs), len(view.Accounts), view.RootID)
	}
}

// TestFilters: included OUs take their nested OUs along; excluded OUs and accounts are left out; another tenant's
// account is counted, never named, never taken.
func TestFilters(t *testing.T) {
	p := testkit.NewPlatform(t)
	o := buildOrg(t, "730000000002", []int{2, 2}, 40)
	var include, exclude string
	include = o.children[o.rootID][0]
	exclude = o.children[include][0]
	var excludedAccount, otherTenants string
	for id, path := range o.accounts {
		if strings.HasPrefix(path, o.ous[include]) && !strings.HasPrefix(path, o.ous[exclude]) {
			if excludedAccount == "" {
				excludedAccount = id
			} else if otherTenants == "" {
				otherTenants = id
			}
		}
	}
	if err := p.Services.Tenants.Ensure(t.Context(), "globex"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Services.Accounts.Create(t.Context(), "globex", accounts.CreateInput{Name: "Theirs", AccountID: otherTenants, Type: "standalone", Region: "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	p.AddManagement(t, "acme", "730000000002")
	if _, err := p.Services.Discovery.UpdateSettings(t.Context(), "acme", "730000000002", discovery.Settings{
		IncludeOUs: []string{include}, ExcludeOUs: []string{exclude}, ExcludeAccounts: []string{excludedAccount}}); err != nil {
		t.Fatal(err)
	}
	p.Connect(t, "acme", "730000000002")
	p.WaitDiscovery(t, "acme", "730000000002")
	found := members(t, p, "acme", "730000000002")
	want := 0
	for id, path := range o.accounts {
		in := strings.HasPrefix(path, o.ous[include]+"/") || path == o.ous[include]
		out := strings.HasPrefix(path, o.ous[exclude]) || id == excludedAccount || id == otherTenants
		if in && !out {
			want++
			if _, ok := found[id]; !ok {
				t.Errorf("account %s under %s was not added", id, path)
			}
		} else if _, ok := found[id]; ok {
			t.Errorf("account %s under %s was added despite the filters", id, path)
		}
	}
	mgmt, _ := p.Services.Accounts.Get(t.Context(), "acme", "730000000002")
	run := mgmt.Discovery.LastRun
	if run.Added != want || run.ClaimedElsewhere != 1 || run.Excluded != 40-want-1 {
		t.Errorf("run = %+v, want %d added, 1 claimed elsewhere, %d excluded", run, want, 40-want-1)
	}
}

// TestThrottling: Organizations throttles the first requests; discovery waits them out and records the retries.
func TestThrottling(t *testing.T) {
	p := testkit.NewPlatform(t)
	buildOrg(t, "730000000003", []int{2}, 10)
	p.ConnectManagement(t, "acme", "730000000003")
	var throttled atomic.Int32
	defer testkit.LocalAWS(t).Intercept(localaws.InterceptorFunc(func(w http.ResponseWriter, c *localaws.Call) bool {
		if c.Service == "organizations" && throttled.Add(1) <= 6 {
			localaws.WriteJSONError(w, http.StatusBadRequest, "TooManyRequestsException", "AWS Organizations can't complete your request because another request is already in progress")
			return true
		}
		return false
	}))()
	job := p.Discover(t, "acme", "730000000003")
	if job.Status != discovery.Succeeded || job.Run.Retries < 6 || job.Run.Found != 10 || job.Progress.Retries < 6 {
		t.Errorf("job = %s %q, run %+v, progress %+v: want 6 retries and 10 accounts", job.Status, job.Error, job.Run, job.Progress)
	}
}

// TestStartAll: the daily run starts a job for every active management account across tenants and returns; one
// whose organization cannot be read fails alone, with the reason, recorded on its account.
func TestStartAll(t *testing.T) {
	p := testkit.NewPlatform(t)
	buildOrg(t, "730000000004", []int{2}, 4)
	p.ConnectManagement(t, "acme", "730000000004")
	p.ConnectManagement(t, "globex", "730000000005") // no organization: Organizations answers AWSOrganizationsNotInUseException
	started, failed, err := p.Services.Discovery.StartAll(t.Context())
	if err != nil || started != 2 || failed != 0 {
		t.Fatalf("started %d, %d could not start, %v; want both started", started, failed, err)
	}
	for _, r := range []struct{ tenant, account string }{{"acme", "730000000004"}, {"globex", "730000000005"}} {
		if j := p.WaitDiscovery(t, r.tenant, r.account); j.Trigger != discovery.TriggerSchedule {
			t.Errorf("%s's job = %+v, want the schedule's", r.account, j)
		}
	}
	g, _ := p.Services.Accounts.Get(t.Context(), "globex", "730000000005")
	if g.Discovery == nil || g.Discovery.LastRun == nil || g.Discovery.LastRun.Status != "failed" || g.Discovery.LastRun.Error == "" {
		t.Errorf("globex's failed run = %+v", g.Discovery)
	}
	a, _ := p.Services.Accounts.Get(t.Context(), "acme", "730000000004")
	if a.Discovery.LastRun.Status != "ok" || a.Discovery.LastRun.Found != 4 {
		t.Errorf("acme's run = %+v", a.Discovery.LastRun)
	}
}
