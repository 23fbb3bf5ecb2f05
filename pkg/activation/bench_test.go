package activation_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// BenchmarkScaleActivation: one bulk activation of an organization's member accounts (GANGPLANK_BENCH_ACTIVATIONS,
// default 1,000) through the local Step Functions, CloudFormation and callback; reports wall time, Step Functions
// history events and AWS calls per account.
func BenchmarkScaleActivation(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("GANGPLANK_BENCH_ACTIVATIONS")); err == nil && v > 0 {
		n = v
	}
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		p := testkit.NewPlatform(b)
		p.Services.Activation.Deadline = 10 * time.Minute // production's: a batch of 50 stacks takes a while here
		mgmt := "75100000000" + strconv.Itoa(i%10)
		members := testkit.NewOrganization(b, mgmt, n)
		ctx := context.Background()
		p.ConnectManagement(b, "acme", mgmt)
		p.Calls.Reset()
		b.StartTimer()
		start := time.Now()
		id, err := p.Services.Activation.Start(ctx, "acme", mgmt, "", activation.Request{All: true})
		if err != nil {
			b.Fatal(err)
		}
		var pr activation.Progress
		for {
			if pr, _, err = p.Services.Activation.Get(ctx, "acme", id, 0, 1); err != nil {
				b.Fatal(err)
			}
			if pr.Status != activation.Running {
				break
			}
			time.Sleep(time.Second)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		if pr.Succeeded != len(members) {
			b.Fatalf("progress: %d succeeded, %d failed of %d", pr.Succeeded, pr.Failed, pr.Total)
		}
		events := 0
		hist := sfn.NewGetExecutionHistoryPaginator(sfn.NewFromConfig(p.AWS), &sfn.GetExecutionHistoryInput{
			ExecutionArn: aws.String(strings.Replace(p.Config.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + id)})
		for hist.HasMorePages() {
			page, err := hist.NextPage(ctx)
			if err != nil {
				b.Fatalf("history: %v", err)
			}
			events += len(page.Events)
		}
		b.ReportMetric(elapsed.Seconds()/float64(n)*1000, "ms/account")
		b.ReportMetric(float64(p.Calls.ServiceCalls("STS"))/float64(n), "sts-calls/account")
		b.ReportMetric(float64(p.Calls.ServiceCalls("CloudFormation"))/float64(n), "cfn-calls/account")
		b.ReportMetric(float64(p.Calls.ServiceCalls("DynamoDB"))/float64(n), "ddb-requests/account")
		b.ReportMetric(float64(events), "history-events")
		b.ReportMetric(float64(events)/float64(n), "events/account")
		b.StartTimer()
	}
	b.ReportMetric(float64(n), "accounts")
}
