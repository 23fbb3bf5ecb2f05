package inventory_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/inventory"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// world is a platform whose tenant acme connects accounts, with the local AWS that holds their resources.
type world struct {
	*testkit.Platform
	env          *localaws.Env
	admin        string
	viewer       string
	regions      []string
	tuneInv      func(*inventory.Service)
	scopeRegions []string
}

type worldOptions struct {
	// regions the inventory reads (default testkit.InventoryRegions).
	regions []string
	tune    func(*inventory.Service)
}

func newWorld(t testing.TB, o worldOptions) *world {
	t.Helper()
	regions := o.regions
	if regions == nil {
		regions = testkit.InventoryRegions
	}
	p := testkit.NewPlatform(t, testkit.PlatformOptions{Tune: func(parts platform.Parts) {
		if parts.Inventory != nil {
			parts.Inventory.DefaultRegions = regions
			if o.tune != nil {
				o.tune(parts.Inventory)
			}
		}
	}})
	return &world{Platform: p, env: testkit.LocalAWS(t), admin: p.Token(t, "acme", auth.Admin), viewer: p.Token(t, "acme", auth.Viewer), regions: regions}
}

// connect adds accountID to acme at level and connects it with a role made from its manual instructions (the
// account's first sync runs as it connects).
func (w *world) connect(t testing.TB, accountID string, level accounts.AccessLevel) {
	t.Helper()
	r := w.Do(t, testkit.Request{Method: http.MethodPost, Path: "/v1/accounts", Token: w.admin,
		Body: map[string]any{"name": "Account " + accountID, "accountId": accountID, "type": "standalone", "region": "us-east-1", "accessLevel": string(level)}})
	if r.Status != http.StatusCreated {
		t.Fatalf("add account: %d %s", r.Status, r.Body)
	}
	var out struct {
		Onboarding onboarding.Instructions `json:"onboarding"`
	}
	r.JSON(t, &out)
	role := w.CreateRole(t, out.Onboarding)
	if r := w.Do(t, testkit.Request{Method: http.MethodPost, Path: "/v1/accounts/" + accountID + "/connect", Token: w.admin,
		Body: map[string]any{"roleArn": role}}); r.Status != http.StatusOK {
		t.Fatalf("connect: %d %s", r.Status, r.Body)
	}
}

func (w *world) seed(t testing.TB, s localaws.Seed) []string {
	t.Helper()
	arns, err := w.env.SeedResources(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	return arns
}

// sync syncs an account now through the Service (not the rate-limited API), as the worker does.
func (w *world) sync(t testing.TB, accountID string) inventory.Status {
	t.Helper()
	if err := w.Services.Inventory.Handle(t.Context(), inventory.Message{Kind: inventory.KindPlan, TenantID: "acme", AccountID: accountID, Trigger: "on_demand"}); err != nil {
		t.Fatalf("sync %s: %v", accountID, err)
	}
	return w.status(t, accountID)
}

func (w *world) status(t testing.TB, accountID string) inventory.Status {
	t.Helper()
	var st inventory.Status
	r := w.Do(t, testkit.Request{Method: http.MethodGet, Path: "/v1/accounts/" + accountID + "/resources/sync", Token: w.viewer})
	if r.Status != http.StatusOK {
		t.Fatalf("status: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &st)
	return st
}

// list reads every page of a listing.
func (w *world) list(t testing.TB, path string) []inventory.Resource {
	t.Helper()
	var all []inventory.Resource
	cursor := ""
	for pages := 0; pages < 1000; pages++ {
		p := path
		if cursor != "" {
			sep := "?"
			if strings.Contains(p, "?") {
				sep = "&"
			}
			p += sep + "cursor=" + url.QueryEscape(cursor)
		}
		r := w.Do(t, testkit.Request{Method: http.MethodGet, Path: p, Token: w.viewer})
		if r.Status != http.StatusOK {
			t.Fatalf("list %s: %d %s", p, r.Status, r.Body)
		}
		var page inventory.Page
		r.JSON(t, &page)
		all = append(all, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			return all
		}
	}
	t.Fatalf("list %s: no end after 1000 pages", path)
	return nil
}

func arnsOf(rs []inventory.Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ARN
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func resourcePath(arn string) string { return "/v1/resources/" + url.PathEscape(arn) }

func (w *world) get(t testing.TB, arn string) (inventory.Resource, string) {
	t.Helper()
	r := w.Do(t, testkit.Request{Method: http.MethodGet, Path: resourcePath(arn), Token: w.viewer})
	if r.Status != http.StatusOK {
		t.Fatalf("get %s: %d %s", arn, r.Status, r.Body)
	}
	var res inventory.Resource
	r.JSON(t, &res)
	return res, r.Header.Get("ETag")
}

func (w *world) patch(t testing.TB, arn, etag string, tags map[string]any) *testkit.Response {
	t.Helper()
	return w.Do(t, testkit.Request{Method: http.MethodPatch, Path: resourcePath(arn), Token: w.admin, Body: map[string]any{"tags": tags},
		Header: map[string]string{"If-Match": etag}})
}

// writes counts the operations of account that change something in AWS: anything but reads and the session.
func writes(calls map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range calls {
		_, name, _ := strings.Cut(op, ":")
		read := false
		for _, prefix := range []string{"Get", "List", "Describe", "Search", "AssumeRole", "BatchGet", "Query", "Scan", "GET", "HEAD"} {
			read = read || strings.HasPrefix(name, prefix)
		}
		if !read {
			out[op] = n
		}
	}
	return out
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type snsTag = snstypes.Tag

func testkitGet(path, token string) testkit.Request {
	return testkit.Request{Method: http.MethodGet, Path: path, Token: token}
}
