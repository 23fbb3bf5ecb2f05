package awscostexplorer

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/costexplorer/types"

	"github.com/gangplank/gangplank/pkg/costsync"
)

// TestCoreListsAreTheModels: the cost sync's core names Cost Explorer's values as plain strings (it links no SDK
// types); these are the SDK model's, so a plan type or term the model adds is synced (and counted in CallsPerSync)
// as soon as the SDK is updated, as it was when the core read the model itself.
func TestCoreListsAreTheModels(t *testing.T) {
	tests := []struct {
		name      string
		core, sdk []string
	}{
		{"savings plans types", costsync.SavingsPlansTypes(), stringsOf(types.SupportedSavingsPlansType("").Values())},
		{"terms", costsync.Terms, stringsOf(types.TermInYears("").Values())},
		{"offering classes", []string{costsync.ReservationServices[0].OfferingClass, costsync.ReservationServices[1].OfferingClass},
			stringsOf(types.OfferingClass("").Values())},
	}
	for _, tc := range tests {
		if !slices.Equal(tc.core, tc.sdk) {
			t.Errorf("%s: the core lists %v, the SDK's model %v", tc.name, tc.core, tc.sdk)
		}
	}
	for _, p := range costsync.DefaultOptions.PaymentOptions {
		if !slices.Contains(stringsOf(types.PaymentOption("").Values()), p) {
			t.Errorf("payment option %s is not the model's", p)
		}
	}
	for d, want := range map[int]types.LookbackPeriodInDays{7: types.LookbackPeriodInDaysSevenDays, 30: types.LookbackPeriodInDaysThirtyDays,
		60: types.LookbackPeriodInDaysSixtyDays} {
		if !costsync.ValidLookbackDays(d) || lookback(d) != want {
			t.Errorf("%d days: valid %t, asked as %s, want %s", d, costsync.ValidLookbackDays(d), lookback(d), want)
		}
	}
}

func stringsOf[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}
