package costsync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// CostExplorer is what the sync reads of Cost Explorer, one request per method (pkg/costsync/awscostexplorer
// implements it over the SDK). A page token is "" for the first page; a returned next token is "" after the last.
// A role without the permission answers *AccessDeniedError; a payer whose Cost Explorer has no data yet,
// ErrDataUnavailable.
type CostExplorer interface {
	// ReservationRecommendations is a page of GetReservationPurchaseRecommendation for one service, at linked
	// account scope.
	ReservationRecommendations(ctx context.Context, svc ReservationService, q Query, pageToken string) (ReservationPage, error)
	// SavingsPlansRecommendations is a page of GetSavingsPlansPurchaseRecommendation for one plan type, at linked
	// account scope.
	SavingsPlansRecommendations(ctx context.Context, planType string, q Query, pageToken string) (SavingsPlansPage, error)
	// MonthlyCosts is a page of GetCostAndUsage: the payer's net unblended cost per month from start to end
	// (exclusive, whole days), not grouped.
	MonthlyCosts(ctx context.Context, start, end time.Time, pageToken string) (months []MonthlySpend, next string, err error)
}

// Query is what one recommendation request asks for.
type Query struct {
	Term, PaymentOption string
	LookbackDays        int
	PageSize            int32
}

// ReservationPage is a page of reservation recommendations.
type ReservationPage struct {
	GeneratedAt   time.Time
	Details       []ReservationDetail
	NextPageToken string
}

// ReservationDetail is one recommended reservation, as Cost Explorer states it.
type ReservationDetail struct {
	// AccountID is the linked account it is for ("" when Cost Explorer does not say: the payer).
	AccountID string
	// InstanceType is what it buys (an instance or node type; "capacity-units" for DynamoDB's reserved capacity),
	// Region where; Quantity how many (instances, or capacity units).
	InstanceType, Region                        string
	Quantity, UpfrontCost, RecurringMonthlyCost float64
	EstimatedMonthlySavings, BreakEvenMonths    float64
	Currency                                    string
}

// SavingsPlansPage is a page of Savings Plans recommendations.
type SavingsPlansPage struct {
	GeneratedAt   time.Time
	Details       []SavingsPlanDetail
	NextPageToken string
}

// SavingsPlanDetail is one recommended Savings Plan, as Cost Explorer states it.
type SavingsPlanDetail struct {
	AccountID, InstanceFamily, Region                      string
	HourlyCommitment, UpfrontCost, EstimatedMonthlySavings float64
	Currency                                               string
}

// ErrDataUnavailable: Cost Explorer is not enabled yet, or has less than a day of data (DataUnavailableException).
var ErrDataUnavailable = errors.New("Cost Explorer has no data for this account yet")

// ErrCostExplorerNotWired: a sync ran in a function built without the Cost Explorer client.
var ErrCostExplorerNotWired = errors.New("this function is not wired to read AWS Cost Explorer")

// ReservationService is a service Cost Explorer recommends reservations for.
type ReservationService struct {
	Key string // what Gangplank calls it
	// Name is Cost Explorer's Service value; OfferingClass (STANDARD or CONVERTIBLE) distinguishes EC2's standard
	// and convertible reservations.
	Name          string
	OfferingClass string
}

// ReservationServices are every service of GetReservationPurchaseRecommendation (its InstanceDetails and
// ReservedCapacityDetails name them), EC2 once per offering class.
var ReservationServices = []ReservationService{
	{Key: "ec2-standard", Name: "Amazon Elastic Compute Cloud - Compute", OfferingClass: "STANDARD"},
	{Key: "ec2-convertible", Name: "Amazon Elastic Compute Cloud - Compute", OfferingClass: "CONVERTIBLE"},
	{Key: "rds", Name: "Amazon Relational Database Service"},
	{Key: "elasticache", Name: "Amazon ElastiCache"},
	{Key: "opensearch", Name: "Amazon OpenSearch Service"},
	{Key: "redshift", Name: "Amazon Redshift"},
	{Key: "memorydb", Name: "Amazon MemoryDB"},
	{Key: "dynamodb", Name: "Amazon DynamoDB"},
}

// SavingsPlansTypes are every plan type Cost Explorer's model lists (awscostexplorer's tests hold it to the SDK's).
func SavingsPlansTypes() []string {
	return []string{"COMPUTE_SP", "EC2_INSTANCE_SP", "SAGEMAKER_SP", "DATABASE_SP"}
}

// Terms are Cost Explorer's commitment terms (awscostexplorer's tests hold them to the SDK's).
var Terms = []string{"ONE_YEAR", "THREE_YEARS"}

// Options are what to ask Cost Explorer for: the tenant's terms, payment options and lookback.
type Options struct {
	Terms          []string
	PaymentOptions []string
	// LookbackDays is 7, 30 or 60.
	LookbackDays int
	// PageSize is asked of every call; large, so one page usually holds a whole organization's lines.
	PageSize int32
}

// DefaultOptions: one-year terms without upfront payment, the commitment most teams buy first, over the last 30
// days (long enough to smooth a week's pattern, short enough to follow change).
var DefaultOptions = Options{Terms: []string{"ONE_YEAR"}, PaymentOptions: []string{"NO_UPFRONT"}, LookbackDays: 30, PageSize: 1000}

// CallsPerSync is the least number of Cost Explorer requests one sync makes with these options: one per
// reservation service, Savings Plans type, term and payment option (more only when a result spans pages).
func (o Options) CallsPerSync() int {
	return (len(ReservationServices) + len(SavingsPlansTypes())) * len(o.Terms) * len(o.PaymentOptions)
}

// Fetched is what one sync read.
type Fetched struct {
	Recommendations []Recommendation
	// WaitingForData: Cost Explorer is not enabled yet, or has less than a day of data.
	WaitingForData bool
}

// AccessDeniedError: the payer's role lacks a Cost Explorer permission.
type AccessDeniedError struct{ Action, Message string }

func (e *AccessDeniedError) Error() string {
	return fmt.Sprintf("the role cannot call %s (%s): update the stack with a new link from Gangplank, which grants it", e.Action, e.Message)
}

// Fetch reads every reservation and Savings Plans recommendation of the payer's organization.
func Fetch(ctx context.Context, ce CostExplorer, payerID string, o Options) (Fetched, error) {
	var out Fetched
	for _, term := range o.Terms {
		for _, pay := range o.PaymentOptions {
			q := Query{Term: term, PaymentOption: pay, LookbackDays: o.LookbackDays, PageSize: o.PageSize}
			for _, svc := range ReservationServices {
				for token := ""; ; {
					page, err := ce.ReservationRecommendations(ctx, svc, q, token)
					if err != nil {
						return classify(out, err)
					}
					for _, d := range page.Details {
						out.Recommendations = append(out.Recommendations, reservation(payerID, svc, q, d, page.GeneratedAt))
					}
					if token = page.NextPageToken; token == "" {
						break
					}
				}
			}
			for _, plan := range SavingsPlansTypes() {
				for token := ""; ; {
					page, err := ce.SavingsPlansRecommendations(ctx, plan, q, token)
					if err != nil {
						return classify(out, err)
					}
					for _, d := range page.Details {
						out.Recommendations = append(out.Recommendations, savingsPlan(payerID, plan, q, d, page.GeneratedAt))
					}
					if token = page.NextPageToken; token == "" {
						break
					}
				}
			}
		}
	}
	return out, nil
}

// classify turns a payer without data yet into a sync waiting for it.
func classify(out Fetched, err error) (Fetched, error) {
	if errors.Is(err, ErrDataUnavailable) {
		return Fetched{WaitingForData: true}, nil
	}
	return out, err
}

func reservation(payer string, svc ReservationService, q Query, d ReservationDetail, generated time.Time) Recommendation {
	account := d.AccountID
	if account == "" {
		account = payer
	}
	return Recommendation{
		ID:   recommendationID(KindReservation, svc.Key, account, d.InstanceType, d.Region, q.Term, q.PaymentOption),
		Kind: KindReservation, Service: svc.Key, AccountID: account, PayerAccountID: payer,
		Term: q.Term, PaymentOption: q.PaymentOption, InstanceType: d.InstanceType, Region: d.Region, Quantity: d.Quantity,
		UpfrontCost: d.UpfrontCost, RecurringMonthlyCost: d.RecurringMonthlyCost,
		EstimatedMonthlySavings: d.EstimatedMonthlySavings, BreakEvenMonths: d.BreakEvenMonths,
		Currency: currency(d.Currency), GeneratedAt: generated, LookbackDays: q.LookbackDays,
	}
}

func savingsPlan(payer, plan string, q Query, d SavingsPlanDetail, generated time.Time) Recommendation {
	account := d.AccountID
	if account == "" {
		account = payer
	}
	breakEven := 0.0
	if d.EstimatedMonthlySavings > 0 && d.UpfrontCost > 0 {
		breakEven = d.UpfrontCost / d.EstimatedMonthlySavings
	}
	return Recommendation{
		ID:   recommendationID(KindSavingsPlan, plan, account, d.InstanceFamily, d.Region, q.Term, q.PaymentOption),
		Kind: KindSavingsPlan, Service: plan, AccountID: account, PayerAccountID: payer,
		Term: q.Term, PaymentOption: q.PaymentOption, InstanceType: d.InstanceFamily, Region: d.Region, Quantity: d.HourlyCommitment,
		UpfrontCost: d.UpfrontCost, RecurringMonthlyCost: d.HourlyCommitment * 730, EstimatedMonthlySavings: d.EstimatedMonthlySavings,
		BreakEvenMonths: breakEven, Currency: currency(d.Currency), GeneratedAt: generated, LookbackDays: q.LookbackDays,
	}
}

func currency(c string) string {
	if c != "" {
		return c
	}
	return "USD"
}

// ValidTerm accepts Cost Explorer's terms.
func ValidTerm(s string) bool {
	return slices.Contains(Terms, s)
}

// ValidPaymentOption accepts the options Cost Explorer recommends for (not the legacy utilization ones).
func ValidPaymentOption(s string) bool {
	return s == "NO_UPFRONT" || s == "PARTIAL_UPFRONT" || s == "ALL_UPFRONT"
}

// ValidLookbackDays accepts Cost Explorer's lookbacks: 7, 30 or 60 days.
func ValidLookbackDays(d int) bool {
	return d == 7 || d == 30 || d == 60
}
