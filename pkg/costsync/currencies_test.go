package costsync

import (
	"slices"
	"sort"
	"testing"

	cldr "github.com/bojanz/currency"
)

// TestCurrencyListIsCLDRs: the copied list is exactly the maintained library's (update it with the module:
// regenerate currencies.go from cldr.GetCurrencyCodes()).
func TestCurrencyListIsCLDRs(t *testing.T) {
	want := cldr.GetCurrencyCodes()
	got := iso4217[:]
	sort.Strings(want)
	if !slices.IsSorted(got) || !slices.Equal(got, want) {
		t.Errorf("currencies.go has %d codes, CLDR %s has %d: regenerate it", len(got), cldr.CLDRVersion, len(want))
	}
}
