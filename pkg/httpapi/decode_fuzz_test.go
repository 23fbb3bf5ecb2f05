package httpapi

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzDecodeCreateAccount: any body either decodes into the request or yields a 400/413 explanation; never a
// panic, never a 500.
func FuzzDecodeCreateAccount(f *testing.F) {
	for _, s := range []string{
		`{"name":"Payer","accountId":"123456789012","type":"management","region":"us-east-1"}`,
		`{"name":"x","costSync":true,"managementAccountId":"111111111111"}`,
		`{"accountId":123456789012}`, `{"unknown":1}`, `[]`, `null`, `{}`, `{"name":"a"}{}`, `{"name":"\ud800"}`, ``,
		`{"name":` + strings.Repeat(`[`, 100),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req CreateAccountRequest
		err := decodeStrict(bytes.NewReader(body), &req)
		if err == nil {
			return
		}
		var re *requestError
		var se *statusError
		if !errors.As(err, &re) && !errors.As(err, &se) {
			t.Fatalf("decode error %T (%v) is not a client error", err, err)
		}
		if p := problemFor(err); p.Status != 400 && p.Status != 413 {
			t.Fatalf("status %d for %q", p.Status, body)
		}
	})
}

// FuzzIfMatch: If-Match parsing never yields a weak tag nor an empty one.
func FuzzIfMatch(f *testing.F) {
	for _, s := range []string{`"1"`, `W/"1"`, `*`, `"1", "2"`, ``, `,,`, `W/"1", "2"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := newRequestWithHeader("If-Match", h)
		for _, tag := range ifMatch(r) {
			if tag == "" || strings.HasPrefix(tag, "W/") {
				t.Fatalf("If-Match %q yielded tag %q", h, tag)
			}
		}
	})
}
