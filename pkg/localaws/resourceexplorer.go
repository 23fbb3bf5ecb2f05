package localaws

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
)

// resourceExplorer answers AWS Resource Explorer (moto 5.2.1 has none) over the resources moto holds: per account,
// indexes in regions (one of them the aggregator), views with a filter and included properties, a default view per
// region, and ListResources over a view (the aggregator's region lists every indexed region, a local index its own),
// paginated with NextToken. Quick Setup's CreateResourceExplorerSetup turns all of it on at once. The resources are
// read from moto's Tagging API, so only the types it covers (and, as in AWS's Tagging API, tagged ones) appear.
// Faults (AccessDeniedException, ThrottlingException...) are injected per account and operation with
// SetResourceExplorerFault.
type resourceExplorer struct {
	env *Env

	mu        sync.Mutex
	accounts  map[string]*reAccount
	faults    map[string]*ceFault // account + "|" + operation ("*" for any)
	snapshots map[string]*reSnapshot
}

type reAccount struct {
	indexes  map[string]*reIndex // by region
	views    map[string]*reView  // by ARN
	defaults map[string]string   // region → view ARN
}

type reIndex struct {
	ARN, Region, Type string
	Created           time.Time
}

type reView struct {
	ARN, Region, Filter, Scope string
	Properties                 []string
	Updated                    time.Time
}

// reSnapshot is a listing in progress: AWS's NextToken resumes it.
type reSnapshot struct {
	resources []map[string]any
	expires   time.Time
}

func newResourceExplorer(e *Env) *resourceExplorer {
	return &resourceExplorer{env: e, accounts: map[string]*reAccount{}, faults: map[string]*ceFault{}, snapshots: map[string]*reSnapshot{}}
}

// SetResourceExplorerFault makes Resource Explorer's operation (or every operation, with "*") fail for account with
// code, times times (negative: until cleared with an empty code).
func (e *Env) SetResourceExplorerFault(account, operation, code string, times int) {
	x := e.re
	x.mu.Lock()
	defer x.mu.Unlock()
	k := account + "|" + operation
	if code == "" {
		delete(x.faults, k)
		return
	}
	x.faults[k] = &ceFault{code: code, times: times}
}

// ResourceExplorerSetup turns Resource Explorer on in an account as Quick Setup does: a local index in each region,
// the aggregator index in aggregator, and a default view there listing every resource with its tags (withTags).
func (e *Env) ResourceExplorerSetup(account string, regions []string, aggregator string, withTags bool) string {
	x := e.re
	x.mu.Lock()
	defer x.mu.Unlock()
	acct := x.account(account)
	for _, r := range append(append([]string{}, regions...), aggregator) {
		if acct.indexes[r] == nil {
			acct.indexes[r] = &reIndex{ARN: fmt.Sprintf("arn:aws:resource-explorer-2:%s:%s:index/%s", r, account, newID()), Region: r, Type: "LOCAL", Created: time.Now().UTC()}
		}
	}
	acct.indexes[aggregator].Type = "AGGREGATOR"
	v := x.createView(account, aggregator, "all-resources", "", withTags)
	acct.defaults[aggregator] = v.ARN
	return v.ARN
}

func (x *resourceExplorer) account(id string) *reAccount {
	a := x.accounts[id]
	if a == nil {
		a = &reAccount{indexes: map[string]*reIndex{}, views: map[string]*reView{}, defaults: map[string]string{}}
		x.accounts[id] = a
	}
	return a
}

func (x *resourceExplorer) createView(account, region, name, filter string, withTags bool) *reView {
	v := &reView{ARN: fmt.Sprintf("arn:aws:resource-explorer-2:%s:%s:view/%s/%s", region, account, name, newID()), Region: region,
		Filter: filter, Scope: "arn:aws:iam::" + account + ":root", Updated: time.Now().UTC()}
	if withTags {
		v.Properties = []string{"tags"}
	}
	x.account(account).views[v.ARN] = v
	return v
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// callRegion is the region a SigV4-signed call is for.
func callRegion(c *Call) string {
	h := c.Request.Header.Get("Authorization")
	i := strings.Index(h, "Credential=")
	if i < 0 {
		return Region
	}
	cred := h[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return Region
	}
	return parts[2]
}

// reOperation is the operation of a Resource Explorer call (REST-JSON: POST /<Operation>).
func reOperation(c *Call) string {
	return strings.Trim(c.Request.URL.Path, "/")
}

func (x *resourceExplorer) Intercept(w http.ResponseWriter, c *Call) bool {
	if c.Service != "resource-explorer-2" {
		return false
	}
	account, region, op := x.env.callerAccount(c), callRegion(c), reOperation(c)
	x.mu.Lock()
	for _, k := range []string{account + "|" + op, account + "|*"} {
		if f := x.faults[k]; f != nil && f.times != 0 {
			if f.times > 0 {
				f.times--
			}
			x.mu.Unlock()
			status := map[string]int{"AccessDeniedException": 403, "ThrottlingException": 429, "UnauthorizedException": 401,
				"ResourceNotFoundException": 404, "InternalServerException": 500}[f.code]
			if status == 0 {
				status = 400
			}
			writeREError(w, status, f.code, reFaultMessage(f.code, op))
			return true
		}
	}
	x.mu.Unlock()
	var in map[string]any
	_ = c.DecodeJSON(&in)
	var out any
	var err *reError
	switch op {
	case "CreateIndex":
		out, err = x.createIndex(account, region)
	case "UpdateIndexType":
		out, err = x.updateIndexType(account, region, str(in, "Arn"), str(in, "Type"))
	case "DeleteIndex":
		out, err = x.deleteIndex(account, region)
	case "GetIndex":
		out, err = x.getIndex(account, region)
	case "ListIndexes":
		out, err = x.listIndexes(account, in)
	case "CreateView":
		out, err = x.createViewOp(account, region, in)
	case "GetView":
		out, err = x.getView(account, str(in, "ViewArn"))
	case "DeleteView":
		out, err = x.deleteView(account, str(in, "ViewArn"))
	case "ListViews":
		out, err = x.listViews(account, region)
	case "AssociateDefaultView":
		out, err = x.associateDefault(account, region, str(in, "ViewArn"))
	case "GetDefaultView":
		out, err = x.getDefault(account, region)
	case "ListResources":
		out, err = x.listResources(c.Request.Context(), account, region, in)
	case "CreateResourceExplorerSetup":
		out, err = x.setup(account, in)
	default:
		writeREError(w, http.StatusBadRequest, "ValidationException", "the local Resource Explorer does not implement "+op)
		return true
	}
	if err != nil {
		writeREError(w, err.status, err.code, err.message)
		return true
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
	return true
}

type reError struct {
	status        int
	code, message string
}

func reFaultMessage(code, op string) string {
	switch code {
	case "AccessDeniedException":
		action := op
		if op == "ListResources" {
			action = "Search" // ListResources is authorized as resource-explorer-2:Search
		}
		return "User is not authorized to perform: resource-explorer-2:" + action
	case "ThrottlingException":
		return "Rate exceeded"
	}
	return code
}

func writeREError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "Message": message, "message": message})
}

func reNotFound(what string) *reError {
	return &reError{http.StatusNotFound, "ResourceNotFoundException", what}
}

func (x *resourceExplorer) createIndex(account, region string) (any, *reError) {
	x.mu.Lock()
	defer x.mu.Unlock()
	a := x.account(account)
	if a.indexes[region] != nil {
		return nil, &reError{http.StatusConflict, "ConflictException", "An index already exists in " + region}
	}
	ix := &reIndex{ARN: fmt.Sprintf("arn:aws:resource-explorer-2:%s:%s:index/%s", region, account, newID()), Region: region, Type: "LOCAL", Created: time.Now().UTC()}
	a.indexes[region] = ix
	return map[string]any{"Arn": ix.ARN, "CreatedAt": ix.Created.Format(time.RFC3339), "State": "ACTIVE"}, nil
}

func (x *resourceExplorer) updateIndexType(account, region, arn, typ string) (any, *reError) {
	x.mu.Lock()
	defer x.mu.Unlock()
	a := x.account(account)
	ix := a.indexes[region]
	if ix == nil || ix.ARN != arn {
		return nil, reNotFound("No index " + arn)
	}
	if typ == "AGGREGATOR" {
		for _, other := range a.indexes {
			if other.Type == "AGGREGATOR" && other != ix {
				return nil, &reError{http.StatusConflict, "ConflictException", "The account already has an aggregator index in " + other.Region}
			}
		}
	}
	ix.Type = typ
	return map[string]any{"Arn": ix.ARN, "Type": ix.Type, "State": "ACTIVE", "LastUpdatedAt": time.Now().UTC().Format(time.RFC3339)}, nil
}

func (x *resourceExplorer) deleteIndex(account, region string) (any, *reError) {
	x.mu.Lock()
	defer x.mu.Unlock()
	a := x.account(account)
	ix := a.indexes[region]
	if ix == nil {
		return nil, reNotFound("No index in " + region)
	}
	delete(a.indexes, region)
	return map[string]any{"Arn": ix.ARN, "State": "DELETED"}, nil
}

func (x *resourceExplorer) getIndex(account, region string) (any, *reError) {
	x.mu.Lock()
	defer x.mu.Unlock()
	ix := x.account(account).indexes[region]
	if ix == nil {
		return nil, reNotFound("Resource Explorer is not turned on in " + region)
	}
	return map[string]any{"Arn": ix.ARN, "Type": ix.Type, "State": "ACTIVE", "CreatedAt": ix.Created.Format(time.RFC3339)}, nil
}

func (x *resourceExplorer) listIndexes(account string, in map[string]any) (any, *reError) {
	x.mu.Lock()
	defer x.mu.Unlock()
	a := x.account(account)
	typ := str(in, "Type")
	var regions []string
	if rs, ok := in["Regions"].([]any); ok {
		for _, r := range rs {
			regions = append(regions, fmt.Sprint(r))
		}
	}
	var list []map[string]any
	for _, r := range sortedRegions(a.indexes) {
		ix := a.indexes[r]
		if (typ != "" && ix.Type != typ) || (len(regions) > 0 && !containsString(regions, r)) {
			continue
		}
		list = append(list, map[string]any{"Arn": ix.ARN, "Region": ix.Region, "Type": ix.Type})
	}
	pg, next := page(list, map[string]any{"PageSize": float64(maxResults(in, 100)), "NextPageToken": in["NextToken"]})
	out := map[string]any{"Indexes": pg}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func maxResults(in map[string]any, def int) int {
	if v, ok := in["MaxResults"].(float64); ok && v > 0 {
		return int(v)
	}
	return def
}

func sortedRegions[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (x *resourceExplorer) createViewOp(account, region string, in map[string]any) (any, *reError) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.account(account).indexes[region] == nil {
		return nil, &reError{http.StatusUnauthorized, "UnauthorizedException", "Resource Explorer is not turned on in " + region}
	}
	filter := ""
	if f, ok := in["Filters"].(map[string]any); ok {
		filter = str(f, "FilterString")
	}
	withTags := false
	if props, ok := in["IncludedProperties"].([]any); ok {
		for _, p := range props {
			if m, ok := p.(map[string]any); ok && str(m, "Name") == "tags" {
				withTags = true
			}
		}
	}
	name := str(in, "ViewName")
	if name == "" {
		return nil, &reError{http.StatusBadRequest, "ValidationException", "ViewName is required"}
	}
	v := x.createView(account, region, name, filter, withTags)
	return map[string]any{"View": viewJSON(v)}, nil
}

func viewJSON(v *reView) map[string]any {
	props := []any{}
	for _, p := range v.Properties {
		props = append(props, map[string]any{"Name": p})
	}
	return map[string]any{"ViewArn": v.ARN, "Owner": strings.Split(v.ARN, ":")[4], "Scope": v.Scope,
		"Filters": map[string]any{"FilterString": v.Filter}, "IncludedProperties": props, "LastUpdatedAt": v.Updated.Format(time.RFC3339)}
}

func (x *resourceExplorer) getView(account, arn string) (any, *reError) {
	x.mu.Lock()
	defer x.mu.Unlock()
	v := x.account(account).views[arn]
	if v == nil {
		return nil, reNotFound("The view " + arn + " does not exist")
	}
	return map[string]any{"View": viewJSON(v), "Tags": map[string]string{}}, nil
}

func (x *resourceExplorer) deleteView(account, arn string) (any, *reError) {
	x.mu.Lock()
	defer x.mu.Unlock()
	a := x.account(account)
	if a.views[arn] == nil {
		return nil, reNotFound("The view " + arn + " does not exist")
	}
	delete(a.views, arn)
	for r, d := range a.defaults {
		if d == arn {
			delete(a.defaults, r)
		}
	}
	return map[string]any{"ViewArn": arn}, nil
}

func (x *resourceExplorer) listViews(account, region string) (any, *reError) {
	x.mu.Lock()
	defer x.mu.Unlock()
	views := []string{}
	for arn, v := range x.account(account).views {
		if v.Region == region {
			views = append(views, arn)
		}
	}
	sort.Strings(views)
	return map[string]any{"Views": views}, nil
}

func (x *resourceExplorer) associateDefault(account, region, arn string) (any, *reError) {
	x.mu.Lock()
	defer x.mu.Unlock()
	a := x.account(account)
	v := a.views[arn]
	if v == nil || v.Region != region {
		return nil, reNotFound("The view " + arn + " does not exist in " + region)
	}
	a.defaults[region] = arn
	return map[string]any{"ViewArn": arn}, nil
}

func (x *resourceExplorer) getDefault(account, region string) (any, *reError) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if arn := x.account(account).defaults[region]; arn != "" {
		return map[string]any{"ViewArn": arn}, nil
	}
	return map[string]any{}, nil
}

func (x *resourceExplorer) setup(account string, in map[string]any) (any, *reError) {
	var regions []string
	if rs, ok := in["RegionList"].([]any); ok {
		for _, r := range rs {
			regions = append(regions, fmt.Sprint(r))
		}
	}
	aggregator := ""
	if as, ok := in["AggregatorRegions"].([]any); ok && len(as) > 0 {
		aggregator = fmt.Sprint(as[0])
	}
	if len(regions) == 0 || aggregator == "" {
		return nil, &reError{http.StatusBadRequest, "ValidationException", "RegionList and AggregatorRegions are required"}
	}
	x.env.ResourceExplorerSetup(account, regions, aggregator, true)
	return map[string]any{"TaskId": newID()}, nil
}

// listResources answers ListResources: the view (or the region's default view) must exist in the calling region;
// an aggregator's view lists every indexed region of the account, a local index's its own. The first page takes a
// snapshot of moto's resources; NextToken pages through it.
func (x *resourceExplorer) listResources(ctx context.Context, account, region string, in map[string]any) (any, *reError) {
	x.mu.Lock()
	a := x.account(account)
	arn := str(in, "ViewArn")
	if arn == "" {
		arn = a.defaults[region]
		if arn == "" {
			x.mu.Unlock()
			return nil, &reError{http.StatusUnauthorized, "UnauthorizedException", "The region " + region + " has no default view"}
		}
	}
	v := a.views[arn]
	if v == nil {
		x.mu.Unlock()
		return nil, reNotFound("The view " + arn + " does not exist")
	}
	if v.Region != region {
		x.mu.Unlock()
		return nil, &reError{http.StatusUnauthorized, "UnauthorizedException", "The view " + arn + " is in " + v.Region + ", not " + region}
	}
	ix := a.indexes[region]
	var regions []string
	if ix != nil && ix.Type == "AGGREGATOR" {
		regions = sortedRegions(a.indexes)
	} else if ix != nil {
		regions = []string{region}
	}
	withTags := containsString(v.Properties, "tags")
	viewFilter := v.Filter
	token := ""
	if t, ok := in["NextToken"].(string); ok {
		token = t
	}
	var snap *reSnapshot
	id, offset := "", 0
	if token != "" {
		var ok bool
		id, offset, ok = parseREToken(token)
		snap = x.snapshots[id]
		if !ok || snap == nil || time.Now().After(snap.expires) {
			x.mu.Unlock()
			return nil, &reError{http.StatusBadRequest, "ValidationException", "The NextToken is not valid or has expired"}
		}
	}
	x.mu.Unlock()
	if snap == nil {
		requestFilter := ""
		if f, ok := in["Filters"].(map[string]any); ok {
			requestFilter = str(f, "FilterString")
		}
		list, err := x.resources(ctx, account, regions, withTags, parseREFilter(viewFilter), parseREFilter(requestFilter))
		if err != nil {
			return nil, &reError{http.StatusInternalServerError, "InternalServerException", err.Error()}
		}
		snap = &reSnapshot{resources: list, expires: time.Now().Add(time.Hour)}
		id = newID()
		x.mu.Lock()
		for k, s := range x.snapshots {
			if time.Now().After(s.expires) {
				delete(x.snapshots, k)
			}
		}
		x.snapshots[id] = snap
		x.mu.Unlock()
	}
	size := min(maxResults(in, 1000), 1000)
	end := min(offset+size, len(snap.resources))
	out := map[string]any{"Resources": snap.resources[offset:end], "ViewArn": arn}
	// A token stays valid until its listing expires, as AWS's do, however often it is used: a client retrying a
	// page (its answer lost, a throttled attempt) asks for the same token again, the last page's too.
	if end < len(snap.resources) {
		out["NextToken"] = id + "." + strconv.Itoa(end)
	}
	return out, nil
}

func parseREToken(t string) (string, int, bool) {
	id, off, ok := strings.Cut(t, ".")
	n, err := strconv.Atoi(off)
	return id, n, ok && err == nil && n >= 0
}

// reFilter is a parsed filter string: prefixes of one kind are ORed, kinds ANDed; a "-" prefix excludes.
type reFilter map[string][]string

func parseREFilter(s string) reFilter {
	f := reFilter{}
	for _, term := range strings.Fields(s) {
		k, v, ok := strings.Cut(term, ":")
		if !ok {
			continue
		}
		f[strings.ToLower(k)] = append(f[strings.ToLower(k)], v)
	}
	return f
}

func (f reFilter) match(fields map[string]string) bool {
	for k, values := range f {
		neg := strings.HasPrefix(k, "-")
		key := strings.TrimPrefix(k, "-")
		hit := false
		for _, v := range values {
			if wildcardMatch(strings.ToLower(v), strings.ToLower(fields[key])) {
				hit = true
			}
		}
		if hit == neg {
			return false
		}
	}
	return true
}

// resources reads the account's resources in regions from moto's Tagging API, in Resource Explorer's shape.
func (x *resourceExplorer) resources(ctx context.Context, account string, regions []string, withTags bool, filters ...reFilter) ([]map[string]any, error) {
	var out []map[string]any
	now := time.Now().UTC().Format(time.RFC3339)
	for _, region := range regions {
		client := resourcegroupstaggingapi.New(resourcegroupstaggingapi.Options{Region: region, BaseEndpoint: aws.String(x.env.MotoEndpoint),
			Credentials: staticCredentials, HTTPClient: &http.Client{Transport: accountHeader{account}}, RetryMaxAttempts: 1})
		in := &resourcegroupstaggingapi.GetResourcesInput{ResourcesPerPage: aws.Int32(100)}
		for {
			page, err := client.GetResources(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("read %s's resources in %s: %w", account, region, err)
			}
			for _, m := range page.ResourceTagMappingList {
				arn := aws.ToString(m.ResourceARN)
				typ := explorerType(arn)
				service, _, _ := strings.Cut(typ, ":")
				fields := map[string]string{"resourcetype": typ, "region": region, "service": service}
				ok := true
				for _, f := range filters {
					ok = ok && f.match(fields)
				}
				if !ok {
					continue
				}
				r := map[string]any{"Arn": arn, "OwningAccountId": account, "Region": region, "ResourceType": typ, "Service": service,
					"LastReportedAt": now, "Properties": []any{}}
				if withTags {
					tags := []any{}
					for _, t := range m.Tags {
						tags = append(tags, map[string]string{"Key": aws.ToString(t.Key), "Value": aws.ToString(t.Value)})
					}
					r["Properties"] = []any{map[string]any{"Name": "tags", "Data": tags, "LastReportedAt": now}}
				}
				out = append(out, r)
			}
			if aws.ToString(page.PaginationToken) == "" {
				break
			}
			in.PaginationToken = page.PaginationToken
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["Arn"].(string) < out[j]["Arn"].(string) })
	return out, nil
}

// explorerType names a resource's type as Resource Explorer does ("ec2:instance", "s3:bucket", "sqs:queue").
func explorerType(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return "unknown"
	}
	svc, res := parts[2], parts[5]
	switch svc {
	case "s3":
		return "s3:bucket"
	case "sqs":
		return "sqs:queue"
	case "sns":
		return "sns:topic"
	}
	if i := strings.IndexAny(res, "/:"); i >= 0 {
		res = res[:i]
	}
	return svc + ":" + res
}
