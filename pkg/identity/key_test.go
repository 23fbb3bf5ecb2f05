package identity_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/identity"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// addAccount adds the account to tenant acme without connecting a role (a customer who cannot run a stack).
func (w *world) addAccount(t *testing.T, accountID string) {
	t.Helper()
	if err := w.Services.Tenants.Ensure(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Services.Accounts.Create(t.Context(), "acme", accounts.CreateInput{Name: "Account " + accountID, AccountID: accountID,
		Type: "standalone", Region: "us-east-1"}); err != nil {
		t.Fatalf("add account %s: %v", accountID, err)
	}
}

// secrets is Secrets Manager as the platform sees it (the test reads what Gangplank stored).
func (w *world) secrets() *secretsmanager.Client { return secretsmanager.NewFromConfig(w.AWS) }

// TestKeyRefusedOnEntry: a key is checked before anything is stored: AWS must know it, it must be an IAM user's key
// of the very account named, and its user must at least read IAM. A refused key leaves no integration and no secret.
func TestKeyRefusedOnEntry(t *testing.T) {
	w := newWorld(t)
	const acct, other = "520000000001", "520000000009"
	w.addAccount(t, acct)
	foreign := w.userKey(t, other, "their-admin", "IAMFullAccess")
	noIAM := w.userKey(t, acct, "s3-reader", "AmazonS3ReadOnlyAccess")
	deleted := w.userKey(t, acct, "left-the-company", "IAMFullAccess")
	if _, err := w.owner(acct).DeleteAccessKey(t.Context(), &iam.DeleteAccessKeyInput{UserName: aws.String("left-the-company"),
		AccessKeyId: aws.String(deleted.AccessKeyID)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  crossaccount.AccessKey
		want string
	}{
		{"another account's key", foreign, "the access key belongs to account " + other + ", not to account " + acct},
		{"a key whose user may not read IAM", noIAM, "may not read IAM (iam:GetAccountAuthorizationDetails was denied)"},
		{"a deleted key", deleted, "AWS does not accept this access key (InvalidClientTokenId)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.Services.Identity.SetKey(t.Context(), "acme", acct, tt.key)
			var refused *crossaccount.KeyError
			if !errors.As(err, &refused) || !strings.Contains(refused.Reason, tt.want) {
				t.Fatalf("SetKey = %v, want a KeyError saying %q", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.key.SecretAccessKey) {
				t.Errorf("the refusal repeats the secret: %v", err)
			}
		})
	}
	if _, err := w.Services.Identity.Get(t.Context(), "acme", acct); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("a refused key made an integration: %v", err)
	}
	name := w.Config.Identity.SecretPrefix + "/acme/" + acct
	if _, err := w.secrets().DescribeSecret(t.Context(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)}); !isSecretMissing(err) {
		t.Errorf("a refused key was stored: %v", err)
	}
}

// TestKeyIntegration walks RoleUp's way in: a read-only key (IAMReadOnlyAccess) syncs but cannot write, neither
// through Gangplank (409) nor by itself (the local AWS enforces the key's policy); a read/write key
// (IAMFullAccess) entered over it onboards; its age is shown; with rotation on, Gangplank rotates it (new key for
// the same user, switch, old key deleted); removing the integration deletes its one secret at once and every
// synced record.
func TestKeyIntegration(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	const acct = "520000000002"
	w.addAccount(t, acct)
	w.settings(t, acct, 0, 90)
	reader := w.userKey(t, acct, "gangplank-reader", "IAMReadOnlyAccess")

	v, err := w.Services.Identity.SetKey(ctx, "acme", acct, reader)
	if err != nil {
		t.Fatalf("enter the read-only key: %v", err)
	}
	if v.Via != identity.ViaKey || v.Access != accounts.IdentityRead || v.Key == nil || v.Key.UserName != "gangplank-reader" ||
		v.Key.AccessKeyID != reader.AccessKeyID || v.Key.CreatedAt == nil || v.Key.AgeDays == nil || *v.Key.AgeDays != 0 {
		t.Fatalf("integration after the read-only key = %+v key %+v", v, v.Key)
	}
	if r := v.Key.Rotation; r.State != identity.RotationNotAllowed || r.Days != 90 || !strings.Contains(r.Reason, "may only read IAM") {
		t.Errorf("rotation of a read-only key = %+v", r)
	}
	in, err := w.Services.Identity.Sync(ctx, "acme", acct)
	if err != nil || in.Status != identity.Active || in.LastSync.Users != 1 {
		t.Fatalf("sync with the read-only key: %+v %v", in.LastSync, err)
	}
	var readOnly *identity.ReadOnlyError
	if _, err := w.Services.Identity.Onboard(ctx, "acme", acct, identity.NewUser{UserName: "dana"}); !errors.As(err, &readOnly) {
		t.Errorf("onboarding with a read-only key = %v, want ReadOnlyError", err)
	}
	// The key itself cannot write: the local AWS holds it to IAMReadOnlyAccess, as AWS would.
	_, err = iam.NewFromConfig(keyConfig(t, reader)).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dana")})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("the read-only key created a user: %v", err)
	}

	writer := w.userKey(t, acct, "gangplank-admin", "IAMFullAccess")
	v, err = w.Services.Identity.SetKey(ctx, "acme", acct, writer)
	if err != nil || v.Access != accounts.IdentityReadWrite || v.Key.UserName != "gangplank-admin" {
		t.Fatalf("enter the read/write key: %+v %v", v, err)
	}
	if r := v.Key.Rotation; r.State != identity.RotationScheduled || r.NextDueAt == nil {
		t.Errorf("rotation of a read/write key = %+v", r)
	}
	secretName := w.Config.Identity.SecretPrefix + "/acme/" + acct
	d, err := w.secrets().DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretName)})
	if err != nil || aws.ToString(d.KmsKeyId) != w.Config.Identity.KMSKeyID || aws.ToString(d.ARN) != v.Key.SecretARN {
		t.Fatalf("the key's secret: %+v %v (want KMS key %s, ARN %s)", d, err, w.Config.Identity.KMSKeyID, v.Key.SecretARN)
	}
	if got := currentKey(t, w, secretName); got != writer {
		t.Errorf("the secret holds %s, want the key entered last (%s)", got, writer)
	}
	if _, err := w.Services.Identity.Onboard(ctx, "acme", acct, identity.NewUser{UserName: "dana"}); err != nil {
		t.Fatalf("onboard with the read/write key: %v", err)
	}

	v, err = w.Services.Identity.Rotate(ctx, "acme", acct)
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	rotated := v.Key.AccessKeyID
	if rotated == writer.AccessKeyID || v.Key.UserName != "gangplank-admin" || v.Key.Rotation.LastRotatedAt == nil || v.Key.Rotation.State != identity.RotationScheduled {
		t.Fatalf("after the rotation: %+v", v.Key)
	}
	keys, err := w.owner(acct).ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("gangplank-admin")})
	if err != nil || len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) != rotated {
		t.Errorf("gangplank-admin's keys after the rotation: %+v %v (want only %s)", keys, err, rotated)
	}
	if got := currentKey(t, w, secretName); got.AccessKeyID != rotated {
		t.Errorf("the secret holds %s after the rotation, want %s", got.AccessKeyID, rotated)
	}
	if in, err := w.Services.Identity.Sync(ctx, "acme", acct); err != nil || in.Status != identity.Active {
		t.Errorf("sync with the rotated key: %+v %v", in, err)
	}

	if err := w.Services.Identity.Remove(ctx, "acme", acct); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if _, err := w.secrets().DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretName)}); !isSecretMissing(err) {
		t.Errorf("the secret outlives the integration (it must be deleted at once, with no recovery window): %v", err)
	}
	if users, _, err := w.Services.Identity.Store.Users(ctx, "acme", acct, 100, ""); err != nil || len(users) != 0 {
		t.Errorf("synced users outlive the integration: %d %v", len(users), err)
	}
	if groups, err := w.Services.Identity.Store.Groups(ctx, "acme", acct); err != nil || len(groups) != 0 {
		t.Errorf("synced groups outlive the integration: %d %v", len(groups), err)
	}
	if _, err := w.Services.Identity.Store.Onboarding(ctx, "acme", acct, "dana"); !errors.Is(err, identity.ErrRecordNotFound) {
		t.Errorf("the onboarding record outlives the integration: %v", err)
	}
	if _, err := w.Services.Identity.Get(ctx, "acme", acct); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("the integration remains: %v", err)
	}
}

// currentKey reads the key in the secret's current version.
func currentKey(t *testing.T, w *world, secretID string) crossaccount.AccessKey {
	t.Helper()
	out, err := w.secrets().GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)})
	if err != nil {
		t.Fatalf("read the secret: %v", err)
	}
	var k crossaccount.AccessKey
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &k); err != nil {
		t.Fatal(err)
	}
	return k
}

// keyConfig acts as the key's user (the key alone says who calls).
func keyConfig(t *testing.T, k crossaccount.AccessKey) aws.Config {
	cfg := testkit.AWSConfig(t, nil)
	cfg.Credentials = credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, "")
	return cfg
}

func isSecretMissing(err error) bool {
	var missing *smtypes.ResourceNotFoundException
	return errors.As(err, &missing)
}

// TestRotationRefused: a key whose user may manage IAM users but not its own keys (an explicit deny of
// iam:CreateAccessKey) is not rotated: the refusal says so, with what to allow, and the key in use keeps working.
func TestRotationRefused(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	const acct = "520000000003"
	w.addAccount(t, acct)
	w.settings(t, acct, 0, 30)
	k := w.userKey(t, acct, "no-self-service", "IAMFullAccess")
	deny, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Deny", "Action": "iam:CreateAccessKey", "Resource": "*"}}})
	if _, err := w.owner(acct).PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("no-self-service"), PolicyName: aws.String("no-new-keys"),
		PolicyDocument: aws.String(string(deny))}); err != nil {
		t.Fatal(err)
	}
	v, err := w.Services.Identity.SetKey(ctx, "acme", acct, k)
	if err != nil || v.Access != accounts.IdentityReadWrite || v.Key.Rotation.State != identity.RotationScheduled {
		t.Fatalf("enter the key: %+v %v", v, err)
	}
	_, err = w.Services.Identity.Rotate(ctx, "acme", acct)
	var refused *identity.PermissionError
	if !errors.As(err, &refused) || refused.Action != "iam:CreateAccessKey" {
		t.Fatalf("rotate = %v, want a PermissionError for iam:CreateAccessKey", err)
	}
	v, err = w.Services.Identity.Get(ctx, "acme", acct)
	if err != nil {
		t.Fatal(err)
	}
	r := v.Key.Rotation
	if r.State != identity.RotationNotAllowed || r.RefusedAt == nil || !strings.Contains(r.Reason, "iam:CreateAccessKey was denied") ||
		!strings.Contains(r.Reason, "no-self-service") || v.Key.AccessKeyID != k.AccessKeyID {
		t.Errorf("after the refused rotation: %+v (key %s)", r, v.Key.AccessKeyID)
	}
	if in, err := w.Services.Identity.Sync(ctx, "acme", acct); err != nil || in.Status != identity.Active {
		t.Errorf("the key in use stopped working: %+v %v", in, err)
	}
}
