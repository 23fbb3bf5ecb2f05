package stack_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/gangplank/gangplank/infra/stack"
	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/tables"
)

const repoRoot = "../.."

var testRegions = []string{"us-east-1", "eu-west-1"}

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// synthesized is one synthesis of the app, shared by the tests (a synthesis builds every function).
type synthesized struct {
	g        *stack.Gangplank
	main     template
	regional map[string]template
	outDir   string
	buildDir string
}

var (
	synthOnce sync.Once
	synthed   *synthesized
	synthErr  error
)

func synth(t *testing.T) *synthesized {
	t.Helper()
	synthOnce.Do(func() {
		tmp, err := os.MkdirTemp("", "gangplank-infra-")
		if err != nil {
			synthErr = err
			return
		}
		out := filepath.Join(tmp, "cdk.out")
		consoleDir, err := builtConsole(tmp)
		if err != nil {
			synthErr = err
			return
		}
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out)})
		g, err := stack.New(app, stack.Config{Account: "123456789012", Region: "us-east-1", CallbackRegions: testRegions,
			WebOrigins: []string{"https://app.example.com"}, AlarmEmail: "ops@example.com",
			RepoRoot: repoRoot, BuildDir: filepath.Join(tmp, "build"), ConsoleDir: consoleDir})
		if err != nil {
			synthErr = err
			return
		}
		app.Synth(nil)
		s := &synthesized{g: g, main: toTemplate(g.Main), regional: map[string]template{}, outDir: out, buildDir: filepath.Join(tmp, "build")}
		for r, rs := range g.Regional {
			s.regional[r] = toTemplate(rs)
		}
		synthed = s
	})
	if synthErr != nil {
		t.Fatalf("synth: %v", synthErr)
	}
	return synthed
}

// template is a synthesized CloudFormation template as plain JSON values.
type template map[string]any

func toTemplate(s awscdk.Stack) template {
	raw := *assertions.Template_FromStack(s, nil).ToJSON()
	b, _ := json.Marshal(raw)
	var t template
	_ = json.Unmarshal(b, &t)
	return t
}

// resources returns the resources of a type, by logical id.
func (t template) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range t["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			props, _ := res["Properties"].(map[string]any)
			if props == nil {
				props = map[string]any{}
			}
			out[id] = props
		}
	}
	return out
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestEveryFunctionFolderIsDeployed: one Lambda per folder under functions/, no more, no fewer.
func TestEveryFunctionFolderIsDeployed(t *testing.T) {
	s := synth(t)
	dirs, err := stack.FunctionDirs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	deployed := stack.Functions()
	sort.Strings(deployed)
	if !slices.Equal(dirs, deployed) {
		t.Errorf("functions/ has %v, the stack deploys %v", dirs, deployed)
	}
	var names []string
	for _, props := range s.main.resources("AWS::Lambda::Function") {
		if name, ok := props["FunctionName"].(string); ok {
			names = append(names, strings.TrimPrefix(name, "gangplank-"))
		}
	}
	sort.Strings(names)
	if !slices.Equal(names, dirs) {
		t.Errorf("Lambda functions %v, want %v", names, dirs)
	}
}

// envOf is the configuration a function's wiring reads (platform.LoadConfig), and so all it should be given.
func envOf(t *testing.T, name string) []string {
	t.Helper()
	for _, f := range platform.Functions() {
		if f.Name != name {
			continue
		}
		n := f.Needs
		var env []string
		for _, def := range tables.All() {
			if _, ok := n.Tables[def.ID]; ok {
				env = append(env, def.EnvVar)
			}
		}
		if n.CursorKey {
			env = append(env, "CURSOR_KEY_SECRET_ARN")
		}
		if n.Claims {
			env = append(env, "TENANT_CLAIM", "ROLE_CLAIM")
		}
		if n.Customers {
			env = append(env, "CONNECTOR_ROLE_ARN")
		}
		if n.Onboarding {
			env = append(env, "ONBOARDING_TEMPLATE_URL", "CALLBACK_TOPIC_ARN_PATTERN", "PLATFORM_PRINCIPAL_ARN")
		}
		for _, q := range platform.Queues() {
			if n.Queues[q.ID].Sends() {
				env = append(env, q.EnvVar)
			}
		}
		if len(n.Workflow) > 0 {
			env = append(env, stack.StateMachineEnv)
		}
		if n.IdentityKeys == platform.ReadWrite {
			env = append(env, "IDENTITY_SECRET_PREFIX", "IDENTITY_KMS_KEY_ID")
		}
		if n.Scheduler {
			env = append(env, "IDENTITY_SCHEDULE_GROUP", "IDENTITY_SCHEDULE_ROLE_ARN", "IDENTITY_QUEUE_ARN")
		}
		sort.Strings(env)
		return env
	}
	t.Fatalf("no wiring for %s", name)
	return nil
}

// TestFunctions: Go on provided.al2023, arm64, JSON logs, tracing; the asynchronous callback has a dead-letter
// queue and reserved concurrency (it calls STS in customers' accounts); every function is configured with what its
// wiring reads, and nothing else.
func TestFunctions(t *testing.T) {
	s := synth(t)
	for id, p := range s.main.resources("AWS::Lambda::Function") {
		name, _ := p["FunctionName"].(string)
		if !strings.HasPrefix(name, "gangplank-") {
			continue // CDK's BucketDeployment helper
		}
		if p["Runtime"] != "provided.al2023" || js(p["Architectures"]) != `["arm64"]` || p["Handler"] != "bootstrap" {
			t.Errorf("%s: runtime %v, architectures %v, handler %v", name, p["Runtime"], p["Architectures"], p["Handler"])
		}
		if js(p["TracingConfig"]) != `{"Mode":"Active"}` || !strings.Contains(js(p["LoggingConfig"]), `"LogFormat":"JSON"`) {
			t.Errorf("%s: tracing %v, logging %v", name, p["TracingConfig"], p["LoggingConfig"])
		}
		var got []string
		for k := range p["Environment"].(map[string]any)["Variables"].(map[string]any) {
			got = append(got, k)
		}
		sort.Strings(got)
		if want := envOf(t, strings.TrimPrefix(name, "gangplank-")); !slices.Equal(got, want) {
			t.Errorf("%s (%s) is configured with %v, its wiring reads %v", name, id, got, want)
		}
		if name == "gangplank-callback" {
			if p["DeadLetterConfig"] == nil || p["ReservedConcurrentExecutions"] == nil || p["Timeout"].(float64) > 300 {
				t.Errorf("callback: DLQ %v, reserved %v, timeout %v (must answer within the 300 s ServiceTimeout)",
					p["DeadLetterConfig"], p["ReservedConcurrentExecutions"], p["Timeout"])
			}
		}
	}
}

// TestRoutesNeedTokens: every operation of the OpenAPI document is a route, and every route but the public ones
// (healthz, the document itself) goes through the JWT authorizer.
func TestRoutesNeedTokens(t *testing.T) {
	s := synth(t)
	routes, err := stack.Routes()
	if err != nil {
		t.Fatal(err)
	}
	public := map[string]bool{}
	for _, r := range routes {
		if r.Public {
			public[r.Method+" "+r.Path] = true
		}
	}
	if len(public) != 4 || !public["GET /healthz"] || !public["GET /v1/openapi.json"] ||
		!public["GET /v1/iam-invitations/{token}"] || !public["POST /v1/iam-invitations/{token}"] {
		t.Errorf("public routes = %v", public)
	}
	got := s.main.resources("AWS::ApiGatewayV2::Route")
	if len(got) != len(routes) {
		t.Errorf("%d routes, the OpenAPI document has %d operations", len(got), len(routes))
	}
	authorizers := s.main.resources("AWS::ApiGatewayV2::Authorizer")
	if len(authorizers) != 1 {
		t.Fatalf("authorizers = %v", authorizers)
	}
	for _, a := range authorizers {
		if a["AuthorizerType"] != "JWT" || !strings.Contains(js(a["JwtConfiguration"]), "cognito-idp") {
			t.Errorf("authorizer = %v", a)
		}
	}
	for _, r := range got {
		key := r["RouteKey"].(string)
		if public[key] {
			if r["AuthorizationType"] != nil && r["AuthorizationType"] != "NONE" {
				t.Errorf("%s should be public: %v", key, r["AuthorizationType"])
			}
			continue
		}
		if r["AuthorizationType"] != "JWT" || r["AuthorizerId"] == nil {
			t.Errorf("route %s is not behind the JWT authorizer: %v", key, r)
		}
	}
	stages := s.main.resources("AWS::ApiGatewayV2::Stage")
	for _, st := range stages {
		if st["AccessLogSettings"] == nil || !strings.Contains(js(st["DefaultRouteSettings"]), "ThrottlingRateLimit") {
			t.Errorf("stage without access logs or throttling: %v", st)
		}
	}
	for _, api := range s.main.resources("AWS::ApiGatewayV2::Api") {
		if !strings.Contains(js(api["CorsConfiguration"]), "https://app.example.com") {
			t.Errorf("CORS = %v", api["CorsConfiguration"])
		}
	}
}

// TestTables: the tables of pkg/tables, on demand, with point-in-time recovery, deletion protection, KMS, TTL and
// the same indexes the local runtime creates.
func TestTables(t *testing.T) {
	s := synth(t)
	got := s.main.resources("AWS::DynamoDB::Table")
	if len(got) != len(tables.All()) {
		t.Fatalf("%d tables, want %d", len(got), len(tables.All()))
	}
	for _, def := range tables.All() {
		var p map[string]any
		for _, props := range got {
			if props["TableName"] == "gangplank-"+def.ID {
				p = props
			}
		}
		if p == nil {
			t.Fatalf("no table %s", def.ID)
		}
		checks := map[string]bool{
			"on demand":           p["BillingMode"] == "PAY_PER_REQUEST",
			"PITR":                js(p["PointInTimeRecoverySpecification"]) == `{"PointInTimeRecoveryEnabled":true}`,
			"deletion protection": p["DeletionProtectionEnabled"] == true,
			"KMS":                 strings.Contains(js(p["SSESpecification"]), `"SSEType":"KMS"`),
			"TTL":                 def.TTLAttribute == "" || strings.Contains(js(p["TimeToLiveSpecification"]), def.TTLAttribute),
			"indexes":             len(def.Indexes) == len(asList(p["GlobalSecondaryIndexes"])),
		}
		for what, ok := range checks {
			if !ok {
				t.Errorf("table %s: %s missing: %v", def.ID, what, p)
			}
		}
	}
}

func asList(v any) []any { l, _ := v.([]any); return l }

// TestCrossAccountAccessIsTheConnectorOnly: the only cross-account permission in the whole app is the connector's
// sts:AssumeRole on Gangplank* roles; functions may assume the connector and nothing else.
func TestCrossAccountAccessIsTheConnectorOnly(t *testing.T) {
	s := synth(t)
	var connector map[string]any
	for _, r := range s.main.resources("AWS::IAM::Role") {
		if r["RoleName"] == "gangplank-platform-connector" {
			connector = r
		}
	}
	if connector == nil {
		t.Fatal("no connector role")
	}
	want := `[{"PolicyDocument":{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Resource":"arn:aws:iam::*:role/Gangplank*"}],"Version":"2012-10-17"},"PolicyName":"AssumeGangplankRolesOnly"}]`
	if got := js(connector["Policies"]); got != want {
		t.Errorf("connector policies:\n got %s\nwant %s", got, want)
	}
	if strings.Contains(js(connector["AssumeRolePolicyDocument"]), `"*"`) {
		t.Errorf("the connector trusts anyone: %v", connector["AssumeRolePolicyDocument"])
	}
	for _, tpl := range append([]template{s.main}, regionalTemplates(s)...) {
		for id, p := range tpl.resources("AWS::IAM::Policy") {
			for _, st := range asList(p["PolicyDocument"].(map[string]any)["Statement"]) {
				stmt := st.(map[string]any)
				if !strings.Contains(js(stmt["Action"]), "sts:AssumeRole") {
					continue
				}
				if !strings.Contains(js(stmt["Resource"]), "role/gangplank-platform-connector") {
					t.Errorf("%s may assume %v", id, stmt["Resource"])
				}
			}
		}
	}
}

func regionalTemplates(s *synthesized) []template {
	var out []template
	for _, r := range testRegions {
		out = append(out, s.regional[r])
	}
	return out
}

// TestCallbackTopics: a topic in every callback region, encrypted, publishable by customers' CloudFormation over
// TLS, subscribed by the main region's callback function with a dead-letter queue, whose depth is alarmed.
func TestCallbackTopics(t *testing.T) {
	s := synth(t)
	permissions := js(s.main.resources("AWS::Lambda::Permission"))
	for _, region := range testRegions {
		tpl := s.regional[region]
		topics := tpl.resources("AWS::SNS::Topic")
		var callback map[string]any
		for _, tp := range topics {
			if tp["TopicName"] == "gangplank-onboarding" {
				callback = tp
			}
		}
		if callback == nil || callback["KmsMasterKeyId"] == nil {
			t.Errorf("%s: callback topic %v", region, callback)
		}
		policy := js(tpl.resources("AWS::SNS::TopicPolicy"))
		if !strings.Contains(policy, "sns:Publish") || !strings.Contains(policy, "aws:SecureTransport") {
			t.Errorf("%s: topic policy %s", region, policy)
		}
		subs := tpl.resources("AWS::SNS::Subscription")
		found := false
		for _, sub := range subs {
			if sub["Protocol"] == "lambda" && strings.Contains(js(sub["Endpoint"]), ":us-east-1:") &&
				strings.Contains(js(sub["Endpoint"]), "function:gangplank-callback") && sub["RedrivePolicy"] != nil && sub["Region"] == region {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no callback subscription with a dead-letter queue: %s", region, js(subs))
		}
		if !strings.Contains(js(tpl.resources("AWS::CloudWatch::Alarm")), "ApproximateNumberOfMessagesVisible") {
			t.Errorf("%s: no alarm on the dead-letter queue", region)
		}
		if !strings.Contains(permissions, "arn:aws:sns:"+region+":") {
			t.Errorf("the callback function does not allow the %s topic to invoke it", region)
		}
	}
}

// TestAlarms: errors and throttles of every function, dead letters and API 5xx alarm to the alarm topic.
func TestAlarms(t *testing.T) {
	s := synth(t)
	alarms := s.main.resources("AWS::CloudWatch::Alarm")
	var metrics []string
	for id, a := range alarms {
		if !strings.Contains(js(a["AlarmActions"]), "Alarms") {
			t.Errorf("alarm %s notifies %v, not the alarm topic", id, a["AlarmActions"])
		}
		metrics = append(metrics, fmt.Sprint(a["MetricName"]))
	}
	for _, want := range []string{"Errors", "Throttles", "5xx", "ApproximateNumberOfMessagesVisible", onboarding.RejectedMetric} {
		if !slices.Contains(metrics, want) {
			t.Errorf("no alarm on %s (alarms on %v)", want, metrics)
		}
	}
	// The callback's rejected messages: the metric its log lines carry (namespace, dimension), summed.
	for id, a := range alarms {
		if a["MetricName"] == onboarding.RejectedMetric && (a["Namespace"] != onboarding.MetricNamespace || a["Statistic"] != "Sum" ||
			js(a["Dimensions"]) != `[{"Name":"Service","Value":"`+onboarding.MetricService+`"}]`) {
			t.Errorf("alarm %s watches %v %v %v", id, a["Namespace"], a["Statistic"], a["Dimensions"])
		}
	}
	if n := len(stack.Functions()); len(alarms) < 2*n+2 {
		t.Errorf("%d alarms for %d functions", len(alarms), n)
	}
}

// TestTemplateBucket: versioned, encrypted, TLS only; only the onboarding/ prefix is readable by anyone.
func TestTemplateBucket(t *testing.T) {
	s := synth(t)
	policies := js(s.main.resources("AWS::S3::BucketPolicy"))
	if !strings.Contains(policies, `"aws:SecureTransport":"false"`) || !strings.Contains(policies, "/onboarding/*") {
		t.Errorf("bucket policies: %s", policies)
	}
	for id, b := range s.main.resources("AWS::S3::Bucket") {
		if b["BucketEncryption"] == nil || js(b["VersioningConfiguration"]) != `{"Status":"Enabled"}` {
			t.Errorf("bucket %s: encryption %v versioning %v", id, b["BucketEncryption"], b["VersioningConfiguration"])
		}
	}
}

// TestNoUnsuppressedNagFindings: cdk-nag's AwsSolutions pack finds nothing that is not suppressed with a reason.
func TestNoUnsuppressedNagFindings(t *testing.T) {
	s := synth(t)
	stacks := []awscdk.Stack{s.g.Main}
	for _, r := range testRegions {
		stacks = append(stacks, s.g.Regional[r])
	}
	for _, st := range stacks {
		a := assertions.Annotations_FromStack(st)
		match := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
		for _, m := range append(*a.FindError(jsii.String("*"), match), *a.FindWarning(jsii.String("*"), match)...) {
			t.Errorf("%s: %s %v", *st.StackName(), *m.Id, m.Entry.Data)
		}
	}
}

// TestCfnLint: the synthesized templates pass cfn-lint with no errors and no warnings (W3005, redundant DependsOn
// that CDK emits, is noise).
func TestCfnLint(t *testing.T) {
	s := synth(t)
	if _, err := exec.LookPath("cfn-lint"); err != nil {
		t.Fatal(`cfn-lint is required: pip install "cfn-lint==1.51.0"`)
	}
	files, _ := filepath.Glob(filepath.Join(s.outDir, "*.template.json"))
	if len(files) != 1+len(testRegions) {
		t.Fatalf("templates: %v", files)
	}
	out, err := exec.Command("cfn-lint", append([]string{"--format", "parseable", "--ignore-checks", "W3005", "--"}, files...)...).CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint: %v\n%s", err, out)
	}
}

// TestPackageSizes: every function's deployment package (the zipped bootstrap) is under 10 MB.
func TestPackageSizes(t *testing.T) {
	s := synth(t)
	for _, name := range stack.Functions() {
		bin := filepath.Join(s.buildDir, name, "bootstrap")
		raw, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		var zipped bytes.Buffer
		zw := zip.NewWriter(&zipped)
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Deflate})
		_, _ = io.Copy(w, bytes.NewReader(raw))
		_ = zw.Close()
		t.Logf("%s: binary %.1f MB, package %.1f MB", name, float64(len(raw))/1e6, float64(zipped.Len())/1e6)
		if zipped.Len() >= 10<<20 {
			t.Errorf("%s package is %d bytes, over 10 MB", name, zipped.Len())
		}
	}
}

// TestConfigValidation: a bad setting stops the synthesis with every problem named.
func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  stack.Config
		want string
	}{
		{"unknown region", stack.Config{CallbackRegions: []string{"mars-north-1"}}, "mars-north-1"},
		{"issuer without audience", stack.Config{JWTIssuer: "https://idp.example.com"}, "go together"},
		{"plain http issuer", stack.Config{JWTIssuer: "http://idp.example.com", JWTAudience: []string{"x"}}, "https://"},
		{"wildcard origin", stack.Config{WebOrigins: []string{"*"}}, "webOrigins"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := awscdk.NewApp(nil)
			_, err := stack.New(app, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// TestCostSyncWiring: a daily schedule starts the scheduler; the worker consumes the queue one payer per message
// with partial batch responses and bounded concurrency; failed payers end in a dead-letter queue.
func TestCostSyncWiring(t *testing.T) {
	s := synth(t)
	schedules := s.main.resources("AWS::Scheduler::Schedule")
	if len(schedules) != 5 || !strings.Contains(js(schedules), "cron(15 * *") || !strings.Contains(js(schedules), "Fninventoryscheduler") ||
		!strings.Contains(js(schedules), "cron(0 6") || !strings.Contains(js(schedules), "Fncostsyncscheduler") ||
		!strings.Contains(js(schedules), "cron(0 5") || !strings.Contains(js(schedules), "Fndiscovery") ||
		!strings.Contains(js(schedules), "cron(0 4") || !strings.Contains(js(schedules), "Fnrotation") {
		t.Errorf("schedules = %s", js(schedules))
	}
	mappings := s.main.resources("AWS::Lambda::EventSourceMapping")
	// The cost sync's worker, the identity worker, the discovery worker and the inventory's.
	if len(mappings) != 4 {
		t.Fatalf("event source mappings = %s", js(mappings))
	}
	found := false
	for _, m := range mappings {
		if !strings.Contains(js(m["FunctionName"]), "Fncostsyncworker") && !strings.Contains(js(m["FunctionName"]), "Fninventoryworker") {
			continue
		}
		found = true
		worker, concurrency := "CostSync", `{"MaximumConcurrency":5}`
		if strings.Contains(js(m["FunctionName"]), "Fninventoryworker") {
			worker, concurrency = "Inventory", `{"MaximumConcurrency":20}`
		}
		if js(m["FunctionResponseTypes"]) != `["ReportBatchItemFailures"]` || js(m["ScalingConfig"]) != concurrency || js(m["BatchSize"]) != "1" ||
			!strings.Contains(js(m["EventSourceArn"]), worker) {
			t.Errorf("mapping = %s", js(m))
		}
	}
	if !found {
		t.Errorf("no mapping for the cost sync worker: %s", js(mappings))
	}
	for _, name := range []string{"gangplank-costsync", "gangplank-inventory"} {
		var queue map[string]any
		for _, q := range s.main.resources("AWS::SQS::Queue") {
			if q["QueueName"] == name {
				queue = q
			}
		}
		if queue == nil || queue["RedrivePolicy"] == nil || queue["KmsMasterKeyId"] == nil {
			t.Errorf("%s queue = %v", name, queue)
		}
	}
}

// TestStateMachineIffDefinition: the bulk-activation workflow is deployed exactly when the repository has its
// definition, with every event logged, tracing, the substitutions it uses and no others, and its ARN handed to the
// functions that start it.
func TestStateMachineIffDefinition(t *testing.T) {
	s := synth(t)
	machines := s.main.resources("AWS::StepFunctions::StateMachine")
	definition, err := os.ReadFile(filepath.Join(repoRoot, stack.StateMachineFile))
	exists := err == nil
	if exists != (len(machines) == 1) || len(machines) > 1 {
		t.Fatalf("%s exists: %v; state machines: %d", stack.StateMachineFile, exists, len(machines))
	}
	for name, fn := range s.main.resources("AWS::Lambda::Function") {
		vars, _ := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
		if _, told := vars[stack.StateMachineEnv]; told && !exists {
			t.Errorf("%s is told about a workflow that is not deployed", name)
		}
	}
	for _, p := range machines {
		logging := p["LoggingConfiguration"].(map[string]any)
		if logging["Level"] != "ALL" || logging["Destinations"] == nil || js(p["TracingConfiguration"]) != `{"Enabled":true}` || p["StateMachineType"] != "STANDARD" {
			t.Errorf("state machine = %s", js(p))
		}
		var got []string
		for k := range p["DefinitionSubstitutions"].(map[string]any) {
			got = append(got, k)
		}
		sort.Strings(got)
		if want := stack.Substitutions(definition); js(got) != js(want) {
			t.Errorf("substitutions %v, the definition uses %v", got, want)
		}
		for _, fn := range []string{"api", "callback"} {
			vars := s.main.resources("AWS::Lambda::Function")
			var found bool
			for _, props := range vars {
				if props["FunctionName"] == "gangplank-"+fn {
					_, found = props["Environment"].(map[string]any)["Variables"].(map[string]any)[stack.StateMachineEnv]
				}
			}
			if !found {
				t.Errorf("%s starts the workflow but has no %s", fn, stack.StateMachineEnv)
			}
		}
	}
}

func TestSubstitutions(t *testing.T) {
	got := stack.Substitutions([]byte(`{"a":"${ActivationFunctionArn}","b":"${AccountsTableName}","c":"${ActivationFunctionArn}","d":"$.x"}`))
	if js(got) != `["AccountsTableName","ActivationFunctionArn"]` {
		t.Errorf("Substitutions = %v", got)
	}
}

// policyOf renders the statements of every IAM policy attached to a function's role, one line each, with the
// logical ids of the resources they name: what the function may do.
func policyOf(t *testing.T, tpl template, function string) []string {
	t.Helper()
	var roleID string
	for _, p := range tpl.resources("AWS::Lambda::Function") {
		if p["FunctionName"] == "gangplank-"+function {
			roleID = p["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		}
	}
	if roleID == "" {
		t.Fatalf("no function %s", function)
	}
	var lines []string
	for _, p := range tpl.resources("AWS::IAM::Policy") {
		if !strings.Contains(js(p["Roles"]), `"`+roleID+`"`) {
			continue
		}
		for _, st := range asList(p["PolicyDocument"].(map[string]any)["Statement"]) {
			stmt := st.(map[string]any)
			actions := asList(stmt["Action"])
			if a, ok := stmt["Action"].(string); ok {
				actions = []any{a}
			}
			var as []string
			for _, a := range actions {
				as = append(as, a.(string))
			}
			sort.Strings(as)
			lines = append(lines, summary(as, stmt["Resource"]))
		}
	}
	sort.Strings(lines)
	return lines
}

// summary shortens one statement: the CDK's DynamoDB grants become dynamodb:read / dynamodb:read-write, and the
// resources become the logical ids (and ARN tails) they name.
func summary(actions []string, resource any) string {
	acts := strings.Join(actions, ",")
	switch acts {
	case "dynamodb:BatchGetItem,dynamodb:BatchWriteItem,dynamodb:ConditionCheckItem,dynamodb:DeleteItem,dynamodb:DescribeTable,dynamodb:GetItem,dynamodb:GetRecords,dynamodb:GetShardIterator,dynamodb:PutItem,dynamodb:Query,dynamodb:Scan,dynamodb:UpdateItem":
		acts = "dynamodb:read-write"
	case "dynamodb:BatchGetItem,dynamodb:ConditionCheckItem,dynamodb:DescribeTable,dynamodb:GetItem,dynamodb:GetRecords,dynamodb:GetShardIterator,dynamodb:Query,dynamodb:Scan":
		acts = "dynamodb:read"
	}
	raw := js(resource)
	var names []string
	for _, m := range regexp.MustCompile(`"Fn::GetAtt":\["([A-Za-z0-9]+?)(?:[0-9A-F]{8})?","Arn"\]|"Ref":"([A-Za-z0-9]+?)(?:[0-9A-F]{8})?"|"(/index/\*|:(?:stateMachine|execution|role|secret|schedule)[:/][^"]*)"|^"(\*)"$`).FindAllStringSubmatch(raw, -1) {
		for _, g := range m[1:] {
			if g != "" && !strings.HasPrefix(g, "AWS") && g != ":" {
				names = append(names, g)
			}
		}
	}
	return acts + " on " + strings.Join(names, " ")
}

// TestDiscoveryWiring: the discovery worker consumes the discovery queue one step per message, with partial batch
// responses and bounded concurrency; the queue's visibility timeout outlasts the worker's timeout six times, and a
// step that failed every delivery (discovery.MaxDeliveries) ends in an alarmed dead-letter queue.
func TestDiscoveryWiring(t *testing.T) {
	s := synth(t)
	var mapping map[string]any
	for _, m := range s.main.resources("AWS::Lambda::EventSourceMapping") {
		if strings.Contains(js(m["FunctionName"]), "Fndiscoveryworker") {
			mapping = m
		}
	}
	if mapping == nil || js(mapping["FunctionResponseTypes"]) != `["ReportBatchItemFailures"]` || mapping["BatchSize"] != float64(1) ||
		js(mapping["ScalingConfig"]) != `{"MaximumConcurrency":10}` || !strings.Contains(js(mapping["EventSourceArn"]), "Discovery") {
		t.Errorf("discovery worker's mapping = %s", js(mapping))
	}
	var worker map[string]any
	for _, f := range s.main.resources("AWS::Lambda::Function") {
		if f["FunctionName"] == "gangplank-discovery-worker" {
			worker = f
		}
	}
	var queue map[string]any
	for _, q := range s.main.resources("AWS::SQS::Queue") {
		if q["QueueName"] == "gangplank-discovery" {
			queue = q
		}
	}
	if worker == nil || queue == nil {
		t.Fatalf("worker %v, queue %v", worker, queue)
	}
	if timeout := worker["Timeout"].(float64); queue["VisibilityTimeout"] != 6*timeout || queue["KmsMasterKeyId"] == nil ||
		!strings.Contains(js(queue["RedrivePolicy"]), fmt.Sprintf(`"maxReceiveCount":%d`, discovery.MaxDeliveries)) ||
		!strings.Contains(js(queue["RedrivePolicy"]), "DiscoveryDeadLetters") {
		t.Errorf("discovery queue = %s (worker timeout %v)", js(queue), worker["Timeout"])
	}
	if !strings.Contains(js(s.main.resources("AWS::CloudWatch::Alarm")), "DiscoveryDeadLetters") {
		t.Error("no alarm on the discovery dead-letter queue")
	}
}

// TestFunctionPolicies pins what each function may do in the platform's account. Each comes from the function's
// wiring (pkg/platform Needs): its tables, the cursor key, the cost sync queue, the workflow's actions, the
// connector; plus what the CDK adds to every function (X-Ray, the data key for its encrypted resources, the
// dead-letter queue of the asynchronous ones). A change here is a change of privilege: review it.
func TestFunctionPolicies(t *testing.T) {
	s := synth(t)
	common := []string{"kms:Decrypt,kms:DescribeKey,kms:Encrypt,kms:GenerateDataKey*,kms:ReEncrypt* on DataKey", "xray:PutTelemetryRecords,xray:PutTraceSegments on *"}
	want := map[string][]string{
		"api": {"dynamodb:read-write on TableAccounts TableAccounts /index/*", "dynamodb:read-write on TableCosts", "dynamodb:read-write on TableInventory TableInventory /index/*",
			"dynamodb:read-write on TableTenants TableTenants /index/*",
			"kms:Decrypt,kms:Encrypt,kms:GenerateDataKey*,kms:ReEncrypt* on DataKey", "secretsmanager:DescribeSecret,secretsmanager:GetSecretValue on CursorKey",
			"sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage on CostSync", "sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage on Discovery", "sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage on Identity",
			"sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage on Inventory",
			"states:StartExecution on :stateMachine:gangplank-bulk-activation",
			"states:SendTaskFailure,states:SendTaskHeartbeat,states:SendTaskSuccess on :stateMachine:gangplank-bulk-activation",
			"states:StopExecution on :execution:gangplank-bulk-activation:*", "sts:AssumeRole on :role/gangplank-platform-connector"},
		"callback": {"dynamodb:read-write on TableAccounts TableAccounts /index/*", "dynamodb:read-write on TableTenants TableTenants /index/*",
			"kms:Decrypt,kms:Encrypt,kms:GenerateDataKey*,kms:ReEncrypt* on DataKey", "sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage on CostSync",
			"sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage on Discovery",
			"sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage on Identity",
			"sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage on Inventory", "sqs:SendMessage on DeadLetterscallback", "states:SendTaskFailure,states:SendTaskHeartbeat,states:SendTaskSuccess on :stateMachine:gangplank-bulk-activation",
			"sts:AssumeRole on :role/gangplank-platform-connector"},
		// The daily discovery only lists management accounts and starts their jobs: no customer account, no tenant.
		"discovery": {"dynamodb:read-write on TableAccounts TableAccounts /index/*", "kms:Decrypt,kms:Encrypt,kms:GenerateDataKey*,kms:ReEncrypt* on DataKey",
			"sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage on Discovery", "sqs:SendMessage on DeadLettersdiscovery"},
		"discovery-worker": {"dynamodb:read-write on TableAccounts TableAccounts /index/*", "dynamodb:read-write on TableTenants TableTenants /index/*",
			"kms:Decrypt on DataKey", "kms:Decrypt,kms:Encrypt,kms:GenerateDataKey*,kms:ReEncrypt* on DataKey",
			"sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:ReceiveMessage on Discovery",
			"sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage on Discovery",
			"states:StartExecution on :stateMachine:gangplank-bulk-activation", "sts:AssumeRole on :role/gangplank-platform-connector"},
		"activation": {"dynamodb:read-write on TableAccounts TableAccounts /index/*", "dynamodb:read-write on TableTenants TableTenants /index/*",
			"states:SendTaskFailure,states:SendTaskHeartbeat,states:SendTaskSuccess on :stateMachine:gangplank-bulk-activation", "sts:AssumeRole on :role/gangplank-platform-connector"},
		"costsync-scheduler": {"dynamodb:read on TableAccounts TableAccounts /index/*", "kms:Decrypt,kms:DescribeKey on DataKey",
			"kms:Decrypt,kms:Encrypt,kms:GenerateDataKey*,kms:ReEncrypt* on DataKey", "sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage on CostSync",
			"sqs:SendMessage on DeadLetterscostsyncscheduler"},
		"rotation": {"dynamodb:read on TableAccounts TableAccounts /index/*", "dynamodb:read-write on TableTenants TableTenants /index/*",
			"kms:Decrypt,kms:DescribeKey on DataKey", "sqs:SendMessage on DeadLettersrotation", "sts:AssumeRole on :role/gangplank-platform-connector"},
		"identity-api": {"dynamodb:read-write on TableAccounts TableAccounts /index/*", "dynamodb:read-write on TableIdentities TableIdentities /index/*",
			"dynamodb:read-write on TableTenants TableTenants /index/*", "iam:PassRole on IdentityScheduler",
			"kms:Decrypt,kms:Encrypt,kms:GenerateDataKey*,kms:ReEncrypt* on DataKey", "kms:Decrypt,kms:Encrypt,kms:GenerateDataKey*,kms:ReEncrypt* on IdentityKey",
			"scheduler:CreateSchedule,scheduler:DeleteSchedule,scheduler:GetSchedule on :schedule/gangplank-identity/*",
			"secretsmanager:CreateSecret,secretsmanager:DeleteSecret,secretsmanager:DescribeSecret,secretsmanager:GetSecretValue,secretsmanager:PutSecretValue,secretsmanager:TagResource,secretsmanager:UpdateSecretVersionStage on :secret:gangplank/identity/*",
			"secretsmanager:DescribeSecret,secretsmanager:GetSecretValue on CursorKey", "sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage on Identity",
			"sts:AssumeRole on :role/gangplank-platform-connector"},
		"identity-worker": {"dynamodb:read-write on TableAccounts TableAccounts /index/*", "dynamodb:read-write on TableIdentities TableIdentities /index/*",
			"dynamodb:read-write on TableTenants TableTenants /index/*", "iam:PassRole on IdentityScheduler", "kms:Decrypt on DataKey",
			"kms:Decrypt,kms:Encrypt,kms:GenerateDataKey*,kms:ReEncrypt* on IdentityKey",
			"scheduler:CreateSchedule,scheduler:DeleteSchedule,scheduler:GetSchedule on :schedule/gangplank-identity/*",
			"secretsmanager:CreateSecret,secretsmanager:DeleteSecret,secretsmanager:DescribeSecret,secretsmanager:GetSecretValue,secretsmanager:PutSecretValue,secretsmanager:TagResource,secretsmanager:UpdateSecretVersionStage on :secret:gangplank/identity/*",
			"sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:ReceiveMessage on Identity",
			"sts:AssumeRole on :role/gangplank-platform-connector"},
		"identity-scheduler": {"dynamodb:read on TableAccounts TableAccounts /index/*", "dynamodb:read on TableIdentities TableIdentities /index/*",
			"kms:Decrypt,kms:DescribeKey on DataKey", "kms:Decrypt,kms:Encrypt,kms:GenerateDataKey*,kms:ReEncrypt* on DataKey",
			"sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage on Identity", "sqs:SendMessage on DeadLettersidentityscheduler"},
		"costsync-worker": {"dynamodb:read-write on TableAccounts TableAccounts /index/*", "dynamodb:read-write on TableCosts", "dynamodb:read-write on TableTenants TableTenants /index/*",
			"kms:Decrypt on DataKey", "sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:ReceiveMessage on CostSync",
			"sts:AssumeRole on :role/gangplank-platform-connector"},
		"inventory-scheduler": {"dynamodb:read on TableInventory TableInventory /index/*", "kms:Decrypt,kms:DescribeKey on DataKey",
			"kms:Decrypt,kms:Encrypt,kms:GenerateDataKey*,kms:ReEncrypt* on DataKey", "sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage on Inventory",
			"sqs:SendMessage on DeadLettersinventoryscheduler"},
		"inventory-worker": {"dynamodb:read on TableAccounts TableAccounts /index/*", "dynamodb:read on TableTenants TableTenants /index/*",
			"dynamodb:read-write on TableInventory TableInventory /index/*", "kms:Decrypt on DataKey", "kms:Decrypt,kms:DescribeKey on DataKey",
			"kms:Decrypt,kms:Encrypt,kms:GenerateDataKey*,kms:ReEncrypt* on DataKey", "sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:ReceiveMessage on Inventory",
			"sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage on Inventory", "sts:AssumeRole on :role/gangplank-platform-connector"},
	}
	for _, f := range stack.Functions() {
		w, ok := want[f]
		if !ok {
			t.Errorf("%s: no pinned policy; add it to this test after reviewing what it may do", f)
			continue
		}
		if f != "costsync-scheduler" && f != "identity-scheduler" && f != "inventory-scheduler" { // the schedulers read tables, and write none
			w = append(w, common...)
		} else {
			w = append(w, common[1])
		}
		sort.Strings(w)
		if got := policyOf(t, s.main, f); !slices.Equal(got, w) {
			t.Errorf("%s may do:\n  %s\nwant:\n  %s", f, strings.Join(got, "\n  "), strings.Join(w, "\n  "))
		}
	}
}

// TestIdentityWiring: the IAM integrations' keys are readable by the identity functions only (the secrets under the
// identity prefix, the identity KMS key); their routes are served by identity-api; the worker consumes the identity
// queue; EventBridge Scheduler's role for delayed deletions may only send to that queue; a daily schedule starts
// the syncs.
func TestIdentityWiring(t *testing.T) {
	s := synth(t)
	for _, f := range stack.Functions() {
		policy := strings.Join(policyOf(t, s.main, f), "\n")
		identity := f == "identity-api" || f == "identity-worker"
		if strings.Contains(policy, ":secret:gangplank/identity/") != identity || strings.Contains(policy, "IdentityKey") != identity {
			t.Errorf("%s: may use the identity secrets or key: %v (want %v)", f, !identity, identity)
		}
	}
	routes, err := stack.Routes()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if want := strings.Contains(r.Path, "/iam") || strings.Contains(r.Path, "iam-users"); (r.Function == "identity-api") != want {
			t.Errorf("%s %s is served by %s", r.Method, r.Path, r.Function)
		}
	}
	integrations := js(s.main.resources("AWS::ApiGatewayV2::Integration"))
	if !strings.Contains(integrations, "Fnidentityapi") || !strings.Contains(integrations, "Fnapi") {
		t.Errorf("integrations = %s", integrations)
	}
	var mapping map[string]any
	for _, m := range s.main.resources("AWS::Lambda::EventSourceMapping") {
		if strings.Contains(js(m["FunctionName"]), "Fnidentityworker") {
			mapping = m
		}
	}
	if mapping == nil || !strings.Contains(js(mapping["EventSourceArn"]), "Identity") || js(mapping["FunctionResponseTypes"]) != `["ReportBatchItemFailures"]` {
		t.Errorf("identity worker mapping = %s", js(mapping))
	}
	var queue map[string]any
	for _, q := range s.main.resources("AWS::SQS::Queue") {
		if q["QueueName"] == "gangplank-identity" {
			queue = q
		}
	}
	if queue == nil || queue["RedrivePolicy"] == nil || queue["KmsMasterKeyId"] == nil {
		t.Errorf("identity queue = %v", queue)
	}
	if !strings.Contains(js(s.main.resources("AWS::Scheduler::Schedule")), "Fnidentityscheduler") {
		t.Error("no daily schedule starts the identity syncs")
	}
	groups := s.main.resources("AWS::Scheduler::ScheduleGroup")
	if len(groups) != 1 || !strings.Contains(js(groups), "gangplank-identity") {
		t.Errorf("schedule groups = %s", js(groups))
	}
	for id, p := range s.main.resources("AWS::IAM::Policy") {
		if !strings.Contains(js(p["Roles"]), "IdentityScheduler") {
			continue
		}
		for _, st := range asList(p["PolicyDocument"].(map[string]any)["Statement"]) {
			stmt := st.(map[string]any)
			if strings.Contains(js(stmt["Action"]), "sqs:") && !strings.Contains(js(stmt["Resource"]), "Identity") {
				t.Errorf("%s: the scheduler's role may send to %v", id, stmt["Resource"])
			}
		}
	}
	keys := s.main.resources("AWS::KMS::Key")
	if !strings.Contains(js(keys), "IAM integrations' access keys") || !strings.Contains(js(keys), `"EnableKeyRotation":true`) {
		t.Errorf("KMS keys = %s", js(keys))
	}
}
