package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"

	"github.com/gangplank/gangplank/pkg/platform"
)

// StateMachineFile is the bulk-activation workflow's definition (Amazon States Language), relative to the
// repository's root. The stack deploys the workflow exactly when the file exists.
const StateMachineFile = "statemachines/bulk-activation.asl.json"

// StateMachineEnv hands the workflow's ARN to the functions that start it.
const StateMachineEnv = "BULK_ACTIVATION_STATE_MACHINE_ARN"

// stateMachineARN is the workflow's fixed ARN (its name is the prefix's).
func (m *mainStack) stateMachineARN() string {
	return fmt.Sprintf("arn:%s:states:%s:%s:stateMachine:%s-bulk-activation", *awscdk.Aws_PARTITION(), *awscdk.Aws_REGION(),
		*awscdk.Aws_ACCOUNT_ID(), m.cfg.Prefix)
}

// workflowDefined reports whether the repository defines the workflow (the stack deploys it iff so).
func (m *mainStack) workflowDefined() bool {
	_, err := os.Stat(filepath.Join(m.cfg.RepoRoot, StateMachineFile))
	return err == nil
}

// substitution matches the ${Name} placeholders of an ASL file.
var substitution = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// Substitutions lists the ${...} names a definition uses, sorted.
func Substitutions(definition []byte) []string {
	seen := map[string]bool{}
	for _, m := range substitution.FindAllStringSubmatch(string(definition), -1) {
		seen[m[1]] = true
	}
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// camel turns "costsync-worker" into "CostsyncWorker".
func camel(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// buildStateMachine deploys StateMachineFile, if present. The definition names functions as
// ${<Function>FunctionArn} (${ActivationFunctionArn}) and tables as ${<Table>TableName} / ${<Table>TableArn}
// (${AccountsTableName}). Only the substitutions it uses are passed (each is a dependency; passing the starters'
// own ARNs would be a cycle), and the workflow may invoke exactly the functions, and write exactly the tables, it
// names (UpdateItem only). Logging: every event, without execution data (inputs carry customers' account details); X-Ray on.
func (m *mainStack) buildStateMachine() error {
	path := filepath.Join(m.cfg.RepoRoot, StateMachineFile)
	definition, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		return err
	}
	available := map[string]*string{}
	for name, fn := range m.Functions {
		available[camel(name)+"FunctionArn"] = fn.FunctionArn()
	}
	for id, t := range m.tables {
		available[camel(id)+"TableName"] = t.TableName()
		available[camel(id)+"TableArn"] = t.TableArn()
	}
	used := Substitutions(definition)
	subs := map[string]*string{}
	for _, name := range used {
		v, ok := available[name]
		if !ok {
			return fmt.Errorf("%s uses ${%s}, which the stack does not provide (functions: ${<Function>FunctionArn}, tables: ${<Table>TableName}, ${<Table>TableArn})",
				StateMachineFile, name)
		}
		subs[name] = v
	}
	logs := awslogs.NewLogGroup(m.stack, jsii.String("BulkActivationLogs"), &awslogs.LogGroupProps{
		LogGroupName: jsii.String("/aws/vendedlogs/states/" + m.cfg.Prefix + "-bulk-activation"),
		Retention:    awslogs.RetentionDays_THREE_MONTHS, RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	sm := awsstepfunctions.NewStateMachine(m.stack, jsii.String("BulkActivation"), &awsstepfunctions.StateMachineProps{
		StateMachineName:        jsii.String(m.cfg.Prefix + "-bulk-activation"),
		StateMachineType:        awsstepfunctions.StateMachineType_STANDARD,
		DefinitionBody:          awsstepfunctions.DefinitionBody_FromFile(jsii.String(path), nil),
		DefinitionSubstitutions: &subs,
		Logs:                    &awsstepfunctions.LogOptions{Destination: logs, Level: awsstepfunctions.LogLevel_ALL, IncludeExecutionData: jsii.Bool(false)},
		TracingEnabled:          jsii.Bool(true),
	})
	isUsed := func(n string) bool { i := sort.SearchStrings(used, n); return i < len(used) && used[i] == n }
	for _, name := range Functions() {
		if isUsed(camel(name) + "FunctionArn") {
			m.Functions[name].GrantInvoke(sm)
		}
	}
	// A table the definition names is one it records an activation's breakdown in (RecordBreakdown: one
	// UpdateItem), when the task function itself cannot: that and nothing more.
	for _, id := range sortedTableIDs(m) {
		if isUsed(camel(id)+"TableName") || isUsed(camel(id)+"TableArn") {
			m.tables[id].Grant(sm, jsii.String("dynamodb:UpdateItem"))
			m.key.GrantEncryptDecrypt(sm)
		}
	}
	// Each function gets the workflow actions its wiring declares (platform.Needs.Workflow), on the machine's fixed
	// ARN: the task function cannot reference the machine, whose definition references it.
	for _, f := range platform.Functions() {
		fn := m.Functions[f.Name]
		for _, action := range f.Needs.Workflow {
			resource := m.stateMachineARN()
			actions := []string{action}
			switch action {
			case platform.StopExecution:
				// Cancels act on the workflow's executions (named by activation id).
				resource = strings.Replace(resource, ":stateMachine:", ":execution:", 1) + ":*"
			case platform.SendTaskSuccess:
				// Resuming a batch's task token; failures and heartbeats go with it.
				actions = append(actions, "states:SendTaskFailure", "states:SendTaskHeartbeat")
			}
			fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Effect: awsiam.Effect_ALLOW, Actions: jsii.Strings(actions...), Resources: jsii.Strings(resource),
			}))
		}
	}
	period := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5))}
	m.alarm("BulkActivationFailed", sm.MetricFailed(period), "A bulk activation execution failed")
	m.alarm("BulkActivationTimedOut", sm.MetricTimedOut(period), "A bulk activation execution timed out")
	// Aborted executions are tenants' cancels, not failures: no alarm.
	return nil
}

func sortedTableIDs(m *mainStack) []string {
	var ids []string
	for id := range m.tables {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
