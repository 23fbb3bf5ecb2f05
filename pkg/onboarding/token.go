package onboarding

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
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

// stackSuffixLen is the length of a link's stack-name suffix: 16 base32 characters, 80 bits.
const stackSuffixLen = 16

var stackSuffixEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// linkStackName is the stack name a link's launch material gives: StackName, a dash, and a suffix derived from the
// token (80 bits nobody can guess without the token). Only the suffix's hash is stored, so a stack notification is
// about this link's stack exactly when it names a stack whose suffix hashes to it.
func linkStackName(token string) (name, suffixHash string) {
	sum := sha256.Sum256([]byte("gangplank stack name\x00" + token))
	suffix := stackSuffixEncoding.EncodeToString(sum[:10])
	return StackName + "-" + suffix, hashToken(suffix)
}

// stackNameSuffix returns the suffix of a stack name in linkStackName's form.
func stackNameSuffix(name string) (string, bool) {
	suffix, ok := strings.CutPrefix(name, StackName+"-")
	if !ok || len(suffix) != stackSuffixLen {
		return "", false
	}
	for _, r := range suffix {
		if !(r >= 'a' && r <= 'z' || r >= '2' && r <= '7') {
			return "", false
		}
	}
	return suffix, true
}

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
	// tokenConnectedStack: the token the stack that connected the account carries, presented by that stack.
	tokenConnectedStack
)

// authentic reports whether the token is the account's current link, so a failure may be recorded on the account.
// Unknown, replaced or spent tokens prove nothing about who sent them and must not change the account.
func (v tokenVerdict) authentic() bool {
	return v == tokenValid || v == tokenUsedBySameStack || v == tokenExpired || v == tokenWrongType || v == tokenConnectedStack
}

// connects reports whether the token may connect the account (or keep it connected).
func (v tokenVerdict) connects() bool {
	return v == tokenValid || v == tokenUsedBySameStack || v == tokenConnectedStack
}

// connectedStackToken reports whether token is the one the stack that connected the account carries, presented by
// that very stack. Accounts connected before the stack's token was recorded fall back to the link that stack used.
func connectedStackToken(a accounts.Account, token, stackID string) bool {
	if token == "" || a.StackID == "" || a.StackID != stackID {
		return false
	}
	h := hashToken(token)
	if a.StackTokenHash != "" {
		return sameHash(h, a.StackTokenHash)
	}
	return a.Link != nil && a.Link.UsedByStack == stackID && sameHash(h, a.Link.TokenHash)
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

// unknownTokenReason answers every request whose token proves nothing about an account Gangplank holds: the same
// words whether or not the tenant holds the account the stack runs in, so the answer reveals nothing about the
// tenant's accounts.
const unknownTokenReason = "This activation link is not valid for the account this stack runs in: Gangplank did not issue it for " +
	"that account. Launch the stack in the account the link was made for, from the newest link Gangplank shows for it."

// tokenReason explains a refused token to the customer, in their CloudFormation console.
func tokenReason(v tokenVerdict, link *accounts.ActivationLink, claimedType accounts.Type) string {
	day := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
	switch v {
	case tokenUnknown:
		return unknownTokenReason
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
