package identity_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// world is a platform whose tenant acme connects customers' accounts, in which the customer acts as its owner.
type world struct {
	*testkit.Platform
	env   *localaws.Env
	admin string
}

func newWorld(t testing.TB) *world {
	p := testkit.NewPlatform(t)
	return &world{Platform: p, env: testkit.LocalAWS(t), admin: p.Token(t, "acme", auth.Admin)}
}

// settings sets the account's integration settings: user cleanup days and credential rotation days (0: unset).
func (w *world) settings(t *testing.T, accountID string, cleanupDays, rotationDays int) {
	t.Helper()
	in := accounts.IntegrationInput{Name: "iam-" + accountID, Owners: []string{"security@example.com"}}
	if cleanupDays > 0 {
		in.UserCleanupDays = &cleanupDays
	}
	if rotationDays > 0 {
		in.CredentialRotationDays = &rotationDays
	}
	if _, err := w.Services.Accounts.SetIntegration(t.Context(), "acme", accountID, []string{"*"}, in); err != nil {
		t.Fatalf("integration settings of %s: %v", accountID, err)
	}
}

// connectRole adds the account to tenant acme with the identity option and prefix, creates the role its manual
// instructions describe (as a customer following them would) and connects it: the role's verification starts the
// integration.
func (w *world) connectRole(t testing.TB, accountID, access, prefix string) {
	t.Helper()
	ctx := t.Context()
	if err := w.Services.Tenants.Ensure(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Services.Accounts.Create(ctx, "acme", accounts.CreateInput{Name: "Account " + accountID, AccountID: accountID,
		Type: "standalone", Region: "us-east-1", IdentityAccess: access, IdentityPathPrefix: prefix}); err != nil {
		t.Fatalf("add account %s: %v", accountID, err)
	}
	w.Connect(t, "acme", accountID)
}

// owner is the account's IAM as its owner acts in it, through the edge.
func (w *world) owner(accountID string) *iam.Client {
	return iam.NewFromConfig(w.env.AccountConfig(accountID))
}

// userWithEverything creates a user with every way in IAM has (console password, two access keys, an SSH public
// key, a signing certificate, a service-specific credential, a virtual MFA device), a group membership, an
// attached managed policy and an inline policy. It returns the virtual MFA device's serial.
func (w *world) userWithEverything(t *testing.T, accountID, name, path string) string {
	t.Helper()
	ctx := t.Context()
	c := w.owner(accountID)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("make %s: %v", name, err)
		}
	}
	user := aws.String(name)
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: user, Path: aws.String(path)}))
	must(c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: user, Password: aws.String("Initial-Passw0rd!")}))
	must(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: user}))
	must(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: user}))
	must(c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: user,
		SSHPublicKeyBody: aws.String("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGV4YW1wbGVleGFtcGxlZXhhbXBsZWV4YW1wbGU " + name)}))
	must(c.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{UserName: user, CertificateBody: aws.String(selfSigned(t))}))
	must(c.CreateServiceSpecificCredential(ctx, &iam.CreateServiceSpecificCredentialInput{UserName: user, ServiceName: aws.String("codecommit.amazonaws.com")}))
	mfa, err := c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(name + "-mfa")})
	must(mfa, err)
	serial := mfa.VirtualMFADevice.SerialNumber
	must(c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: user, SerialNumber: serial,
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")}))
	group := aws.String(name + "-team")
	must(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: group}))
	must(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: user, GroupName: group}))
	doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}}})
	pol, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name + "-policy"), PolicyDocument: aws.String(string(doc))})
	must(pol, err)
	must(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: user, PolicyArn: pol.Policy.Arn}))
	must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: user, PolicyName: aws.String("inline"), PolicyDocument: aws.String(string(doc))}))
	return aws.ToString(serial)
}

// selfSigned is a PEM certificate IAM accepts as a signing certificate.
func selfSigned(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gangplank-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// userKey creates an IAM user in the account with the AWS managed policy and returns its access key.
func (w *world) userKey(t *testing.T, accountID, name, managedPolicy string) crossaccount.AccessKey {
	t.Helper()
	ctx := t.Context()
	c := w.owner(accountID)
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: aws.String("arn:aws:iam::aws:policy/" + managedPolicy)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return crossaccount.AccessKey{AccessKeyID: aws.ToString(out.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(out.AccessKey.SecretAccessKey)}
}
