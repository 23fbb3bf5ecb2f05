package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gangplank/gangplank/pkg/activation"
)

func newRequestWithHeader(name, value string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set(name, value)
	return r
}

// TestActivationIDsPassThePathCheck: the path check for activation ids follows the ids activation.ID makes; if
// their form changes, change activationIDPattern with it.
func TestActivationIDsPassThePathCheck(t *testing.T) {
	for _, key := range []string{"", "k1", strings.Repeat("k", MaxIdempotencyKey)} {
		id := activation.ID("acme", "123456789012", key, activation.Request{All: true, OUIDs: []string{"r-ab12"}})
		if !activationIDPattern.MatchString(id) {
			t.Errorf("activation.ID made %q, which the path check refuses", id)
		}
	}
}
