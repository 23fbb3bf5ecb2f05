package httpapi

import (
	"net/http"
	"net/http/httptest"
)

func newRequestWithHeader(name, value string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set(name, value)
	return r
}
