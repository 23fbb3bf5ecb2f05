package stack_test

import (
	"strings"
	"testing"
)

// TestWorkflowWritesOnlyWhatItRecords: the bulk-activation workflow's role may do one thing in DynamoDB,
// UpdateItem on the accounts table (RecordBreakdown, when the task function cannot finish an activation), and
// nothing else; it may invoke the activation function.
func TestWorkflowWritesOnlyWhatItRecords(t *testing.T) {
	s := synth(t)
	var roleID string
	for id, r := range s.main.resources("AWS::IAM::Role") {
		if strings.Contains(js(r["AssumeRolePolicyDocument"]), "states.") {
			roleID = id
		}
	}
	if roleID == "" {
		t.Fatal("no role for the state machine")
	}
	var dynamo, invoke []string
	for _, p := range s.main.resources("AWS::IAM::Policy") {
		if !strings.Contains(js(p["Roles"]), roleID) {
			continue
		}
		for _, st := range asList(p["PolicyDocument"].(map[string]any)["Statement"]) {
			stmt := st.(map[string]any)
			actions := js(stmt["Action"])
			switch {
			case strings.Contains(actions, "dynamodb:"):
				dynamo = append(dynamo, actions+" on "+js(stmt["Resource"]))
			case strings.Contains(actions, "lambda:InvokeFunction"):
				invoke = append(invoke, js(stmt["Resource"]))
			}
		}
	}
	if len(dynamo) != 1 || !strings.HasPrefix(dynamo[0], `"dynamodb:UpdateItem" on `) || !strings.Contains(dynamo[0], "TableAccounts") {
		t.Errorf("the workflow's DynamoDB permissions: %v; want UpdateItem on the accounts table only", dynamo)
	}
	if len(invoke) == 0 || !strings.Contains(strings.Join(invoke, " "), "Fnactivation") {
		t.Errorf("the workflow may invoke %v", invoke)
	}
}
