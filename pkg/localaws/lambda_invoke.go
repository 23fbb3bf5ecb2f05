package localaws

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// LambdaHandler is a Go Lambda function's handler over raw JSON.
type LambdaHandler func(ctx context.Context, payload json.RawMessage) (any, error)

// lambdas are the functions the edge runs in-process for Lambda Invoke, which moto cannot do without Docker:
// moto's Step Functions interpreter calls Lambda through the edge (MOTO_PORT), and the Go handler answers.
type lambdas struct {
	mu       sync.RWMutex
	handlers map[string]LambdaHandler
	timeout  map[string]time.Duration
}

// RegisterLambda makes Invoke of name (or of any ARN ending in :function:name) run h in-process, with timeout as
// the function's timeout.
func (e *Env) RegisterLambda(name string, timeout time.Duration, h LambdaHandler) {
	e.lambdas.mu.Lock()
	defer e.lambdas.mu.Unlock()
	if e.lambdas.handlers == nil {
		e.lambdas.handlers, e.lambdas.timeout = map[string]LambdaHandler{}, map[string]time.Duration{}
	}
	e.lambdas.handlers[name], e.lambdas.timeout[name] = h, timeout
}

// invoke answers POST /2015-03-31/functions/{name}/invocations as Lambda does: the result as the body, and a
// function error as 200 with X-Amz-Function-Error: Unhandled and {errorMessage, errorType}, which Step Functions
// turns into a task failure whose Error is errorType (so Retry and Catch can match Go error types).
//
// The functions are the platform's: only the platform account's own credentials may invoke them (a customer's user
// or session would need a resource policy no function here has).
func (e *Env) invoke(w http.ResponseWriter, r *http.Request) {
	_, key, _ := parseAuthorization(r.Header.Get("Authorization"))
	p, ok := e.resolveKey(key, r.Header.Get(accountHeaderName))
	if !ok {
		WriteJSONError(w, http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	}
	if p.account != PlatformAccountID || p.enforced() {
		WriteJSONError(w, http.StatusForbidden, "AccessDeniedException", fmt.Sprintf(
			"User: %s is not authorized to perform: lambda:InvokeFunction on resource: %s because no resource-based policy allows the lambda:InvokeFunction action", p.arn, r.PathValue("name")))
		return
	}
	name := r.PathValue("name")
	if i := strings.LastIndex(name, ":function:"); i >= 0 {
		name = name[i+len(":function:"):]
	}
	e.lambdas.mu.RLock()
	h, timeout := e.lambdas.handlers[name], e.lambdas.timeout[name]
	e.lambdas.mu.RUnlock()
	if h == nil {
		WriteJSONError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
		return
	}
	payload, _ := io.ReadAll(io.LimitReader(r.Body, 6<<20))
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if timeout == 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: fmt.Sprint(time.Now().UnixNano()),
		InvokedFunctionArn: fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", Region, PlatformAccountID, name)})
	e.invocations.start()
	out, err := func() (out any, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		return h(ctx, json.RawMessage(payload))
	}()
	e.invocations.done(nil)
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		_ = json.NewEncoder(w).Encode(map[string]string{"errorMessage": err.Error(), "errorType": errorType(err)})
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

// errorType is the name Lambda gives a Go error: its type's name, or a named error's own Type method.
func errorType(err error) string {
	if t, ok := err.(interface{ ErrorType() string }); ok {
		return t.ErrorType()
	}
	name := fmt.Sprintf("%T", err)
	if i := strings.LastIndex(name, "."); i >= 0 {
		name = name[i+1:]
	}
	return strings.TrimPrefix(name, "*")
}

// enableStepFunctions switches moto's Step Functions to executing state machines (before any is created: moto
// changes backends) and serves Lambda Invoke on the edge.
func (e *Env) enableStepFunctions(ctx context.Context) error {
	e.Handle("POST /2015-03-31/functions/{name}/invocations", http.HandlerFunc(e.invoke))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.MotoEndpoint+"/moto-api/config",
		strings.NewReader(`{"stepfunctions": {"execute_state_machine": true}}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("moto config: %s", resp.Status)
	}
	return nil
}
