package localaws_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/gangplank/gangplank/pkg/testkit"
)

type flakyError struct{}

func (flakyError) Error() string { return "not yet" }

// TestStepFunctionsRunGoTasks: moto's interpreter runs an ASL definition whose Lambda tasks are Go handlers on the
// edge, several executions in a row (moto's pickle bug fixed), with Map, Retry on a Go error type, and outputs.
func TestStepFunctionsRunGoTasks(t *testing.T) {
	env := testkit.LocalAWS(t)
	name := testkit.UniqueName("double")
	calls := 0
	env.RegisterLambda(name, 10*time.Second, func(ctx context.Context, payload json.RawMessage) (any, error) {
		var in struct{ N int }
		_ = json.Unmarshal(payload, &in)
		calls++
		if in.N == 3 && calls%2 == 1 {
			return nil, flakyError{}
		}
		return map[string]int{"n": in.N * 2}, nil
	})
	def, _ := json.Marshal(map[string]any{"StartAt": "Each", "States": map[string]any{"Each": map[string]any{
		"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "End": true,
		"ItemProcessor": map[string]any{"StartAt": "Double", "States": map[string]any{"Double": map[string]any{
			"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
			"Parameters":     map[string]any{"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:" + name, "Payload.$": "$"},
			"ResultSelector": map[string]any{"n.$": "$.Payload.n"},
			"Retry":          []any{map[string]any{"ErrorEquals": []string{"flakyError"}, "IntervalSeconds": 1, "MaxAttempts": 2}},
			"End":            true,
		}}},
	}}})
	client := sfn.NewFromConfig(testkit.AWSConfig(t, nil))
	ctx := t.Context()
	sm, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(string(def)),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/sfn")})
	if err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		exec, err := client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn,
			Input: aws.String(`{"items":[{"N":1},{"N":2},{"N":3}]}`)})
		if err != nil {
			t.Fatalf("execution %d: %v", run, err)
		}
		var out *sfn.DescribeExecutionOutput
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if out, err = client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: exec.ExecutionArn}); err != nil {
				t.Fatal(err)
			}
			if out.Status != types.ExecutionStatusRunning {
				break
			}
		}
		var got []map[string]int
		if out.Status != types.ExecutionStatusSucceeded || json.Unmarshal([]byte(aws.ToString(out.Output)), &got) != nil || len(got) != 3 || got[2]["n"] != 6 {
			t.Errorf("execution %d: %s %s", run, out.Status, aws.ToString(out.Output))
		}
	}
}
