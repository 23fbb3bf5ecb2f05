package inventory_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/inventory"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// TestSyncAndEditLocally: a resources_tags account's resources are listed with their tags, filtered by tag, and
// edited in Gangplank only; the edit shows at once, nothing is written to AWS, and a key AWS has overwrites
// Gangplank's value at the next sync.
func TestSyncAndEditLocally(t *testing.T) {
	w := newWorld(t, worldOptions{})
	acct := "620000000001"
	topics := w.seed(t, localaws.Seed{Account: acct, Region: "us-east-1", Type: "sns:topic", Prefix: "local", Count: 5,
		Tags: map[string]string{"Name": "topic-{i}"}, Cycle: map[string][]string{"env": {"prod", "dev"}}})
	w.connect(t, acct, accounts.ResourcesTags)
	st := w.status(t, acct)
	if st.Status != inventory.StatusActive || st.Resources != 5 || st.Last == nil || st.Last.Source != inventory.SourceTagging {
		t.Fatalf("status after the first sync = %s", mustJSON(st))
	}
	all := w.list(t, "/v1/accounts/"+acct+"/resources")
	if !slices.Equal(arnsOf(all), sorted(topics)) {
		t.Fatalf("listed %v, want %v", arnsOf(all), sorted(topics))
	}
	for _, r := range all {
		if r.Tags == nil || (*r.Tags)["env"] == "" || r.Type != "sns:topic" || r.Region != "us-east-1" {
			t.Errorf("resource %s", mustJSON(r))
		}
	}
	prod := w.list(t, "/v1/accounts/"+acct+"/resources?tag=env:prod")
	if len(prod) != 3 {
		t.Errorf("env:prod lists %d, want 3", len(prod))
	}

	res, etag := w.get(t, topics[1]) // env=dev
	r := w.patch(t, topics[1], etag, map[string]any{"env": "staging", "owner": "alice"})
	if r.Status != http.StatusOK {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	var after inventory.Resource
	r.JSON(t, &after)
	if (*after.Tags)["env"] != "staging" || (*after.Tags)["owner"] != "alice" || (*after.AWSTags)["env"] != "dev" || after.TagEdits == nil ||
		after.TagEdits.State != inventory.EditLocal {
		t.Errorf("after the edit: %s", mustJSON(after))
	}
	if got := w.list(t, "/v1/resources?tag=owner:alice"); len(got) != 1 || got[0].ARN != topics[1] {
		t.Errorf("owner:alice lists %v", arnsOf(got))
	}
	if got := w.list(t, "/v1/resources?tag=env:dev"); len(got) != 1 {
		t.Errorf("env:dev lists %v, want the one dev topic left (the edited one shows staging)", arnsOf(got))
	}
	_ = res
	if wr := writes(w.env.RoleCalls(acct)); len(wr) != 0 {
		t.Errorf("a resources_tags account was written to: %v", wr)
	}

	st = w.sync(t, acct)
	again, _ := w.get(t, topics[1])
	if (*again.Tags)["env"] != "dev" || (*again.Tags)["owner"] != "alice" || again.TagEdits == nil || len(again.TagEdits.Overwritten) != 1 {
		t.Errorf("after the next sync, AWS's env overwrites Gangplank's and owner stays: %s", mustJSON(again))
	}
	keys := w.Do(t, testkit.Request{Method: "GET", Path: "/v1/tags?accountId=" + acct, Token: w.viewer})
	var tk struct{ Items []inventory.TagKey }
	keys.JSON(t, &tk)
	counts := map[string]int{}
	for _, k := range tk.Items {
		counts[k.Key] = k.Resources
	}
	if counts["Name"] != 5 || counts["env"] != 5 || counts["owner"] != 1 {
		t.Errorf("tag keys = %s", keys.Body)
	}
}
