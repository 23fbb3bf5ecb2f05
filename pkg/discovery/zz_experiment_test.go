package discovery_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestZZExperiment(t *testing.T) {
	p := testkit.NewPlatform(t)
	p.AddManagement(t, "acme", "739000000001")
	start := time.Now()
	for i := range 3000 {
		_, err := p.Services.Accounts.Create(t.Context(), "acme", accounts.CreateInput{Name: fmt.Sprintf("acct-%05d", i), AccountID: fmt.Sprintf("7391%08d", i), Type: "linked", Region: "us-east-1", ManagementAccountID: "739000000001",
			Discovered: &accounts.Membership{Name: "x", Email: "e@example.com", Status: "ACTIVE", ParentID: "r-abcd", Path: "Root/L1-1/L2-2/L3-3", AncestorIDs: "r-abcd/ou-abcd-12345678/ou-abcd-12345678"}})
		if err != nil {
			t.Fatal(err)
		}
		if i%500 == 499 {
			t.Logf("%d created in %s", i+1, time.Since(start))
			q := time.Now()
			n := 0
			lq := accounts.ListQuery{ManagementAccountID: "739000000001", Limit: 100}
			pages := 0
			for {
				page, err := p.Services.Accounts.List(t.Context(), "acme", lq)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				n += len(page.Items)
				if lq.Cursor = page.NextCursor; lq.Cursor == "" {
					break
				}
			}
			t.Logf("listed %d in %d pages in %s", n, pages, time.Since(q))
		}
	}
}
