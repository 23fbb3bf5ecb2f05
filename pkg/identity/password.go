package identity

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// PasswordPolicy is the account's password policy, as IAM enforces it on console passwords.
type PasswordPolicy struct {
	MinimumLength    int  `json:"minimumLength"`
	RequireUppercase bool `json:"requireUppercase"`
	RequireLowercase bool `json:"requireLowercase"`
	RequireNumbers   bool `json:"requireNumbers"`
	RequireSymbols   bool `json:"requireSymbols"`
	// ThreeOfFour is AWS's default policy (no custom policy set): at least three of upper case, lower case,
	// digits and symbols.
	ThreeOfFour bool `json:"threeOfFourCharacterTypes"`
	// Custom is false when the account has no password policy and AWS's default applies.
	Custom bool `json:"custom"`
}

// DefaultPasswordPolicy is what AWS applies to an account without a password policy: at least 8 characters, of
// at least three of the four character types.
var DefaultPasswordPolicy = PasswordPolicy{MinimumLength: 8, ThreeOfFour: true}

// MaxPasswordLength is IAM's limit.
const MaxPasswordLength = 128

// passwordSymbols are the non-alphanumeric characters IAM counts as symbols.
const passwordSymbols = "!@#$%^&*()_+-=[]{}|'"

// readPasswordPolicy reads the account's policy (NoSuchEntity: AWS's default applies).
func readPasswordPolicy(ctx context.Context, c IAM) (PasswordPolicy, error) {
	out, err := c.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	var missing *iamtypes.NoSuchEntityException
	if errors.As(err, &missing) {
		return DefaultPasswordPolicy, nil
	}
	if err != nil {
		return PasswordPolicy{}, err
	}
	p := out.PasswordPolicy
	return PasswordPolicy{MinimumLength: int(aws.ToInt32(p.MinimumPasswordLength)), RequireUppercase: p.RequireUppercaseCharacters,
		RequireLowercase: p.RequireLowercaseCharacters, RequireNumbers: p.RequireNumbers, RequireSymbols: p.RequireSymbols, Custom: true}, nil
}

// Check lists every rule the password breaks, never quoting the password.
func (p PasswordPolicy) Check(password, userName string) []string {
	var broken []string
	min := max(p.MinimumLength, 1)
	if n := len([]rune(password)); n < min {
		broken = append(broken, fmt.Sprintf("must be at least %d characters", min))
	} else if n > MaxPasswordLength {
		broken = append(broken, fmt.Sprintf("must be at most %d characters", MaxPasswordLength))
	}
	var upper, lower, digit, symbol, other bool
	for _, r := range password {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune(passwordSymbols, r):
			symbol = true
		case r < 0x20 || r > 0x7E:
			other = true
		default:
			symbol = true // other printable ASCII punctuation and the space count as symbols too
		}
	}
	if other {
		broken = append(broken, "must contain only printable ASCII characters (IAM accepts no others)")
	}
	if p.RequireUppercase && !upper {
		broken = append(broken, "must contain an upper-case letter (A-Z)")
	}
	if p.RequireLowercase && !lower {
		broken = append(broken, "must contain a lower-case letter (a-z)")
	}
	if p.RequireNumbers && !digit {
		broken = append(broken, "must contain a digit (0-9)")
	}
	if p.RequireSymbols && !symbol {
		broken = append(broken, "must contain a symbol such as "+passwordSymbols)
	}
	if p.ThreeOfFour {
		kinds := 0
		for _, k := range []bool{upper, lower, digit, symbol} {
			if k {
				kinds++
			}
		}
		if kinds < 3 {
			broken = append(broken, "must mix at least three of: upper-case letters, lower-case letters, digits and symbols (the account's default password policy)")
		}
	}
	if userName != "" && strings.EqualFold(password, userName) {
		broken = append(broken, "must not be the user name")
	}
	return broken
}

// Generate returns a random password that satisfies the policy: at least 20 characters, every character type.
func (p PasswordPolicy) Generate() (string, error) {
	n := min(max(p.MinimumLength, 20), MaxPasswordLength)
	classes := []string{"ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "!@#$%^&*()_+-=[]{}|"}
	all := strings.Join(classes, "")
	out := make([]byte, 0, n)
	pick := func(set string) error {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return err
		}
		out = append(out, set[i.Int64()])
		return nil
	}
	for _, c := range classes {
		if err := pick(c); err != nil {
			return "", err
		}
	}
	for len(out) < n {
		if err := pick(all); err != nil {
			return "", err
		}
	}
	// Shuffle, so the first four characters are not always one of each class in order.
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}
