package localaws

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// costExplorer answers the Cost Explorer operations moto does not implement (purchase recommendations, cost and
// usage) with deterministic data in the documented JSON shapes, derived from the caller's organization in moto:
// a management account sees a recommendation mix for each of its member accounts (AccountScope LINKED), any other
// account its own. Results are paginated by PageSize with NextPageToken, as Cost Explorer does. Tests inject the
// errors Cost Explorer returns (DataUnavailableException, AccessDeniedException, LimitExceededException) per
// account with SetCostExplorerFault.
type costExplorer struct {
	env *Env

	mu     sync.Mutex
	faults map[string]*ceFault
	orgs   map[string]orgCache
}

type ceFault struct {
	code  string
	times int // remaining; negative for always
}

type orgCache struct {
	accounts []string
	at       time.Time
}

// SetCostExplorerFault makes Cost Explorer calls by account fail with code, times times (negative: until
// cleared with an empty code).
func (e *Env) SetCostExplorerFault(account, code string, times int) {
	e.ce.mu.Lock()
	defer e.ce.mu.Unlock()
	if code == "" {
		delete(e.ce.faults, account)
		return
	}
	e.ce.faults[account] = &ceFault{code: code, times: times}
}

func newCostExplorer(e *Env) *costExplorer {
	return &costExplorer{env: e, faults: map[string]*ceFault{}, orgs: map[string]orgCache{}}
}

var ceFaultMessages = map[string]string{
	"DataUnavailableException": "Insufficient amount of data to generate recommendations",
	"AccessDeniedException":    "User is not authorized to perform: ce:GetReservationPurchaseRecommendation",
	"LimitExceededException":   "Rate exceeded",
}

func (c *costExplorer) Intercept(w http.ResponseWriter, call *Call) bool {
	if call.Service != "ce" {
		return false
	}
	account := c.env.callerAccount(call)
	c.mu.Lock()
	if f := c.faults[account]; f != nil && f.times != 0 {
		if f.times > 0 {
			f.times--
		}
		c.mu.Unlock()
		status := http.StatusBadRequest
		WriteJSONError(w, status, f.code, ceFaultMessages[f.code])
		return true
	}
	c.mu.Unlock()
	var in map[string]any
	_ = call.DecodeJSON(&in)
	var out any
	switch call.Action {
	case "GetReservationPurchaseRecommendation":
		out = c.reservations(call.Request.Context(), account, in)
	case "GetSavingsPlansPurchaseRecommendation":
		out = c.savingsPlans(call.Request.Context(), account, in)
	case "GetCostAndUsage":
		out = c.costAndUsage(call.Request.Context(), account, in)
	default:
		return false
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
	return true
}

// members is the caller's organization (if it manages one) or the caller alone, sorted.
func (c *costExplorer) members(ctx context.Context, account string) []string {
	c.mu.Lock()
	if cached, ok := c.orgs[account]; ok && time.Since(cached.at) < 2*time.Second {
		c.mu.Unlock()
		return cached.accounts
	}
	c.mu.Unlock()
	client := organizations.New(organizations.Options{Region: Region, BaseEndpoint: aws.String(c.env.MotoEndpoint),
		Credentials: staticCredentials, HTTPClient: &http.Client{Transport: accountHeader{account}}, RetryMaxAttempts: 1})
	ids := []string{}
	p := organizations.NewListAccountsPaginator(client, &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			ids = []string{account} // not a management account: it sees itself
			break
		}
		for _, a := range page.Accounts {
			ids = append(ids, aws.ToString(a.Id))
		}
	}
	sort.Strings(ids)
	c.mu.Lock()
	c.orgs[account] = orgCache{accounts: ids, at: time.Now()}
	c.mu.Unlock()
	return ids
}

// pick is a deterministic pseudo-random number for the given parts.
func pick(parts ...string) uint64 {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return binary.BigEndian.Uint64(h.Sum(nil)[:8])
}

// page cuts details by PageSize (Cost Explorer's default 20 when unset) at NextPageToken's offset.
func page[T any](items []T, in map[string]any) ([]T, string) {
	size := 20
	if v, ok := in["PageSize"].(float64); ok && v > 0 {
		size = int(v)
	}
	offset := 0
	if tok, ok := in["NextPageToken"].(string); ok && tok != "" {
		offset, _ = strconv.Atoi(tok)
	}
	if offset > len(items) {
		offset = len(items)
	}
	end := min(offset+size, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[offset:end], next
}

func str(in map[string]any, k string) string { s, _ := in[k].(string); return s }

func generation() string { return time.Now().UTC().Truncate(24 * time.Hour).Format(time.RFC3339) }

var instanceTypes = []string{"m6i.large", "m6i.xlarge", "c6g.large", "r6g.xlarge", "t3.medium"}
var localRegions = []string{"us-east-1", "eu-west-1"}

func (c *costExplorer) reservations(ctx context.Context, caller string, in map[string]any) any {
	service, term, pay := str(in, "Service"), str(in, "TermInYears"), str(in, "PaymentOption")
	offering := ""
	if spec, ok := in["ServiceSpecification"].(map[string]any); ok {
		if ec2, ok := spec["EC2Specification"].(map[string]any); ok {
			offering, _ = ec2["OfferingClass"].(string)
		}
	}
	var details []map[string]any
	for _, acct := range c.members(ctx, caller) {
		r := pick(acct, service, offering, term, pay)
		if r%4 != 0 {
			continue
		}
		instance, region := instanceTypes[r/4%uint64(len(instanceTypes))], localRegions[r/16%2]
		quantity := 1 + r/32%5
		monthly := float64(quantity) * (20 + float64(r/128%50))
		upfront := 0.0
		if pay != "NO_UPFRONT" {
			upfront = monthly * 6
		}
		d := map[string]any{
			"AccountId": acct, "CurrencyCode": "USD",
			"RecommendedNumberOfInstancesToPurchase": strconv.FormatUint(quantity, 10),
			"UpfrontCost":                            fmt.Sprintf("%.2f", upfront),
			"RecurringStandardMonthlyCost":           fmt.Sprintf("%.2f", monthly*2),
			"EstimatedMonthlySavingsAmount":          fmt.Sprintf("%.2f", monthly),
			"EstimatedBreakEvenInMonths":             fmt.Sprintf("%.1f", upfront/monthly),
		}
		switch service {
		case "Amazon Elastic Compute Cloud - Compute":
			d["InstanceDetails"] = map[string]any{"EC2InstanceDetails": map[string]any{"InstanceType": instance, "Region": region, "Platform": "Linux/UNIX", "Tenancy": "shared"}}
		case "Amazon Relational Database Service":
			d["InstanceDetails"] = map[string]any{"RDSInstanceDetails": map[string]any{"InstanceType": "db." + instance, "Region": region, "DatabaseEngine": "PostgreSQL"}}
		case "Amazon ElastiCache":
			d["InstanceDetails"] = map[string]any{"ElastiCacheInstanceDetails": map[string]any{"NodeType": "cache." + instance, "Region": region}}
		case "Amazon OpenSearch Service":
			d["InstanceDetails"] = map[string]any{"ESInstanceDetails": map[string]any{"InstanceClass": "r6g", "InstanceSize": "large", "Region": region}}
		case "Amazon Redshift":
			d["InstanceDetails"] = map[string]any{"RedshiftInstanceDetails": map[string]any{"NodeType": "ra3.xlplus", "Region": region}}
		case "Amazon MemoryDB":
			d["InstanceDetails"] = map[string]any{"MemoryDBInstanceDetails": map[string]any{"NodeType": "db." + instance, "Region": region}}
		case "Amazon DynamoDB":
			delete(d, "RecommendedNumberOfInstancesToPurchase")
			d["RecommendedNumberOfCapacityUnitsToPurchase"] = strconv.FormatUint(quantity*100, 10)
			d["ReservedCapacityDetails"] = map[string]any{"DynamoDBCapacityDetails": map[string]any{"CapacityUnits": "WCU", "Region": region}}
		}
		details = append(details, d)
	}
	pg, next := page(details, in)
	out := map[string]any{"Metadata": map[string]any{"RecommendationId": fmt.Sprintf("%x", pick(caller, service, term, pay)), "GenerationTimestamp": generation()}}
	if len(pg) > 0 {
		out["Recommendations"] = []any{map[string]any{
			"AccountScope": str(in, "AccountScope"), "LookbackPeriodInDays": str(in, "LookbackPeriodInDays"),
			"TermInYears": term, "PaymentOption": pay, "RecommendationDetails": pg,
		}}
	} else {
		out["Recommendations"] = []any{}
	}
	if next != "" {
		out["NextPageToken"] = next
	}
	return out
}

func (c *costExplorer) savingsPlans(ctx context.Context, caller string, in map[string]any) any {
	plan, term, pay := str(in, "SavingsPlansType"), str(in, "TermInYears"), str(in, "PaymentOption")
	var details []map[string]any
	for _, acct := range c.members(ctx, caller) {
		r := pick(acct, plan, term, pay)
		if r%3 != 0 {
			continue
		}
		hourly := 0.05 + float64(r/3%40)/100
		savings := hourly * 730 * 0.25
		upfront := 0.0
		if pay == "ALL_UPFRONT" {
			upfront = hourly * 8760
		}
		details = append(details, map[string]any{
			"AccountId": acct, "CurrencyCode": "USD", "HourlyCommitmentToPurchase": fmt.Sprintf("%.3f", hourly),
			"EstimatedMonthlySavingsAmount": fmt.Sprintf("%.2f", savings), "EstimatedSavingsPercentage": "25",
			"UpfrontCost": fmt.Sprintf("%.2f", upfront), "RecommendationDetailId": fmt.Sprintf("%x", r),
			"SavingsPlansDetails": map[string]any{"InstanceFamily": "m6i", "Region": localRegions[r/7%2], "OfferingId": fmt.Sprintf("%x", r/9)},
		})
	}
	pg, next := page(details, in)
	out := map[string]any{
		"Metadata": map[string]any{"RecommendationId": fmt.Sprintf("%x", pick(caller, plan, term, pay)), "GenerationTimestamp": generation()},
		"SavingsPlansPurchaseRecommendation": map[string]any{
			"AccountScope": str(in, "AccountScope"), "SavingsPlansType": plan, "TermInYears": term, "PaymentOption": pay,
			"LookbackPeriodInDays": str(in, "LookbackPeriodInDays"), "SavingsPlansPurchaseRecommendationDetails": pg,
		},
	}
	if next != "" {
		out["NextPageToken"] = next
	}
	return out
}

// costAndUsage answers monthly spend for the caller's organization: 1,000 a month per account, varying by month.
func (c *costExplorer) costAndUsage(ctx context.Context, caller string, in map[string]any) any {
	period, _ := in["TimePeriod"].(map[string]any)
	start, _ := time.Parse("2006-01-02", str(period, "Start"))
	end, _ := time.Parse("2006-01-02", str(period, "End"))
	n := float64(len(c.members(ctx, caller)))
	var results []any
	for m := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(end); m = m.AddDate(0, 1, 0) {
		from, to := m, m.AddDate(0, 1, 0)
		if from.Before(start) {
			from = start
		}
		if to.After(end) {
			to = end
		}
		days := to.Sub(from).Hours() / 24
		amount := n * 1000 * days / 30 * (1 + float64(int(m.Month())%3)/10)
		results = append(results, map[string]any{
			"TimePeriod": map[string]any{"Start": from.Format("2006-01-02"), "End": to.Format("2006-01-02")},
			"Total":      map[string]any{"NetUnblendedCost": map[string]any{"Amount": fmt.Sprintf("%.2f", amount), "Unit": "USD"}},
			"Estimated":  m.Year() == time.Now().Year() && m.Month() == time.Now().Month(),
		})
	}
	pg, next := page(results, in)
	out := map[string]any{"ResultsByTime": pg, "DimensionValueAttributes": []any{}}
	if next != "" {
		out["NextPageToken"] = next
	}
	return out
}
