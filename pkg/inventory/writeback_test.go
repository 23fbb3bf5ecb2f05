package inventory_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/inventory"
	"github.com/gangplank/gangplank/pkg/localaws"
)

// TestWriteBack: at tags_write, edits go back to AWS. Resources getting the same change share one TagResources
// call; one resource that refuses fails alone with AWS's reason while the others are written, and it is retried
// with backoff until AWS accepts. A key AWS changed while the tenant's change waited is a conflict showing both
// values, written only once the tenant edits it again.
func TestWriteBack(t *testing.T) {
	var skew atomic.Int64
	w := newWorld(t, worldOptions{tune: func(s *inventory.Service) {
		s.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	}})
	later := func(d time.Duration) { skew.Add(int64(d)) }
	acct := "620000000006"
	topics := w.seed(t, localaws.Seed{Account: acct, Region: "us-east-1", Type: "sns:topic", Prefix: "wb", Count: 3, Tags: map[string]string{"env": "prod"}})
	w.connect(t, acct, accounts.TagsWrite)
	awsTags := func(arn string) map[string]string {
		out, err := sns.NewFromConfig(w.env.AccountConfig(acct)).ListTagsForResource(t.Context(), &sns.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, tag := range out.Tags {
			m[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		return m
	}
	writeBack := func() {
		t.Helper()
		if err := w.Services.Inventory.Handle(t.Context(), inventory.Message{Kind: inventory.KindWriteBack, TenantID: "acme", AccountID: acct}); err != nil {
			t.Fatal(err)
		}
	}

	// The role cannot tag for a while: every edit fails, waiting for its retry.
	w.env.SetTaggingFault(acct, "us-east-1", "TagResources", "AccessDeniedException", 3)
	for _, arn := range topics {
		_, etag := w.get(t, arn)
		if r := w.patch(t, arn, etag, map[string]any{"owner": "alice"}); r.Status != http.StatusOK {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
	}
	for _, arn := range topics {
		r, _ := w.get(t, arn)
		if r.TagEdits == nil || r.TagEdits.State != inventory.EditFailed || !strings.Contains(r.TagEdits.Reason, "may not write tags") ||
			r.TagEdits.NextAttemptAt == nil || (*r.Tags)["owner"] != "alice" {
			t.Fatalf("after a refused write: %s", mustJSON(r))
		}
	}
	// The retry writes the three together, except the one resource that refuses; the others are not held up.
	w.env.RefuseTagging(topics[2], "InvalidParameterException")
	w.env.ResetCalls(acct)
	later(time.Minute)
	writeBack()
	if calls := w.env.RoleCalls(acct); calls["tag:TagResources"] != 1 || calls["tag:GetResources"] != 1 {
		t.Errorf("calls = %v, want one read of the current tags and one TagResources for the three", calls)
	}
	for i, arn := range topics {
		r, _ := w.get(t, arn)
		switch i {
		case 2:
			if r.TagEdits.State != inventory.EditFailed || !strings.Contains(r.TagEdits.Reason, "InvalidParameterException") || awsTags(arn)["owner"] != "" {
				t.Errorf("the refusing topic: %s", mustJSON(r.TagEdits))
			}
		default:
			if r.TagEdits.State != inventory.EditSynced || awsTags(arn)["owner"] != "alice" {
				t.Errorf("topic %d: %s, AWS has %v", i, mustJSON(r.TagEdits), awsTags(arn))
			}
		}
	}
	w.env.RefuseTagging(topics[2], "")
	later(10 * time.Minute)
	writeBack()
	if r, _ := w.get(t, topics[2]); r.TagEdits.State != inventory.EditSynced || awsTags(topics[2])["owner"] != "alice" {
		t.Errorf("the retried topic: %s", mustJSON(r.TagEdits))
	}

	// A conflict: the tenant's change waits (refused), AWS's value changes meanwhile.
	w.env.RefuseTagging(topics[0], "InternalServiceException")
	_, etag := w.get(t, topics[0])
	if r := w.patch(t, topics[0], etag, map[string]any{"env": "blue"}); r.Status != http.StatusOK {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	if _, err := sns.NewFromConfig(w.env.AccountConfig(acct)).TagResource(t.Context(), &sns.TagResourceInput{ResourceArn: aws.String(topics[0]),
		Tags: []snsTag{{Key: aws.String("env"), Value: aws.String("green")}}}); err != nil {
		t.Fatal(err)
	}
	w.env.RefuseTagging(topics[0], "")
	later(10 * time.Minute)
	writeBack()
	r, etag := w.get(t, topics[0])
	c := r.TagEdits.Conflicts
	if r.TagEdits.State != inventory.EditConflict || len(c) != 1 || c[0].Key != "env" || aws.ToString(c[0].GangplankValue) != "blue" ||
		aws.ToString(c[0].AWSValue) != "green" || awsTags(topics[0])["env"] != "green" {
		t.Fatalf("conflict: %s; AWS has %v", mustJSON(r.TagEdits), awsTags(topics[0]))
	}
	// The tenant settles it by editing the key again: written, over the value it has now seen.
	if resp := w.patch(t, topics[0], etag, map[string]any{"env": "blue"}); resp.Status != http.StatusOK {
		t.Fatalf("patch: %d %s", resp.Status, resp.Body)
	}
	if awsTags(topics[0])["env"] != "blue" {
		t.Errorf("AWS has %v after the tenant settled the conflict", awsTags(topics[0]))
	}
	// The next sync reads what was written: the edits are done, AWS's tags say it all.
	w.sync(t, acct)
	w.sync(t, acct)
	for _, arn := range topics {
		r, _ := w.get(t, arn)
		if r.TagEdits != nil && len(r.TagEdits.Keys) > 0 || (*r.AWSTags)["owner"] != "alice" {
			t.Errorf("after the syncs: %s", mustJSON(r))
		}
	}
}
