package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gangplank/gangplank/pkg/activation"
)

func newRequestWithHeader(name, value string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set(name, value)
	return r
}

// TestActivationIDsPassThePathCheck: the path check for activation ids follows the ids activation.NewID makes; if
// their form changes, change activationIDPattern with it.
func TestActivationIDsPassThePathCheck(t *testing.T) {
	for range 100 {
		if id := activation.NewID(); !activationIDPattern.MatchString(id) {
			t.Errorf("activation.NewID made %q, which the path check refuses", id)
		}
	}
}
