package tenants_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gangplank/gangplank/pkg/cursor"
	"github.com/gangplank/gangplank/pkg/store"
	"github.com/gangplank/gangplank/pkg/tenants"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// TestFirstRequestsRace: several Lambda instances serving a tenant's first requests at once create it exactly
// once, and all of them hand out the same External ID.
func TestFirstRequestsRace(t *testing.T) {
	cfg := testkit.AWSConfig(t, nil)
	signer, _ := cursor.NewSigner(make([]byte, 32))
	db := store.DB{Client: dynamodb.NewFromConfig(cfg), Tables: testkit.Tables(t, cfg), Cursors: signer}
	const instances = 5
	ids := make([]string, instances)
	var wg sync.WaitGroup
	for i := 0; i < instances; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := tenants.NewService(store.Tenants{DB: db}, time.Now) // each with its own cache, as separate instances
			tn, err := s.Get(context.Background(), "acme")
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = tn.ExternalID
		}()
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("instances disagree on the External ID: %v", ids)
		}
	}
	trail, err := store.AuditLog{DB: db}.List(context.Background(), "acme", 10, "")
	if err != nil || len(trail.Items) != 1 {
		t.Errorf("audit has %d entries (%v); want one tenant.created", len(trail.Items), err)
	}
}

func TestExternalID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := tenants.NewExternalID()
		if len(id) != 35 || seen[id] {
			t.Fatalf("External ID %q (length %d, repeated %v)", id, len(id), seen[id])
		}
		seen[id] = true
	}
}
