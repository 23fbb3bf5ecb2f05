package costsync_test

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/costsync"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// payer links a management account with an organization of n members to tenant and connects it.
func payer(t testing.TB, p *testkit.Platform, tenant, id string, members int) {
	t.Helper()
	testkit.NewOrganization(t, id, members)
	p.ConnectManagement(t, tenant, id)
}

func newPlatform(t testing.TB) *testkit.Platform {
	p := testkit.NewPlatform(t)
	p.Services.CostSync.MaxBackoff = 5 * time.Millisecond
	return p
}

// TestCallsDoNotGrowWithTheOrganization: a payer with 10 linked accounts and one with 1,000 cost the same 12 Cost
// Explorer requests per sync (8 reservation services and 4 Savings Plans types, one term and payment option).
func TestCallsDoNotGrowWithTheOrganization(t *testing.T) {
	p := newPlatform(t)
	payer(t, p, "acme", "720000000001", 10)
	payer(t, p, "acme", "720000000002", 1000)
	small, err := p.Services.CostSync.SyncPayer(t.Context(), "acme", "720000000001")
	if err != nil {
		t.Fatal(err)
	}
	large, err := p.Services.CostSync.SyncPayer(t.Context(), "acme", "720000000002")
	if err != nil {
		t.Fatal(err)
	}
	want := costsync.DefaultOptions.CallsPerSync()
	t.Logf("10 accounts: %d calls, %d recommendations; 1,000 accounts: %d calls, %d recommendations", small.Calls, small.Count, large.Calls, large.Count)
	if want != 12 || small.Calls != want || large.Calls != want {
		t.Errorf("calls: %d for 10 accounts, %d for 1,000; want %d for both", small.Calls, large.Calls, want)
	}
	if large.Count < 50*small.Count/10 {
		t.Errorf("1,000 accounts gave only %d recommendations (10 gave %d)", large.Count, small.Count)
	}
}

// TestPagination: with small pages the sync follows every NextPageToken and stores exactly what one large page
// holds.
func TestPagination(t *testing.T) {
	p := newPlatform(t)
	payer(t, p, "acme", "720000000003", 40)
	ids := func() []string {
		listing, err := p.Services.CostSync.TenantRecommendations(t.Context(), "acme", costsync.Filter{}, 0, 100000)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range listing.Items {
			out = append(out, r.ID)
		}
		sort.Strings(out)
		return out
	}
	whole, err := p.Services.CostSync.SyncPayer(t.Context(), "acme", "720000000003")
	if err != nil {
		t.Fatal(err)
	}
	before := ids()
	p.Services.CostSync.PageSize = 3
	paged, err := p.Services.CostSync.SyncPayer(t.Context(), "acme", "720000000003")
	if err != nil {
		t.Fatal(err)
	}
	if paged.Calls <= whole.Calls || paged.Count != whole.Count || !slices.Equal(ids(), before) {
		t.Errorf("pages of 3: %d calls, %d recommendations; one page: %d calls, %d", paged.Calls, paged.Count, whole.Calls, whole.Count)
	}
}

// TestFailures: each Cost Explorer failure ends where the tenant can see it and act.
func TestFailures(t *testing.T) {
	p := newPlatform(t)
	env := testkit.LocalAWS(t)
	tests := []struct {
		name, payer, fault string
		times              int
		status             string
		wantErr            bool
		health             accounts.HealthStatus
	}{
		{"Cost Explorer not enabled yet", "720000000011", "DataUnavailableException", -1, costsync.StatusWaitingForData, false, accounts.Healthy},
		{"role lacks ce permissions", "720000000012", "AccessDeniedException", -1, costsync.StatusFailed, false, accounts.Degraded},
		{"throttled twice, then fine", "720000000013", "LimitExceededException", 2, costsync.StatusOK, false, accounts.Healthy},
		{"throttled throughout", "720000000014", "LimitExceededException", -1, costsync.StatusFailed, true, accounts.Healthy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			payer(t, p, "acme", tc.payer, 3)
			env.SetCostExplorerFault(tc.payer, tc.fault, tc.times)
			defer env.SetCostExplorerFault(tc.payer, "", 0)
			st, err := p.Services.CostSync.SyncPayer(t.Context(), "acme", tc.payer)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && st.Status != tc.status {
				t.Errorf("status = %+v, want %s", st, tc.status)
			}
			stored, _ := p.Services.CostSync.Store.Status(t.Context(), "acme", tc.payer)
			if stored.Status != tc.status {
				t.Errorf("stored status = %+v, want %s", stored, tc.status)
			}
			a, _ := p.Services.Accounts.Get(t.Context(), "acme", tc.payer)
			if a.Health.Status != tc.health {
				t.Errorf("health = %+v, want %s", a.Health, tc.health)
			}
			if tc.health == accounts.Degraded && !strings.Contains(a.Health.Reason, "ce:GetReservationPurchaseRecommendation") {
				t.Errorf("health does not name the missing permission: %q", a.Health.Reason)
			}
		})
	}
}

// TestUnchangedDataIsNotRewritten: the first sync (right after the payer's activation) writes its recommendations;
// a second sync that finds the same ones writes one item (the status), not the recommendations again.
func TestUnchangedDataIsNotRewritten(t *testing.T) {
	p := newPlatform(t)
	p.Calls.Reset()
	payer(t, p, "acme", "720000000021", 30)
	testkit.WaitIdle(t)
	first, err := p.Services.CostSync.Status(t.Context(), "acme", "720000000021")
	if err != nil {
		t.Fatal(err)
	}
	firstBatches := p.Calls.Calls("DynamoDB", "BatchWriteItem")
	p.Calls.Reset()
	second, err := p.Services.CostSync.SyncPayer(t.Context(), "acme", "720000000021")
	if err != nil {
		t.Fatal(err)
	}
	writes := p.Calls.Calls("DynamoDB", "BatchWriteItem") + p.Calls.Calls("DynamoDB", "PutItem") + p.Calls.Calls("DynamoDB", "TransactWriteItems") + p.Calls.Calls("DynamoDB", "UpdateItem")
	t.Logf("first sync: %d recommendations in %d batch writes; unchanged sync: %d writes", first.Count, firstBatches, writes)
	if firstBatches == 0 || writes != 1 || second.Generation != first.Generation {
		t.Errorf("first sync %d batch writes; second sync %d writes (want 1), generations %s → %s", firstBatches, writes, first.Generation, second.Generation)
	}
}

// TestWorkerIsolatesPayers: one payer throttled throughout fails alone (its message is retried by SQS), the other
// succeeds; a message for a payer that is no longer synced is dropped, not retried.
func TestWorkerIsolatesPayers(t *testing.T) {
	p := newPlatform(t)
	env := testkit.LocalAWS(t)
	payer(t, p, "acme", "720000000031", 3)
	payer(t, p, "acme", "720000000032", 3)
	env.SetCostExplorerFault("720000000032", "LimitExceededException", -1)
	defer env.SetCostExplorerFault("720000000032", "", 0)
	msg := func(id, account string) events.SQSMessage {
		body, _ := json.Marshal(costsync.PayerRef{TenantID: "acme", AccountID: account})
		return events.SQSMessage{MessageId: id, Body: string(body)}
	}
	resp, err := p.Services.CostSync.HandleSQS(t.Context(), events.SQSEvent{Records: []events.SQSMessage{
		msg("m1", "720000000031"), msg("m2", "720000000032"), msg("m3", "999999999999"), {MessageId: "m4", Body: "not json"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m2" {
		t.Errorf("batch item failures = %+v, want only m2", resp.BatchItemFailures)
	}
	if st, _ := p.Services.CostSync.Store.Status(t.Context(), "acme", "720000000031"); st.Status != costsync.StatusOK {
		t.Errorf("the healthy payer: %+v", st)
	}
}

// TestScheduleThroughSQS: the daily schedule enqueues exactly the payers with cost sync on (over a real SQS queue in
// the local AWS), and the worker syncs what it receives.
func TestScheduleThroughSQS(t *testing.T) {
	p := newPlatform(t)
	ctx := t.Context()
	payer(t, p, "acme", "720000000041", 2)
	payer(t, p, "globex", "720000000042", 2)
	payer(t, p, "acme", "720000000043", 2)
	off := false
	if _, err := p.Services.Accounts.Update(ctx, "acme", "720000000043", []string{"*"}, accounts.Patch{CostSync: &off}); err != nil {
		t.Fatal(err)
	}
	client := sqs.NewFromConfig(p.AWS)
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testkit.UniqueName("costsync"))})
	if err != nil {
		t.Fatal(err)
	}
	p.Services.CostSync.Queue = costsync.SQSQueue{Client: client, URL: aws.ToString(q.QueueUrl)}
	n, err := p.Services.CostSync.ScheduleAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var records []events.SQSMessage
	for len(records) < n {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10})
		if err != nil || len(out.Messages) == 0 {
			t.Fatalf("receive: %v (%d of %d)", err, len(records), n)
		}
		for _, m := range out.Messages {
			records = append(records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), Body: aws.ToString(m.Body)})
		}
	}
	var got []string
	for _, r := range records {
		var ref costsync.PayerRef
		_ = json.Unmarshal([]byte(r.Body), &ref)
		if strings.HasPrefix(ref.AccountID, "7200000000") {
			got = append(got, ref.TenantID+"/"+ref.AccountID)
		}
	}
	sort.Strings(got)
	if want := []string{"acme/720000000041", "globex/720000000042"}; !slices.Equal(got, want) {
		t.Errorf("scheduled %v, want %v (cost sync off and linked accounts excluded)", got, want)
	}
	resp, err := p.Services.CostSync.HandleSQS(ctx, events.SQSEvent{Records: records})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("worker: %+v %v", resp, err)
	}
	if st, _ := p.Services.CostSync.Store.Status(ctx, "globex", "720000000042"); st.Status != costsync.StatusOK || st.Count == 0 {
		t.Errorf("globex's payer after the worker: %+v", st)
	}
}

// BenchmarkSync: one payer with 1,000 linked accounts; reports Cost Explorer requests and DynamoDB writes per sync,
// for a first (changed) sync and an unchanged one.
func BenchmarkSync(b *testing.B) {
	p := testkit.NewPlatform(b)
	payer(b, p, "acme", "720000000051", 1000)
	for _, tc := range []struct {
		name    string
		changed bool
	}{{"changed", true}, {"unchanged", false}} {
		b.Run(tc.name, func(b *testing.B) {
			var ce, writes, recs int
			for b.Loop() {
				if tc.changed {
					// Forget the content hash, so the sync writes a whole new generation as it does when data changed.
					if err := p.Services.CostSync.Store.SaveStatus(context.Background(), "acme", mustStatus(b, p), costsync.SyncStatus{PayerAccountID: "720000000051", Status: "ok"}); err != nil {
						b.Fatal(err)
					}
				}
				p.Calls.Reset()
				st, err := p.Services.CostSync.SyncPayer(context.Background(), "acme", "720000000051")
				if err != nil {
					b.Fatal(err)
				}
				ce += st.Calls
				recs = st.Count
				writes += int(p.Calls.Calls("DynamoDB", "BatchWriteItem") + p.Calls.Calls("DynamoDB", "PutItem"))
			}
			b.ReportMetric(float64(ce)/float64(b.N), "ce-calls/sync")
			b.ReportMetric(float64(writes)/float64(b.N), "ddb-writes/sync")
			b.ReportMetric(float64(recs), "recommendations")
			b.ReportMetric(float64(ce)/float64(b.N)*0.01, "USD/sync")
		})
	}
}

func mustStatus(b *testing.B, p *testkit.Platform) costsync.SyncStatus {
	st, err := p.Services.CostSync.Store.Status(context.Background(), "acme", "720000000051")
	if err != nil {
		b.Fatal(err)
	}
	return st
}
