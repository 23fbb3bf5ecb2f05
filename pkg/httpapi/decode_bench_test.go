package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/gangplank/gangplank/pkg/discovery"
)

// BenchmarkDecode measures the strict decoder (UTF-8, surrogates, shape walk, then encoding/json) against a plain
// encoding/json decode of the same body: the price of refusing what encoding/json lets through. Two bodies: a
// typical create-account request and discovery settings with 2,000 OU ids (38 KB; the API reads up to 64 KiB).
func BenchmarkDecode(b *testing.B) {
	small := []byte(`{"name":"Payer (EU)","accountId":"123456789012","type":"management","region":"eu-west-1","accessLevel":"resources","costSync":true}`)
	ids := make([]string, 0, 2000)
	for i := 0; len(ids) < cap(ids); i++ {
		ids = append(ids, fmt.Sprintf("ou-ab12-%08d", i))
	}
	large, _ := json.Marshal(map[string]any{"includeOuIds": ids[:1000], "excludeOuIds": ids[1000:2000], "memberRoleName": "OrganizationAccountAccessRole"})
	for _, tc := range []struct {
		name string
		body []byte
		dst  func() any
	}{
		{"create account", small, func() any { return &CreateAccountRequest{} }},
		{"discovery settings of 2000 OU ids", large, func() any { return &discovery.Settings{} }},
	} {
		b.Run(tc.name+"/strict", func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			for b.Loop() {
				if err := decodeStrict(bytes.NewReader(tc.body), tc.dst()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/encoding-json", func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			for b.Loop() {
				if err := json.NewDecoder(bytes.NewReader(tc.body)).Decode(tc.dst()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
