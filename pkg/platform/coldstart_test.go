package platform_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// Every package a binary links runs its init at each cold start, whether the function calls it or not (issue 12
// §4). These are the layers that belong to one function only.
var (
	// The HTTP layer: only the two functions behind API Gateway serve HTTP.
	httpLayer = []string{"github.com/gangplank/gangplank/pkg/httpapi", "github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"}
	// The Terraform writer: only the API renders Terraform.
	hclWriter = []string{"github.com/gangplank/gangplank/pkg/viewascode"}
	// Each HTTP function's wiring links its own routes only.
	apiWiring      = []string{"github.com/gangplank/gangplank/pkg/platform/web"}
	identityWiring = []string{"github.com/gangplank/gangplank/pkg/platform/identityweb"}
	// Nothing deployed links the OpenAPI validators, the local platform or the test kit.
	neverDeployed = []string{"github.com/getkin/kin-openapi", "github.com/santhosh-tekuri/jsonschema", "github.com/gangplank/gangplank/pkg/devserver",
		"github.com/gangplank/gangplank/pkg/testkit", "github.com/gangplank/gangplank/pkg/localaws", "testing",
		// hashicorp/hcl's writer (with go-cmp and go-cty, 3 ms of package init): pkg/viewascode writes HCL itself.
		"github.com/hashicorp/hcl", "github.com/google/go-cmp", "github.com/zclconf/go-cty"}
)

func join(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// TestFunctionsLinkOnlyTheirOwnLayers: each function's binary links the Lambda runtime and none of the packages on
// its list (go list -deps, the linker's view). The callback, which activates accounts and answers CloudFormation,
// links no HTTP API, no HCL writer and no OpenAPI document.
func TestFunctionsLinkOnlyTheirOwnLayers(t *testing.T) {
	notLinked := map[string][]string{
		platform.API.Name:         join(identityWiring, neverDeployed),
		platform.IdentityAPI.Name: join(hclWriter, apiWiring, neverDeployed),
	}
	for _, fn := range platform.Functions() {
		if _, ok := notLinked[fn.Name]; !ok {
			notLinked[fn.Name] = join(httpLayer, hclWriter, apiWiring, identityWiring, neverDeployed)
		}
	}
	deps := functionDeps(t)
	for _, fn := range platform.Functions() {
		t.Run(fn.Name, func(t *testing.T) {
			linked, ok := deps[fn.Name]
			if !ok {
				t.Fatalf("go list did not list functions/%s", fn.Name)
			}
			if !linked["github.com/aws/aws-lambda-go/lambda"] {
				t.Errorf("functions/%s does not link the Lambda runtime: the dependency list is not the binary's", fn.Name)
			}
			for dep := range linked {
				for _, banned := range notLinked[fn.Name] {
					if dep == banned || strings.HasPrefix(dep, banned+"/") {
						t.Errorf("functions/%s links %s", fn.Name, dep)
					}
				}
			}
		})
	}
}

// TestFunctionsLinkOnlyTheSDKServicesTheyCall: an SDK service package costs every cold start that links it up to
// 5 ms of init (DynamoDB's schemas alone take more than a hello-world function's whole init), so each function links
// the services every function shares and those its Needs call for through their adapters, and no other; none links
// the SDK's default configuration loader (its SSO, SSO OIDC and sign-in clients): functions read Lambda's
// environment (awsx.LambdaConfig).
func TestFunctionsLinkOnlyTheSDKServicesTheyCall(t *testing.T) {
	// Every function: its tables (DynamoDB), the queues, the door into customers' accounts (STS), bulk activation's
	// workflow (Step Functions), and two services still in packages every function links (pkg/store imports each
	// domain for its types): IAM (the identity core: the IAM integration is IAM calls through and through; IAM's
	// package init is among the SDK's lightest) and the Tagging API (the role's probe, pkg/onboarding, and the
	// inventory's write-back).
	shared := []string{"dynamodb", "sqs", "sts", "sfn", "iam", "resourcegroupstaggingapi"}
	// The SDK services behind each adapter.
	behind := map[platform.CustomerAPI][]string{
		platform.OrganizationsAPI: {"organizations"}, platform.CostExplorerAPI: {"costexplorer"},
		platform.ResourcesAPI: {"resourceexplorer2", "ec2"}, platform.IdentityCenterAPI: {"ssoadmin"},
		platform.CloudFormationAPI: {"cloudformation"},
	}
	wanted := func(n platform.Needs) map[string]bool {
		set := map[string]bool{}
		for _, s := range shared {
			set[testkit.SDKService(s)] = true
		}
		for _, api := range n.Calls {
			for _, s := range behind[api] {
				set[testkit.SDKService(s)] = true
			}
		}
		if n.CursorKey || n.IdentityKeys != "" {
			set[testkit.SDKService("secretsmanager")] = true
		}
		if n.Scheduler {
			set[testkit.SDKService("scheduler")] = true
		}
		return set
	}
	deps := functionDeps(t)
	for _, fn := range platform.Functions() {
		t.Run(fn.Name, func(t *testing.T) {
			ok := wanted(fn.Needs)
			for dep := range deps[fn.Name] {
				if dep == "github.com/aws/aws-sdk-go-v2/config" || dep == "github.com/gangplank/gangplank/pkg/platform/awsadapters" {
					t.Errorf("functions/%s links %s", fn.Name, dep)
				}
				if !strings.HasPrefix(dep, testkit.SDKService("")) || strings.Contains(strings.TrimPrefix(dep, testkit.SDKService("")), "/") {
					continue // not a service's root package (its types, schemas and endpoints come with it)
				}
				if !ok[dep] {
					t.Errorf("functions/%s links %s, which its Needs do not call for", fn.Name, dep)
				}
			}
			for want := range ok {
				if !deps[fn.Name][want] {
					t.Errorf("functions/%s does not link %s: its Needs call for it (is the adapter passed to ColdStart?)", fn.Name, want)
				}
			}
		})
	}
}

// functionDeps maps each function's name to the packages its binary links.
func functionDeps(t *testing.T) map[string]map[string]bool {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the functions' dependencies: %v", err)
	}
	list := exec.Command(goCmd, "list", "-tags", "lambda.norpc", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "../../functions/...")
	var stderr bytes.Buffer
	list.Stderr = &stderr
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	deps := map[string]map[string]bool{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		set := map[string]bool{}
		for _, d := range fields[1:] {
			set[d] = true
		}
		deps[fields[0][strings.LastIndex(fields[0], "/")+1:]] = set
	}
	return deps
}

// maxInitBytes is what one of Gangplank's packages may allocate in its init: error values, small tables, the
// functions' wiring (pkg/platform, about 9 KB). Regular expressions with bounded repetitions ({1,128}) compiled at
// package level allocated 362 KB in pkg/identity's init, 80 KB in pkg/accounts' and 69 KB in pkg/awsid's, at every
// cold start of every function; such work belongs to first use (sync.OnceValue).
const maxInitBytes = 16 << 10

// TestPackageInitIsLight: no Gangplank package allocates more than maxInitBytes in its init. This test binary
// links every package the functions link (and the local platform's), so it is started again with
// GODEBUG=inittrace=1, which reports each package's init allocations (bytes, not time: the measure does not
// depend on the machine's load).
func TestPackageInitIsLight(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the test binary with inittrace: %v\n%s", err, stderr.String())
	}
	seen := map[string]bool{}
	scanner := bufio.NewScanner(&stderr)
	for scanner.Scan() {
		// init github.com/gangplank/gangplank/pkg/identity @2.1 ms, 0.35 ms clock, 361584 bytes, 3377 allocs
		fields := strings.Fields(scanner.Text())
		if len(fields) < 11 || fields[0] != "init" || fields[8] != "bytes," {
			continue
		}
		pkg := fields[1]
		if !strings.HasPrefix(pkg, "github.com/gangplank/gangplank/") {
			continue
		}
		seen[pkg] = true
		allocated, err := strconv.Atoi(fields[7])
		if err != nil {
			t.Fatalf("inittrace line %q: %v", scanner.Text(), err)
		}
		if allocated > maxInitBytes {
			t.Errorf("%s allocates %d bytes in its init (at most %d): move the work to first use", pkg, allocated, maxInitBytes)
		}
	}
	// The packages every function links must have been traced, or the test reads nothing.
	for _, pkg := range []string{"pkg/accounts", "pkg/awsid", "pkg/identity", "pkg/onboarding"} {
		if !seen["github.com/gangplank/gangplank/"+pkg] {
			t.Errorf("inittrace reported no init of %s: %s", pkg, stderr.String())
		}
	}
}
