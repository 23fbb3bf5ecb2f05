package onboarding

import (
	_ "embed"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/awsid"
)

// Template is the onboarding template customers deploy (also uploaded to the template bucket by the CDK stack).
//
//go:embed templates/onboarding.yaml
var Template []byte

// TemplateVersion is the version in the template's Metadata and custom resource; a test keeps them equal.
const TemplateVersion = "1.1.0"

// StackName starts the onboarding stack's name in the customer's account; each link adds its own suffix.
const StackName = "Gangplank-Onboarding"

// Launch actions: a new stack, or an update of the stack that connects the account.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
)

// Instructions are everything a customer needs to connect an account, in every form the seed vendors offer: a
// quick-create console link, a CLI command, the template and its parameters, the policies for creating the role
// by hand, and Terraform.
type Instructions struct {
	AccountID       string `json:"accountId"`
	Region          string `json:"region"`
	StackName       string `json:"stackName"`
	TemplateURL     string `json:"templateUrl"`
	TemplateVersion string `json:"templateVersion"`
	// Action is ActionCreate for a new stack, or ActionUpdate when a stack already connects the account: creating
	// another would fail (its role name is taken), so the material updates that stack (StackID) instead.
	Action  string `json:"action"`
	StackID string `json:"stackId,omitempty"`
	// ConsoleURL opens the CloudFormation console on the action's page: quick-create review, or update.
	ConsoleURL string `json:"consoleUrl"`
	// QuickCreateURL is ConsoleURL for a new stack (empty for an update).
	QuickCreateURL string            `json:"quickCreateUrl,omitempty"`
	Parameters     map[string]string `json:"parameters"`
	Capabilities   []string          `json:"capabilities"`
	CLICommand     string            `json:"cliCommand"`
	ExpiresAt      time.Time         `json:"expiresAt"`
	Manual         ManualSetup       `json:"manual"`
	Terraform      string            `json:"terraform"`
}

// ManualSetup is the role described for creating it by hand; afterwards the customer pastes its ARN into Gangplank.
type ManualSetup struct {
	RoleName           string        `json:"roleName"`
	TrustPolicy        Policy        `json:"trustPolicy"`
	ManagedPolicyARNs  []string      `json:"managedPolicyArns"`
	PermissionPolicies []NamedPolicy `json:"permissionPolicies"`
	Steps              []string      `json:"steps"`
}

// linkInput is what the instructions are made of.
type linkInput struct {
	TenantID, ExternalID string
	Account              accounts.Account
	Token                string
	// StackName is the link's own stack name (linkStackName).
	StackName        string
	ExpiresAt        time.Time
	RoleName         string
	BulkActivation   bool
	MemberAccessRole string
	// Terraform writes the material's Terraform; without one (outside the API) the material has none.
	Terraform TerraformRenderer
}

// build renders the instructions for one account.
func (c Config) build(in linkInput) (Instructions, error) {
	a := in.Account
	roleName := in.RoleName
	if roleName == "" {
		roleName = DefaultRoleName
	}
	// Management accounts are set up for bulk activation (their role may assume the member access role of their
	// own organization's accounts, and nothing else), with the member role their discovery settings name.
	if a.Type == accounts.Management {
		in.BulkActivation = true
		if in.MemberAccessRole == "" && a.Discovery != nil {
			in.MemberAccessRole = a.Discovery.MemberRoleName
		}
	}
	memberRole := in.MemberAccessRole
	if memberRole == "" {
		memberRole = DefaultMemberAccessRole
	}
	bulk := "disabled"
	if in.BulkActivation && a.Type == accounts.Management {
		bulk = "enabled"
	}
	params := map[string]string{
		"TenantId":             in.TenantID,
		"ExternalId":           in.ExternalID,
		"PlatformPrincipal":    c.PlatformPrincipal,
		"CallbackTopicArn":     c.CallbackTopic(a.Region),
		"ActivationToken":      in.Token,
		"AccountType":          string(a.Type),
		"AccessLevel":          string(a.AccessLevel),
		"RoleName":             roleName,
		"BulkActivation":       bulk,
		"MemberAccessRoleName": memberRole,
		"IdentityAccess":       string(a.IdentityAccess.Or()),
		"IdentityPathPrefix":   string(a.IdentityPathPrefix.Or()),
	}
	shape := RoleShape{AccessLevel: a.AccessLevel, Type: a.Type, BulkActivation: bulk == "enabled", MemberAccessRole: memberRole,
		IdentityAccess: a.IdentityAccess.Or(), IdentityPathPrefix: a.IdentityPathPrefix.Or()}
	trust := TrustPolicy(c.PlatformPrincipal, in.ExternalID)
	policies := PermissionPolicies(shape)
	var tf string
	if in.Terraform != nil {
		// Both halves, as GET /v1/accounts/{id}/terraform (viewascode.go).
		var err error
		if tf, err = in.Terraform.Render(TerraformSpec{Account: a, RoleName: roleName, PlatformPrincipal: c.PlatformPrincipal, Policies: policies}); err != nil {
			return Instructions{}, err
		}
	}
	launch := Instructions{Action: ActionCreate, StackName: in.StackName, Region: a.Region}
	if stack, ok := connectedStack(a); ok {
		// The stack keeps its name, region and role name; an update carries the new link and settings.
		delete(params, "RoleName")
		launch = Instructions{Action: ActionUpdate, StackID: a.StackID, StackName: stack.name, Region: stack.region}
		launch.ConsoleURL = c.consoleURL(a.AccountID, stack.region, "/stacks/update/template", url.Values{"stackId": {a.StackID}}, params)
		launch.CLICommand = c.updateCommand(stack.region, a.StackID, params)
	} else {
		launch.QuickCreateURL = c.consoleURL(a.AccountID, a.Region, "/stacks/create/review", url.Values{"stackName": {in.StackName}}, params)
		launch.ConsoleURL = launch.QuickCreateURL
		launch.CLICommand = c.cliCommand(a.Region, in.StackName, params)
	}
	return Instructions{
		AccountID: a.AccountID, Region: launch.Region, StackName: launch.StackName,
		TemplateURL: c.TemplateURL, TemplateVersion: TemplateVersion,
		Action: launch.Action, StackID: launch.StackID, ConsoleURL: launch.ConsoleURL, QuickCreateURL: launch.QuickCreateURL,
		Parameters:   params,
		Capabilities: []string{"CAPABILITY_NAMED_IAM"},
		CLICommand:   launch.CLICommand,
		ExpiresAt:    in.ExpiresAt,
		Manual: ManualSetup{
			RoleName: roleName, TrustPolicy: trust, ManagedPolicyARNs: []string{ViewOnlyAccess}, PermissionPolicies: policies,
			Steps: []string{
				fmt.Sprintf("In account %s, open IAM > Roles > Create role > Custom trust policy, and paste trustPolicy.", a.AccountID),
				"Attach the AWS managed policy ViewOnlyAccess (job function).",
				fmt.Sprintf("Name the role %s (Gangplank may assume only roles whose names start with Gangplank) and create it.", roleName),
				"Add each of permissionPolicies as an inline policy, with its name.",
				fmt.Sprintf("Paste the role's ARN into Gangplank: POST /v1/accounts/%s/connect {\"roleArn\": \"arn:aws:iam::%s:role/%s\"}.", a.AccountID, a.AccountID, roleName),
			},
		},
		Terraform: tf,
	}, nil
}

// stackRef is a stack's name and region, read from its StackId.
type stackRef struct{ name, region string }

// connectedStack is the stack that connects the account, if one does (and was not deleted).
func connectedStack(a accounts.Account) (stackRef, bool) {
	if a.StackID == "" {
		return stackRef{}, false
	}
	arn, err := awsid.ParseARN(a.StackID)
	if err != nil || !awsid.IsRegion(arn.Region) {
		return stackRef{}, false
	}
	return stackRef{name: stackName(a.StackID), region: arn.Region}, true
}

// consoleURL is a CloudFormation console link to route (the quick-create review page, or the update page): the
// console reads the part after '#', so the template, stack and every parameter are encoded within it.
func (c Config) consoleURL(accountID, region, route string, q url.Values, params map[string]string) string {
	q.Set("templateURL", c.TemplateURL)
	for k, v := range params {
		q.Set("param_"+k, v)
	}
	base := strings.ReplaceAll(c.ConsoleURL, "{region}", region)
	console := url.Values{"region": {region}}
	if c.LocalConsole {
		// The local console plays the AWS console for every emulated account; the link names the one to sign in to.
		console.Set("account", accountID)
	}
	return base + "?" + console.Encode() + "#" + route + "?" + q.Encode()
}

// cliCommand is the stack as an AWS CLI command, with each parameter quoted for a POSIX shell. Unlike the console
// link it can name the callback topic as the stack's notification target, so a stack that fails before its custom
// resource runs (a role name already taken...) still tells Gangplank why. The region is set once, in REGION, and
// both the command and the topic it notifies follow it: AWS accepts only a topic of the stack's own region.
func (c Config) cliCommand(region, stackName string, params map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "REGION=%s\naws cloudformation create-stack --region \"$REGION\" --stack-name %s \\\n  --template-url %s \\\n  --capabilities CAPABILITY_NAMED_IAM \\\n  --notification-arns %s \\\n  --parameters",
		region, stackName, shellQuote(c.TemplateURL), c.regionalTopic())
	writeParameters(&b, params)
	return b.String()
}

// updateCommand updates the stack that connects the account with a new link (and the current settings), keeping
// its role's name.
func (c Config) updateCommand(region, stackID string, params map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "aws cloudformation update-stack --region %s --stack-name %s \\\n  --template-url %s \\\n  --capabilities CAPABILITY_NAMED_IAM \\\n  --parameters",
		region, shellQuote(stackID), shellQuote(c.TemplateURL))
	writeParameters(&b, params)
	fmt.Fprintf(&b, " \\\n    %s", shellQuote("ParameterKey=RoleName,UsePreviousValue=true"))
	return b.String()
}

// regionalTopic is the callback topic of "$REGION", quoted for a POSIX shell.
func (c Config) regionalTopic() string {
	before, after, _ := strings.Cut(c.CallbackTopicPattern, "{region}")
	return shellQuote(before) + `"$REGION"` + shellQuote(after)
}

func writeParameters(b *strings.Builder, params map[string]string) {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(b, " \\\n    %s", shellQuote("ParameterKey="+k+",ParameterValue="+params[k]))
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'" }
