package localaws

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/gangplank/gangplank/pkg/awsid"
)

// cfnEmulator gives moto's CloudFormation what it lacks for Gangplank: custom resources whose ServiceToken is an SNS
// topic, and stack notifications. A stack with such resources is created in moto without them; the emulator then
// runs them as CloudFormation does: it publishes the request to the topic, waits for the answer on the
// ResponseURL (a route of the edge) until the resource's ServiceTimeout, completes or rolls back the stack (a
// rollback sends Delete), and publishes every stack event to the stack's NotificationARNs. DescribeStacks and
// DescribeStackEvents of these stacks are answered from its own record, so callers see the real lifecycle.
type cfnEmulator struct {
	env *Env

	mu       sync.Mutex
	stacks   map[string]*emulatedStack // by stack id
	byName   map[string]string         // account/region/name → latest stack id
	requests map[string]*pendingRequest
	order    []string // request ids, in the order they were sent
	// timeoutCap shortens every ServiceTimeout (tests cannot wait five minutes for a lost answer).
	timeoutCap time.Duration
}

type emulatedStack struct {
	ID, Name, Account, Region string
	Template                  template // as the customer sent it, long form
	Parameters                map[string]string
	NotificationARNs          []string
	Custom                    []customResource
	placeholders              map[string][]string
	deferredOutputs           map[string]any

	Status, Reason string
	Created        time.Time
	Outputs        map[string]string
	Events         []StackEvent
	// Properties and physical ids of the custom resources that exist (created and not deleted).
	live map[string]liveResource
}

type liveResource struct {
	Physical   string
	Properties map[string]any
	Data       map[string]string
}

// StackEvent is a stack event as DescribeStackEvents shows it and notifications carry it.
type StackEvent struct {
	EventID, StackID, StackName, LogicalResourceID, PhysicalResourceID string
	ResourceType, ResourceStatus, ResourceStatusReason                 string
	Timestamp                                                          time.Time
}

// CustomResourceRequest is what CloudFormation sends a custom resource.
type CustomResourceRequest struct {
	RequestType           string         `json:"RequestType"`
	ServiceToken          string         `json:"ServiceToken"`
	ResponseURL           string         `json:"ResponseURL"`
	StackID               string         `json:"StackId"`
	RequestID             string         `json:"RequestId"`
	LogicalResourceID     string         `json:"LogicalResourceId"`
	ResourceType          string         `json:"ResourceType"`
	PhysicalResourceID    string         `json:"PhysicalResourceId,omitempty"`
	ResourceProperties    map[string]any `json:"ResourceProperties"`
	OldResourceProperties map[string]any `json:"OldResourceProperties,omitempty"`
}

// CustomResourceResponse is an answer received on a ResponseURL, with what CloudFormation made of it.
type CustomResourceResponse struct {
	Request CustomResourceRequest
	// Body is the body as received; Status..Data its fields.
	Body               []byte
	Status             string            `json:"Status"`
	Reason             string            `json:"Reason"`
	PhysicalResourceID string            `json:"PhysicalResourceId"`
	StackID            string            `json:"StackId"`
	RequestID          string            `json:"RequestId"`
	LogicalResourceID  string            `json:"LogicalResourceId"`
	NoEcho             bool              `json:"NoEcho"`
	Data               map[string]string `json:"Data"`
	// Invalid is why CloudFormation would reject the answer ("" if valid).
	Invalid string `json:"-"`
}

type pendingRequest struct {
	req CustomResourceRequest
	// signature is the presigned ResponseURL's; S3 refuses a PUT without it.
	signature string
	answered  chan struct{}
	once      sync.Once
	responses []CustomResourceResponse
}

func newCFNEmulator(e *Env) *cfnEmulator {
	c := &cfnEmulator{env: e, stacks: map[string]*emulatedStack{}, byName: map[string]string{}, requests: map[string]*pendingRequest{}}
	// CloudFormation's response bucket of each region, path-style on the edge as S3 serves it (the cloud's URLs are
	// virtual-hosted: https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/<key>?<signature>).
	for _, region := range awsid.Regions() {
		e.Handle("PUT /"+ResponseBucket(region)+"/{key...}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.respond(w, r, region)
		}))
	}
	return c
}

// ResponseBucket is CloudFormation's custom resource response bucket of a region.
func ResponseBucket(region string) string {
	return "cloudformation-custom-resource-response-" + strings.ReplaceAll(region, "-", "")
}

// snsInvalidTopic is SNS's refusal of a topic outside the caller's region, as CloudFormation reports it.
func snsInvalidTopic() string {
	return fmt.Sprintf("Invalid parameter: TopicArn (Service: AmazonSNS; Status Code: 400; Error Code: InvalidParameter; Request ID: %s; Proxy: null)", newUUID())
}

// SetCustomResourceTimeoutCap caps every custom resource's ServiceTimeout (0: no cap) and returns a function
// restoring the previous cap.
func (e *Env) SetCustomResourceTimeoutCap(d time.Duration) (restore func()) {
	e.cfn.mu.Lock()
	defer e.cfn.mu.Unlock()
	prev := e.cfn.timeoutCap
	e.cfn.timeoutCap = d
	return func() {
		e.cfn.mu.Lock()
		defer e.cfn.mu.Unlock()
		e.cfn.timeoutCap = prev
	}
}

// CustomResourceResponses returns every answer received for a stack's custom resources, in the order of the
// requests (and, for one request, of arrival).
func (e *Env) CustomResourceResponses(stackID string) []CustomResourceResponse {
	e.cfn.mu.Lock()
	defer e.cfn.mu.Unlock()
	var out []CustomResourceResponse
	for _, id := range e.cfn.order {
		if p := e.cfn.requests[id]; p.req.StackID == stackID {
			out = append(out, p.responses...)
		}
	}
	return out
}

// CustomResourceRequests returns the requests sent for a stack's custom resources.
func (e *Env) CustomResourceRequests(stackID string) []CustomResourceRequest {
	e.cfn.mu.Lock()
	defer e.cfn.mu.Unlock()
	var out []CustomResourceRequest
	for _, id := range e.cfn.order {
		if p := e.cfn.requests[id]; p.req.StackID == stackID {
			out = append(out, p.req)
		}
	}
	return out
}

func (c *cfnEmulator) Intercept(w http.ResponseWriter, call *Call) bool {
	if call.Service != "cloudformation" {
		return false
	}
	switch call.Action {
	case "CreateStack":
		return c.createStack(w, call)
	case "UpdateStack":
		return c.updateStack(w, call)
	case "DeleteStack":
		return c.deleteStack(w, call)
	case "DescribeStacks":
		return c.describeStacks(w, call)
	case "DescribeStackEvents":
		return c.describeStackEvents(w, call)
	}
	return false
}

// --- CreateStack ---

func (c *cfnEmulator) createStack(w http.ResponseWriter, call *Call) bool {
	ctx := call.Request.Context()
	body, err := c.templateBody(ctx, call)
	if err != nil {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", err.Error())
		return true
	}
	tpl, err := parseTemplate(body)
	if err != nil {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", err.Error())
		return true
	}
	motoTpl, custom, placeholders, deferred := splitCustomResources(tpl)
	if len(custom) == 0 && len(formList(call, "NotificationARNs.member")) == 0 {
		return false // moto serves it alone.
	}
	account, region := c.env.callerAccount(call), requestRegion(call.Request)
	for _, topic := range formList(call, "NotificationARNs.member") {
		// CloudFormation publishes stack events with SNS in the stack's region, which refuses a topic of another.
		if topicRegion, _, ok := topicParts(topic); !ok || topicRegion != region {
			WriteQueryError(w, http.StatusBadRequest, "ValidationError", snsInvalidTopic())
			return true
		}
	}
	s := &emulatedStack{
		Name: call.Form("StackName"), Account: account, Region: region, Template: tpl,
		Parameters: formParameters(call, nil), NotificationARNs: formList(call, "NotificationARNs.member"),
		Custom: custom, placeholders: placeholders, deferredOutputs: deferred,
		Created: time.Now().UTC(), Status: "CREATE_IN_PROGRESS", live: map[string]liveResource{},
	}
	status, respBody, err := c.forward(ctx, call, motoTpl, "NotificationARNs.member")
	if err != nil {
		WriteQueryError(w, http.StatusServiceUnavailable, "ServiceUnavailable", err.Error())
		return true
	}
	if status != http.StatusOK {
		code, msg := queryErrorCode(respBody)
		if code == "" {
			code, msg = "InternalFailure", fmt.Sprintf("moto answered %d: %.300s", status, respBody)
		}
		if code == "ValidationError" || code == "AlreadyExistsException" || code == "InsufficientCapabilitiesException" {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(status)
			_, _ = w.Write(respBody)
			return true
		}
		// moto failed a resource synchronously (a role name already taken...): CloudFormation accepts the stack
		// and fails that resource, then rolls back, without ever running the custom resource.
		s.ID = fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/%s", region, account, s.Name, newUUID())
		c.register(s)
		c.env.background(func() { c.failBeforeCustom(s, code, msg) })
		writeXML(w, createStackResponse{StackID: s.ID})
		return true
	}
	var out createStackResponse
	_ = xml.Unmarshal(respBody, &out)
	s.ID = out.StackID
	c.register(s)
	c.env.background(func() { c.runCreate(s) })
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(respBody)
	return true
}

func (c *cfnEmulator) register(s *emulatedStack) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stacks[s.ID] = s
	c.byName[s.Account+"/"+s.Region+"/"+s.Name] = s.ID
}

func (c *cfnEmulator) failBeforeCustom(s *emulatedStack, code, msg string) {
	c.event(s, s.Name, "AWS::CloudFormation::Stack", s.ID, "CREATE_IN_PROGRESS", "User Initiated")
	logical, typ := firstResource(s.Template, s.Custom)
	c.event(s, logical, typ, "", "CREATE_IN_PROGRESS", "")
	c.event(s, logical, typ, "", "CREATE_FAILED", fmt.Sprintf("Resource handler returned message: %q (HandlerErrorCode: %s)", msg, code))
	c.finish(s, "ROLLBACK_IN_PROGRESS", fmt.Sprintf("The following resource(s) failed to create: [%s]. Rollback requested by user.", logical))
	c.event(s, logical, typ, "", "DELETE_COMPLETE", "")
	c.finish(s, "ROLLBACK_COMPLETE", "")
}

func (c *cfnEmulator) runCreate(s *emulatedStack) {
	ctx := context.Background()
	c.event(s, s.Name, "AWS::CloudFormation::Stack", s.ID, "CREATE_IN_PROGRESS", "User Initiated")
	outputs, err := c.motoOutputs(ctx, s)
	if err != nil {
		c.finish(s, "ROLLBACK_COMPLETE", "Local CloudFormation could not read the stack from moto: "+err.Error())
		return
	}
	c.setOutputs(s, outputs)
	for _, cr := range s.Custom {
		props, ok := resolveProperties(cr, s.placeholders, outputs)
		if !ok {
			continue
		}
		c.event(s, cr.Logical, cr.Type, "", "CREATE_IN_PROGRESS", "")
		resp, failure := c.invoke(ctx, s, cr, "Create", props, nil, "")
		if failure != "" {
			c.event(s, cr.Logical, cr.Type, resp.PhysicalResourceID, "CREATE_FAILED", failure)
			c.rollbackCreate(ctx, s, cr, resp, props)
			return
		}
		c.mu.Lock()
		s.live[cr.Logical] = liveResource{Physical: resp.PhysicalResourceID, Properties: props, Data: resp.Data}
		c.mu.Unlock()
		c.event(s, cr.Logical, cr.Type, resp.PhysicalResourceID, "CREATE_COMPLETE", "")
	}
	c.resolveDeferredOutputs(s)
	c.finish(s, "CREATE_COMPLETE", "")
}

// rollbackCreate deletes what was created: CloudFormation sends Delete to the failed custom resource too (with the
// physical id it answered, or a generated one), then deletes the rest.
func (c *cfnEmulator) rollbackCreate(ctx context.Context, s *emulatedStack, failed customResource, resp CustomResourceResponse, props map[string]any) {
	c.finish(s, "ROLLBACK_IN_PROGRESS", fmt.Sprintf("The following resource(s) failed to create: [%s]. Rollback requested by user.", failed.Logical))
	physical := resp.PhysicalResourceID
	if physical == "" {
		physical = s.Name + "-" + failed.Logical + "-" + newUUID()[:12]
	}
	c.event(s, failed.Logical, failed.Type, physical, "DELETE_IN_PROGRESS", "")
	c.invoke(ctx, s, failed, "Delete", props, nil, physical)
	c.event(s, failed.Logical, failed.Type, physical, "DELETE_COMPLETE", "")
	c.deleteLive(ctx, s)
	if err := c.motoDelete(ctx, s); err != nil {
		c.finish(s, "ROLLBACK_FAILED", err.Error())
		return
	}
	c.finish(s, "ROLLBACK_COMPLETE", "")
}

// deleteLive sends Delete to every custom resource that exists.
func (c *cfnEmulator) deleteLive(ctx context.Context, s *emulatedStack) (failure string) {
	for i := len(s.Custom) - 1; i >= 0; i-- {
		cr := s.Custom[i]
		c.mu.Lock()
		live, ok := s.live[cr.Logical]
		c.mu.Unlock()
		if !ok {
			continue
		}
		c.event(s, cr.Logical, cr.Type, live.Physical, "DELETE_IN_PROGRESS", "")
		_, f := c.invoke(ctx, s, cr, "Delete", live.Properties, nil, live.Physical)
		if f != "" {
			c.event(s, cr.Logical, cr.Type, live.Physical, "DELETE_FAILED", f)
			failure = f
			continue
		}
		c.mu.Lock()
		delete(s.live, cr.Logical)
		c.mu.Unlock()
		c.event(s, cr.Logical, cr.Type, live.Physical, "DELETE_COMPLETE", "")
	}
	return failure
}

// invoke publishes one request to the custom resource's topic and waits for its answer. It returns the answer and,
// if the resource failed, CloudFormation's reason.
func (c *cfnEmulator) invoke(ctx context.Context, s *emulatedStack, cr customResource, requestType string, props, old map[string]any, physical string) (CustomResourceResponse, string) {
	token, _ := props["ServiceToken"].(string)
	timeout := time.Hour
	if t, err := strconv.Atoi(fmt.Sprint(props["ServiceTimeout"])); err == nil && t > 0 {
		timeout = time.Duration(t) * time.Second
	}
	c.mu.Lock()
	if c.timeoutCap > 0 && timeout > c.timeoutCap {
		timeout = c.timeoutCap
	}
	c.mu.Unlock()
	if topicRegion, _, ok := topicParts(token); ok && topicRegion != s.Region {
		// AWS requires the ServiceToken in the stack's own region: SNS refuses the publish, and the resource fails
		// without its request ever reaching the topic.
		return CustomResourceResponse{}, snsInvalidTopic()
	}
	id := newUUID()
	signature := newUUID()
	// The key is CloudFormation's: <stack id>|<logical id>|<request id>, URL-encoded, presigned.
	key := url.PathEscape(s.ID + "|" + cr.Logical + "|" + id)
	req := CustomResourceRequest{
		RequestType: requestType, ServiceToken: token,
		ResponseURL: c.env.Endpoint + "/" + ResponseBucket(s.Region) + "/" + key + "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=7200&X-Amz-Signature=" + signature,
		StackID:     s.ID, RequestID: id, LogicalResourceID: cr.Logical, ResourceType: cr.Type,
		PhysicalResourceID: physical, ResourceProperties: props, OldResourceProperties: old,
	}
	p := &pendingRequest{req: req, signature: signature, answered: make(chan struct{})}
	c.mu.Lock()
	c.requests[id] = p
	c.order = append(c.order, id)
	c.mu.Unlock()

	if err := c.publish(ctx, token, "", mustJSON(req)); err != nil {
		return CustomResourceResponse{}, fmt.Sprintf("Could not deliver the request to the custom resource's ServiceToken %s: %v", token, err)
	}
	select {
	case <-p.answered:
	case <-time.After(timeout):
		return CustomResourceResponse{}, fmt.Sprintf("CloudFormation did not receive a response from your Custom Resource. "+
			"Please check your logs for requestId [%s].", id)
	}
	c.mu.Lock()
	resp := p.responses[0]
	c.mu.Unlock()
	switch {
	case resp.Invalid != "":
		return resp, resp.Invalid
	case resp.Status == "FAILED":
		return resp, fmt.Sprintf("Received response status [FAILED] from custom resource. Message returned: %s (RequestId: %s)", resp.Reason, id)
	}
	return resp, ""
}

// respond is the ResponseURL, an object of the region's response bucket: S3 accepts a PUT with the URL's presigned
// signature (and refuses anything else, as it refuses an unsigned or expired URL); CloudFormation then reads the
// first answer and judges it.
func (c *cfnEmulator) respond(w http.ResponseWriter, r *http.Request, region string) {
	key, _ := url.PathUnescape(r.PathValue("key"))
	id := key[strings.LastIndexByte(key, '|')+1:]
	c.mu.Lock()
	p, ok := c.requests[id]
	c.mu.Unlock()
	if !ok || r.URL.Query().Get("X-Amz-Signature") != p.signature || ResponseBucket(regionOf(p.req.StackID)) != ResponseBucket(region) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	resp := CustomResourceResponse{Request: p.req, Body: body}
	switch err := json.Unmarshal(body, &resp); {
	case len(body) > 4096:
		resp.Invalid = "Response object is too long."
	case err != nil:
		resp.Invalid = "Invalid response object: " + err.Error()
	case resp.Status != "SUCCESS" && resp.Status != "FAILED":
		resp.Invalid = fmt.Sprintf("Invalid response object: Status %q is not SUCCESS or FAILED", resp.Status)
	case resp.StackID != p.req.StackID || resp.RequestID != p.req.RequestID || resp.LogicalResourceID != p.req.LogicalResourceID:
		resp.Invalid = "Invalid response object: StackId, RequestId or LogicalResourceId does not match the request"
	case resp.PhysicalResourceID == "":
		resp.Invalid = "Invalid PhysicalResourceId"
	case p.req.RequestType != "Create" && resp.PhysicalResourceID != p.req.PhysicalResourceID && p.req.RequestType == "Delete":
		resp.Invalid = "Invalid PhysicalResourceId: a Delete must answer with the resource's PhysicalResourceId"
	}
	c.mu.Lock()
	p.responses = append(p.responses, resp)
	c.mu.Unlock()
	p.once.Do(func() { close(p.answered) })
	w.WriteHeader(http.StatusOK)
}

// --- UpdateStack ---

func (c *cfnEmulator) updateStack(w http.ResponseWriter, call *Call) bool {
	s := c.lookup(call, call.Form("StackName"))
	if s == nil {
		return false
	}
	ctx := call.Request.Context()
	c.mu.Lock()
	status := s.Status
	c.mu.Unlock()
	if strings.HasSuffix(status, "_IN_PROGRESS") || status == "ROLLBACK_COMPLETE" || strings.HasPrefix(status, "DELETE") {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("Stack:%s is in %s state and can not be updated.", s.ID, status))
		return true
	}
	tpl := s.Template
	if call.Form("UsePreviousTemplate") != "true" {
		body, err := c.templateBody(ctx, call)
		if err != nil {
			WriteQueryError(w, http.StatusBadRequest, "ValidationError", err.Error())
			return true
		}
		if tpl, err = parseTemplate(body); err != nil {
			WriteQueryError(w, http.StatusBadRequest, "ValidationError", err.Error())
			return true
		}
	}
	motoTpl, custom, placeholders, deferred := splitCustomResources(tpl)
	params := formParameters(call, s.Parameters)
	form := url.Values{"Action": {"UpdateStack"}, "Version": {"2010-05-15"}, "StackName": {s.ID}, "TemplateBody": {string(mustJSON(motoTpl))}}
	i := 1
	for k, v := range params {
		form.Set(fmt.Sprintf("Parameters.member.%d.ParameterKey", i), k)
		form.Set(fmt.Sprintf("Parameters.member.%d.ParameterValue", i), v)
		i++
	}
	for n, capability := range formList(call, "Capabilities.member") {
		form.Set(fmt.Sprintf("Capabilities.member.%d", n+1), capability)
	}
	code, body, err := c.motoCall(ctx, call.Request.Header, form)
	if err != nil || code != http.StatusOK {
		if errCode, msg := queryErrorCode(body); errCode != "ValidationError" || !strings.Contains(msg, "No updates") {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(code)
			_, _ = w.Write(body)
			return true
		}
	}
	c.mu.Lock()
	oldParams, oldCustom := s.Parameters, s.Custom
	s.Template, s.Parameters, s.Custom, s.placeholders, s.deferredOutputs = tpl, params, custom, placeholders, deferred
	s.Status, s.Reason = "UPDATE_IN_PROGRESS", ""
	c.mu.Unlock()
	c.env.background(func() { c.runUpdate(s, oldParams, oldCustom) })
	writeXML(w, updateStackResponse{StackID: s.ID})
	return true
}

func (c *cfnEmulator) runUpdate(s *emulatedStack, _ map[string]string, _ []customResource) {
	ctx := context.Background()
	c.event(s, s.Name, "AWS::CloudFormation::Stack", s.ID, "UPDATE_IN_PROGRESS", "User Initiated")
	outputs, err := c.motoOutputs(ctx, s)
	if err != nil {
		c.finish(s, "UPDATE_ROLLBACK_COMPLETE", err.Error())
		return
	}
	c.setOutputs(s, outputs)
	for _, cr := range s.Custom {
		props, ok := resolveProperties(cr, s.placeholders, outputs)
		if !ok {
			continue
		}
		c.mu.Lock()
		live, exists := s.live[cr.Logical]
		c.mu.Unlock()
		if exists && string(mustJSON(live.Properties)) == string(mustJSON(props)) {
			continue // unchanged: CloudFormation does not call the resource.
		}
		requestType, old, physical := "Create", map[string]any(nil), ""
		if exists {
			requestType, old, physical = "Update", live.Properties, live.Physical
		}
		c.event(s, cr.Logical, cr.Type, physical, "UPDATE_IN_PROGRESS", "")
		resp, failure := c.invoke(ctx, s, cr, requestType, props, old, physical)
		if failure != "" {
			c.event(s, cr.Logical, cr.Type, physical, "UPDATE_FAILED", failure)
			c.finish(s, "UPDATE_ROLLBACK_IN_PROGRESS", fmt.Sprintf("The following resource(s) failed to update: [%s].", cr.Logical))
			if exists { // CloudFormation rolls the resource back with an Update to its old properties.
				c.invoke(ctx, s, cr, "Update", live.Properties, props, physical)
			}
			c.finish(s, "UPDATE_ROLLBACK_COMPLETE", "")
			return
		}
		c.mu.Lock()
		s.live[cr.Logical] = liveResource{Physical: resp.PhysicalResourceID, Properties: props, Data: resp.Data}
		c.mu.Unlock()
		c.event(s, cr.Logical, cr.Type, resp.PhysicalResourceID, "UPDATE_COMPLETE", "")
	}
	c.resolveDeferredOutputs(s)
	c.finish(s, "UPDATE_COMPLETE", "")
}

// --- DeleteStack ---

func (c *cfnEmulator) deleteStack(w http.ResponseWriter, call *Call) bool {
	s := c.lookup(call, call.Form("StackName"))
	if s == nil {
		return false
	}
	c.mu.Lock()
	status := s.Status
	if status != "DELETE_COMPLETE" && status != "DELETE_IN_PROGRESS" {
		s.Status = "DELETE_IN_PROGRESS"
	}
	c.mu.Unlock()
	if status != "DELETE_COMPLETE" && status != "DELETE_IN_PROGRESS" {
		c.env.background(func() { c.runDelete(s) })
	}
	writeXML(w, deleteStackResponse{})
	return true
}

func (c *cfnEmulator) runDelete(s *emulatedStack) {
	ctx := context.Background()
	c.event(s, s.Name, "AWS::CloudFormation::Stack", s.ID, "DELETE_IN_PROGRESS", "User Initiated")
	if failure := c.deleteLive(ctx, s); failure != "" {
		c.finish(s, "DELETE_FAILED", "The following resource(s) failed to delete: "+failure)
		return
	}
	if err := c.motoDelete(ctx, s); err != nil {
		c.finish(s, "DELETE_FAILED", err.Error())
		return
	}
	c.finish(s, "DELETE_COMPLETE", "")
}

// --- Describe ---

func (c *cfnEmulator) describeStacks(w http.ResponseWriter, call *Call) bool {
	s := c.lookup(call, call.Form("StackName"))
	if s == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.Status == "DELETE_COMPLETE" && !strings.HasPrefix(call.Form("StackName"), "arn:") {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("Stack with id %s does not exist", call.Form("StackName")))
		return true
	}
	m := stackMember{StackID: s.ID, StackName: s.Name, StackStatus: s.Status, StackStatusReason: s.Reason,
		CreationTime: s.Created.Format(time.RFC3339Nano)}
	for _, k := range sortedKeysOf(s.Parameters) {
		m.Parameters = append(m.Parameters, parameterMember{Key: k, Value: s.Parameters[k]})
	}
	for _, k := range sortedKeysOf(s.Outputs) {
		m.Outputs = append(m.Outputs, outputMember{Key: k, Value: s.Outputs[k]})
	}
	m.NotificationARNs = s.NotificationARNs
	writeXML(w, describeStacksResponse{Stacks: []stackMember{m}})
	return true
}

func (c *cfnEmulator) describeStackEvents(w http.ResponseWriter, call *Call) bool {
	s := c.lookup(call, call.Form("StackName"))
	if s == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out describeStackEventsResponse
	for i := len(s.Events) - 1; i >= 0; i-- { // newest first
		e := s.Events[i]
		out.Events = append(out.Events, eventMember{EventID: e.EventID, StackID: e.StackID, StackName: e.StackName,
			LogicalResourceID: e.LogicalResourceID, PhysicalResourceID: e.PhysicalResourceID, ResourceType: e.ResourceType,
			ResourceStatus: e.ResourceStatus, ResourceStatusReason: e.ResourceStatusReason, Timestamp: e.Timestamp.Format(time.RFC3339Nano)})
	}
	writeXML(w, out)
	return true
}

// lookup finds an emulated stack by id, or by name in the caller's account and region.
func (c *cfnEmulator) lookup(call *Call, nameOrID string) *emulatedStack {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.stacks[nameOrID]; ok {
		return s
	}
	id, ok := c.byName[c.env.callerAccount(call)+"/"+requestRegion(call.Request)+"/"+nameOrID]
	if !ok {
		return nil
	}
	return c.stacks[id]
}

// --- events and notifications ---

func (c *cfnEmulator) finish(s *emulatedStack, status, reason string) {
	c.mu.Lock()
	s.Status, s.Reason = status, reason
	c.mu.Unlock()
	c.event(s, s.Name, "AWS::CloudFormation::Stack", s.ID, status, reason)
}

// event records a stack event and publishes it to the stack's NotificationARNs, in CloudFormation's format.
func (c *cfnEmulator) event(s *emulatedStack, logical, typ, physical, status, reason string) {
	now := time.Now().UTC()
	e := StackEvent{EventID: newUUID(), StackID: s.ID, StackName: s.Name, LogicalResourceID: logical, PhysicalResourceID: physical,
		ResourceType: typ, ResourceStatus: status, ResourceStatusReason: reason, Timestamp: now}
	c.mu.Lock()
	s.Events = append(s.Events, e)
	c.mu.Unlock()
	if len(s.NotificationARNs) == 0 {
		return
	}
	quote := func(v string) string { return strings.ReplaceAll(v, "'", `\'`) }
	msg := fmt.Sprintf("StackId='%s'\nTimestamp='%s'\nEventId='%s'\nLogicalResourceId='%s'\nNamespace='%s'\nPhysicalResourceId='%s'\n"+
		"PrincipalId='AROALOCAL:cloudformation'\nResourceProperties='null'\nResourceStatus='%s'\nResourceStatusReason='%s'\n"+
		"ResourceType='%s'\nStackName='%s'\nClientRequestToken='null'\n",
		s.ID, now.Format("2006-01-02T15:04:05.000Z"), e.EventID, quote(logical), s.Account, quote(physical), status, quote(reason), typ, quote(s.Name))
	for _, topic := range s.NotificationARNs {
		if err := c.publish(context.Background(), topic, "AWS CloudFormation Notification", []byte(msg)); err != nil {
			slog.Warn("local CloudFormation could not publish a stack notification", "topic", topic, "error", err.Error())
		}
	}
}

// publish sends a message as CloudFormation does: to a topic of the stack's region, through the edge (so tests can
// drop or delay deliveries with an interceptor).
func (c *cfnEmulator) publish(ctx context.Context, topicARN, subject string, message []byte) error {
	region, account, ok := topicParts(topicARN)
	if !ok {
		return fmt.Errorf("%q is not an SNS topic ARN", topicARN)
	}
	in := &sns.PublishInput{TopicArn: aws.String(topicARN), Message: aws.String(string(message))}
	if subject != "" {
		in.Subject = aws.String(subject)
	}
	_, err := sns.NewFromConfig(c.env.AccountConfig(account), func(o *sns.Options) { o.Region = region }).Publish(ctx, in)
	return err
}

// --- moto ---

// forward sends the call to moto with the template replaced (and the given list parameters removed).
func (c *cfnEmulator) forward(ctx context.Context, call *Call, tpl template, drop ...string) (int, []byte, error) {
	form, _ := url.ParseQuery(string(call.Body))
	form.Del("TemplateURL")
	form.Set("TemplateBody", string(mustJSON(tpl)))
	for k := range form {
		for _, d := range drop {
			if strings.HasPrefix(k, d+".") {
				form.Del(k)
			}
		}
	}
	return c.motoCall(ctx, call.Request.Header, form)
}

func (c *cfnEmulator) motoCall(ctx context.Context, header http.Header, form url.Values) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.env.MotoEndpoint+"/", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header = header.Clone()
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Del("Content-Length")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

func (c *cfnEmulator) motoClient(s *emulatedStack) *cloudformation.Client {
	return cloudformation.New(cloudformation.Options{
		Region: s.Region, BaseEndpoint: aws.String(c.env.MotoEndpoint), Credentials: staticCredentials,
		HTTPClient: &http.Client{Transport: accountHeader{s.Account}}, RetryMaxAttempts: 1,
	})
}

func (c *cfnEmulator) motoOutputs(ctx context.Context, s *emulatedStack) (map[string]string, error) {
	out, err := c.motoClient(s).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(s.ID)})
	if err != nil {
		return nil, err
	}
	values := map[string]string{}
	for _, st := range out.Stacks {
		for _, o := range st.Outputs {
			values[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
		}
	}
	return values, nil
}

func (c *cfnEmulator) motoDelete(ctx context.Context, s *emulatedStack) error {
	_, err := c.motoClient(s).DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String(s.ID)})
	return err
}

// setOutputs keeps the template's own outputs (not the emulator's placeholders).
func (c *cfnEmulator) setOutputs(s *emulatedStack, moto map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s.Outputs = map[string]string{}
	for k, v := range moto {
		if !strings.HasPrefix(k, "GangplankLocalCustomProperty") {
			s.Outputs[k] = v
		}
	}
}

// resolveDeferredOutputs fills outputs that read a custom resource: Ref (its physical id) and GetAtt (its Data).
func (c *cfnEmulator) resolveDeferredOutputs(s *emulatedStack) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range s.deferredOutputs {
		o, _ := v.(map[string]any)
		switch val := o["Value"].(type) {
		case map[string]any:
			if ref, ok := val["Ref"].(string); ok {
				s.Outputs[k] = s.live[ref].Physical
			}
			if ga, ok := val["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
				s.Outputs[k] = s.live[fmt.Sprint(ga[0])].Data[fmt.Sprint(ga[1])]
			}
		}
	}
}

// templateBody is the call's TemplateBody, or the object its TemplateURL names, read from the local S3.
func (c *cfnEmulator) templateBody(ctx context.Context, call *Call) ([]byte, error) {
	if b := call.Form("TemplateBody"); b != "" {
		return []byte(b), nil
	}
	raw := call.Form("TemplateURL")
	if raw == "" {
		return nil, fmt.Errorf("Either Template URL or Template Body must be specified.")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("TemplateURL must be a supported URL.")
	}
	path := u.Path
	if host := u.Hostname(); strings.Contains(host, ".s3.") || strings.HasSuffix(host, ".s3.amazonaws.com") {
		path = "/" + host[:strings.Index(host, ".s3")] + u.Path // virtual-hosted style → path style
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	// CloudFormation reads the object with its own access (the bucket policy lets it); locally, as the platform.
	out, err := s3.New(s3.Options{Region: Region, BaseEndpoint: aws.String(c.env.MotoEndpoint), Credentials: staticCredentials,
		UsePathStyle: true, RetryMaxAttempts: 1}).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("S3 error: Access Denied (TemplateURL %s: %v)", raw, err)
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// --- helpers ---

// background runs f as work the local AWS is doing on its own (WaitIdle waits for it).
func (e *Env) background(f func()) {
	e.invocations.start()
	go func() {
		defer e.invocations.done(nil)
		f()
	}()
}

func formParameters(call *Call, previous map[string]string) map[string]string {
	params := map[string]string{}
	for i := 1; ; i++ {
		key := call.Form(fmt.Sprintf("Parameters.member.%d.ParameterKey", i))
		if key == "" {
			return params
		}
		if call.Form(fmt.Sprintf("Parameters.member.%d.UsePreviousValue", i)) == "true" {
			params[key] = previous[key]
			continue
		}
		params[key] = call.Form(fmt.Sprintf("Parameters.member.%d.ParameterValue", i))
	}
}

func formList(call *Call, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v := call.Form(fmt.Sprintf("%s.%d", prefix, i))
		if v == "" {
			return out
		}
		out = append(out, v)
	}
}

// requestRegion reads the region from the SigV4 credential scope.
func requestRegion(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if i := strings.Index(h, "Credential="); i >= 0 {
		scope := strings.Split(strings.SplitN(h[i+len("Credential="):], ",", 2)[0], "/")
		if len(scope) >= 3 {
			return scope[2]
		}
	}
	return Region
}

// regionOf reads the region of an ARN.
func regionOf(arn string) string {
	if p := strings.Split(arn, ":"); len(p) > 3 {
		return p[3]
	}
	return ""
}

func firstResource(t template, custom []customResource) (string, string) {
	resources, _ := t["Resources"].(map[string]any)
	isCustom := map[string]bool{}
	for _, c := range custom {
		isCustom[c.Logical] = true
	}
	names := sortedKeysOf(resources)
	for _, n := range names {
		if !isCustom[n] {
			typ, _ := resources[n].(map[string]any)["Type"].(string)
			return n, typ
		}
	}
	return "Stack", "AWS::CloudFormation::Stack"
}

func queryErrorCode(body []byte) (code, message string) {
	var e struct {
		Code    string `xml:"Error>Code"`
		Message string `xml:"Error>Message"`
	}
	_ = xml.Unmarshal(body, &e)
	return e.Code, e.Message
}

func sortedKeysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func writeXML(w http.ResponseWriter, v any) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	_ = xml.NewEncoder(&b).Encode(v)
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(b.Bytes())
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type createStackResponse struct {
	XMLName  xml.Name         `xml:"CreateStackResponse"`
	StackID  string           `xml:"CreateStackResult>StackId"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type updateStackResponse struct {
	XMLName  xml.Name         `xml:"UpdateStackResponse"`
	StackID  string           `xml:"UpdateStackResult>StackId"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type deleteStackResponse struct {
	XMLName  xml.Name         `xml:"DeleteStackResponse"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type parameterMember struct {
	Key   string `xml:"ParameterKey"`
	Value string `xml:"ParameterValue"`
}

type outputMember struct {
	Key   string `xml:"OutputKey"`
	Value string `xml:"OutputValue"`
}

type stackMember struct {
	StackID           string            `xml:"StackId"`
	StackName         string            `xml:"StackName"`
	StackStatus       string            `xml:"StackStatus"`
	StackStatusReason string            `xml:"StackStatusReason,omitempty"`
	CreationTime      string            `xml:"CreationTime"`
	Parameters        []parameterMember `xml:"Parameters>member"`
	Outputs           []outputMember    `xml:"Outputs>member"`
	NotificationARNs  []string          `xml:"NotificationARNs>member"`
}

type describeStacksResponse struct {
	XMLName  xml.Name         `xml:"DescribeStacksResponse"`
	Stacks   []stackMember    `xml:"DescribeStacksResult>Stacks>member"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type eventMember struct {
	EventID              string `xml:"EventId"`
	StackID              string `xml:"StackId"`
	StackName            string `xml:"StackName"`
	LogicalResourceID    string `xml:"LogicalResourceId"`
	PhysicalResourceID   string `xml:"PhysicalResourceId"`
	ResourceType         string `xml:"ResourceType"`
	ResourceStatus       string `xml:"ResourceStatus"`
	ResourceStatusReason string `xml:"ResourceStatusReason,omitempty"`
	Timestamp            string `xml:"Timestamp"`
}

type describeStackEventsResponse struct {
	XMLName  xml.Name         `xml:"DescribeStackEventsResponse"`
	Events   []eventMember    `xml:"DescribeStackEventsResult>StackEvents>member"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}
