package costsync

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer/types"
	"github.com/aws/smithy-go"
)

// CostExplorer is the part of the Cost Explorer API the sync uses.
type CostExplorer interface {
	GetReservationPurchaseRecommendation(ctx context.Context, in *costexplorer.GetReservationPurchaseRecommendationInput, optFns ...func(*costexplorer.Options)) (*costexplorer.GetReservationPurchaseRecommendationOutput, error)
	GetSavingsPlansPurchaseRecommendation(ctx context.Context, in *costexplorer.GetSavingsPlansPurchaseRecommendationInput, optFns ...func(*costexplorer.Options)) (*costexplorer.GetSavingsPlansPurchaseRecommendationOutput, error)
	GetCostAndUsage(ctx context.Context, in *costexplorer.GetCostAndUsageInput, optFns ...func(*costexplorer.Options)) (*costexplorer.GetCostAndUsageOutput, error)
}

// ReservationService is a service Cost Explorer recommends reservations for.
type ReservationService struct {
	Key string // what Gangplank calls it
	// Name is Cost Explorer's Service value; OfferingClass distinguishes EC2's standard and convertible reservations.
	Name          string
	OfferingClass types.OfferingClass
}

// ReservationServices are every service of GetReservationPurchaseRecommendation (its InstanceDetails and
// ReservedCapacityDetails name them), EC2 once per offering class.
var ReservationServices = []ReservationService{
	{Key: "ec2-standard", Name: "Amazon Elastic Compute Cloud - Compute", OfferingClass: types.OfferingClassStandard},
	{Key: "ec2-convertible", Name: "Amazon Elastic Compute Cloud - Compute", OfferingClass: types.OfferingClassConvertible},
	{Key: "rds", Name: "Amazon Relational Database Service"},
	{Key: "elasticache", Name: "Amazon ElastiCache"},
	{Key: "opensearch", Name: "Amazon OpenSearch Service"},
	{Key: "redshift", Name: "Amazon Redshift"},
	{Key: "memorydb", Name: "Amazon MemoryDB"},
	{Key: "dynamodb", Name: "Amazon DynamoDB"},
}

// SavingsPlansTypes are every plan type the SDK's model lists.
func SavingsPlansTypes() []types.SupportedSavingsPlansType {
	return types.SupportedSavingsPlansType("").Values()
}

// Options are what to ask Cost Explorer for: the tenant's terms, payment options and lookback.
type Options struct {
	Terms          []types.TermInYears
	PaymentOptions []types.PaymentOption
	Lookback       types.LookbackPeriodInDays
	// PageSize is asked of every call; large, so one page usually holds a whole organization's lines.
	PageSize int32
}

// DefaultOptions: one-year terms without upfront payment, the commitment most teams buy first, over the last 30
// days (long enough to smooth a week's pattern, short enough to follow change).
var DefaultOptions = Options{
	Terms: []types.TermInYears{types.TermInYearsOneYear}, PaymentOptions: []types.PaymentOption{types.PaymentOptionNoUpfront},
	Lookback: types.LookbackPeriodInDaysThirtyDays, PageSize: 1000,
}

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
	lookback := lookbackDays(o.Lookback)
	for _, term := range o.Terms {
		for _, pay := range o.PaymentOptions {
			for _, svc := range ReservationServices {
				in := &costexplorer.GetReservationPurchaseRecommendationInput{
					Service: aws.String(svc.Name), AccountScope: types.AccountScopeLinked, LookbackPeriodInDays: o.Lookback,
					TermInYears: term, PaymentOption: pay, PageSize: o.PageSize,
				}
				if svc.OfferingClass != "" {
					in.ServiceSpecification = &types.ServiceSpecification{EC2Specification: &types.EC2Specification{OfferingClass: svc.OfferingClass}}
				}
				for {
					page, err := ce.GetReservationPurchaseRecommendation(ctx, in)
					if err != nil {
						return classify(out, err, "ce:GetReservationPurchaseRecommendation")
					}
					generated := parseTime(page.Metadata)
					for _, r := range page.Recommendations {
						for _, d := range r.RecommendationDetails {
							out.Recommendations = append(out.Recommendations, reservation(payerID, svc, term, pay, d, generated, lookback))
						}
					}
					if aws.ToString(page.NextPageToken) == "" {
						break
					}
					in.NextPageToken = page.NextPageToken
				}
			}
			for _, plan := range SavingsPlansTypes() {
				in := &costexplorer.GetSavingsPlansPurchaseRecommendationInput{
					SavingsPlansType: plan, AccountScope: types.AccountScopeLinked, LookbackPeriodInDays: o.Lookback,
					TermInYears: term, PaymentOption: pay, PageSize: o.PageSize,
				}
				for {
					page, err := ce.GetSavingsPlansPurchaseRecommendation(ctx, in)
					if err != nil {
						return classify(out, err, "ce:GetSavingsPlansPurchaseRecommendation")
					}
					var generated time.Time
					if page.Metadata != nil {
						generated, _ = time.Parse(time.RFC3339, aws.ToString(page.Metadata.GenerationTimestamp))
					}
					if rec := page.SavingsPlansPurchaseRecommendation; rec != nil {
						for _, d := range rec.SavingsPlansPurchaseRecommendationDetails {
							out.Recommendations = append(out.Recommendations, savingsPlan(payerID, plan, term, pay, d, generated, lookback))
						}
					}
					if aws.ToString(page.NextPageToken) == "" {
						break
					}
					in.NextPageToken = page.NextPageToken
				}
			}
		}
	}
	return out, nil
}

func classify(out Fetched, err error, action string) (Fetched, error) {
	var dataUnavailable *types.DataUnavailableException
	if errors.As(err, &dataUnavailable) {
		return Fetched{WaitingForData: true}, nil
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode() == "AccessDeniedException" || apiErr.ErrorCode() == "AccessDenied") {
		return out, &AccessDeniedError{Action: action, Message: apiErr.ErrorMessage()}
	}
	return out, err
}

func parseTime(m *types.ReservationPurchaseRecommendationMetadata) time.Time {
	if m == nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339, aws.ToString(m.GenerationTimestamp))
	return t
}

func lookbackDays(l types.LookbackPeriodInDays) int {
	switch l {
	case types.LookbackPeriodInDaysSevenDays:
		return 7
	case types.LookbackPeriodInDaysSixtyDays:
		return 60
	}
	return 30
}

func num(s *string) float64 {
	f, _ := strconv.ParseFloat(aws.ToString(s), 64)
	return f
}

func reservation(payer string, svc ReservationService, term types.TermInYears, pay types.PaymentOption,
	d types.ReservationPurchaseRecommendationDetail, generated time.Time, lookback int) Recommendation {
	instance, region := instanceOf(d)
	quantity := num(d.RecommendedNumberOfInstancesToPurchase)
	if d.ReservedCapacityDetails != nil {
		quantity = num(d.RecommendedNumberOfCapacityUnitsToPurchase)
	}
	account := aws.ToString(d.AccountId)
	if account == "" {
		account = payer
	}
	return Recommendation{
		ID:   recommendationID(KindReservation, svc.Key, account, instance, region, string(term), string(pay)),
		Kind: KindReservation, Service: svc.Key, AccountID: account, PayerAccountID: payer,
		Term: string(term), PaymentOption: string(pay), InstanceType: instance, Region: region, Quantity: quantity,
		UpfrontCost: num(d.UpfrontCost), RecurringMonthlyCost: num(d.RecurringStandardMonthlyCost),
		EstimatedMonthlySavings: num(d.EstimatedMonthlySavingsAmount), BreakEvenMonths: num(d.EstimatedBreakEvenInMonths),
		Currency: currency(d.CurrencyCode), GeneratedAt: generated, LookbackDays: lookback,
	}
}

func savingsPlan(payer string, plan types.SupportedSavingsPlansType, term types.TermInYears, pay types.PaymentOption,
	d types.SavingsPlansPurchaseRecommendationDetail, generated time.Time, lookback int) Recommendation {
	var family, region string
	if d.SavingsPlansDetails != nil {
		family, region = aws.ToString(d.SavingsPlansDetails.InstanceFamily), aws.ToString(d.SavingsPlansDetails.Region)
	}
	account := aws.ToString(d.AccountId)
	if account == "" {
		account = payer
	}
	savings, upfront := num(d.EstimatedMonthlySavingsAmount), num(d.UpfrontCost)
	breakEven := 0.0
	if savings > 0 && upfront > 0 {
		breakEven = upfront / savings
	}
	hourly := num(d.HourlyCommitmentToPurchase)
	return Recommendation{
		ID:   recommendationID(KindSavingsPlan, string(plan), account, family, region, string(term), string(pay)),
		Kind: KindSavingsPlan, Service: string(plan), AccountID: account, PayerAccountID: payer,
		Term: string(term), PaymentOption: string(pay), InstanceType: family, Region: region, Quantity: hourly,
		UpfrontCost: upfront, RecurringMonthlyCost: hourly * 730, EstimatedMonthlySavings: savings, BreakEvenMonths: breakEven,
		Currency: currency(d.CurrencyCode), GeneratedAt: generated, LookbackDays: lookback,
	}
}

func currency(c *string) string {
	if v := aws.ToString(c); v != "" {
		return v
	}
	return "USD"
}

// instanceOf names what a reservation detail buys, and where.
func instanceOf(d types.ReservationPurchaseRecommendationDetail) (instance, region string) {
	if c := d.ReservedCapacityDetails; c != nil && c.DynamoDBCapacityDetails != nil {
		return "capacity-units", aws.ToString(c.DynamoDBCapacityDetails.Region)
	}
	i := d.InstanceDetails
	if i == nil {
		return "", ""
	}
	switch {
	case i.EC2InstanceDetails != nil:
		return aws.ToString(i.EC2InstanceDetails.InstanceType), aws.ToString(i.EC2InstanceDetails.Region)
	case i.RDSInstanceDetails != nil:
		return aws.ToString(i.RDSInstanceDetails.InstanceType), aws.ToString(i.RDSInstanceDetails.Region)
	case i.ElastiCacheInstanceDetails != nil:
		return aws.ToString(i.ElastiCacheInstanceDetails.NodeType), aws.ToString(i.ElastiCacheInstanceDetails.Region)
	case i.ESInstanceDetails != nil:
		return aws.ToString(i.ESInstanceDetails.InstanceClass) + "." + aws.ToString(i.ESInstanceDetails.InstanceSize), aws.ToString(i.ESInstanceDetails.Region)
	case i.RedshiftInstanceDetails != nil:
		return aws.ToString(i.RedshiftInstanceDetails.NodeType), aws.ToString(i.RedshiftInstanceDetails.Region)
	case i.MemoryDBInstanceDetails != nil:
		return aws.ToString(i.MemoryDBInstanceDetails.NodeType), aws.ToString(i.MemoryDBInstanceDetails.Region)
	}
	return "", ""
}

// ParseTerms and friends validate the tenant's settings.
func ValidTerm(s string) bool {
	return slicesContains(types.TermInYears("").Values(), types.TermInYears(s))
}

// ValidPaymentOption accepts the options Cost Explorer recommends for (not the legacy utilization ones).
func ValidPaymentOption(s string) bool {
	return s == string(types.PaymentOptionNoUpfront) || s == string(types.PaymentOptionPartialUpfront) || s == string(types.PaymentOptionAllUpfront)
}

// LookbackFromDays maps 7, 30 or 60 days to Cost Explorer's lookback.
func LookbackFromDays(d int) (types.LookbackPeriodInDays, bool) {
	switch d {
	case 7:
		return types.LookbackPeriodInDaysSevenDays, true
	case 30:
		return types.LookbackPeriodInDaysThirtyDays, true
	case 60:
		return types.LookbackPeriodInDaysSixtyDays, true
	}
	return "", false
}

func slicesContains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
