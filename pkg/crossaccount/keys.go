package crossaccount

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gangplank/gangplank/pkg/awsid"
)

// The identity integration enters an account either through the account's role (the preferred way) or through an
// IAM user's access key the customer handed over (RoleUp's way, for customers who cannot run a stack). The Door
// chooses between them (EnterIdentity), from the integration's record, and is the only reader of the stored key.

// AccessKey is an IAM user's long-lived access key. Its secret half never leaves the process except into Secrets
// Manager: it formats as the key id only, in fmt and in slog alike.
type AccessKey struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

// String shows the key id only.
func (k AccessKey) String() string { return k.AccessKeyID + "/<secret hidden>" }

// GoString shows the key id only (%#v).
func (k AccessKey) GoString() string { return k.String() }

// LogValue shows the key id only.
func (k AccessKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// SecretValue is the key as stored in its secret.
func (k AccessKey) SecretValue() string {
	b, _ := json.Marshal(struct {
		ID     string `json:"accessKeyId"`
		Secret string `json:"secretAccessKey"`
	}{k.AccessKeyID, k.SecretAccessKey})
	return string(b)
}

func parseSecretValue(s string) (AccessKey, error) {
	var v struct {
		ID     string `json:"accessKeyId"`
		Secret string `json:"secretAccessKey"`
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil || v.ID == "" || v.Secret == "" {
		return AccessKey{}, errors.New("the stored key is not in Gangplank's form")
	}
	return AccessKey{AccessKeyID: v.ID, SecretAccessKey: v.Secret}, nil
}

// Way is how an account's identity integration enters it.
type Way struct {
	// Key is true when the integration holds an access key; SecretID names its secret.
	Key      bool
	SecretID string
}

// Ways reads the way of an account's identity integration (ErrNoWay: it has none yet, so the role is used).
type Ways interface {
	IdentityWay(ctx context.Context, tenantID, accountID string) (Way, error)
}

// ErrNoWay is what Ways returns for an account without an identity integration.
var ErrNoWay = errors.New("no identity integration")

// SecretReader reads a secret's value: the stored keys, here and nowhere else (over Secrets Manager:
// pkg/awssecrets.Reader).
type SecretReader interface {
	// SecretValue returns the value of the secret's version that carries the staging label stage
	// (ErrSecretNotFound: no such secret, or no version with that label).
	SecretValue(ctx context.Context, secretID, stage string) (string, error)
}

// ErrSecretNotFound is what a SecretReader returns for a secret, or a staged version of it, that does not exist.
var ErrSecretNotFound = errors.New("no such secret")

// Staging labels of a key's secret: the key in use, and a new key during a rotation.
const (
	StageCurrent = "AWSCURRENT"
	StagePending = "AWSPENDING"
)

// WithKeys lets the door enter accounts through identity integrations' stored keys. A function whose wiring does
// not read the keys leaves it unset, and a key integration then fails to enter with ErrKeysNotWired.
func (d *Door) WithKeys(ways Ways, secrets SecretReader) *Door {
	d.ways, d.secrets = ways, secrets
	return d
}

// ErrKeysNotWired: a function that may not read stored keys tried to enter through one.
var ErrKeysNotWired = errors.New("this function may not read the identity integrations' keys (platform.Needs.IdentityKeys)")

// Ways a session entered by.
const (
	ViaRole = "role"
	ViaKey  = "key"
)

// EnterIdentity enters the account for an identity capability (IAM users): through the integration's stored key
// when it holds one, and otherwise through the account's role, as Enter does. The account must exist in the
// tenant; the role way also requires it to be usable, while a key needs no role.
func (d *Door) EnterIdentity(ctx context.Context, tenantID, accountID, purpose string) (Session, error) {
	return d.enterIdentity(ctx, tenantID, accountID, purpose, StageCurrent)
}

// EnterPendingKey enters with the key a rotation has stored but not yet switched to (secretsmanager's AWSPENDING
// version), to prove it works before the switch.
func (d *Door) EnterPendingKey(ctx context.Context, tenantID, accountID, purpose string) (Session, error) {
	return d.enterIdentity(ctx, tenantID, accountID, purpose, StagePending)
}

func (d *Door) enterIdentity(ctx context.Context, tenantID, accountID, purpose, stage string) (Session, error) {
	if d.ways == nil {
		// Only a function that may read the keys knows which way an integration enters.
		return Session{}, ErrKeysNotWired
	}
	way, err := d.ways.IdentityWay(ctx, tenantID, accountID)
	if err != nil && !errors.Is(err, ErrNoWay) {
		return Session{}, err
	}
	if !way.Key {
		if stage != StageCurrent {
			return Session{}, errors.New("the identity integration holds no key to rotate")
		}
		s, err := d.Enter(ctx, tenantID, accountID, purpose)
		s.Via = ViaRole
		return s, err
	}
	a, err := d.accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return Session{}, err
	}
	value, err := d.secrets.SecretValue(ctx, way.SecretID, stage)
	if err != nil {
		if errors.Is(err, ErrSecretNotFound) {
			return Session{}, &KeyMissingError{AccountID: accountID, Stage: stage}
		}
		return Session{}, fmt.Errorf("read the stored key of account %s: %w", accountID, err)
	}
	key, err := parseSecretValue(value)
	if err != nil {
		return Session{}, fmt.Errorf("account %s: %w", accountID, err)
	}
	return Session{Account: a, Config: d.keyConfig(key), Via: ViaKey, AccessKeyID: key.AccessKeyID}, nil
}

// KeyMissingError: the integration names a key whose secret (or pending version) is gone.
type KeyMissingError struct {
	AccountID, Stage string
}

func (e *KeyMissingError) Error() string {
	if e.Stage == StagePending {
		return fmt.Sprintf("account %s: no rotation is in progress", e.AccountID)
	}
	return fmt.Sprintf("the access key stored for account %s is gone: enter the key again (PUT /v1/accounts/%s/iam/key)", e.AccountID, e.AccountID)
}

// keyConfig acts as the key's user: the platform's configuration (endpoints, retries) with only the key's
// credentials.
func (d *Door) keyConfig(k AccessKey) aws.Config {
	cfg := d.connector.platform.Copy()
	cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, ""))
	return cfg
}

// KeyIdentity is who an access key proved to be.
type KeyIdentity struct {
	AccountID string
	// UserARN and UserName are the key's IAM user.
	UserARN, UserName string
	// Config acts as the key's user.
	Config aws.Config
}

// KeyError is a key refused on entry, with the reason to show the customer.
type KeyError struct {
	Reason string
	Cause  error
}

func (e *KeyError) Error() string { return e.Reason }
func (e *KeyError) Unwrap() error { return e.Cause }

// VerifyKey checks a key a customer hands over for account accountID: AWS must know it (GetCallerIdentity), and it
// must be an IAM user's key in that very account (not another account's, not the root user's, not temporary
// credentials). It returns who the key is and a configuration acting as it, for the caller's probes.
func (d *Door) VerifyKey(ctx context.Context, accountID string, k AccessKey) (KeyIdentity, error) {
	cfg := d.keyConfig(k)
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode() == "InvalidClientTokenId" || apiErr.ErrorCode() == "SignatureDoesNotMatch" ||
			apiErr.ErrorCode() == "AccessDenied" || apiErr.ErrorCode() == "ExpiredToken") {
			return KeyIdentity{}, &KeyError{Cause: err, Reason: "AWS does not accept this access key (" + apiErr.ErrorCode() +
				"): check the key id and secret, and that the key is active"}
		}
		return KeyIdentity{}, fmt.Errorf("check the access key with STS: %w", err)
	}
	arn := aws.ToString(out.Arn)
	if got := aws.ToString(out.Account); got != accountID {
		return KeyIdentity{}, &KeyError{Reason: fmt.Sprintf("the access key belongs to account %s, not to account %s: "+
			"give a key of an IAM user in account %s", got, accountID, accountID)}
	}
	parsed, err := awsid.ParseARN(arn)
	if err != nil || parsed.Service != "iam" || !strings.HasPrefix(parsed.Resource, "user/") {
		what := "the root user"
		if strings.Contains(arn, ":assumed-role/") || strings.Contains(arn, ":federated-user/") {
			what = "temporary credentials"
		}
		return KeyIdentity{}, &KeyError{Reason: fmt.Sprintf("the access key is %s's (%s): give a long-lived key of an IAM user "+
			"with IAMReadOnlyAccess or IAMFullAccess instead", what, arn)}
	}
	name := parsed.Resource[strings.LastIndexByte(parsed.Resource, '/')+1:]
	return KeyIdentity{AccountID: accountID, UserARN: arn, UserName: name, Config: cfg}, nil
}
