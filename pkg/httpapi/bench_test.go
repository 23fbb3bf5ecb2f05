package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// seedAccounts links n standalone accounts to tenant through the service (one transaction each).
func seedAccounts(tb testing.TB, p *testkit.Platform, tenant string, n int) {
	tb.Helper()
	for i := 0; i < n; i++ {
		if _, err := p.Services.Accounts.Create(tb.Context(), tenant, accounts.CreateInput{
			Name: fmt.Sprintf("Account %04d", i), AccountID: fmt.Sprintf("5%011d", i), Type: "standalone", Region: "us-east-1",
		}); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestListIsOneQueryPerPage: a page costs exactly one DynamoDB Query and no other request, whatever its size.
func TestListIsOneQueryPerPage(t *testing.T) {
	p := testkit.NewPlatform(t)
	seedAccounts(t, p, "acme", 120)
	tok := p.Token(t, "acme", auth.Viewer)
	p.Do(t, testkit.Request{Method: http.MethodGet, Path: "/v1/tenant", Token: tok}) // the tenant's first request
	p.Calls.Reset()
	pages, cursor := 0, ""
	for {
		path := "/v1/accounts?limit=50"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var page accounts.Page
		p.Do(t, testkit.Request{Method: http.MethodGet, Path: path, Token: tok}).JSON(t, &page)
		pages++
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if pages != 3 {
		t.Fatalf("%d pages for 120 accounts at 50 a page", pages)
	}
	if q, all := p.Calls.Calls("DynamoDB", "Query"), p.Calls.ServiceCalls("DynamoDB"); q != 3 || all != 3 {
		t.Errorf("3 pages cost %d Queries and %d DynamoDB requests in all (%v); want 3 and 3", q, all, p.Calls.Snapshot())
	}
}

// BenchmarkListAccounts: GET /v1/accounts through the handler against moto, over a tenant with 1,000 accounts,
// walking the pages (100 a page) in a loop. Reports DynamoDB requests per API call besides time and allocations.
func BenchmarkListAccounts(b *testing.B) {
	p := testkit.NewPlatform(b)
	seedAccounts(b, p, "acme", 1000)
	tok := p.Token(b, "acme", auth.Viewer)
	p.Do(b, testkit.Request{Method: http.MethodGet, Path: "/v1/tenant", Token: tok})
	p.Calls.Reset()
	cursor, items := "", 0
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		path := "/v1/accounts?limit=100"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		resp := testkit.Serve(b, p.API, testkit.Request{Method: http.MethodGet, Path: path, Token: tok, NoCheck: true})
		var page accounts.Page
		resp.JSON(b, &page)
		items += len(page.Items)
		cursor = page.NextCursor
	}
	b.StopTimer()
	elapsed, inDynamo := time.Since(start), p.Calls.Spent("DynamoDB")
	// moto answers in Python (about 1.2 ms per item returned); the handler's own time is what Lambda bills us for
	// beyond DynamoDB's latency.
	b.ReportMetric(float64((elapsed-inDynamo).Microseconds())/float64(b.N), "handler-µs/call")
	b.ReportMetric(float64(inDynamo.Milliseconds())/float64(b.N), "dynamodb-ms/call")
	b.ReportMetric(float64(p.Calls.ServiceCalls("DynamoDB"))/float64(b.N), "ddb-requests/call")
	b.ReportMetric(float64(p.Calls.Calls("DynamoDB", "Query"))/float64(b.N), "queries/call")
	b.ReportMetric(float64(items)/float64(b.N), "items/call")
}
