package localaws

import (
	"context"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// identityEnforcer plays IAM's part for every call signed by credentials a customer account issued: an IAM user's
// access key (CreateAccessKey through the edge) or a role session the edge handed out (AssumeRole). It
//   - refuses keys the local AWS never issued, or that were deleted or deactivated, as AWS refuses an invalid
//     security token;
//   - makes the call act in the principal's own account (moto, the edge's emulators and the caller agree on it);
//   - evaluates the principal's identity policies (a user's inline and attached policies and its groups'; a role's
//     inline and attached policies) against the call's IAM action and resource, and refuses it with the service's
//     own AccessDenied error, in AWS's words.
//
// The platform's default credentials and an account's root are not restricted, as AWS does not restrict root.
// Policies are read from moto's IAM once per principal and cached until IAM changes in that account (moto counts
// every change in a file the edge reads; see generations).
type identityEnforcer struct {
	env *Env
}

func (x *identityEnforcer) Intercept(w http.ResponseWriter, c *Call) bool {
	e := x.env
	p, ok := e.resolvePrincipal(c)
	if !ok {
		writeInvalidToken(w, c)
		return true
	}
	if p.kind != kindPlatform {
		c.Request.Header.Set(accountHeaderName, p.account)
	}
	ctx := c.Request.Context()
	var identity []policyDocument
	switch p.kind {
	case kindUser:
		u, err := e.policies.user(ctx, p.account, p.userName)
		if err != nil {
			writeProtocolError(w, c, http.StatusInternalServerError, "InternalFailure", err.Error())
			return true
		}
		if !u.exists || u.keys[c.AccessKeyID] != string(iamtypes.StatusTypeActive) {
			writeInvalidToken(w, c)
			return true
		}
		p.arn, c.principal = u.arn, p
		identity = u.identity
	case kindSession:
		r, err := e.policies.role(ctx, p.account, p.roleName)
		if err != nil {
			writeProtocolError(w, c, http.StatusInternalServerError, "InternalFailure", err.Error())
			return true
		}
		identity = r.identity // a deleted role's sessions can do nothing
	case kindRoot:
		if c.Is("sts", "GetCallerIdentity") {
			writeRootIdentity(w, p.account)
			return true
		}
	}
	if p.enforced() {
		op := e.operationOf(c, p)
		if !op.Free {
			req := authzRequest{Action: op.Action, Resource: op.Resource, Principal: p, Keys: e.requestKeys(c, p, op.Resource)}
			if d := evaluate(identity, req, false); d != allowed {
				writeAccessDenied(w, c, op, p, d)
				return true
			}
		}
	}
	return x.learnCredentials(w, c, p)
}

// learnCredentials forwards the IAM calls that issue or move an access key and records whose the key is.
func (x *identityEnforcer) learnCredentials(w http.ResponseWriter, c *Call, p principal) bool {
	if c.Service != "iam" || !(c.Action == "CreateAccessKey" || c.Action == "UpdateUser" && c.Form("NewUserName") != "") {
		return false
	}
	resp, body, err := x.env.roundTripMoto(c)
	if err != nil {
		WriteQueryError(w, http.StatusServiceUnavailable, "ServiceUnavailable", err.Error())
		return true
	}
	if resp.StatusCode == http.StatusOK {
		switch c.Action {
		case "CreateAccessKey":
			var out struct {
				Key struct{ UserName, AccessKeyId string } `xml:"CreateAccessKeyResult>AccessKey"`
			}
			if xml.Unmarshal(body, &out) == nil && out.Key.AccessKeyId != "" {
				x.env.creds.addUserKey(out.Key.AccessKeyId, userKey{AccountID: p.account, UserName: out.Key.UserName})
			}
		case "UpdateUser":
			x.env.creds.renameUser(p.account, c.Form("UserName"), c.Form("NewUserName"))
		}
	}
	writeUpstream(w, resp, body)
	return true
}

// requestKeys answers the condition keys of a call as IAM sets them (see conditionKeys for unknown keys).
func (e *Env) requestKeys(c *Call, p principal, resource string) conditionKeys {
	ctx := c.Request.Context()
	resourceAccount := p.account
	if parts := strings.SplitN(resource, ":", 6); len(parts) == 6 && isAccountID(parts[4]) {
		resourceAccount = parts[4]
	}
	orgs := map[string]string{}
	orgOf := func(account string) []string {
		id, ok := orgs[account]
		if !ok {
			id = e.organizationOf(ctx, account)
			orgs[account] = id
		}
		if id == "" {
			return nil
		}
		return []string{id}
	}
	one := func(v string) []string {
		if v == "" {
			return nil
		}
		return []string{v}
	}
	return func(key string) ([]string, bool) {
		switch key {
		case "sts:externalid":
			if c.Is("sts", "AssumeRole") {
				return one(c.Form("ExternalId")), true
			}
			return nil, true
		case "aws:principalaccount":
			return one(p.account), true
		case "aws:principalarn":
			if p.kind == kindSession {
				return one(p.roleARN), true
			}
			return one(p.arn), true
		case "aws:principaltype":
			return one(map[principalKind]string{kindUser: "User", kindSession: "AssumedRole", kindRoot: "Account", kindPlatform: "User"}[p.kind]), true
		case "aws:username":
			return one(p.userName), true
		case "aws:principalorgid":
			return orgOf(p.account), true
		case "aws:resourceaccount":
			return one(resourceAccount), true
		case "aws:resourceorgid":
			return orgOf(resourceAccount), true
		case "aws:requestedregion":
			return one(c.Region), true
		case "aws:securetransport":
			return one("true"), true // AWS endpoints are HTTPS; the loopback edge stands in for them
		case "aws:viaawsservice", "aws:principalisawsservice":
			return one("false"), true
		case "aws:multifactorauthpresent", "aws:calledvia", "aws:calledviafirst", "aws:calledvialast", "aws:sourcearn", "aws:sourceaccount":
			return nil, true // not set for requests signed with access keys
		case "aws:currenttime":
			return one(time.Now().UTC().Format(time.RFC3339)), true
		case "aws:epochtime":
			return one(fmt.Sprint(time.Now().Unix())), true
		}
		return nil, false
	}
}

// --- policies, cached per principal ---

// policyStore reads principals' policies from moto's IAM (directly, not through the edge) and caches them per
// principal until IAM changes in the principal's account.
type policyStore struct {
	env  *Env
	gens *generations
	// lookups counts the IAM calls made to fill the cache.
	lookups atomic.Int64

	mu       sync.Mutex
	entities map[string]*entity // kind|account|name
	managed  map[string]managedDoc
	clients  map[string]*iam.Client
}

// entity is a user, role or group as the edge last read it.
type entity struct {
	generation uint64
	exists     bool
	arn, path  string
	// trust is a role's trust policy.
	trust policyDocument
	// identity holds its identity policies (a user's include its groups'); full is false for an entity read only
	// for its path (entityPath).
	identity []policyDocument
	full     bool
	// keys maps a user's access key ids to their status.
	keys map[string]string
}

type managedDoc struct {
	generation uint64
	doc        policyDocument
}

func newPolicyStore(e *Env, gens *generations) *policyStore {
	return &policyStore{env: e, gens: gens, entities: map[string]*entity{}, managed: map[string]managedDoc{}, clients: map[string]*iam.Client{}}
}

func (s *policyStore) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entities, s.managed = map[string]*entity{}, map[string]managedDoc{}
}

// cached returns the entity if it was read since IAM last changed in its account, and that generation.
func (s *policyStore) cached(kind, account, name string, full bool) (*entity, uint64) {
	gen := s.gens.of(account)
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.entities[kind+"|"+account+"|"+name]; v != nil && v.generation == gen && (v.full || !full) {
		return v, gen
	}
	return nil, gen
}

func (s *policyStore) store(kind, account, name string, v *entity) *entity {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entities[kind+"|"+account+"|"+name] = v
	return v
}

// client is an IAM client acting in account, straight to moto, counting its calls.
func (s *policyStore) client(account string) *iam.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[account]
	if !ok {
		c = iam.New(iam.Options{Region: Region, BaseEndpoint: aws.String(s.env.MotoEndpoint), Credentials: staticCredentials,
			HTTPClient: &http.Client{Transport: countingTransport{accountHeader{account}, &s.lookups}}, RetryMaxAttempts: 1})
		s.clients[account] = c
	}
	return c
}

// user reads an IAM user: its ARN, access keys and identity policies with its groups'.
func (s *policyStore) user(ctx context.Context, account, name string) (*entity, error) {
	v, gen := s.cached("user", account, name, true)
	if v != nil {
		return v, nil
	}
	client := s.client(account)
	out, err := client.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
	if notFound(err) {
		return s.store("user", account, name, &entity{generation: gen, full: true}), nil
	} else if err != nil {
		return nil, err
	}
	v = &entity{generation: gen, exists: true, full: true, arn: aws.ToString(out.User.Arn), path: aws.ToString(out.User.Path), keys: map[string]string{}}
	keys := iam.NewListAccessKeysPaginator(client, &iam.ListAccessKeysInput{UserName: aws.String(name)})
	for keys.HasMorePages() {
		page, err := keys.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, k := range page.AccessKeyMetadata {
			v.keys[aws.ToString(k.AccessKeyId)] = string(k.Status)
		}
	}
	if v.identity, err = s.principalPolicies(ctx, account, "user", name); err != nil {
		return nil, err
	}
	groups := iam.NewListGroupsForUserPaginator(client, &iam.ListGroupsForUserInput{UserName: aws.String(name)})
	for groups.HasMorePages() {
		page, err := groups.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, g := range page.Groups {
			docs, err := s.principalPolicies(ctx, account, "group", aws.ToString(g.GroupName))
			if err != nil {
				return nil, err
			}
			v.identity = append(v.identity, docs...)
		}
	}
	return s.store("user", account, name, v), nil
}

// role reads an IAM role: its ARN, trust policy and identity policies (all at once: a role that is assumed is
// then used, so its sessions' first call costs no IAM read).
func (s *policyStore) role(ctx context.Context, account, name string) (*entity, error) {
	v, gen := s.cached("role", account, name, true)
	if v != nil {
		return v, nil
	}
	out, err := s.client(account).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if notFound(err) {
		return s.store("role", account, name, &entity{generation: gen, full: true}), nil
	} else if err != nil {
		return nil, err
	}
	v = &entity{generation: gen, exists: true, full: true, arn: aws.ToString(out.Role.Arn), path: aws.ToString(out.Role.Path)}
	if v.trust, err = parsePolicy(aws.ToString(out.Role.AssumeRolePolicyDocument)); err != nil {
		return nil, err
	}
	if v.identity, err = s.principalPolicies(ctx, account, "role", name); err != nil {
		return nil, err
	}
	return s.store("role", account, name, v), nil
}

// entityPath is the IAM path of a user, group or role ("/" if it does not exist), for the resource's ARN.
func (s *policyStore) entityPath(ctx context.Context, account, kind, name string) string {
	if kind == "role" {
		if r, err := s.role(ctx, account, name); err == nil && r.exists {
			return r.path
		}
		return "/"
	}
	v, gen := s.cached(kind, account, name, false)
	if v == nil {
		v = &entity{generation: gen}
		client := s.client(account)
		switch kind {
		case "user":
			if out, err := client.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)}); err == nil {
				v.exists, v.path, v.arn = true, aws.ToString(out.User.Path), aws.ToString(out.User.Arn)
			}
		case "group":
			if out, err := client.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String(name), MaxItems: aws.Int32(1)}); err == nil {
				v.exists, v.path, v.arn = true, aws.ToString(out.Group.Path), aws.ToString(out.Group.Arn)
			}
		}
		s.store(kind, account, name, v)
	}
	if !v.exists {
		return "/"
	}
	return v.path
}

// principalPolicies reads the inline and attached policies of a user, group or role.
func (s *policyStore) principalPolicies(ctx context.Context, account, kind, name string) ([]policyDocument, error) {
	l := policyListers(ctx, s.client(account), kind, name)
	inline, err := allPages(l.inline)
	if err != nil {
		return nil, err
	}
	attached, err := allPages(l.attached)
	if err != nil {
		return nil, err
	}
	docs := make([]policyDocument, 0, len(inline)+len(attached))
	for _, policyName := range inline {
		raw, err := l.get(policyName)
		if err != nil {
			return nil, err
		}
		doc, err := parsePolicy(aws.ToString(raw))
		if err != nil {
			return nil, fmt.Errorf("inline policy %s of %s %s: %w", policyName, kind, name, err)
		}
		docs = append(docs, doc)
	}
	for _, arn := range attached {
		doc, err := s.managedPolicy(ctx, account, arn)
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
	return docs, nil
}

// policyLister reads one principal's policies: pages of inline policy names and attached policy ARNs, and an
// inline policy's document.
type policyLister struct {
	inline, attached func(marker *string) (items []string, next *string, err error)
	get              func(policyName string) (*string, error)
}

func policyListers(ctx context.Context, client *iam.Client, kind, name string) policyLister {
	switch kind {
	case "user":
		return policyLister{
			inline: func(m *string) ([]string, *string, error) {
				o, err := client.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: &name, Marker: m})
				if err != nil {
					return nil, nil, err
				}
				return o.PolicyNames, o.Marker, nil
			},
			attached: func(m *string) ([]string, *string, error) {
				o, err := client.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: &name, Marker: m})
				if err != nil {
					return nil, nil, err
				}
				return policyARNs(o.AttachedPolicies), o.Marker, nil
			},
			get: func(p string) (*string, error) {
				o, err := client.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: &name, PolicyName: &p})
				if err != nil {
					return nil, err
				}
				return o.PolicyDocument, nil
			},
		}
	case "group":
		return policyLister{
			inline: func(m *string) ([]string, *string, error) {
				o, err := client.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: &name, Marker: m})
				if err != nil {
					return nil, nil, err
				}
				return o.PolicyNames, o.Marker, nil
			},
			attached: func(m *string) ([]string, *string, error) {
				o, err := client.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: &name, Marker: m})
				if err != nil {
					return nil, nil, err
				}
				return policyARNs(o.AttachedPolicies), o.Marker, nil
			},
			get: func(p string) (*string, error) {
				o, err := client.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: &name, PolicyName: &p})
				if err != nil {
					return nil, err
				}
				return o.PolicyDocument, nil
			},
		}
	}
	return policyLister{
		inline: func(m *string) ([]string, *string, error) {
			o, err := client.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: &name, Marker: m})
			if err != nil {
				return nil, nil, err
			}
			return o.PolicyNames, o.Marker, nil
		},
		attached: func(m *string) ([]string, *string, error) {
			o, err := client.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: &name, Marker: m})
			if err != nil {
				return nil, nil, err
			}
			return policyARNs(o.AttachedPolicies), o.Marker, nil
		},
		get: func(p string) (*string, error) {
			o, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &name, PolicyName: &p})
			if err != nil {
				return nil, err
			}
			return o.PolicyDocument, nil
		},
	}
}

// allPages follows IAM's Marker through every page.
func allPages(page func(marker *string) ([]string, *string, error)) ([]string, error) {
	var all []string
	var marker *string
	for {
		items, next, err := page(marker)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if aws.ToString(next) == "" {
			return all, nil
		}
		marker = next
	}
}

// managedPolicy reads a managed policy's default version. AWS managed policies never change (cached for good);
// an account's own are cached until IAM changes in that account.
func (s *policyStore) managedPolicy(ctx context.Context, account, arn string) (policyDocument, error) {
	awsManaged := strings.HasPrefix(arn, "arn:aws:iam::aws:policy/")
	gen := s.gens.of(account)
	s.mu.Lock()
	m, ok := s.managed[arn]
	s.mu.Unlock()
	if ok && (awsManaged || m.generation == gen) {
		return m.doc, nil
	}
	client := s.client(account)
	pol, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return policyDocument{}, fmt.Errorf("managed policy %s: %w", arn, err)
	}
	v, err := client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: pol.Policy.DefaultVersionId})
	if err != nil {
		return policyDocument{}, fmt.Errorf("managed policy %s: %w", arn, err)
	}
	doc, err := parsePolicy(aws.ToString(v.PolicyVersion.Document))
	if err != nil {
		return policyDocument{}, fmt.Errorf("managed policy %s: %w", arn, err)
	}
	s.mu.Lock()
	s.managed[arn] = managedDoc{generation: gen, doc: doc}
	s.mu.Unlock()
	return doc, nil
}

func policyARNs(list []iamtypes.AttachedPolicy) []string {
	out := make([]string, len(list))
	for i, p := range list {
		out[i] = aws.ToString(p.PolicyArn)
	}
	return out
}

func notFound(err error) bool {
	var nse *iamtypes.NoSuchEntityException
	return errors.As(err, &nse)
}

type countingTransport struct {
	next  http.RoundTripper
	calls *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.calls.Add(1)
	return t.next.RoundTrip(r)
}

// IdentityLookups is the number of IAM calls the edge has made to read principals' policies (for benchmarks:
// with the cache, a principal's policies are read once per change to IAM in its account).
func (e *Env) IdentityLookups() int64 { return e.policies.lookups.Load() }

// --- generations: IAM changes counted by moto ---

// generationSlots is the number of per-account counters in the shared file. Accounts sharing a slot only share
// invalidations.
const generationSlots = 4096

// generations reads the counters moto bumps on every change to IAM (moto_launcher.py _publish_iam_changes): a file
// of little-endian uint64 slots, an account's slot being the CRC-32 (IEEE) of its id modulo the slot count.
type generations struct {
	f *os.File
}

func newGenerations(path string) (*generations, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(generationSlots * 8); err != nil {
		f.Close()
		return nil, err
	}
	return &generations{f: f}, nil
}

// of is account's generation; a read error counts as a change (the cache is then never trusted).
func (g *generations) of(account string) uint64 {
	var b [8]byte
	if _, err := g.f.ReadAt(b[:], int64(crc32.ChecksumIEEE([]byte(account))%generationSlots)*8); err != nil {
		return uint64(time.Now().UnixNano())
	}
	return binary.LittleEndian.Uint64(b[:])
}

func (g *generations) close() { _ = g.f.Close() }

// --- answers in each service's protocol ---

// writeAccessDenied refuses a call as the service does, in AWS's words.
func writeAccessDenied(w http.ResponseWriter, c *Call, op operation, p principal, d decision) {
	because := "because no identity-based policy allows the " + op.Action + " action"
	if d == explicitDeny {
		because = "with an explicit deny in an identity-based policy"
	}
	on := ""
	switch {
	case op.protocol == protoEC2, op.Resource == "", op.Resource == "*":
	case op.protocol == protoRESTXML:
		on = ` on resource: "` + op.Resource + `"`
	default:
		on = " on resource: " + op.Resource
	}
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s%s %s", p.arn, op.Action, on, because)
	switch {
	case op.protocol == protoEC2:
		writeProtocolError(w, c, http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation. "+msg)
	case c.Service == "sns":
		writeProtocolError(w, c, http.StatusForbidden, "AuthorizationError", msg)
	case op.protocol == protoJSON:
		writeProtocolError(w, c, http.StatusBadRequest, "AccessDeniedException", msg)
	case op.protocol == protoRESTJSON:
		writeProtocolError(w, c, http.StatusForbidden, "AccessDeniedException", msg)
	default:
		writeProtocolError(w, c, http.StatusForbidden, "AccessDenied", msg)
	}
}

// writeInvalidToken refuses a key AWS does not know (never issued, deleted or deactivated).
func writeInvalidToken(w http.ResponseWriter, c *Call) {
	const invalid = "The security token included in the request is invalid."
	switch protocolOf(c) {
	case protoEC2:
		writeProtocolError(w, c, http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials")
	case protoRESTXML:
		writeProtocolError(w, c, http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
	case protoJSON:
		writeProtocolError(w, c, http.StatusBadRequest, "UnrecognizedClientException", invalid)
	case protoRESTJSON:
		writeProtocolError(w, c, http.StatusForbidden, "UnrecognizedClientException", invalid)
	default:
		writeProtocolError(w, c, http.StatusForbidden, "InvalidClientTokenId", invalid)
	}
}

// writeProtocolError frames an error as the call's service does.
func writeProtocolError(w http.ResponseWriter, c *Call, status int, code, message string) {
	switch protocolOf(c) {
	case protoQuery:
		WriteQueryError(w, status, code, message)
	case protoEC2:
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(status)
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Response><Errors><Error><Code>")
		xmlEscape(&b, code)
		b.WriteString("</Code><Message>")
		xmlEscape(&b, message)
		b.WriteString("</Message></Error></Errors><RequestID>" + newUUID() + "</RequestID></Response>")
		_, _ = io.WriteString(w, b.String())
	case protoRESTXML:
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>")
		xmlEscape(&b, code)
		b.WriteString("</Code><Message>")
		xmlEscape(&b, message)
		b.WriteString("</Message><RequestId>" + newUUID() + "</RequestId></Error>")
		_, _ = io.WriteString(w, b.String())
	default:
		contentType := "application/json" // REST-JSON
		if ct := c.Request.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/x-amz-json-") {
			contentType = ct // JSON 1.0 or 1.1, as the request
		}
		writeJSONError(w, contentType, status, code, message)
	}
}

// writeRootIdentity answers GetCallerIdentity for an account's root user.
func writeRootIdentity(w http.ResponseWriter, account string) {
	w.Header().Set("Content-Type", "text/xml")
	_, _ = fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
		`<Arn>arn:aws:iam::%s:root</Arn><UserId>%s</UserId><Account>%s</Account></GetCallerIdentityResult>`+
		`<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></GetCallerIdentityResponse>`, account, account, account, newUUID())
}
