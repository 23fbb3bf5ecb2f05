package provider

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// View as Code, end to end: the configuration Gangplank gives for an account passes `fmt -check` and `validate`
// with the providers installed (this provider built from source and taken through a development override,
// hashicorp/aws from a local filesystem mirror),
// and one `apply` onboards the account: the account is imported, the role is created in the account (the local
// AWS), and the connection waits until Gangplank has assumed the role with the tenant's External ID. A second plan
// is empty, and destroy removes both halves.

// awsProviderMirror is a filesystem mirror holding hashicorp/aws (GANGPLANK_TF_PLUGIN_MIRROR, default
// /opt/tf-plugins): the registry is out of reach and the Go module proxy does not serve terraform-provider-aws, so the
// AWS provider must already be on the machine. Without it ok is false: the tests that need it say so in their log and
// check what a CLI checks without providers (fmt), so that a fresh machine's CI still runs the rest of the suite.
func awsProviderMirror(t *testing.T) (dir, version, binary string, ok bool) {
	t.Helper()
	dir = os.Getenv("GANGPLANK_TF_PLUGIN_MIRROR")
	if dir == "" {
		dir = "/opt/tf-plugins"
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "registry.terraform.io", "hashicorp", "aws", "*", runtime.GOOS+"_"+runtime.GOARCH, "terraform-provider-aws_*"))
	if len(matches) == 0 {
		t.Logf("NOT CHECKED HERE: init, validate and apply with hashicorp/aws: no hashicorp/aws provider in the filesystem mirror %s "+
			"(registry.terraform.io/hashicorp/aws/<version>/%s_%s/); set GANGPLANK_TF_PLUGIN_MIRROR to a mirror that has one "+
			"(terraform providers mirror <dir> makes one)", dir, runtime.GOOS, runtime.GOARCH)
		return dir, "", "", false
	}
	binary = matches[len(matches)-1]
	version = filepath.Base(filepath.Dir(filepath.Dir(binary)))
	return dir, version, binary, true
}

// installProviders builds this provider and returns a CLI configuration that runs it through a development override
// (as docs/terraform.md tells users to, until the provider is published) and installs from a filesystem mirror only:
// hashicorp/aws, and this provider too, since `terraform init` looks every required provider up even when it is
// overridden. Both are laid out under both registries' hostnames (Terraform's and OpenTofu's).
func installProviders(t *testing.T) (cliConfig string, withAWS bool) {
	t.Helper()
	_, awsVersion, awsBinary, withAWS := awsProviderMirror(t)
	bin := t.TempDir()
	built := filepath.Join(bin, "terraform-provider-gangplank")
	build := exec.Command("go", "build", "-o", built, ".")
	build.Dir = filepath.Join("..", "..") // the provider module's root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the provider: %v\n%s", err, out)
	}
	mirror := t.TempDir()
	for _, host := range []string{"registry.terraform.io", "registry.opentofu.org"} {
		for _, p := range []struct{ addr, version, src, name string }{
			{"gangplank/gangplank", "0.1.0", built, "terraform-provider-gangplank_v0.1.0"},
			{"hashicorp/aws", awsVersion, awsBinary, filepath.Base(awsBinary)},
		} {
			if p.src == "" {
				continue
			}
			dir := filepath.Join(mirror, host, p.addr, p.version, runtime.GOOS+"_"+runtime.GOARCH)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(p.src, filepath.Join(dir, p.name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	rc := filepath.Join(t.TempDir(), "cli.tfrc")
	conf := fmt.Sprintf(`provider_installation {
  dev_overrides {
    "registry.terraform.io/gangplank/gangplank" = %q
    "registry.opentofu.org/gangplank/gangplank" = %q
  }
  filesystem_mirror {
    path = %q
  }
}
`, bin, bin, mirror)
	if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return rc, withAWS
}

// accountCredentials are credentials acting in account id of the local AWS, as the customer's own would: a role
// there trusting the platform's account, allowed to manage IAM (the local AWS enforces identity policies), assumed.
func accountCredentials(t *testing.T, id string) aws.Credentials {
	t.Helper()
	trust := onboarding.Policy{Version: "2012-10-17", Statement: []onboarding.Statement{{Effect: "Allow",
		Principal: map[string]string{"AWS": "arn:aws:iam::" + localaws.PlatformAccountID + ":root"}, Action: []string{"sts:AssumeRole"}}}}
	manageIAM := onboarding.NamedPolicy{Name: "ManageIAM", Document: onboarding.Policy{Version: "2012-10-17",
		Statement: []onboarding.Statement{{Effect: "Allow", Action: []string{"iam:*"}, Resource: "*"}}}}
	role := testkit.CreateRole(t, id, testkit.UniqueName("TerraformRunner"), trust, manageIAM)
	out, err := sts.NewFromConfig(testkit.AWSConfig(t, nil)).AssumeRole(ctx(t), &sts.AssumeRoleInput{
		RoleArn: aws.String(role), RoleSessionName: aws.String("terraform")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	return aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}
}

func TestAccViewAsCode(t *testing.T) {
	rc, withAWS := installProviders(t)
	g := startGangplank(t)
	api := g.api(t, "acme")
	const id = "805000000001"
	// The account was linked in the console, with its settings; the configuration comes from Gangplank.
	if _, err := api.CreateAccount(ctx(t), CreateAccountRequest{Name: "Data platform", AccountID: id, Type: "standalone", Region: "eu-west-1",
		AccessLevel: "resources_tags", Integration: &IntegrationRequest{IntegrationName: "data-platform", Owners: []string{"data@example.com"},
			Regions: []string{"eu-west-1"}, ResourceTypes: []string{"s3:bucket"}}}); err != nil {
		t.Fatal(err)
	}
	view, err := api.Terraform(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(view.Configuration), 0o600); err != nil {
		t.Fatal(err)
	}
	creds := accountCredentials(t, id)
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1",
		"GANGPLANK_ENDPOINT="+g.URL, "GANGPLANK_TOKEN="+g.token(t, "acme"),
		"AWS_ACCESS_KEY_ID="+creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey, "AWS_SESSION_TOKEN="+creds.SessionToken,
		"AWS_ENDPOINT_URL="+testkit.LocalAWS(t).Endpoint, "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	run := newCLIRunner(t, dir, env).run

	run(0, "fmt", "-check", "-diff")
	if !withAWS {
		return // logged by awsProviderMirror
	}
	run(0, "init", "-input=false")
	if out := run(0, "validate"); !strings.Contains(out, "development overrides are in effect") {
		t.Errorf("validate did not run the provider through its development override:\n%s", out)
	}
	out := run(0, "apply", "-input=false", "-auto-approve")
	if !strings.Contains(out, "1 imported") {
		t.Errorf("the apply did not import the account:\n%s", out)
	}
	a, err := api.GetAccount(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != "active" || !strings.HasSuffix(a.RoleARN, ":role/"+view.RoleName) || a.Health.Status != "healthy" {
		t.Fatalf("after one apply the account is %s (%s), role %q, health %+v", a.Status, a.StatusReason, a.RoleARN, a.Health)
	}
	// Nothing left to do: the configuration matches both halves.
	run(0, "plan", "-input=false", "-detailed-exitcode")
	run(0, "destroy", "-input=false", "-auto-approve")
	if _, err := api.GetAccount(ctx(t), id); !IsNotFound(err) {
		t.Errorf("account still in Gangplank after destroy: %v", err)
	}
}

// cliRunner runs the CLI in a working directory with an environment, failing the test on an unexpected exit code.
type cliRunner struct {
	t   *testing.T
	dir string
	env []string
}

func newCLIRunner(t *testing.T, dir string, env []string) cliRunner {
	return cliRunner{t: t, dir: dir, env: env}
}

// run runs the CLI with args and returns its output; an exit code other than wantCode fails the test. The test's
// context bounds it.
func (r cliRunner) run(wantCode int, args ...string) string {
	r.t.Helper()
	cmd := exec.CommandContext(r.t.Context(), cli.path, append(args, "-no-color")...)
	cmd.Dir, cmd.Env = r.dir, r.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			r.t.Fatalf("%s %v: %v", cli.name, args, err)
		}
		code = ee.ExitCode()
	}
	if code != wantCode {
		r.t.Fatalf("%s %s: exit %d, want %d (%s)\n%s", cli.name, strings.Join(args, " "), code, wantCode, time.Since(start).Round(time.Second), out.String())
	}
	return out.String()
}
