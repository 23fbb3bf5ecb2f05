// Package cursor turns DynamoDB's LastEvaluatedKey into an opaque, tamper-proof pagination cursor.
//
// A cursor is the key's string attributes plus a scope, serialised and signed with HMAC-SHA256. The scope binds a
// cursor to the tenant and the query that produced it, so a cursor copied from another tenant's listing, or from a
// listing with other filters, is refused instead of leaking or skipping items.
package cursor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ErrInvalid is returned for a cursor that was not issued by this signer for this scope, or that was altered.
var ErrInvalid = errors.New("the cursor is invalid, expired or belongs to another listing; start again without a cursor")

// MinKeyBytes is the shortest signing key accepted.
const MinKeyBytes = 32

// Signer issues and checks cursors with one secret key.
type Signer struct {
	key []byte
}

// NewSigner returns a signer for key, which must be at least MinKeyBytes long.
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("cursor signing key has %d bytes, want at least %d", len(key), MinKeyBytes)
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

type payload struct {
	Scope string            `json:"s"`
	Key   map[string]string `json:"k"`
}

// Encode returns the cursor for lastKey within scope, or "" when lastKey is empty (the listing is complete).
func (s *Signer) Encode(scope string, lastKey map[string]types.AttributeValue) (string, error) {
	if len(lastKey) == 0 {
		return "", nil
	}
	p := payload{Scope: scope, Key: make(map[string]string, len(lastKey))}
	for name, v := range lastKey {
		str, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			// Every key attribute in tables.All is a string; anything else is a programming error.
			return "", fmt.Errorf("cursor: key attribute %q is %T, want a string", name, v)
		}
		p.Key[name] = str.Value
	}
	body, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(append(s.mac(body), body...)), nil
}

// Decode checks a cursor against scope and returns the ExclusiveStartKey it stands for.
// An empty cursor decodes to a nil key: start from the beginning.
func (s *Signer) Decode(scope, cursor string) (map[string]types.AttributeValue, error) {
	if cursor == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(raw) <= sha256.Size {
		return nil, ErrInvalid
	}
	sig, body := raw[:sha256.Size], raw[sha256.Size:]
	if !hmac.Equal(sig, s.mac(body)) {
		return nil, ErrInvalid
	}
	var p payload
	if err := json.Unmarshal(body, &p); err != nil || p.Scope != scope || len(p.Key) == 0 {
		return nil, ErrInvalid
	}
	key := make(map[string]types.AttributeValue, len(p.Key))
	for name, v := range p.Key {
		key[name] = &types.AttributeValueMemberS{Value: v}
	}
	return key, nil
}

func (s *Signer) mac(body []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(body)
	return m.Sum(nil)
}
