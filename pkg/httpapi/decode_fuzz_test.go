package httpapi

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzDecodeCreateAccount: any body either decodes into the request or yields a 400/413 explanation; never a
// panic, never a 500.
func FuzzDecodeCreateAccount(f *testing.F) {
	for _, s := range []string{
		`{"name":"Payer","accountId":"123456789012","type":"management","region":"us-east-1"}`,
		`{"name":"x","costSync":true,"managementAccountId":"111111111111"}`,
		`{"accountId":123456789012}`, `{"unknown":1}`, `[]`, `null`, `{}`, `{"name":"a"}{}`, `{"name":"\ud800"}`, ``,
		`{"name":null}`, `{"name":"a","name":"b"}`, `{"Name":"a"}`, "{\"name\":\"\xff\"}", `{"name":"\ud83d\ude80"}`, `[[[[[[[[[[]]]]]]]]]]`,
		`{"name":` + strings.Repeat(`[`, 100),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req CreateAccountRequest
		err := decodeStrict(bytes.NewReader(body), &req)
		if err == nil {
			if !utf8.Valid(body) || bytes.TrimSpace(body)[0] != '{' {
				t.Fatalf("accepted %q", body)
			}
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

// FuzzIfMatch: If-Match parsing either refuses the header or yields "*" alone or strong, quoted tags of visible
// ASCII; never a weak tag nor an empty one.
func FuzzIfMatch(f *testing.F) {
	for _, s := range []string{`"1"`, `W/"1"`, `*`, `"1", "2"`, ``, `,,`, `W/"1", "2"`, `1`, `"1`, `"a"b"`, "\"1\x00\"", `*, "1"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := newRequestWithHeader("If-Match", h)
		tags, err := ifMatch(r)
		if err != nil {
			if p := problemFor(err); p.Status != 400 || len(p.Errors) != 1 || p.Errors[0].Field != "If-Match" {
				t.Fatalf("If-Match %q refused with %+v", h, p)
			}
			return
		}
		for _, tag := range tags {
			if tag == "*" && len(tags) == 1 {
				continue
			}
			if len(tag) < 2 || tag[0] != '"' || tag[len(tag)-1] != '"' || !etagChars(tag[1:len(tag)-1]) {
				t.Fatalf("If-Match %q yielded tag %q", h, tag)
			}
		}
	})
}

// FuzzQueryParams: whatever the query string, the parameters read are known ones, valid UTF-8 without control
// characters, or the request is refused with a 400 naming them.
func FuzzQueryParams(f *testing.F) {
	for _, s := range []string{"limit=5", "limit=5&limit=6", "%zz=1", "status=%ff", "a=1;b=2", "cursor=abc&limit=", "&&", "limit=%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := newRequestWithHeader("X", "")
		r.URL.RawQuery = raw
		params, err := queryParams(r, "limit", "cursor")
		if err != nil {
			if p := problemFor(err); p.Status != 400 {
				t.Fatalf("%q refused with %d", raw, p.Status)
			}
			return
		}
		for k, v := range params {
			if (k != "limit" && k != "cursor") || !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl) {
				t.Fatalf("%q read as %q=%q", raw, k, v)
			}
		}
	})
}
