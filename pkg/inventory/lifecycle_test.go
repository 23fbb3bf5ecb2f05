package inventory_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/inventory"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// signedRegion is the region in a call's SigV4 scope.
func signedRegion(c *localaws.Call) string {
	h := c.Request.Header.Get("Authorization")
	i := strings.Index(h, "Credential=")
	if i < 0 {
		return ""
	}
	parts := strings.Split(strings.SplitN(h[i+len("Credential="):], ",", 2)[0], "/")
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}

// onFirstListing runs f once, at the account's first GetResources call in region ("" any) after it is armed.
func onFirstListing(t *testing.T, w *world, account, region string, f func()) (arm func()) {
	var mu sync.Mutex
	armed := false
	remove := w.env.Intercept(localaws.InterceptorFunc(func(_ http.ResponseWriter, c *localaws.Call) bool {
		if !c.Is("tagging", "GetResources") || w.env.CallerAccount(c) != account || (region != "" && signedRegion(c) != region) {
			return false
		}
		mu.Lock()
		run := armed
		armed = false
		mu.Unlock()
		if run {
			f()
		}
		return false
	}))
	t.Cleanup(remove)
	return func() {
		mu.Lock()
		armed = true
		mu.Unlock()
	}
}

// TestSyncIsAtomicAndDeletionsDisappear: while a sync runs, listings show the last committed sync (the region
// already scanned is not visible yet); once it commits, everything it read shows at once: a resource deleted in
// AWS disappears, a new one appears, a retagged one shows its new tags. The next sync prunes what was marked.
func TestSyncIsAtomicAndDeletionsDisappear(t *testing.T) {
	w := newWorld(t, worldOptions{regions: []string{"eu-west-1", "us-east-1"}})
	acct := "620000000002"
	east := w.seed(t, localaws.Seed{Account: acct, Region: "us-east-1", Type: "sns:topic", Prefix: "atomic-e", Count: 3, Tags: map[string]string{"env": "prod"}})
	west := w.seed(t, localaws.Seed{Account: acct, Region: "eu-west-1", Type: "sns:topic", Prefix: "atomic-w", Count: 3, Tags: map[string]string{"env": "prod"}})
	w.connect(t, acct, accounts.ResourcesTags)
	before := arnsOf(w.list(t, "/v1/accounts/"+acct+"/resources"))
	if !slices.Equal(before, sorted(append(slices.Clone(east), west...))) {
		t.Fatalf("first sync lists %v", before)
	}

	cfg := w.env.AccountConfig(acct)
	snsIn := func(region string) *sns.Client {
		return sns.NewFromConfig(cfg, func(o *sns.Options) { o.Region = region })
	}
	if _, err := snsIn("us-east-1").DeleteTopic(t.Context(), &sns.DeleteTopicInput{TopicArn: aws.String(east[0])}); err != nil {
		t.Fatal(err)
	}
	if _, err := snsIn("us-east-1").TagResource(t.Context(), &sns.TagResourceInput{ResourceArn: aws.String(east[1]),
		Tags: []snsTag{{Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	added := w.seed(t, localaws.Seed{Account: acct, Region: "eu-west-1", Type: "sns:topic", Prefix: "atomic-new", Count: 1, Tags: map[string]string{"env": "prod"}})

	// Scans run region by region (eu-west-1 first): when us-east-1's listing starts, eu-west-1's changes are
	// written but must not show.
	var during []string
	var duringErr error
	arm := onFirstListing(t, w, acct, "us-east-1", func() {
		page, err := w.Services.Inventory.List(context.Background(), "acme", inventory.Query{AccountID: acct, Limit: 100})
		duringErr = err
		for _, r := range page.Items {
			during = append(during, r.ARN)
		}
	})
	arm()
	st := w.sync(t, acct)
	slices.Sort(during)
	if duringErr != nil || !slices.Equal(during, before) {
		t.Errorf("mid-sync listing = %v (%v), want the last committed sync's %v", during, duringErr, before)
	}
	after := w.list(t, "/v1/accounts/"+acct+"/resources")
	want := sorted(append(append(slices.Clone(east[1:]), west...), added...))
	if !slices.Equal(arnsOf(after), want) {
		t.Errorf("after the sync: %v, want %v", arnsOf(after), want)
	}
	if st.Last.Regions == nil || st.Resources != 6 {
		t.Errorf("status = %s", mustJSON(st))
	}
	removed, changed, addedN := 0, 0, 0
	for _, r := range st.Last.Regions {
		removed, changed, addedN = removed+r.Removed, changed+r.Changed, addedN+r.Added
	}
	if removed != 1 || changed != 1 || addedN != 1 {
		t.Errorf("counted %d removed, %d changed, %d added; want 1 each", removed, changed, addedN)
	}
	if r, _ := w.get(t, east[1]); (*r.Tags)["env"] != "dev" {
		t.Errorf("retagged topic shows %v", r.Tags)
	}
	if got := w.list(t, "/v1/resources?tag=env:prod"); len(got) != 5 {
		t.Errorf("env:prod lists %v (the old value of the retagged topic and the deleted topic must not show)", arnsOf(got))
	}
	if r := w.Do(t, testkitGet(resourcePath(east[0]), w.viewer)); r.Status != http.StatusNotFound {
		t.Errorf("the deleted topic answers %d", r.Status)
	}
	// The next sync prunes the tombstone and the old version's tag entries.
	w.sync(t, acct)
	if _, _, found, err := w.Services.Inventory.Store.Find(t.Context(), "acme", east[0]); err != nil || found {
		t.Errorf("the deleted topic is still stored after the next sync (found %v, %v)", found, err)
	}
}

// TestRegionDisabledMidSync: a region disabled while a sync runs fails alone, with a reason the tenant can act on;
// the other regions commit, and the failed region keeps showing what its last sync read.
func TestRegionDisabledMidSync(t *testing.T) {
	w := newWorld(t, worldOptions{regions: []string{"eu-west-1", "eu-west-2", "us-east-1"}})
	acct := "620000000003"
	var seeded []string
	for _, r := range w.regions {
		seeded = append(seeded, w.seed(t, localaws.Seed{Account: acct, Region: r, Type: "sqs:queue", Prefix: "dis-" + r, Count: 2, Tags: map[string]string{"team": "a"}})...)
	}
	w.connect(t, acct, accounts.ResourcesTags)
	if st := w.status(t, acct); st.Status != inventory.StatusActive || st.Resources != 6 {
		t.Fatalf("first sync: %s", mustJSON(st))
	}
	more := w.seed(t, localaws.Seed{Account: acct, Region: "us-east-1", Type: "sqs:queue", Prefix: "dis-more", Count: 1, Tags: map[string]string{"team": "b"}})
	arm := onFirstListing(t, w, acct, "", func() { w.env.DisableRegion(acct, "eu-west-2") })
	arm()
	st := w.sync(t, acct)
	if st.Status != inventory.StatusError || !strings.Contains(st.Reason, "eu-west-2") || !strings.Contains(st.Reason, "not enabled") {
		t.Errorf("status = %s %q, want an error naming eu-west-2 as not enabled", st.Status, st.Reason)
	}
	listed := arnsOf(w.list(t, "/v1/accounts/"+acct+"/resources"))
	if want := sorted(append(slices.Clone(seeded), more...)); !slices.Equal(listed, want) {
		t.Errorf("listed %v, want %v (eu-west-2's from the last sync, us-east-1's new queue)", listed, want)
	}
	// Still disabled at the next sync: the account's regions no longer list it.
	st = w.sync(t, acct)
	if st.Status != inventory.StatusError || !strings.Contains(st.Reason, "eu-west-2") {
		t.Errorf("next sync: %s %q", st.Status, st.Reason)
	}
	w.env.EnableRegion(acct, "eu-west-2")
	if st = w.sync(t, acct); st.Status != inventory.StatusActive || st.Reason != "" {
		t.Errorf("after enabling the region again: %s %q", st.Status, st.Reason)
	}
}

// TestThrottlingRetried: a throttled listing is retried with backoff and the sync completes; retries are counted
// apart from calls, which stay at the lower bound.
func TestThrottlingRetried(t *testing.T) {
	w := newWorld(t, worldOptions{})
	acct := "620000000004"
	w.seed(t, localaws.Seed{Account: acct, Region: "us-east-1", Type: "sns:topic", Prefix: "thr", Count: 250, Tags: map[string]string{"k": "v"}})
	w.connect(t, acct, accounts.ResourcesTags)
	w.env.SetTaggingFault(acct, "us-east-1", "GetResources", "ThrottlingException", 4)
	st := w.sync(t, acct)
	if st.Status != inventory.StatusActive || st.Resources != 250 {
		t.Fatalf("status = %s", mustJSON(st))
	}
	if st.Last.Retries < 4 || st.Last.ListingCalls != st.Last.Bound || st.Last.Bound != 3 || st.Last.Ratio != 1 {
		t.Errorf("calls %d (bound %d, ratio %v), retries %d: want 3 pages at the bound and the 4 throttled attempts retried",
			st.Last.ListingCalls, st.Last.Bound, st.Last.Ratio, st.Last.Retries)
	}
}

// TestContinuation: a scan that runs out of its invocation's time continues in a new message from the page it
// reached; the finishing invocation still knows every resource listed before it, so deletions are found across
// invocations.
func TestContinuation(t *testing.T) {
	w := newWorld(t, worldOptions{tune: func(s *inventory.Service) { s.MaxPages = 1 }})
	acct := "620000000005"
	topics := w.seed(t, localaws.Seed{Account: acct, Region: "us-east-1", Type: "sns:topic", Prefix: "cont", Count: 250, Tags: map[string]string{"k": "v"}})
	w.connect(t, acct, accounts.ResourcesTags)
	st := w.status(t, acct)
	if st.Resources != 250 || st.Last.Regions[0].Continuations != 2 || st.Last.ListingCalls != 3 {
		t.Fatalf("status = %s", mustJSON(st.Last))
	}
	cfg := w.env.AccountConfig(acct)
	for _, arn := range topics[:10] {
		if _, err := sns.NewFromConfig(cfg).DeleteTopic(t.Context(), &sns.DeleteTopicInput{TopicArn: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
	}
	st = w.sync(t, acct)
	if st.Resources != 240 || st.Last.Regions[0].Removed != 10 {
		t.Errorf("after deleting 10: %s", mustJSON(st.Last))
	}
	if got := w.list(t, "/v1/accounts/"+acct+"/resources"); len(got) != 240 {
		t.Errorf("lists %d", len(got))
	}
}

// TestScopeFromIntegrationSettings: by default a sync reads every region enabled in the account and every type;
// the account's integration settings (resourceTypes, regions) narrow the next sync, and what falls outside them
// stops being listed; a chosen region the account has not enabled is an error naming it.
func TestScopeFromIntegrationSettings(t *testing.T) {
	w := newWorld(t, worldOptions{tune: func(s *inventory.Service) { s.DefaultRegions = nil }})
	acct := "620000000006"
	topics := w.seed(t, localaws.Seed{Account: acct, Region: "us-east-1", Type: "sns:topic", Prefix: "scope", Count: 3, Tags: map[string]string{"k": "v"}})
	topics = append(topics, w.seed(t, localaws.Seed{Account: acct, Region: "eu-west-1", Type: "sns:topic", Prefix: "scope", Count: 2, Tags: map[string]string{"k": "v"}})...)
	w.seed(t, localaws.Seed{Account: acct, Region: "us-east-1", Type: "sqs:queue", Prefix: "scope", Count: 1, Tags: map[string]string{"k": "v"}})
	w.seed(t, localaws.Seed{Account: acct, Region: "us-west-2", Type: "sqs:queue", Prefix: "scope", Count: 2, Tags: map[string]string{"k": "v"}})
	w.connect(t, acct, accounts.ResourcesTags)
	enabled := w.env.EnabledRegions(acct)
	st := w.status(t, acct)
	if st.Status != inventory.StatusActive || st.Resources != 8 || len(st.Last.Regions) != len(enabled) || st.Last.Bound != len(enabled) {
		t.Fatalf("default scope: %d resources in %d regions (bound %d), want 8 in the %d enabled regions: %s",
			st.Resources, len(st.Last.Regions), st.Last.Bound, len(enabled), mustJSON(st))
	}

	setScope := func(types, regions []string) {
		t.Helper()
		r := w.Do(t, testkit.Request{Method: http.MethodGet, Path: "/v1/accounts/" + acct, Token: w.admin})
		r = w.Do(t, testkit.Request{Method: http.MethodPut, Path: "/v1/accounts/" + acct + "/integration", Token: w.admin,
			Header: map[string]string{"If-Match": r.Header.Get("ETag")},
			Body:   map[string]any{"integrationName": "scoped", "owners": []string{"ops@example.com"}, "resourceTypes": types, "regions": regions}})
		if r.Status != http.StatusOK {
			t.Fatalf("integration settings: %d %s", r.Status, r.Body)
		}
	}
	setScope([]string{"sns:topic"}, []string{"us-east-1", "eu-west-1"})
	st = w.sync(t, acct)
	if st.Status != inventory.StatusActive || st.Resources != 5 || len(st.Last.Regions) != 2 || st.Last.ListingCalls != 2 {
		t.Errorf("narrowed scope: %s", mustJSON(st))
	}
	if got, want := arnsOf(w.list(t, "/v1/accounts/"+acct+"/resources")), sorted(topics); !slices.Equal(got, want) {
		t.Errorf("narrowed scope lists %v, want the topics %v", got, want)
	}

	setScope([]string{}, []string{"us-east-1", "ap-east-1"}) // ap-east-1 is an opt-in region this account has not enabled
	st = w.sync(t, acct)
	if st.Status != inventory.StatusError || !strings.Contains(st.Reason, "ap-east-1") || !strings.Contains(st.Reason, "not enabled") || st.Resources != 4 {
		t.Errorf("a region not enabled: %s", mustJSON(st))
	}
}

// twice is a queue that delivers every message two times, as SQS may (at least once).
type twice struct {
	inventory.Queue
	sent *atomic.Int64 // messages sent, each delivered twice
}

func (q twice) Send(ctx context.Context, msgs []inventory.Message, delay time.Duration) error {
	q.sent.Add(int64(len(msgs)))
	return q.Queue.Send(ctx, append(append([]inventory.Message{}, msgs...), msgs...), delay)
}

// TestRedeliveredWorkIsHarmless: every inventory message (the plan, each scan, its continuations, the commit) is
// delivered twice; the account ends as after one delivery: every resource once, the status active with one sync's
// count, and a deletion in AWS still found by the next sync.
func TestRedeliveredWorkIsHarmless(t *testing.T) {
	var sent atomic.Int64
	w := newWorld(t, worldOptions{tune: func(s *inventory.Service) {
		s.MaxPages = 1
		s.Queue = twice{s.Queue, &sent}
	}})
	acct := "620000000041"
	topics := w.seed(t, localaws.Seed{Account: acct, Region: "us-east-1", Type: "sns:topic", Prefix: "twice", Count: 250, Tags: map[string]string{"k": "v"}})
	w.connect(t, acct, accounts.ResourcesTags)
	st := w.status(t, acct)
	if st.Status != "active" || st.Resources != 250 {
		t.Fatalf("after a doubly delivered first sync: %s %s, %d resources: %s", st.Status, st.Reason, st.Resources, mustJSON(st.Last))
	}
	if n := sent.Load(); n < 3 { // the plan, the scan and its continuations
		t.Fatalf("only %d messages went through the doubling queue", n)
	}
	seen := map[string]bool{}
	for _, r := range w.list(t, "/v1/accounts/"+acct+"/resources") {
		if seen[r.ARN] {
			t.Errorf("%s listed twice", r.ARN)
		}
		seen[r.ARN] = true
	}
	if len(seen) != 250 {
		t.Errorf("lists %d resources, want 250", len(seen))
	}
	cfg := w.env.AccountConfig(acct)
	for _, arn := range topics[:10] {
		if _, err := sns.NewFromConfig(cfg).DeleteTopic(t.Context(), &sns.DeleteTopicInput{TopicArn: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
	}
	if st = w.sync(t, acct); st.Status != "active" || st.Resources != 240 {
		t.Errorf("after deleting 10: %s, %d resources: %s", st.Status, st.Resources, mustJSON(st.Last))
	}
	if got := w.list(t, "/v1/accounts/"+acct+"/resources"); len(got) != 240 {
		t.Errorf("lists %d after deleting 10", len(got))
	}
}
