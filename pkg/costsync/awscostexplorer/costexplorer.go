// Package awscostexplorer reads AWS Cost Explorer for the cost sync over the SDK's client. It is the only package of
// the cost sync that links the Cost Explorer SDK (whose init every function linking it pays at each cold start), so
// only the functions that read Cost Explorer link it.
package awscostexplorer

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

	"github.com/gangplank/gangplank/pkg/awsx"
	"github.com/gangplank/gangplank/pkg/costsync"
)

// Client reads Cost Explorer through one payer's session.
type Client struct {
	api *costexplorer.Client
}

var _ costsync.CostExplorer = Client{}

// New builds the client over a payer's configuration (costsync.Service.CostExplorer): in us-east-1, where Cost
// Explorer's only endpoint is, waiting out throttling with backoff up to maxBackoff.
func New(cfg aws.Config, maxBackoff time.Duration) costsync.CostExplorer {
	return Client{api: costexplorer.NewFromConfig(cfg, func(o *costexplorer.Options) {
		o.Region = "us-east-1"
		o.Retryer = awsx.PatientRetryer(6, maxBackoff, "LimitExceededException", "ThrottlingException", "RequestLimitExceeded")
		o.RetryMaxAttempts = 6 // over any attempts setting of the shared configuration
	})}
}

// ReservationRecommendations is one GetReservationPurchaseRecommendation.
func (c Client) ReservationRecommendations(ctx context.Context, svc costsync.ReservationService, q costsync.Query, pageToken string) (costsync.ReservationPage, error) {
	in := &costexplorer.GetReservationPurchaseRecommendationInput{
		Service: aws.String(svc.Name), AccountScope: types.AccountScopeLinked, LookbackPeriodInDays: lookback(q.LookbackDays),
		TermInYears: types.TermInYears(q.Term), PaymentOption: types.PaymentOption(q.PaymentOption), PageSize: q.PageSize,
		NextPageToken: token(pageToken),
	}
	if svc.OfferingClass != "" {
		in.ServiceSpecification = &types.ServiceSpecification{EC2Specification: &types.EC2Specification{OfferingClass: types.OfferingClass(svc.OfferingClass)}}
	}
	out, err := c.api.GetReservationPurchaseRecommendation(ctx, in)
	if err != nil {
		return costsync.ReservationPage{}, translate(err, "ce:GetReservationPurchaseRecommendation")
	}
	page := costsync.ReservationPage{NextPageToken: aws.ToString(out.NextPageToken)}
	if out.Metadata != nil {
		page.GeneratedAt = parseTime(out.Metadata.GenerationTimestamp)
	}
	for _, r := range out.Recommendations {
		for _, d := range r.RecommendationDetails {
			page.Details = append(page.Details, reservation(d))
		}
	}
	return page, nil
}

// SavingsPlansRecommendations is one GetSavingsPlansPurchaseRecommendation.
func (c Client) SavingsPlansRecommendations(ctx context.Context, planType string, q costsync.Query, pageToken string) (costsync.SavingsPlansPage, error) {
	out, err := c.api.GetSavingsPlansPurchaseRecommendation(ctx, &costexplorer.GetSavingsPlansPurchaseRecommendationInput{
		SavingsPlansType: types.SupportedSavingsPlansType(planType), AccountScope: types.AccountScopeLinked,
		LookbackPeriodInDays: lookback(q.LookbackDays), TermInYears: types.TermInYears(q.Term),
		PaymentOption: types.PaymentOption(q.PaymentOption), PageSize: q.PageSize, NextPageToken: token(pageToken),
	})
	if err != nil {
		return costsync.SavingsPlansPage{}, translate(err, "ce:GetSavingsPlansPurchaseRecommendation")
	}
	page := costsync.SavingsPlansPage{NextPageToken: aws.ToString(out.NextPageToken)}
	if out.Metadata != nil {
		page.GeneratedAt = parseTime(out.Metadata.GenerationTimestamp)
	}
	if rec := out.SavingsPlansPurchaseRecommendation; rec != nil {
		for _, d := range rec.SavingsPlansPurchaseRecommendationDetails {
			var family, region string
			if d.SavingsPlansDetails != nil {
				family, region = aws.ToString(d.SavingsPlansDetails.InstanceFamily), aws.ToString(d.SavingsPlansDetails.Region)
			}
			page.Details = append(page.Details, costsync.SavingsPlanDetail{AccountID: aws.ToString(d.AccountId), InstanceFamily: family,
				Region: region, HourlyCommitment: num(d.HourlyCommitmentToPurchase), UpfrontCost: num(d.UpfrontCost),
				EstimatedMonthlySavings: num(d.EstimatedMonthlySavingsAmount), Currency: aws.ToString(d.CurrencyCode)})
		}
	}
	return page, nil
}

// MonthlyCosts is one GetCostAndUsage: monthly, net unblended, at payer level.
func (c Client) MonthlyCosts(ctx context.Context, start, end time.Time, pageToken string) ([]costsync.MonthlySpend, string, error) {
	out, err := c.api.GetCostAndUsage(ctx, &costexplorer.GetCostAndUsageInput{
		TimePeriod:  &types.DateInterval{Start: aws.String(start.Format(time.DateOnly)), End: aws.String(end.Format(time.DateOnly))},
		Granularity: types.GranularityMonthly, Metrics: []string{"NetUnblendedCost"}, NextPageToken: token(pageToken),
	})
	if err != nil {
		return nil, "", translate(err, "ce:GetCostAndUsage")
	}
	months := make([]costsync.MonthlySpend, 0, len(out.ResultsByTime))
	for _, r := range out.ResultsByTime {
		var month string
		if r.TimePeriod != nil {
			month = aws.ToString(r.TimePeriod.Start)
		}
		months = append(months, costsync.MonthlySpend{Month: month[:min(len(month), 7)], Amount: num(r.Total["NetUnblendedCost"].Amount)})
	}
	return months, aws.ToString(out.NextPageToken), nil
}

// translate turns the answers the sync acts on into the cost sync's errors: a role without the permission, a payer
// without data yet (the SDK's error kept behind it).
func translate(err error, action string) error {
	var dataUnavailable *types.DataUnavailableException
	if errors.As(err, &dataUnavailable) {
		return fmt.Errorf("%w: %w", costsync.ErrDataUnavailable, err)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode() == "AccessDeniedException" || apiErr.ErrorCode() == "AccessDenied") {
		return &costsync.AccessDeniedError{Action: action, Message: apiErr.ErrorMessage()}
	}
	return err
}

func reservation(d types.ReservationPurchaseRecommendationDetail) costsync.ReservationDetail {
	instance, region := instanceOf(d)
	quantity := num(d.RecommendedNumberOfInstancesToPurchase)
	if d.ReservedCapacityDetails != nil {
		quantity = num(d.RecommendedNumberOfCapacityUnitsToPurchase)
	}
	return costsync.ReservationDetail{AccountID: aws.ToString(d.AccountId), InstanceType: instance, Region: region, Quantity: quantity,
		UpfrontCost: num(d.UpfrontCost), RecurringMonthlyCost: num(d.RecurringStandardMonthlyCost),
		EstimatedMonthlySavings: num(d.EstimatedMonthlySavingsAmount), BreakEvenMonths: num(d.EstimatedBreakEvenInMonths),
		Currency: aws.ToString(d.CurrencyCode)}
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

// lookback maps the sync's 7, 30 or 60 days to Cost Explorer's lookback (30 days otherwise).
func lookback(days int) types.LookbackPeriodInDays {
	switch days {
	case 7:
		return types.LookbackPeriodInDaysSevenDays
	case 60:
		return types.LookbackPeriodInDaysSixtyDays
	}
	return types.LookbackPeriodInDaysThirtyDays
}

func parseTime(s *string) time.Time {
	t, _ := time.Parse(time.RFC3339, aws.ToString(s))
	return t
}

func num(s *string) float64 {
	f, _ := strconv.ParseFloat(aws.ToString(s), 64)
	return f
}

func token(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
