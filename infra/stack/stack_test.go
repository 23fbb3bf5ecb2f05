package stack

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/httpapi"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/tables"
)

// The app is built and synthesized once per test binary; every test reads the same templates.
var (
	testCfg   Config
	built     *App
	templates map[string]template // by stack: "platform", "callback-<region>"
	outDir    string
)

const (
	home  = "us-east-1"
	other = "eu-west-1"
)

type template struct {
	stack     awscdk.Stack
	assertion assertions.Template
	Resources map[string]resource
	Outputs   map[string]any
}

type resource struct {
	Type           string
	Properties     map[string]any
	DeletionPolicy string
	DependsOn      any
}

func TestMain(m *testing.M) {
	// The API's request log lines are noise here.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	code := func() int {
		defer jsii.Close()
		tmp, err := os.MkdirTemp("", "gangplank-infra-")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(tmp)
		root, err := filepath.Abs("../..")
		if err != nil {
			panic(err)
		}
		testCfg, err = Config{
			Prefix: "gangplank", Region: home, Regions: []string{other, home},
			AllowedOrigins: []string{"https://app.example.com"}, AlarmEmail: "ops@example.com",
			RepoRoot: root, BuildDir: filepath.Join(tmp, "functions"),
		}.withDefaults()
		if err != nil {
			panic(err)
		}
		outDir = filepath.Join(tmp, "cdk.out")
		start := time.Now()
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outDir)})
		if built, err = Build(app, testCfg); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		builtAt := time.Now()
		app.Synth(nil)
		fmt.Printf("infra: built %d functions in %s, synthesized in %s\n", len(built.Code),
			builtAt.Sub(start).Round(time.Millisecond), time.Since(builtAt).Round(time.Millisecond))
		templates = map[string]template{"platform": load(built.Platform.Stack)}
		for region, s := range built.Callback {
			templates["callback-"+region] = load(s)
		}
		return m.Run()
	}()
	os.Exit(code)
}

func load(s awscdk.Stack) template {
	a := assertions.Template_FromStack(s, nil)
	raw, _ := json.Marshal(a.ToJSON())
	t := template{stack: s, assertion: a}
	if err := json.Unmarshal(raw, &t); err != nil {
		panic(err)
	}
	return t
}

func (t template) ofType(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range t.Resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// one returns the only resource of typ whose logical ID starts with prefix.
func (t template) one(tb testing.TB, typ, prefix string) (string, resource) {
	tb.Helper()
	var ids []string
	for id := range t.ofType(typ) {
		if strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		tb.Fatalf("want one %s named %s*, found %v", typ, prefix, ids)
	}
	return ids[0], t.Resources[ids[0]]
}

// resolve evaluates the intrinsic functions CDK emits, in account 123456789012 and region: Refs of resources
// become their logical IDs, GetAtt X.Arn an ARN naming X (roles: a role ARN), Fn::Join joins.
func (t template) resolve(v any, region string) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok {
			switch ref {
			case "AWS::Partition":
				return "aws"
			case "AWS::AccountId":
				return "123456789012"
			case "AWS::Region":
				return region
			case "AWS::URLSuffix":
				return "amazonaws.com"
			}
			return ref
		}
		if ga, ok := v["Fn::GetAtt"].([]any); ok {
			id, attr := ga[0].(string), ga[1].(string)
			switch {
			case attr == "Arn" && t.Resources[id].Type == "AWS::IAM::Role":
				return "arn:aws:iam::123456789012:role/" + id
			case attr == "Arn":
				return "arn:aws:" + id
			}
			return id + "." + attr
		}
		if j, ok := v["Fn::Join"].([]any); ok {
			var parts []string
			for _, p := range j[1].([]any) {
				parts = append(parts, t.resolve(p, region))
			}
			return strings.Join(parts, j[0].(string))
		}
	}
	raw, _ := json.Marshal(v)
	return string(raw)
}

func platformTemplate() template { return templates["platform"] }

// gangplankFunctions are the functions built from functions/ (not CDK's own providers), by folder name.
func gangplankFunctions(t template) map[string]resource { return functionsNamed(t, testCfg.Prefix) }

func functionsNamed(t template, prefix string) map[string]resource {
	out := map[string]resource{}
	for _, r := range t.ofType("AWS::Lambda::Function") {
		if name, ok := r.Properties["FunctionName"].(string); ok && strings.HasPrefix(name, prefix+"-") {
			out[strings.TrimPrefix(name, prefix+"-")] = r
		}
	}
	return out
}

func TestEveryFunctionFolderIsDeployed(t *testing.T) {
	folders, err := FunctionFolders(testCfg.RepoRoot)
	if err != nil {
		t.Fatal(err)
	}
	fns := gangplankFunctions(platformTemplate())
	deployed := sortedKeys(fns)
	if !slices.Equal(deployed, folders) {
		t.Fatalf("deployed functions %v, folders under functions/ %v", deployed, folders)
	}
	for _, name := range deployed {
		row := Functions[slices.IndexFunc(Functions, func(f Function) bool { return f.Name == name })]
		p := fns[name].Properties
		checks := map[string][2]any{
			"Runtime":      {p["Runtime"], "provided.al2023"},
			"Handler":      {p["Handler"], "bootstrap"},
			"Architecture": {p["Architectures"], []any{"arm64"}},
			"Tracing":      {p["TracingConfig"], map[string]any{"Mode": "Active"}},
			"LogFormat":    {p["LoggingConfig"].(map[string]any)["LogFormat"], "JSON"},
			"Memory":       {p["MemorySize"], float64(row.Memory)},
			"Timeout":      {p["Timeout"], row.Timeout.Seconds()},
		}
		if row.ReservedConcurrency > 0 {
			checks["ReservedConcurrency"] = [2]any{p["ReservedConcurrentExecutions"], float64(row.ReservedConcurrency)}
		}
		for what, c := range checks {
			if !equalJSON(c[0], c[1]) {
				t.Errorf("%s: %s = %v, want %v", name, what, c[0], c[1])
			}
		}
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestFunctionTableIsConsistent(t *testing.T) {
	for _, f := range Functions {
		if f.Memory < 128 || f.Timeout <= 0 || f.Timeout > 15*time.Minute {
			t.Errorf("%s: memory %d MB, timeout %s", f.Name, f.Memory, f.Timeout)
		}
		if (f.Trigger == Schedule) != (f.Schedule != "") {
			t.Errorf("%s: a schedule expression goes with the Schedule trigger, and only with it", f.Name)
		}
		if f.Trigger == HTTP && f.Timeout > 29*time.Second {
			t.Errorf("%s: API Gateway stops waiting after 30 s; timeout %s", f.Name, f.Timeout)
		}
		if f.Trigger == CallbackTopics && f.Timeout < onboarding.DefaultCallbackBudget+15*time.Second {
			t.Errorf("%s: timeout %s leaves no time to answer CloudFormation after the %s verification budget", f.Name, f.Timeout, onboarding.DefaultCallbackBudget)
		}
	}
	// A folder without a row fails the build, naming the file to edit.
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "functions", "newjob"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "functions", "newjob", "main.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Deployed(root); err == nil || !strings.Contains(err.Error(), "functions/newjob has no row in infra/stack/functions.go") {
		t.Errorf("Deployed with an unknown folder: %v", err)
	}
}

// TestFunctionEnvironmentLoads hands each function's environment, as deployed, to the loader the functions run at
// cold start: every variable it requires is set, and set to the right resource.
func TestFunctionEnvironmentLoads(t *testing.T) {
	tpl := platformTemplate()
	connector, _ := tpl.one(t, "AWS::IAM::Role", "ConnectorRole")
	secret, _ := tpl.one(t, "AWS::SecretsManager::Secret", "CursorKey")
	for name, fn := range gangplankFunctions(tpl) {
		vars := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
		env := map[string]string{}
		for k, v := range vars {
			env[k] = tpl.resolve(v, home)
		}
		cfg, err := platform.LoadConfig(context.Background(), func(k string) string { return env[k] }, secretStub{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, tb := range tables.All() {
			id, _ := tpl.one(t, "AWS::DynamoDB::Table", camel(tb.ID)+"Table")
			if cfg.Tables[tb.ID] != id {
				t.Errorf("%s: %s = %q, want the %s table", name, tb.EnvVar, cfg.Tables[tb.ID], id)
			}
		}
		want := map[string]string{
			"CONNECTOR_ROLE_ARN":         "arn:aws:iam::123456789012:role/" + connector,
			"PLATFORM_PRINCIPAL_ARN":     "arn:aws:iam::123456789012:role/" + connector,
			"CURSOR_KEY_SECRET_ARN":      secret,
			"TENANT_CLAIM":               "custom:tenant_id",
			"ROLE_CLAIM":                 "custom:role",
			"CALLBACK_TOPIC_ARN_PATTERN": "arn:aws:sns:{region}:123456789012:gangplank-onboarding",
		}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("%s: %s = %q, want %q", name, k, env[k], v)
			}
		}
		if !regexp.MustCompile(`^https://Templates[0-9A-F]{8}\.RegionalDomainName/` + regexp.QuoteMeta(TemplateKey) + `$`).MatchString(env["ONBOARDING_TEMPLATE_URL"]) {
			t.Errorf("%s: ONBOARDING_TEMPLATE_URL = %q", name, env["ONBOARDING_TEMPLATE_URL"])
		}
	}
}

type secretStub struct{}

func (secretStub) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(strings.Repeat("k", 64))}, nil
}

func TestLambdaPackagesUnder10MB(t *testing.T) {
	const limit = 10 << 20
	for _, name := range sortedKeys(built.Code) {
		bin, err := os.ReadFile(filepath.Join(built.Code[name], "bootstrap"))
		if err != nil {
			t.Fatal(err)
		}
		var zipped bytes.Buffer
		zw := zip.NewWriter(&zipped)
		w, _ := zw.Create("bootstrap")
		_, _ = w.Write(bin)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: bootstrap %.1f MB, zip %.1f MB", name, float64(len(bin))/(1<<20), float64(zipped.Len())/(1<<20))
		if zipped.Len() >= limit {
			t.Errorf("%s: package is %d bytes, over 10 MB", name, zipped.Len())
		}
		if !bytes.HasPrefix(bin, []byte("\x7fELF")) || bin[18] != 0xb7 { // e_machine 183 = EM_AARCH64
			t.Errorf("%s: bootstrap is not a linux/arm64 ELF binary", name)
		}
	}
}

func TestAPIAuthorizesEveryRouteButThePublicOnes(t *testing.T) {
	tpl := platformTemplate()
	_, authorizer := tpl.one(t, "AWS::ApiGatewayV2::Authorizer", "Api")
	jwt := authorizer.Properties["JwtConfiguration"].(map[string]any)
	if authorizer.Properties["AuthorizerType"] != "JWT" || !strings.Contains(tpl.resolve(jwt["Issuer"], home), "cognito-idp") {
		t.Errorf("authorizer = %v", authorizer.Properties)
	}
	client, _ := tpl.one(t, "AWS::Cognito::UserPoolClient", "UserPool")
	if !equalJSON(jwt["Audience"], []any{map[string]any{"Ref": client}}) {
		t.Errorf("audience = %v, want the app client", jwt["Audience"])
	}

	methods := map[string]bool{}
	var public []string
	for _, r := range tpl.ofType("AWS::ApiGatewayV2::Route") {
		key := r.Properties["RouteKey"].(string)
		switch r.Properties["AuthorizationType"] {
		case "JWT":
			if r.Properties["AuthorizerId"] == nil {
				t.Errorf("%s: JWT without an authorizer", key)
			}
			method, path, _ := strings.Cut(key, " ")
			if path != "/{proxy+}" {
				t.Errorf("%s: unexpected authorized route", key)
			}
			methods[method] = true
		case "NONE":
			public = append(public, key)
		default:
			t.Errorf("%s: authorization %v", key, r.Properties["AuthorizationType"])
		}
	}
	sort.Strings(public)
	if want := []string{"GET /healthz", "GET /v1/openapi.json"}; !slices.Equal(public, want) {
		t.Errorf("public routes %v, want %v", public, want)
	}

	// The application's own view: a request without a token reaches only the public routes, and every route the
	// application serves has a gateway route.
	api := httpapi.New(httpapi.Config{Authenticator: auth.GatewayClaims{Claims: auth.Claims{Tenant: testCfg.TenantClaim, Role: testCfg.RoleClaim}}})
	var appPublic []string
	for _, rt := range api.Routes() {
		method, pattern, _ := strings.Cut(rt, " ")
		path := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(pattern, "x")
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		if rec.Code != http.StatusUnauthorized {
			appPublic = append(appPublic, method+" "+pattern)
		} else if !methods[method] {
			t.Errorf("%s: no authorized gateway route for %s", rt, method)
		}
	}
	sort.Strings(appPublic)
	if !slices.Equal(appPublic, public) {
		t.Errorf("routes the application serves without a token %v, public gateway routes %v", appPublic, public)
	}

	_, api2 := tpl.one(t, "AWS::ApiGatewayV2::Api", "Api")
	cors := api2.Properties["CorsConfiguration"].(map[string]any)
	if !equalJSON(cors["AllowOrigins"], testCfg.AllowedOrigins) {
		t.Errorf("CORS origins %v", cors["AllowOrigins"])
	}
	_, stage := tpl.one(t, "AWS::ApiGatewayV2::Stage", "ApiStage")
	logs, _ := stage.Properties["AccessLogSettings"].(map[string]any)
	throttle, _ := stage.Properties["DefaultRouteSettings"].(map[string]any)
	if logs == nil || !strings.Contains(logs["Format"].(string), "$context.requestId") || throttle["ThrottlingRateLimit"] == nil || throttle["ThrottlingBurstLimit"] == nil {
		t.Errorf("stage = %v", stage.Properties)
	}
}

func TestTablesComeFromTheirDefinitions(t *testing.T) {
	tpl := platformTemplate()
	if n := len(tpl.ofType("AWS::DynamoDB::Table")); n != len(tables.All()) {
		t.Errorf("%d tables, pkg/tables defines %d", n, len(tables.All()))
	}
	for _, def := range tables.All() {
		_, r := tpl.one(t, "AWS::DynamoDB::Table", camel(def.ID)+"Table")
		p := r.Properties
		keys := []any{map[string]any{"AttributeName": def.PartitionKey.Name, "KeyType": "HASH"}}
		if def.SortKey.Name != "" {
			keys = append(keys, map[string]any{"AttributeName": def.SortKey.Name, "KeyType": "RANGE"})
		}
		var indexes []string
		for _, ix := range def.Indexes {
			indexes = append(indexes, ix.Name)
		}
		var got []string
		gsis, _ := p["GlobalSecondaryIndexes"].([]any)
		for _, g := range gsis {
			got = append(got, g.(map[string]any)["IndexName"].(string))
		}
		checks := map[string][2]any{
			"keys":                {p["KeySchema"], keys},
			"indexes":             {got, indexes},
			"billing":             {p["BillingMode"], "PAY_PER_REQUEST"},
			"PITR":                {p["PointInTimeRecoverySpecification"], map[string]any{"PointInTimeRecoveryEnabled": true}},
			"deletion protection": {p["DeletionProtectionEnabled"], true},
			"encryption":          {p["SSESpecification"], map[string]any{"SSEEnabled": true}},
			"retained":            {r.DeletionPolicy, "Retain"},
		}
		if def.TTLAttribute != "" {
			checks["TTL"] = [2]any{p["TimeToLiveSpecification"], map[string]any{"AttributeName": def.TTLAttribute, "Enabled": true}}
		}
		for what, c := range checks {
			if !equalJSON(c[0], c[1]) {
				t.Errorf("%s: %s = %v, want %v", def.ID, what, c[0], c[1])
			}
		}
	}
}

// statements returns every IAM statement in the template with where it lives.
func statements(tpl template) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	add := func(where string, doc any) {
		d, _ := doc.(map[string]any)
		list, _ := d["Statement"].([]any)
		for _, s := range list {
			out[where] = append(out[where], s.(map[string]any))
		}
	}
	for id, r := range tpl.Resources {
		switch r.Type {
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			add(id, r.Properties["PolicyDocument"])
		case "AWS::IAM::Role":
			policies, _ := r.Properties["Policies"].([]any)
			for _, p := range policies {
				add(id, p.(map[string]any)["PolicyDocument"])
			}
		}
	}
	return out
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// TestTheOnlyCrossAccountPermission: sts:AssumeRole on Gangplank* roles exists once, in the connector role's policy
// (alone), no policy anywhere grants sts:* or *, function roles may assume only the connector role, and only the
// functions that reach customers may.
func TestTheOnlyCrossAccountPermission(t *testing.T) {
	tpl := platformTemplate()
	connector, role := tpl.one(t, "AWS::IAM::Role", "ConnectorRole")
	var holders []string
	var assumers []string
	for _, name := range sortedKeys(templates) {
		for where, list2 := range statements(templates[name]) {
			for _, s := range list2 {
				for _, a := range asList(s["Action"]) {
					action := a.(string)
					if action == "*" || strings.HasPrefix(action, "sts:*") || strings.HasPrefix(action, "iam:") {
						t.Errorf("%s/%s grants %s", name, where, action)
					}
					if action != "sts:AssumeRole" {
						continue
					}
					for _, res := range asList(s["Resource"]) {
						switch {
						case res == ConnectorPolicyResource:
							holders = append(holders, where)
						case equalJSON(res, map[string]any{"Fn::GetAtt": []any{connector, "Arn"}}):
							assumers = append(assumers, where)
						default:
							t.Errorf("%s/%s: sts:AssumeRole on %v", name, where, res)
						}
					}
				}
			}
		}
	}
	if !slices.Equal(holders, []string{connector}) {
		t.Errorf("sts:AssumeRole on %s is held by %v, want only the connector role", ConnectorPolicyResource, holders)
	}
	policies := role.Properties["Policies"].([]any)
	if want := []any{map[string]any{"PolicyName": "AssumeGangplankRolesOnly", "PolicyDocument": map[string]any{"Version": "2012-10-17",
		"Statement": []any{map[string]any{"Sid": "AssumeCustomerRolesNamedGangplank", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ConnectorPolicyResource}}}}}; !equalJSON(policies, want) {
		t.Errorf("connector policies = %v", policies)
	}
	if role.Properties["RoleName"] != "gangplank-connector" || role.DeletionPolicy != "Retain" || role.Properties["ManagedPolicyArns"] != nil {
		t.Errorf("connector role = %v (deletion policy %s)", role.Properties, role.DeletionPolicy)
	}

	// Who may assume the connector: exactly the roles of the functions that reach customers' accounts.
	var wantRoles, trusted []string
	for _, f := range Functions {
		if _, deployed := built.Code[f.Name]; deployed && f.CustomerAccess {
			id, _ := tpl.one(t, "AWS::IAM::Role", camel(f.Name)+"Role")
			wantRoles = append(wantRoles, id)
			policy, _ := tpl.one(t, "AWS::IAM::Policy", camel(f.Name)+"RoleDefaultPolicy")
			if !slices.Contains(assumers, policy) {
				t.Errorf("%s reaches customers but cannot assume the connector", f.Name)
			}
		}
	}
	for _, s := range role.Properties["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any) {
		st := s.(map[string]any)
		if st["Action"] != "sts:AssumeRole" || st["Condition"] != nil {
			t.Errorf("connector trust statement %v", st)
		}
		for _, p := range asList(st["Principal"].(map[string]any)["AWS"]) {
			trusted = append(trusted, strings.TrimPrefix(tpl.resolve(p, home), "arn:aws:iam::123456789012:role/"))
		}
	}
	sort.Strings(wantRoles)
	sort.Strings(trusted)
	if !slices.Equal(trusted, wantRoles) {
		t.Errorf("connector trusts %v, want %v", trusted, wantRoles)
	}
	if len(assumers) != len(wantRoles) {
		t.Errorf("%d policies may assume the connector (%v), want %d", len(assumers), assumers, len(wantRoles))
	}
}

func TestCallbackTopicInEveryRegion(t *testing.T) {
	plat := platformTemplate()
	callbackFn, _ := plat.one(t, "AWS::Lambda::Function", "CallbackFunction")
	for _, region := range testCfg.Regions {
		tpl, ok := templates["callback-"+region]
		if !ok {
			t.Fatalf("no callback stack in %s", region)
		}
		if got := *tpl.stack.Region(); got != region {
			t.Errorf("callback stack of %s deploys to %s", region, got)
		}
		topicID, topic := tpl.one(t, "AWS::SNS::Topic", "CallbackTopic")
		keyID, key := tpl.one(t, "AWS::KMS::Key", "TopicKey")
		wantARN := "arn:aws:sns:" + region + ":123456789012:gangplank-onboarding"
		if topic.Properties["TopicName"] != "gangplank-onboarding" || !equalJSON(topic.Properties["KmsMasterKeyId"], map[string]any{"Fn::GetAtt": []any{keyID, "Arn"}}) {
			t.Errorf("%s: topic = %v", region, topic.Properties)
		}
		// The pattern the functions use finds this topic.
		pattern := plat.resolve(gangplankFunctions(plat)["api"].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)["CALLBACK_TOPIC_ARN_PATTERN"], home)
		if got := strings.ReplaceAll(pattern, "{region}", region); got != wantARN {
			t.Errorf("%s: the pattern gives %s, the topic is %s", region, got, wantARN)
		}

		// Topic policy: anyone may publish (only publish), over TLS only.
		_, policy := tpl.one(t, "AWS::SNS::TopicPolicy", "CallbackTopic")
		var publish, denyPlain bool
		for _, s := range policy.Properties["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := s.(map[string]any)
			switch {
			case st["Effect"] == "Allow":
				publish = st["Sid"] == "CustomersCloudFormationPublishes" && equalJSON(st["Principal"], map[string]any{"AWS": "*"}) &&
					st["Action"] == "sns:Publish" && equalJSON(st["Resource"], map[string]any{"Ref": topicID})
				if !publish {
					t.Errorf("%s: topic policy allows %v", region, st)
				}
			case st["Effect"] == "Deny":
				denyPlain = equalJSON(st["Condition"], map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}})
			}
		}
		if !publish || !denyPlain {
			t.Errorf("%s: topic policy %v", region, policy.Properties)
		}

		// Key: usable by anyone only through SNS here, only for this topic.
		var viaSNS bool
		for _, s := range key.Properties["KeyPolicy"].(map[string]any)["Statement"].([]any) {
			st := s.(map[string]any)
			if st["Sid"] == "PublishersUseTheKeyThroughSnsForTheCallbackTopicOnly" {
				cond := st["Condition"].(map[string]any)["StringEquals"].(map[string]any)
				viaSNS = cond["kms:ViaService"] == "sns."+region+".amazonaws.com" && tpl.resolve(cond["kms:EncryptionContext:aws:sns:topicArn"], region) == wantARN &&
					equalJSON(st["Action"], []any{"kms:GenerateDataKey*", "kms:Decrypt"})
			}
		}
		if !viaSNS || key.Properties["EnableKeyRotation"] != true {
			t.Errorf("%s: key policy %v", region, key.Properties["KeyPolicy"])
		}

		// Subscription: the home region's callback function, with a dead-letter queue.
		_, sub := tpl.one(t, "AWS::SNS::Subscription", "CallbackSubscription")
		dlq, _ := tpl.one(t, "AWS::SQS::Queue", "CallbackDeliveryDLQ")
		endpoint := tpl.resolve(sub.Properties["Endpoint"], region)
		if sub.Properties["Protocol"] != "lambda" || endpoint != "arn:aws:lambda:"+home+":123456789012:function:gangplank-callback" ||
			!equalJSON(sub.Properties["RedrivePolicy"], map[string]any{"deadLetterTargetArn": map[string]any{"Fn::GetAtt": []any{dlq, "Arn"}}}) {
			t.Errorf("%s: subscription %v (endpoint %s)", region, sub.Properties, endpoint)
		}
		assertAlarmOn(t, tpl, "ApproximateNumberOfMessagesVisible", dlq, "Alarms")

		// The callback function lets this topic invoke it.
		var allowed bool
		for _, p := range plat.ofType("AWS::Lambda::Permission") {
			if equalJSON(p.Properties["FunctionName"], map[string]any{"Fn::GetAtt": []any{callbackFn, "Arn"}}) &&
				p.Properties["Principal"] == "sns.amazonaws.com" && plat.resolve(p.Properties["SourceArn"], home) == wantARN {
				allowed = true
			}
		}
		if !allowed {
			t.Errorf("%s: the callback function does not let %s invoke it", region, wantARN)
		}
	}
	if len(templates) != len(testCfg.Regions)+1 {
		t.Errorf("%d stacks for %d regions", len(templates), len(testCfg.Regions))
	}
}

// assertAlarmOn checks an alarm watches metric for the resource (a dimension naming it) and notifies the topic
// whose logical ID starts with topic.
func assertAlarmOn(t *testing.T, tpl template, metric, resourceID, topic string) {
	t.Helper()
	topicID, _ := tpl.one(t, "AWS::SNS::Topic", topic)
	for _, a := range tpl.ofType("AWS::CloudWatch::Alarm") {
		p := a.Properties
		if p["MetricName"] != metric || !strings.Contains(fmt.Sprint(p["Dimensions"]), resourceID) {
			continue
		}
		if !equalJSON(p["AlarmActions"], []any{map[string]any{"Ref": topicID}}) || p["Threshold"] != 1.0 {
			t.Errorf("alarm on %s %s: actions %v, threshold %v", resourceID, metric, p["AlarmActions"], p["Threshold"])
		}
		return
	}
	t.Errorf("no %s alarm on %s", metric, resourceID)
}

func TestAlarms(t *testing.T) {
	tpl := platformTemplate()
	for name := range gangplankFunctions(tpl) {
		id, _ := tpl.one(t, "AWS::Lambda::Function", camel(name)+"Function")
		assertAlarmOn(t, tpl, "Errors", id, "Alarms")
		assertAlarmOn(t, tpl, "Throttles", id, "Alarms")
	}
	for id := range tpl.ofType("AWS::SQS::Queue") {
		if isDeadLetterQueue(strings.TrimRight(id, "0123456789ABCDEF")) {
			assertAlarmOn(t, tpl, "ApproximateNumberOfMessagesVisible", id, "Alarms")
		}
	}
	apiID, _ := tpl.one(t, "AWS::ApiGatewayV2::Api", "Api")
	assertAlarmOn(t, tpl, "5xx", apiID, "Alarms")
	if sm := tpl.ofType("AWS::StepFunctions::StateMachine"); len(sm) > 0 {
		id, _ := tpl.one(t, "AWS::StepFunctions::StateMachine", "BulkActivation")
		assertAlarmOn(t, tpl, "ExecutionsFailed", id, "Alarms")
	}
	for _, name := range sortedKeys(templates) {
		topicID, topic := templates[name].one(t, "AWS::SNS::Topic", "Alarms")
		if topic.Properties["KmsMasterKeyId"] == nil {
			t.Errorf("%s: alarm topic is not encrypted", name)
		}
		var mailed bool
		for _, s := range templates[name].ofType("AWS::SNS::Subscription") {
			mailed = mailed || (s.Properties["Protocol"] == "email" && s.Properties["Endpoint"] == testCfg.AlarmEmail &&
				equalJSON(s.Properties["TopicArn"], map[string]any{"Ref": topicID}))
		}
		if !mailed {
			t.Errorf("%s: the alarm topic does not mail %s", name, testCfg.AlarmEmail)
		}
	}
}

func TestAsynchronousFunctionsHaveFailureDestinations(t *testing.T) {
	tpl := platformTemplate()
	for name := range gangplankFunctions(tpl) {
		row := Functions[slices.IndexFunc(Functions, func(f Function) bool { return f.Name == name })]
		fnID, _ := tpl.one(t, "AWS::Lambda::Function", camel(name)+"Function")
		var config *resource
		for _, r := range tpl.ofType("AWS::Lambda::EventInvokeConfig") {
			if equalJSON(r.Properties["FunctionName"], map[string]any{"Ref": fnID}) {
				config = &r
			}
		}
		async := row.Trigger == CallbackTopics || row.Trigger == Schedule
		if (config != nil) != async {
			t.Errorf("%s (%s): failure destination %v", name, row.Trigger, config)
			continue
		}
		if async {
			dlq, _ := tpl.one(t, "AWS::SQS::Queue", camel(name)+"Failures")
			want := map[string]any{"OnFailure": map[string]any{"Destination": map[string]any{"Fn::GetAtt": []any{dlq, "Arn"}}}}
			if !equalJSON(config.Properties["DestinationConfig"], want) || config.Properties["MaximumRetryAttempts"] != 2.0 {
				t.Errorf("%s: %v", name, config.Properties)
			}
		}
	}
	for id, q := range tpl.ofType("AWS::SQS::Queue") {
		if q.Properties["SqsManagedSseEnabled"] != true {
			t.Errorf("queue %s is not encrypted", id)
		}
	}
}

// TestStateMachineIffDefinition: the workflow is deployed exactly when the repository has its definition, with
// logging, tracing and only the substitutions it uses.
func TestStateMachineIffDefinition(t *testing.T) {
	tpl := platformTemplate()
	machines := tpl.ofType("AWS::StepFunctions::StateMachine")
	definition, err := os.ReadFile(filepath.Join(testCfg.RepoRoot, StateMachineFile))
	if exists := err == nil; exists != (len(machines) == 1) || len(machines) > 1 {
		t.Fatalf("%s exists: %v; state machines: %d", StateMachineFile, exists, len(machines))
	}
	if len(machines) == 0 {
		for name, fn := range gangplankFunctions(tpl) {
			if _, ok := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)[StateMachineEnv]; ok {
				t.Errorf("%s is told about a workflow that is not deployed", name)
			}
		}
		return
	}
	_, sm := tpl.one(t, "AWS::StepFunctions::StateMachine", "BulkActivation")
	p := sm.Properties
	logging := p["LoggingConfiguration"].(map[string]any)
	if logging["Level"] != "ALL" || logging["Destinations"] == nil || !equalJSON(p["TracingConfiguration"], map[string]any{"Enabled": true}) ||
		p["StateMachineType"] != "STANDARD" {
		t.Errorf("state machine = %v", p)
	}
	var used []string
	for _, m := range substitution.FindAllStringSubmatch(string(definition), -1) {
		used = append(used, m[1])
	}
	slices.Sort(used)
	used = slices.Compact(used)
	subs, _ := p["DefinitionSubstitutions"].(map[string]any)
	if got := sortedKeys(subs); !slices.Equal(got, used) {
		t.Errorf("substitutions %v, the definition uses %v", got, used)
	}
	for _, f := range Functions {
		if _, deployed := built.Code[f.Name]; deployed && f.StartsWorkflow {
			if _, ok := gangplankFunctions(tpl)[f.Name].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)[StateMachineEnv]; !ok {
				t.Errorf("%s starts the workflow but has no %s", f.Name, StateMachineEnv)
			}
		}
	}
}

// TestSchedulesIffFunctions: each deployed Schedule function has a daily schedule with retries and a dead-letter
// queue; there is no schedule for a function that is not deployed.
func TestSchedulesIffFunctions(t *testing.T) {
	tpl := platformTemplate()
	schedules := tpl.ofType("AWS::Scheduler::Schedule")
	want := 0
	for _, f := range Functions {
		if _, deployed := built.Code[f.Name]; !deployed || f.Trigger != Schedule {
			continue
		}
		want++
		fnID, _ := tpl.one(t, "AWS::Lambda::Function", camel(f.Name)+"Function")
		_, s := tpl.one(t, "AWS::Scheduler::Schedule", camel(f.Name)+"Schedule")
		target := s.Properties["Target"].(map[string]any)
		if s.Properties["ScheduleExpression"] != f.Schedule || !equalJSON(target["Arn"], map[string]any{"Fn::GetAtt": []any{fnID, "Arn"}}) ||
			target["DeadLetterConfig"] == nil || target["RetryPolicy"] == nil {
			t.Errorf("%s: schedule %v", f.Name, s.Properties)
		}
	}
	if len(schedules) != want {
		t.Errorf("%d schedules, want %d", len(schedules), want)
	}
}

func TestTemplateBucket(t *testing.T) {
	tpl := platformTemplate()
	bucketID, bucket := tpl.one(t, "AWS::S3::Bucket", "Templates")
	p := bucket.Properties
	if !equalJSON(p["VersioningConfiguration"], map[string]any{"Status": "Enabled"}) || p["BucketEncryption"] == nil ||
		p["LoggingConfiguration"] == nil || bucket.DeletionPolicy != "Retain" {
		t.Errorf("bucket = %v", p)
	}
	pab := p["PublicAccessBlockConfiguration"].(map[string]any)
	if pab["BlockPublicAcls"] != true || pab["IgnorePublicAcls"] != true {
		t.Errorf("public access block = %v", pab)
	}
	var policy resource
	for _, r := range tpl.ofType("AWS::S3::BucketPolicy") {
		if equalJSON(r.Properties["Bucket"], map[string]any{"Ref": bucketID}) {
			policy = r
		}
	}
	var tlsOnly, publicRead bool
	for _, s := range policy.Properties["PolicyDocument"].(map[string]any)["Statement"].([]any) {
		st := s.(map[string]any)
		if st["Effect"] == "Deny" && equalJSON(st["Condition"], map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}) {
			tlsOnly = true
		}
		if st["Effect"] == "Allow" && equalJSON(st["Principal"], map[string]any{"AWS": "*"}) {
			publicRead = st["Action"] == "s3:GetObject" && strings.HasSuffix(tpl.resolve(st["Resource"], home), "/onboarding/*")
			if !publicRead {
				t.Errorf("public statement %v", st)
			}
		}
	}
	if !tlsOnly || !publicRead {
		t.Errorf("bucket policy %v", policy.Properties)
	}
	_, deployment := tpl.one(t, "Custom::CDKBucketDeployment", "OnboardingTemplate")
	if deployment.Properties["DestinationBucketKeyPrefix"] != "onboarding/"+onboarding.TemplateVersion+"/" || deployment.Properties["Prune"] != false {
		t.Errorf("deployment = %v", deployment.Properties)
	}
	if _, err := os.Stat(filepath.Join(testCfg.RepoRoot, "pkg/onboarding/templates", filepath.Base(TemplateKey))); err != nil {
		t.Errorf("the deployed folder lacks %s: %v", filepath.Base(TemplateKey), err)
	}
}

func TestCursorKeySecret(t *testing.T) {
	_, s := platformTemplate().one(t, "AWS::SecretsManager::Secret", "CursorKey")
	gen := s.Properties["GenerateSecretString"].(map[string]any)
	if gen["PasswordLength"].(float64) < 32 || gen["ExcludePunctuation"] != true {
		t.Errorf("secret = %v", s.Properties)
	}
}

func TestNoUnsuppressedNagFindings(t *testing.T) {
	for _, name := range sortedKeys(templates) {
		ann := assertions.Annotations_FromStack(templates[name].stack)
		pattern := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
		for _, found := range []*[]*cxapi.SynthesisMessage{ann.FindError(jsii.String("*"), pattern), ann.FindWarning(jsii.String("*"), pattern)} {
			for _, m := range *found {
				t.Errorf("%s: %s: %v", name, *m.Id, m.Entry.Data)
			}
		}
	}
}

// TestCfnLint lints the synthesized templates: no errors, no warnings (W3005, redundant DependsOn that CDK emits,
// is noise).
func TestCfnLint(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(outDir, "*.template.json"))
	if len(files) != len(templates) {
		t.Fatalf("%d templates in %s, want %d", len(files), outDir, len(templates))
	}
	args := append([]string{"--format", "parseable", "--ignore-checks", "W3005", "--"}, files...)
	out, err := exec.Command("cfn-lint", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("cfn-lint %v: %v\n%s", files, err, out)
	}
}

func TestConfig(t *testing.T) {
	base := Config{Prefix: "gangplank", Region: "us-east-1"}
	with := func(f func(*Config)) Config { c := base; f(&c); return c }
	tests := []struct {
		name    string
		cfg     Config
		problem string
		check   func(Config) bool
	}{
		{"defaults", base, "", func(c Config) bool {
			return slices.Equal(c.Regions, []string{"us-east-1"}) && c.UsesCognito() && c.TenantClaim == "custom:tenant_id" && c.RoleClaim == "custom:role"
		}},
		{"external issuer", with(func(c *Config) { c.JWTIssuer, c.JWTAudience = "https://id.example.com", []string{"gangplank"} }), "", func(c Config) bool {
			return !c.UsesCognito() && c.TenantClaim == "tenant_id" && c.RoleClaim == "role"
		}},
		{"issuer without audience", with(func(c *Config) { c.JWTIssuer = "https://id.example.com" }), "set both the JWT issuer and audience", nil},
		{"plain-http issuer", with(func(c *Config) { c.JWTIssuer, c.JWTAudience = "http://id.example.com", []string{"a"} }), "https:// URL", nil},
		{"wildcard origin", with(func(c *Config) { c.AllowedOrigins = []string{"*"} }), "not a wildcard", nil},
		{"unknown region", with(func(c *Config) { c.Regions = []string{"us-east-1", "mars-1"} }), `"mars-1" is not a region`, nil},
		{"regions without home", with(func(c *Config) { c.Regions = []string{"eu-west-1"} }), "must include the home region", nil},
		{"upper-case prefix", with(func(c *Config) { c.Prefix = "Gangplank" }), "lower-case", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.withDefaults()
			if tt.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tt.problem) {
					t.Fatalf("err = %v, want %q", err, tt.problem)
				}
				return
			}
			if err != nil || !tt.check(got) {
				t.Fatalf("%+v, %v", got, err)
			}
		})
	}
}

// TestExternalIssuer synthesizes a second, one-region app trusting an external identity provider: its JWT
// authorizer names the issuer and audience, no user pool exists, and the functions read that provider's claims.
func TestExternalIssuer(t *testing.T) {
	cfg, err := Config{Prefix: "gp", Region: home, JWTIssuer: "https://id.example.com/", JWTAudience: []string{"gangplank-api"},
		RepoRoot: testCfg.RepoRoot, BuildDir: testCfg.BuildDir}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	a, err := Build(app, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tpl := load(a.Platform.Stack)
	_, authorizer := tpl.one(t, "AWS::ApiGatewayV2::Authorizer", "Api")
	want := map[string]any{"Audience": []any{"gangplank-api"}, "Issuer": "https://id.example.com/"}
	if !equalJSON(authorizer.Properties["JwtConfiguration"], want) {
		t.Errorf("JWT configuration %v, want %v", authorizer.Properties["JwtConfiguration"], want)
	}
	if n := len(tpl.ofType("AWS::Cognito::UserPool")); n != 0 {
		t.Errorf("%d user pools", n)
	}
	vars := functionsNamed(tpl, "gp")
	if len(vars) == 0 {
		t.Fatal("no functions")
	}
	for _, fn := range vars {
		env := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
		if env["TENANT_CLAIM"] != "tenant_id" || env["ROLE_CLAIM"] != "role" || !strings.HasPrefix(fn.Properties["FunctionName"].(string), "gp-") {
			t.Errorf("%v: claims %v / %v", fn.Properties["FunctionName"], env["TENANT_CLAIM"], env["ROLE_CLAIM"])
		}
	}
	if len(a.Callback) != 1 {
		t.Errorf("%d callback stacks, want the home region's", len(a.Callback))
	}
	ann := assertions.Annotations_FromStack(a.Platform.Stack)
	for _, m := range *ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
		t.Errorf("%s: %v", *m.Id, m.Entry.Data)
	}
}
