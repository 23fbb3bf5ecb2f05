package cursor

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func signer(t testing.TB, b byte) *Signer {
	s, err := NewSigner(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var lastKey = map[string]types.AttributeValue{
	"pk": &types.AttributeValueMemberS{Value: "TENANT#acme"},
	"sk": &types.AttributeValueMemberS{Value: "ACCOUNT#123456789012"},
}

func TestRoundTrip(t *testing.T) {
	s := signer(t, 1)
	c, err := s.Encode("accounts|acme", lastKey)
	if err != nil || c == "" {
		t.Fatalf("Encode = %q, %v", c, err)
	}
	if strings.Contains(c, "acme") || strings.Contains(c, "ACCOUNT") {
		t.Errorf("cursor %q shows its key in clear base64url? it must at least not be readable as is", c)
	}
	got, err := s.Decode("accounts|acme", c)
	if err != nil {
		t.Fatal(err)
	}
	if got["sk"].(*types.AttributeValueMemberS).Value != "ACCOUNT#123456789012" || len(got) != 2 {
		t.Errorf("Decode = %v", got)
	}
}

func TestEmpty(t *testing.T) {
	s := signer(t, 1)
	if c, err := s.Encode("x", nil); c != "" || err != nil {
		t.Errorf("Encode(nil) = %q, %v; want empty (last page)", c, err)
	}
	if k, err := s.Decode("x", ""); k != nil || err != nil {
		t.Errorf("Decode(\"\") = %v, %v; want start", k, err)
	}
}

func TestRefused(t *testing.T) {
	s := signer(t, 1)
	good, _ := s.Encode("accounts|acme", lastKey)
	raw := []byte(good)
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)/2] ^= 1
	tests := map[string]struct {
		signer *Signer
		scope  string
		cursor string
	}{
		"other scope (another tenant's cursor)": {s, "accounts|globex", good},
		"other key (another deployment)":        {signer(t, 2), "accounts|acme", good},
		"tampered":                              {s, "accounts|acme", string(flipped)},
		"truncated":                             {s, "accounts|acme", good[:10]},
		"not base64":                            {s, "accounts|acme", "!!!"},
	}
	for name, tt := range tests {
		if _, err := tt.signer.Decode(tt.scope, tt.cursor); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Decode error = %v, want ErrInvalid", name, err)
		}
	}
}

func TestShortKey(t *testing.T) {
	if _, err := NewSigner(make([]byte, 16)); err == nil {
		t.Error("NewSigner accepted a 16-byte key")
	}
}

func TestNonStringKey(t *testing.T) {
	_, err := signer(t, 1).Encode("x", map[string]types.AttributeValue{"n": &types.AttributeValueMemberN{Value: "1"}})
	if err == nil {
		t.Error("Encode accepted a number key attribute")
	}
}

// FuzzDecode: arbitrary input never panics and, unless it is a cursor this signer issued for this scope, is refused.
func FuzzDecode(f *testing.F) {
	s := signer(f, 3)
	good, _ := s.Encode("scope", lastKey)
	for _, c := range []string{good, "", "AAAA", good + "A", strings.Repeat("A", 100)} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, c string) {
		k, err := s.Decode("scope", c)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Decode(%q) error %v is not ErrInvalid", c, err)
			}
			return
		}
		if c != "" && len(k) == 0 {
			t.Fatalf("Decode(%q) accepted an empty key", c)
		}
	})
}
