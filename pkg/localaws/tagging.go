package localaws

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
)

// accountEdge plays the parts of AWS that belong to a customer account rather than to one service, and the faults
// tests inject into the Tagging API:
//   - the account's enabled regions: EC2 DescribeRegions lists the regions enabled by default plus those opted in
//     (EnableRegion), minus those disabled (DisableRegion); a call signed for a disabled region is refused as AWS
//     refuses it (the credentials are unknown there);
//   - a log of every call each account's principals make (Calls), so that a test can prove what was, and was not,
//     written;
//   - Tagging API faults: throttling (SetTaggingFault) and resources that refuse TagResources/UntagResources
//     (RefuseTagging), reported in FailedResourcesMap as AWS reports a service's refusal.
type accountEdge struct {
	env *Env

	mu       sync.Mutex
	enabled  map[string]map[string]bool // account → opt-in region → enabled (default regions are enabled unless false)
	calls    map[string]map[string]int  // account → "service:Action" → count
	roles    map[string]map[string]int  // the same, of role sessions only
	faults   map[string]*ceFault        // account|region|operation
	refusals map[string]string          // ARN → AWS error code
}

func newAccountEdge(e *Env) *accountEdge {
	return &accountEdge{env: e, enabled: map[string]map[string]bool{}, calls: map[string]map[string]int{}, roles: map[string]map[string]int{},
		faults: map[string]*ceFault{}, refusals: map[string]string{}}
}

// DefaultRegions are the regions every AWS account has enabled; the others must be opted in.
var DefaultRegions = []string{
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ca-central-1",
	"eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// OptInRegions must be enabled before use.
var OptInRegions = []string{"af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "eu-central-2", "eu-south-1", "eu-south-2", "me-central-1", "me-south-1"}

// DisableRegion makes region unusable in account (a default region disabled, or an opt-in region opted out).
func (e *Env) DisableRegion(account, region string) { e.acct.setRegion(account, region, false) }

// EnableRegion opts account into region.
func (e *Env) EnableRegion(account, region string) { e.acct.setRegion(account, region, true) }

func (a *accountEdge) setRegion(account, region string, on bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.enabled[account] == nil {
		a.enabled[account] = map[string]bool{}
	}
	a.enabled[account][region] = on
}

func (a *accountEdge) regionEnabled(account, region string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if on, set := a.enabled[account][region]; set {
		return on
	}
	return slices.Contains(DefaultRegions, region)
}

// EnabledRegions lists the regions enabled in account.
func (e *Env) EnabledRegions(account string) []string {
	var out []string
	for _, r := range append(append([]string{}, DefaultRegions...), OptInRegions...) {
		if e.acct.regionEnabled(account, r) {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// Calls returns how often the principals of account called each operation ("tag:TagResources", "ec2:CreateTags",
// "resource-explorer-2:ListResources"), since the last ResetCalls.
func (e *Env) Calls(account string) map[string]int {
	e.acct.mu.Lock()
	defer e.acct.mu.Unlock()
	out := map[string]int{}
	for k, v := range e.acct.calls[account] {
		out[k] = v
	}
	return out
}

// RoleCalls is Calls of the role sessions in account only: what a platform did through the roles it assumed there,
// apart from the customer's own calls.
func (e *Env) RoleCalls(account string) map[string]int {
	e.acct.mu.Lock()
	defer e.acct.mu.Unlock()
	out := map[string]int{}
	for k, v := range e.acct.roles[account] {
		out[k] = v
	}
	return out
}

// ResetCalls forgets account's calls.
func (e *Env) ResetCalls(account string) {
	e.acct.mu.Lock()
	defer e.acct.mu.Unlock()
	delete(e.acct.calls, account)
	delete(e.acct.roles, account)
}

func (a *accountEdge) record(account, op string, session bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	add := func(m map[string]map[string]int) {
		if m[account] == nil {
			m[account] = map[string]int{}
		}
		m[account][op]++
	}
	add(a.calls)
	if session {
		add(a.roles)
	}
}

// SetTaggingFault makes the Tagging API's operation (or "*") fail for account in region ("*" for any) with code,
// times times (negative: until cleared with an empty code). ThrottlingException answers 400 as AWS does.
func (e *Env) SetTaggingFault(account, region, operation, code string, times int) {
	e.acct.mu.Lock()
	defer e.acct.mu.Unlock()
	k := account + "|" + region + "|" + operation
	if code == "" {
		delete(e.acct.faults, k)
		return
	}
	e.acct.faults[k] = &ceFault{code: code, times: times}
}

// RefuseTagging makes TagResources and UntagResources fail for one resource with code (AWS reports the resource's
// own service's refusal in FailedResourcesMap); an empty code clears it.
func (e *Env) RefuseTagging(arn, code string) {
	e.acct.mu.Lock()
	defer e.acct.mu.Unlock()
	if code == "" {
		delete(e.acct.refusals, arn)
		return
	}
	e.acct.refusals[arn] = code
}

// iamPrefix maps signing names to IAM's service prefixes where they differ.
var iamPrefix = map[string]string{"tagging": "tag", "monitoring": "cloudwatch", "email": "ses"}

// operationName is "prefix:Operation": the X-Amz-Target or Action of JSON and query calls, the path of
// REST-JSON ones (Resource Explorer's POST /ListResources), the method and subresource of S3's.
func operationName(c *Call) string {
	prefix := c.Service
	if p, ok := iamPrefix[prefix]; ok {
		prefix = p
	}
	op := c.Action
	if op == "" {
		op = strings.Trim(c.Request.URL.Path, "/")
		if c.Service == "s3" {
			op = c.Request.Method
			if _, ok := c.Request.URL.Query()["tagging"]; ok {
				op += "Tagging"
			}
		}
	}
	return prefix + ":" + op
}

func (a *accountEdge) Intercept(w http.ResponseWriter, c *Call) bool {
	if c.Service == "" || c.Service == "dynamodb" {
		return false
	}
	p, _ := a.env.resolvePrincipal(c)
	account := p.account
	if account == "" || account == PlatformAccountID {
		return false // the platform's own calls (its tables, queues, topics) are not a customer's
	}
	region := callRegion(c)
	a.record(account, operationName(c), p.kind == kindSession)
	if region != "" && c.Service != "iam" && c.Service != "sts" && c.Service != "organizations" && c.Service != "s3" && !a.regionEnabled(account, region) {
		refuseDisabledRegion(w, c)
		return true
	}
	switch {
	case c.Is("ec2", "DescribeRegions"):
		a.describeRegions(w, account)
		return true
	case c.Service == "tagging":
		return a.tagging(w, c, account, region)
	}
	return false
}

// refuseDisabledRegion answers as AWS does a call to a region the account has not enabled: its credentials are not
// known there.
func refuseDisabledRegion(w http.ResponseWriter, c *Call) {
	msg := "The security token included in the request is invalid."
	switch {
	case c.Request.Header.Get("X-Amz-Target") != "":
		WriteJSONError(w, http.StatusBadRequest, "UnrecognizedClientException", msg)
	case c.Service == "ec2":
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = fmt.Fprintf(w, `<Response><Errors><Error><Code>AuthFailure</Code><Message>AWS was not able to validate the provided access credentials</Message></Error></Errors><RequestID>0</RequestID></Response>`)
	case c.Action != "":
		WriteQueryError(w, http.StatusForbidden, "InvalidClientTokenId", msg)
	default:
		writeREError(w, http.StatusForbidden, "UnrecognizedClientException", msg)
	}
}

func (a *accountEdge) describeRegions(w http.ResponseWriter, account string) {
	var b strings.Builder
	b.WriteString(`<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>0</requestId><regionInfo>`)
	for _, r := range a.env.EnabledRegions(account) {
		status := "opt-in-not-required"
		if !slices.Contains(DefaultRegions, r) {
			status = "opted-in"
		}
		fmt.Fprintf(&b, `<item><regionName>%s</regionName><regionEndpoint>ec2.%s.amazonaws.com</regionEndpoint><optInStatus>%s</optInStatus></item>`, r, r, status)
	}
	b.WriteString(`</regionInfo></DescribeRegionsResponse>`)
	w.Header().Set("Content-Type", "text/xml")
	_, _ = io.WriteString(w, b.String())
}

// tagging injects faults and refusals into the Tagging API; everything else is moto's (with the launcher's fixes).
func (a *accountEdge) tagging(w http.ResponseWriter, c *Call, account, region string) bool {
	a.mu.Lock()
	for _, k := range []string{account + "|" + region + "|" + c.Action, account + "|*|" + c.Action, account + "|" + region + "|*", account + "|*|*"} {
		if f := a.faults[k]; f != nil && f.times != 0 {
			if f.times > 0 {
				f.times--
			}
			a.mu.Unlock()
			msg := "Rate exceeded"
			if f.code != "ThrottlingException" {
				msg = "User is not authorized to perform: tag:" + c.Action
			}
			WriteJSONError(w, http.StatusBadRequest, f.code, msg)
			return true
		}
	}
	refusals := len(a.refusals) > 0
	a.mu.Unlock()
	if (c.Action != "TagResources" && c.Action != "UntagResources") || !refusals {
		return false
	}
	var in map[string]any
	if err := c.DecodeJSON(&in); err != nil {
		return false
	}
	list, _ := in["ResourceARNList"].([]any)
	failed := map[string]any{}
	var rest []any
	a.mu.Lock()
	for _, v := range list {
		arn, _ := v.(string)
		if code, ok := a.refusals[arn]; ok {
			failed[arn] = map[string]any{"StatusCode": 400, "ErrorCode": code,
				"ErrorMessage": fmt.Sprintf("The resource %s refused the tag change (%s)", arn, code)}
			continue
		}
		rest = append(rest, v)
	}
	a.mu.Unlock()
	if len(failed) == 0 {
		return false
	}
	out := map[string]any{"FailedResourcesMap": failed}
	if len(rest) > 0 {
		in["ResourceARNList"] = rest
		body, _ := json.Marshal(in)
		resp, err := a.env.motoRoundTrip(c, body)
		if err != nil {
			WriteJSONError(w, http.StatusInternalServerError, "InternalServiceException", err.Error())
			return true
		}
		var got map[string]any
		_ = json.Unmarshal(resp, &got)
		if m, ok := got["FailedResourcesMap"].(map[string]any); ok {
			for k, v := range m {
				failed[k] = v
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
	return true
}

// motoRoundTrip sends the call to moto with another body and returns moto's answer.
func (e *Env) motoRoundTrip(c *Call, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(c.Request.Context(), c.Request.Method, e.MotoEndpoint+c.Request.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = c.Request.Header.Clone()
	req.Header.Set("x-moto-account-id", e.callerAccount(c))
	req.ContentLength = int64(len(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("moto answered %s: %s", resp.Status, out)
	}
	return out, err
}

// Seed is a batch of resources SeedResources creates in one account and region.
type Seed struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	// Type is one of sns:topic, sqs:queue, logs:log-group, ec2:volume, s3:bucket.
	Type   string `json:"type"`
	Prefix string `json:"prefix"`
	Start  int    `json:"start"`
	Count  int    `json:"count"`
	// Tags are set on every resource ("{i}" in a value becomes the resource's number); Cycle picks each key's value
	// by the resource's number.
	Tags  map[string]string   `json:"tags,omitempty"`
	Cycle map[string][]string `json:"cycle,omitempty"`
}

// SeedResources creates many tagged resources at once inside moto (for scale tests and the local demo: one API
// call per resource would take minutes), returning their ARNs.
func (e *Env) SeedResources(ctx context.Context, s Seed) ([]string, error) {
	body, _ := json.Marshal(s)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.MotoEndpoint+"/moto-api/gangplank/seed-resources", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("seed %d %s in %s/%s: %s %s", s.Count, s.Type, s.Account, s.Region, resp.Status, out)
	}
	var res struct{ ARNs []string }
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, err
	}
	return res.ARNs, nil
}
