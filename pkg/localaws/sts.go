package localaws

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// trustEnforcer makes STS AssumeRole as strict as AWS: moto hands out credentials for any role ARN, even one that
// does not exist or does not trust the caller, and ignores sts:ExternalId. Here, before moto sees the call, the
// target role is read from moto's IAM in its own account, its trust policy is evaluated against the caller and the
// External ID, and, when the caller is itself a role session (role chaining), that role's identity policies must
// allow sts:AssumeRole on the target. A refusal is AWS's AccessDenied, with AWS's wording.
type trustEnforcer struct {
	env *Env

	mu sync.RWMutex
	// sessions maps the access key of each session this edge handed out to the role it belongs to.
	sessions map[string]session
}

// session is a role session: who is calling when its access key signs a request.
type session struct {
	RoleARN    string // arn:aws:iam::<account>:role/<name>
	AccountID  string
	AssumedARN string // arn:aws:sts::<account>:assumed-role/<name>/<session>
}

// caller describes a request's principal: a role session, or the platform account's own (administrator) user.
func (t *trustEnforcer) caller(accessKey string) (session, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	s, ok := t.sessions[accessKey]
	return s, ok
}

func (t *trustEnforcer) Intercept(w http.ResponseWriter, c *Call) bool {
	if !c.Is("sts", "AssumeRole") {
		return false
	}
	ctx := c.Request.Context()
	roleARN, externalID := c.Form("RoleArn"), c.Form("ExternalId")
	from, chained := t.caller(c.AccessKeyID)
	callerAccount := t.env.callerAccount(c)
	callerARN := "arn:aws:iam::" + callerAccount + ":user/admin"
	if chained {
		callerARN, callerAccount = from.AssumedARN, from.AccountID
	}
	deny := func(why string) bool {
		WriteQueryError(w, http.StatusForbidden, "AccessDenied", fmt.Sprintf(
			"User: %s is not authorized to perform: sts:AssumeRole on resource: %s (%s)", callerARN, roleARN, why))
		return true
	}
	targetAccount, roleName, ok := splitRoleARN(roleARN)
	if !ok {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "RoleArn is not a role ARN: "+roleARN)
		return true
	}
	trust, err := t.env.rolePolicies(ctx, targetAccount, roleName, false)
	if err != nil {
		return deny(err.Error())
	}
	principal := principalOf{account: callerAccount}
	if chained {
		principal.roleARN = from.RoleARN
	}
	keys := t.conditionKeys(ctx, externalID, callerAccount, targetAccount)
	if !evaluate(trust, principal, "sts:AssumeRole", "", keys) {
		return deny("the role's trust policy does not allow this principal with this External ID")
	}
	if chained {
		_, fromName, _ := splitRoleARN(from.RoleARN)
		identity, err := t.env.rolePolicies(ctx, from.AccountID, fromName, true)
		if err != nil {
			return deny(err.Error())
		}
		if !evaluate(identity, principalOf{}, "sts:AssumeRole", roleARN, keys) {
			return deny("no identity-based policy allows the action")
		}
	}
	return t.forward(w, c, roleARN)
}

// conditionKeys answers the condition keys Gangplank's policies use: sts:ExternalId, and the organizations of the
// calling and the target account (read from moto's Organizations only if a policy asks).
func (t *trustEnforcer) conditionKeys(ctx context.Context, externalID, callerAccount, targetAccount string) conditionKeys {
	orgs := map[string]string{}
	orgOf := func(account string) string {
		if id, ok := orgs[account]; ok {
			return id
		}
		orgs[account] = t.env.organizationOf(ctx, account)
		return orgs[account]
	}
	return func(key string) (string, bool) {
		switch key {
		case "sts:externalid":
			return externalID, true
		case "aws:principalorgid":
			return orgOf(callerAccount), true
		case "aws:resourceorgid":
			return orgOf(targetAccount), true
		case "aws:principalaccount":
			return callerAccount, true
		case "aws:resourceaccount":
			return targetAccount, true
		}
		return "", false
	}
}

// organizationOf is the id of the organization account belongs to, or "" if none.
func (e *Env) organizationOf(ctx context.Context, account string) string {
	client := organizations.New(organizations.Options{
		Region: Region, BaseEndpoint: aws.String(e.MotoEndpoint), Credentials: staticCredentials,
		HTTPClient: &http.Client{Transport: accountHeader{account}}, RetryMaxAttempts: 1,
	})
	out, err := client.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil || out.Organization == nil {
		return ""
	}
	return aws.ToString(out.Organization.Id)
}

// forward lets moto issue the credentials and remembers whose they are.
func (t *trustEnforcer) forward(w http.ResponseWriter, c *Call, roleARN string) bool {
	req, err := http.NewRequestWithContext(c.Request.Context(), http.MethodPost, t.env.MotoEndpoint+c.Request.URL.RequestURI(), bytes.NewReader(c.Body))
	if err != nil {
		WriteQueryError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return true
	}
	req.Header = c.Request.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		WriteQueryError(w, http.StatusServiceUnavailable, "ServiceUnavailable", err.Error())
		return true
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		var out struct {
			Result struct {
				Credentials     struct{ AccessKeyId string }
				AssumedRoleUser struct{ Arn string }
			} `xml:"AssumeRoleResult"`
		}
		if xml.Unmarshal(body, &out) == nil && out.Result.Credentials.AccessKeyId != "" {
			account, _, _ := splitRoleARN(roleARN)
			t.mu.Lock()
			t.sessions[out.Result.Credentials.AccessKeyId] = session{RoleARN: roleARN, AccountID: account, AssumedARN: out.Result.AssumedRoleUser.Arn}
			t.mu.Unlock()
		}
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	return true
}

func splitRoleARN(arn string) (account, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return "", "", false
	}
	name = parts[5][len("role/"):]
	if i := strings.LastIndexByte(name, '/'); i >= 0 { // a role path: role/path/to/Name
		name = name[i+1:]
	}
	return parts[4], name, name != ""
}

// AccountIAM returns an IAM client acting in accountID of the local AWS (moto keys its state by account).
func (e *Env) AccountIAM(accountID string) *iam.Client {
	return iam.New(iam.Options{
		Region: Region, BaseEndpoint: aws.String(e.MotoEndpoint), Credentials: staticCredentials,
		HTTPClient: &http.Client{Transport: accountHeader{accountID}}, RetryMaxAttempts: 1,
	})
}

// rolePolicies reads a role's trust policy, or (identity) its inline and attached identity policies.
func (e *Env) rolePolicies(ctx context.Context, account, name string, identity bool) ([]policyDocument, error) {
	client := e.AccountIAM(account)
	role, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("the role %s does not exist in account %s", name, account)
	}
	if !identity {
		doc, err := parsePolicy(aws.ToString(role.Role.AssumeRolePolicyDocument))
		return []policyDocument{doc}, err
	}
	var docs []policyDocument
	inline, err := client.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	for _, p := range inline.PolicyNames {
		out, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(p)})
		if err != nil {
			return nil, err
		}
		doc, err := parsePolicy(aws.ToString(out.PolicyDocument))
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
	attached, err := client.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	for _, p := range attached.AttachedPolicies {
		arn := aws.ToString(p.PolicyArn)
		if arn == "arn:aws:iam::aws:policy/AdministratorAccess" {
			docs = append(docs, policyDocument{Statement: []statement{{Effect: "Allow", Action: []string{"*"}, Resource: []string{"*"}}}})
			continue
		}
		pol, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		if err != nil {
			continue // An AWS managed policy moto does not load grants no sts:AssumeRole Gangplank relies on.
		}
		v, err := client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: pol.Policy.DefaultVersionId})
		if err != nil {
			return nil, err
		}
		doc, err := parsePolicy(aws.ToString(v.PolicyVersion.Document))
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
	return docs, nil
}

// AccountConfig is an AWS configuration acting in accountID of the local AWS, through the edge: a customer's own
// credentials, as tests and the local console use them to act in customers' accounts.
func (e *Env) AccountConfig(accountID string) aws.Config {
	return aws.Config{
		Region: Region, BaseEndpoint: aws.String(e.Endpoint), Credentials: staticCredentials,
		HTTPClient: &http.Client{Transport: accountHeader{accountID}}, RetryMaxAttempts: 1,
	}
}

// CallerAccount is the account a call acts in (for interceptors that inject faults per account).
func (e *Env) CallerAccount(c *Call) string { return e.callerAccount(c) }

// callerAccount is the account a call acts in: moto's account header, the account of a session this edge handed
// out, or the platform's.
func (e *Env) callerAccount(c *Call) string {
	if a := c.Request.Header.Get("x-moto-account-id"); a != "" {
		return a
	}
	if s, ok := e.trust.caller(c.AccessKeyID); ok {
		return s.AccountID
	}
	return PlatformAccountID
}

type accountHeader struct{ account string }

func (a accountHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("x-moto-account-id", a.account)
	return http.DefaultTransport.RoundTrip(r)
}

var staticCredentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing", Source: "localaws"}, nil
})

// policyDocument is an IAM policy, with the single-or-list fields normalised to lists.
type policyDocument struct {
	Statement []statement
}

type statement struct {
	Effect    string
	Principal []string // AWS principals; "*" for everyone
	Action    []string
	Resource  []string
	Condition map[string]map[string][]string
}

func parsePolicy(raw string) (policyDocument, error) {
	if strings.HasPrefix(raw, "%7B") || strings.HasPrefix(raw, "%7b") {
		if u, err := url.QueryUnescape(raw); err == nil {
			raw = u
		}
	}
	var doc struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		return policyDocument{}, fmt.Errorf("the policy is not valid JSON: %w", err)
	}
	var rawStatements []map[string]json.RawMessage
	if err := json.Unmarshal(doc.Statement, &rawStatements); err != nil {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(doc.Statement, &one); err != nil {
			return policyDocument{}, fmt.Errorf("the policy's Statement is malformed: %w", err)
		}
		rawStatements = []map[string]json.RawMessage{one}
	}
	var out policyDocument
	for _, rs := range rawStatements {
		s := statement{Condition: map[string]map[string][]string{}}
		_ = json.Unmarshal(rs["Effect"], &s.Effect)
		s.Action = stringOrList(rs["Action"])
		s.Resource = stringOrList(rs["Resource"])
		if p := rs["Principal"]; len(p) > 0 {
			var star string
			if json.Unmarshal(p, &star) == nil && star == "*" {
				s.Principal = []string{"*"}
			} else {
				var m map[string]json.RawMessage
				_ = json.Unmarshal(p, &m)
				s.Principal = stringOrList(m["AWS"])
			}
		}
		var cond map[string]map[string]json.RawMessage
		_ = json.Unmarshal(rs["Condition"], &cond)
		for op, kv := range cond {
			s.Condition[op] = map[string][]string{}
			for k, v := range kv {
				s.Condition[op][strings.ToLower(k)] = stringOrList(v)
			}
		}
		out.Statement = append(out.Statement, s)
	}
	return out, nil
}

func stringOrList(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var list []string
	_ = json.Unmarshal(raw, &list)
	return list
}

// principalOf is who asks, for trust policies: an account, and the role whose session asks (if any).
type principalOf struct {
	account string
	roleARN string
}

// evaluate applies IAM's rule to a set of policies: an explicit Deny wins, else some Allow must match. Trust
// policies match the principal; identity policies (empty principal) match the resource.
func evaluate(docs []policyDocument, p principalOf, action, resource string, keys conditionKeys) bool {
	allowed := false
	for _, d := range docs {
		for _, s := range d.Statement {
			if !matchAny(s.Action, action) {
				continue
			}
			if p.account != "" && !principalMatches(s.Principal, p) {
				continue
			}
			if resource != "" && !matchAny(s.Resource, resource) {
				continue
			}
			if !conditionsHold(s.Condition, keys) {
				continue
			}
			if s.Effect == "Deny" {
				return false
			}
			allowed = allowed || s.Effect == "Allow"
		}
	}
	return allowed
}

func principalMatches(principals []string, p principalOf) bool {
	for _, want := range principals {
		switch want {
		case "*", p.account, "arn:aws:iam::" + p.account + ":root":
			return true
		}
		if p.roleARN != "" && want == p.roleARN {
			return true
		}
	}
	return false
}

// conditionKeys looks up a request's condition key values (lower-case keys) as IAM would see them.
type conditionKeys func(key string) (string, bool)

// conditionsHold evaluates StringEquals and StringLike, substituting ${aws:...} policy variables. Any other
// operator or an unknown key does not hold, so an unsupported condition refuses rather than permits.
func conditionsHold(cond map[string]map[string][]string, keys conditionKeys) bool {
	for op, kv := range cond {
		for key, values := range kv {
			actual, ok := keys(key)
			if !ok || actual == "" {
				return false
			}
			matched := false
			for _, v := range values {
				v = substituteVariables(v, keys)
				switch op {
				case "StringEquals":
					matched = matched || v == actual
				case "StringLike":
					matched = matched || wildcardMatch(v, actual)
				}
			}
			if !matched {
				return false
			}
		}
	}
	return true
}

func substituteVariables(v string, keys conditionKeys) string {
	for {
		i := strings.Index(v, "${")
		if i < 0 {
			return v
		}
		j := strings.IndexByte(v[i:], '}')
		if j < 0 {
			return v
		}
		val, _ := keys(strings.ToLower(v[i+2 : i+j]))
		v = v[:i] + val + v[i+j+1:]
	}
}

// matchAny matches IAM wildcards (* and ?) case-insensitively for actions, as IAM does.
func matchAny(patterns []string, value string) bool {
	for _, p := range patterns {
		if wildcardMatch(strings.ToLower(p), strings.ToLower(value)) {
			return true
		}
	}
	return false
}

// wildcardMatch is IAM's glob: * matches any run of characters (including "/" and ":"), ? one character.
func wildcardMatch(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if wildcardMatch(pattern[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		default:
			if s == "" || pattern[0] != s[0] {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		}
	}
	return s == ""
}
