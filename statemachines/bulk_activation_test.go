package statemachines_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/statemachines"
)

type state struct {
	Type          string         `json:"Type"`
	Resource      string         `json:"Resource"`
	Retry         []rule         `json:"Retry"`
	Catch         []rule         `json:"Catch"`
	ItemProcessor *stateMachine  `json:"ItemProcessor"`
	Parameters    map[string]any `json:"Parameters"`
}

type rule struct {
	ErrorEquals []string `json:"ErrorEquals"`
	Next        string   `json:"Next"`
}

type stateMachine struct {
	States map[string]state `json:"States"`
}

var lambdaServiceErrors = []string{"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"}

// TestEveryTaskHasACatchPath: no task of the bulk-activation workflow can fail the execution and leave the
// activation running: every Task state (and the Map) catches States.ALL; every task of the activation function
// retries Lambda's service errors, and the error names it matches are the Go types the task returns.
func TestEveryTaskHasACatchPath(t *testing.T) {
	var sm stateMachine
	if err := json.Unmarshal([]byte(statemachines.BulkActivation), &sm); err != nil {
		t.Fatal(err)
	}
	goTypes := map[string]bool{}
	for _, e := range []any{activation.RetryLaterError{}, activation.TaskError{}, activation.ManagementAccessError{}} {
		goTypes[reflect.TypeOf(e).Name()] = true
	}
	matched := map[string]bool{}
	var walk func(prefix string, m stateMachine)
	walk = func(prefix string, m stateMachine) {
		for name, s := range m.States {
			if s.ItemProcessor != nil {
				walk(prefix+name+"/", *s.ItemProcessor)
			}
			if s.Type != "Task" && s.Type != "Map" {
				continue
			}
			catchesAll := slices.ContainsFunc(s.Catch, func(r rule) bool { return slices.Contains(r.ErrorEquals, "States.ALL") })
			if !catchesAll {
				t.Errorf("%s%s catches no States.ALL: a failure there would fail the execution", prefix, name)
			}
			if s.Type == "Task" && s.Parameters["FunctionName"] == "${ActivationFunctionArn}" {
				var retried []string
				for _, r := range s.Retry {
					retried = append(retried, r.ErrorEquals...)
				}
				for _, e := range lambdaServiceErrors {
					if !slices.Contains(retried, e) {
						t.Errorf("%s%s does not retry %s", prefix, name, e)
					}
				}
				for _, e := range retried {
					if len(e) > 7 && e[:7] == "Lambda." {
						continue
					}
					if !goTypes[e] {
						t.Errorf("%s%s retries %q, which is no error type the task returns", prefix, name, e)
					}
					matched[e] = true
				}
			}
		}
	}
	walk("", sm)
	for e := range goTypes {
		if e != "ManagementAccessError" && !matched[e] { // ManagementAccessError is never retried: Catch takes it
			t.Errorf("the workflow never matches %s", e)
		}
	}
}
