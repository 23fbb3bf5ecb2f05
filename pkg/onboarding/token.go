package onboarding

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
)

// tokenPrefix makes activation tokens recognisable in logs and secret scanners.
const tokenPrefix = "gpa_"

// DefaultLinkTTL is how long an activation link works: a week to get the stack launched.
const DefaultLinkTTL = 7 * 24 * time.Hour

// newToken returns a fresh activation token (256 random bits) and the hash that is all Gangplank stores.
func newToken() (token, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

// hashToken is SHA-256: the token carries 256 random bits, so a fast hash is enough to make the stored value
// useless to anyone who reads the table.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func sameHash(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// tokenVerdict is what a presented token turns out to be.
type tokenVerdict int

const (
	tokenValid tokenVerdict = iota
	// tokenUsedBySameStack: the link already activated the account from this very stack (a retry or an update).
	tokenUsedBySameStack
	tokenUnknown
	tokenReplaced
	tokenUsed
	tokenExpired
	tokenWrongType
)

// authentic reports whether the token is the account's current link, so a failure may be recorded on the account.
// Unknown, replaced or spent tokens prove nothing about who sent them and must not change the account.
func (v tokenVerdict) authentic() bool {
	return v == tokenValid || v == tokenUsedBySameStack || v == tokenExpired || v == tokenWrongType
}

// checkToken judges a presented token against the account's link.
func checkToken(link *accounts.ActivationLink, token string, claimedType accounts.Type, stackID string, now time.Time) tokenVerdict {
	if link == nil || token == "" {
		return tokenUnknown
	}
	h := hashToken(token)
	switch {
	case sameHash(h, link.TokenHash):
	case link.ReplacedHash != "" && sameHash(h, link.ReplacedHash):
		return tokenReplaced
	default:
		return tokenUnknown
	}
	switch {
	case link.UsedAt != nil && link.UsedByStack == stackID:
		return tokenUsedBySameStack
	case link.UsedAt != nil:
		return tokenUsed
	case !now.Before(link.ExpiresAt):
		return tokenExpired
	case link.AccountType != claimedType:
		return tokenWrongType
	}
	return tokenValid
}

// tokenReason explains a refused token to the customer, in their CloudFormation console.
func tokenReason(v tokenVerdict, link *accounts.ActivationLink, claimedType accounts.Type) string {
	day := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
	switch v {
	case tokenUnknown:
		return "This activation link is not valid for this account: it was not issued by Gangplank for it. " +
			"Open the account in Gangplank and use the link shown there."
	case tokenReplaced:
		return fmt.Sprintf("This activation link was replaced by a newer one on %s. Use the newest link from Gangplank.", day(*link.ReplacedAt))
	case tokenUsed:
		return fmt.Sprintf("This activation link was already used on %s by another stack. Create a new link in Gangplank "+
			"to connect the account again.", day(*link.UsedAt))
	case tokenExpired:
		return fmt.Sprintf("This activation link expired on %s; create a new one in Gangplank and launch the stack again.", day(link.ExpiresAt))
	case tokenWrongType:
		return fmt.Sprintf("This activation link was made for a %s account, but the stack says %s. Launch the stack "+
			"from the link Gangplank shows for this account, without changing AccountType.", link.AccountType, claimedType)
	}
	return ""
}
