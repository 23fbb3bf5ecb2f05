package identity_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gangplank/gangplank/pkg/identity"
)

// benchUsers is the account size of the scale benchmark (GANGPLANK_BENCH_IAM_USERS, default 5,000; groups are one
// per 25 users, 200 by default).
func benchUsers() int {
	if n, err := strconv.Atoi(os.Getenv("GANGPLANK_BENCH_IAM_USERS")); err == nil && n > 0 {
		return n
	}
	return 5000
}

// BenchmarkScaleIdentitySync: an account of 5,000 IAM users in 200 groups (each user in one group, with a console
// password and an access key for every tenth), synced through the role. It reports the AWS requests of a sync
// against the lower bound (1,000 entities a GetAccountAuthorizationDetails page, the credential report's two
// calls, the virtual MFA devices' page), the DynamoDB requests of the first sync (which writes every user) and of
// a steady sync (which writes nothing), and the wall time of each.
func BenchmarkScaleIdentitySync(b *testing.B) {
	w := newWorld(b)
	const acct = "540000000001"
	users, groups := benchUsers(), max(1, benchUsers()/25)
	fill(b, w, acct, users, groups)
	w.connectRole(b, acct, "read", "") // the role's verification runs the first sync
	in, err := w.Services.Identity.Get(b.Context(), "acme", acct)
	if err != nil || in.Status != identity.Active {
		b.Fatalf("after the first sync: %+v %v", in, err)
	}
	b.ResetTimer()
	var run identity.SyncRun
	var dynamo int64
	for b.Loop() {
		b.StopTimer()
		if err := w.Services.Identity.Store.DeleteAccountData(b.Context(), "acme", acct); err != nil {
			b.Fatal(err)
		}
		w.Calls.Reset()
		b.StartTimer()
		in, err := w.Services.Identity.Sync(b.Context(), "acme", acct)
		if err != nil {
			b.Fatal(err)
		}
		run, dynamo = *in.LastSync, w.Calls.ServiceCalls("DynamoDB")
	}
	b.StopTimer()
	if run.Users != users || run.Groups != groups || run.Written != users+groups {
		b.Fatalf("sync = %+v", run)
	}
	// A steady sync: every user is stored already, and unchanged.
	w.Calls.Reset()
	start := time.Now()
	steadyIn, err := w.Services.Identity.Sync(b.Context(), "acme", acct)
	if err != nil {
		b.Fatal(err)
	}
	steady, steadyDynamo := time.Since(start), w.Calls.ServiceCalls("DynamoDB")
	b.ReportMetric(float64(users), "users")
	b.ReportMetric(float64(groups), "groups")
	b.ReportMetric(float64(run.CallsTotal), "aws-calls/sync")
	b.ReportMetric(float64(run.LowerBound), "lower-bound")
	b.ReportMetric(float64(run.CallsTotal)/float64(run.LowerBound), "ratio")
	b.ReportMetric(float64(dynamo), "dynamodb-requests/full-sync")
	b.ReportMetric(float64(steadyDynamo), "dynamodb-requests/steady-sync")
	b.ReportMetric(float64(steady.Milliseconds()), "ms/steady-sync")
	b.ReportMetric(float64(steadyIn.LastSync.Written), "written/steady-sync")
	b.Logf("calls by operation: %v", run.Calls)
}

// fill creates users and groups in the account directly in moto (bypassing the edge: this is the customer's
// setup, not what is measured), eight at a time.
func fill(b *testing.B, w *world, acct string, users, groups int) {
	b.Helper()
	c := w.env.AccountIAM(acct)
	ctx := b.Context()
	for g := range groups {
		if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(fmt.Sprintf("team-%03d", g))}); err != nil {
			b.Fatal(err)
		}
	}
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := makeUser(ctx, c, i, groups); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range users {
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}

func makeUser(ctx context.Context, c *iam.Client, i, groups int) error {
	name := aws.String(fmt.Sprintf("user-%05d", i))
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: name}); err != nil {
		return err
	}
	if _, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: name, GroupName: aws.String(fmt.Sprintf("team-%03d", i%groups))}); err != nil {
		return err
	}
	if _, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: name, Password: aws.String("Bench-Passw0rd!")}); err != nil {
		return err
	}
	if i%10 == 0 {
		if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: name}); err != nil {
			return err
		}
	}
	return nil
}
