package testkit

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/awsx"
	"github.com/gangplank/gangplank/pkg/devserver"
	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/httpapi"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/platform"
	"github.com/gangplank/gangplank/pkg/platform/awsadapters"
	"github.com/gangplank/gangplank/pkg/platform/web"
	"github.com/gangplank/gangplank/pkg/tables"
)

// Platform is Gangplank's API over fresh tables in the local AWS, as one test sees it.
type Platform struct {
	Provisioned devserver.Provisioned
	AWS         aws.Config
	Calls       *awsx.CallCounter
	Tables      tables.Names
	Config      platform.Config
	Services    *platform.Services
	API         *httpapi.API
	Issuer      auth.Issuer
	// jobs reads discovery jobs uncounted (WaitJob).
	jobs *discovery.Service
}

// TestRegions are the regions a test platform serves (a callback topic each).
var TestRegions = []string{"us-east-1", "eu-west-1"}

var (
	keyOnce sync.Once
	testKey *ecdsa.PrivateKey
)

// SigningKey is the test binary's token signing key.
func SigningKey(t testing.TB) *ecdsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		if testKey, err = auth.NewKey(); err != nil {
			panic(err)
		}
	})
	return testKey
}

// PlatformOptions tune a test platform.
type PlatformOptions struct {
	// ExtraDeliveries delivers every callback message this many more times (SNS delivers at least once).
	ExtraDeliveries int
	// CallbackTimeout is the callback function's timeout (default 20 s).
	CallbackTimeout time.Duration
	// Tune adjusts every part of every function as it is built, after the test defaults.
	Tune func(platform.Parts)
	// Discovery tunes discovery wherever it is built (the services, the discovery worker): tests make steps small.
	Discovery func(*discovery.Service)
}

// InventoryRegions are the regions a test platform's inventory reads unless a test's Tune says otherwise: every
// account activated in a test syncs its inventory, and one region keeps that quick.
var InventoryRegions = []string{"us-east-1"}

// NewPlatform builds the platform over fresh tables, with the callback function subscribed to the callback topic
// of every test region, as the CDK stack subscribes it. Every DynamoDB call it makes is counted in Calls.
func NewPlatform(t testing.TB, opts ...PlatformOptions) *Platform {
	t.Helper()
	var o PlatformOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.CallbackTimeout == 0 {
		o.CallbackTimeout = 20 * time.Second
	}
	prefix := uniquePrefix()
	calls := awsx.NewCallCounter()
	cfg := AWSConfig(t, calls)
	env := LocalAWS(t)
	prov, err := devserver.Provision(t.Context(), env, cfg, prefix, TestRegions)
	if err != nil {
		t.Fatalf("provision the platform: %v", err)
	}
	names := prov.Tables
	calls.Reset()
	pc := prov.Config
	pc.CursorKey, pc.Claims = bytes.Repeat([]byte{7}, 32), auth.DefaultClaims
	services, err := platform.NewServices(cfg, pc, awsadapters.All(), time.Now)
	if err != nil {
		t.Fatalf("services: %v", err)
	}
	tune := func(b *platform.Builder) {
		b.Tune(func(p platform.Parts) {
			if p.Connector != nil {
				p.Connector.Backoff = 50 * time.Millisecond
			}
			if p.Onboarding != nil {
				// Long enough to retry a few times, short enough that a test of a role that never works stays quick.
				p.Onboarding.ConnectRetry = 500 * time.Millisecond
				// A role that never becomes assumable fails a callback after a second, not after a minute and a half.
				p.Onboarding.CallbackBudget = time.Second
			}
			if p.Activation != nil {
				p.Activation.Deadline, p.Activation.MaxBackoff = 20*time.Second, 10*time.Millisecond
			}
			if p.Inventory != nil {
				p.Inventory.MaxBackoff = 10 * time.Millisecond
				p.Inventory.DefaultRegions = InventoryRegions
			}
			if p.Identity != nil {
				// moto builds the credential report at once; a new access key works at once.
				p.Identity.Fetch.ReportWait, p.Identity.KeyPropagation, p.Identity.MaxBackoff = 10*time.Millisecond, 5*time.Second, 10*time.Millisecond
			}
			if p.Discovery != nil {
				p.Discovery.MaxBackoff = 10 * time.Millisecond
				if o.Discovery != nil {
					o.Discovery(p.Discovery)
				}
			}
			if o.Tune != nil {
				o.Tune(p)
			}
		})
	}
	tune(services.Builder)
	devserver.RegisterActivation(env, prov, services)
	stopFunctions, err := devserver.ServeFunctions(t.Context(), env, cfg, prov, pc, prefix, devserver.FunctionOptions{
		CallbackTimeout: o.CallbackTimeout, ExtraDeliveries: o.ExtraDeliveries, RetryDelay: 100 * time.Millisecond, Tune: tune})
	if err != nil {
		t.Fatalf("serve the functions: %v", err)
	}
	t.Cleanup(stopFunctions)
	t.Cleanup(func() {
		// Nothing of this platform may still be working when the next test starts.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := env.WaitIdle(ctx); err != nil {
			t.Logf("local AWS after the test: %v", err)
		}
	})
	// Waiting for discovery jobs reads them through clients of their own, so the counts in Calls are the platform's.
	watcher, err := platform.NewServices(AWSConfig(t, nil), pc, awsadapters.All(), time.Now)
	if err != nil {
		t.Fatalf("services: %v", err)
	}
	key := SigningKey(t)
	verifier := &auth.Verifier{Key: &key.PublicKey, Issuer: auth.LocalIssuer, Audience: auth.LocalAudience}
	return &Platform{
		Provisioned: prov, AWS: cfg, Calls: calls, Tables: names, Config: pc, Services: services, jobs: watcher.Discovery,
		API:    web.NewAPI(services.Builder, verifier),
		Issuer: auth.Issuer{Key: key, Issuer: auth.LocalIssuer, Audience: auth.LocalAudience},
	}
}

// Token returns a valid token for a user of tenant with role.
func (p *Platform) Token(t testing.TB, tenant string, role auth.Role) string {
	t.Helper()
	tok, err := p.Issuer.Token("user-"+tenant+"-"+string(role), tenant, role, time.Hour, time.Now())
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	return tok
}

// Response is a recorded API response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it cannot.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

// Map decodes the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Request describes one call. Body may be a string (sent as is) or any value (sent as JSON).
type Request struct {
	Method  string
	Path    string
	Token   string
	Body    any
	Header  map[string]string
	NoCheck bool // skip the OpenAPI check (for deliberately unrouted requests)
}

// Do sends a request through the real router and checks the response against the OpenAPI document.
func (p *Platform) Do(t testing.TB, req Request) *Response {
	t.Helper()
	return Serve(t, p.API, req)
}

// Serve sends req to h and checks the exchange against the OpenAPI document.
func Serve(t testing.TB, h http.Handler, req Request) *Response {
	t.Helper()
	var body []byte
	switch b := req.Body.(type) {
	case nil:
	case string:
		body = []byte(b)
	case []byte:
		body = b
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			t.Fatalf("encode body: %v", err)
		}
	}
	r := httptest.NewRequest(req.Method, req.Path, bytes.NewReader(body))
	if req.Body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if req.Token != "" {
		r.Header.Set("Authorization", "Bearer "+req.Token)
	}
	for k, v := range req.Header {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	resp := &Response{Status: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
	if !req.NoCheck {
		checkContract(t, req.Method, req.Path, r.Header, body, resp)
	}
	return resp
}

// CreateRole creates the role the instructions describe for creating by hand (trust policy, managed and inline
// policies), in the instructions' account of the local AWS, as a customer following them would. The name gets a
// unique suffix (moto's IAM outlives a test). It returns the role's ARN.
func (p *Platform) CreateRole(t testing.TB, ins onboarding.Instructions) string {
	t.Helper()
	return CreateRole(t, ins.AccountID, UniqueName(ins.Manual.RoleName), ins.Manual.TrustPolicy, ins.Manual.PermissionPolicies...)
}

// CreateRole creates a role in accountID of the local AWS with a trust policy and inline policies.
func CreateRole(t testing.TB, accountID, name string, trust onboarding.Policy, inline ...onboarding.NamedPolicy) string {
	t.Helper()
	client := LocalAWS(t).AccountIAM(accountID)
	doc, _ := json.Marshal(trust)
	out, err := client.CreateRole(t.Context(), &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(string(doc))})
	if err != nil {
		t.Fatalf("create role %s in %s: %v", name, accountID, err)
	}
	for _, pol := range inline {
		doc, _ := json.Marshal(pol.Document)
		if _, err := client.PutRolePolicy(t.Context(), &iam.PutRolePolicyInput{RoleName: aws.String(name),
			PolicyName: aws.String(pol.Name), PolicyDocument: aws.String(string(doc))}); err != nil {
			t.Fatalf("put policy %s on %s: %v", pol.Name, name, err)
		}
	}
	return aws.ToString(out.Role.Arn)
}

// DeleteRole deletes a role of accountID in the local AWS as the IAM console does: it detaches the role's managed
// policies and deletes its inline ones first (IAM refuses to delete a role that has any).
func DeleteRole(t testing.TB, accountID, name string) {
	t.Helper()
	client := LocalAWS(t).AccountIAM(accountID)
	ctx := t.Context()
	attached, err := client.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
	if err != nil {
		t.Fatalf("list the policies of %s in %s: %v", name, accountID, err)
	}
	for _, p := range attached.AttachedPolicies {
		if _, err := client.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: p.PolicyArn}); err != nil {
			t.Fatalf("detach %s from %s: %v", aws.ToString(p.PolicyArn), name, err)
		}
	}
	inline, err := client.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	if err != nil {
		t.Fatalf("list the inline policies of %s: %v", name, err)
	}
	for _, p := range inline.PolicyNames {
		if _, err := client.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(p)}); err != nil {
			t.Fatalf("delete policy %s of %s: %v", p, name, err)
		}
	}
	if _, err := client.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)}); err != nil {
		t.Fatalf("delete role %s in %s: %v", name, accountID, err)
	}
}

// AddManagement links accountID to tenant as a management account (creating the tenant on first use).
func (p *Platform) AddManagement(t testing.TB, tenant, accountID string) {
	t.Helper()
	if err := p.Services.Tenants.Ensure(t.Context(), tenant); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Services.Accounts.Create(t.Context(), tenant, accounts.CreateInput{Name: "Payer " + accountID, AccountID: accountID,
		Type: "management", Region: "us-east-1"}); err != nil {
		t.Fatalf("add management account %s: %v", accountID, err)
	}
}

// Connect connects a linked account with a role made from its manual instructions, as a customer following them
// would. Connecting a management account runs its first discovery.
func (p *Platform) Connect(t testing.TB, tenant, accountID string) {
	t.Helper()
	ins, err := p.Services.Onboarding.IssueLink(t.Context(), tenant, accountID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Services.Onboarding.Connect(t.Context(), tenant, accountID, p.CreateRole(t, ins)); err != nil {
		t.Fatalf("connect %s: %v", accountID, err)
	}
}

// ConnectManagement adds a management account to tenant and connects it, and waits for the discovery its
// activation starts.
func (p *Platform) ConnectManagement(t testing.TB, tenant, accountID string) {
	t.Helper()
	p.AddManagement(t, tenant, accountID)
	p.Connect(t, tenant, accountID)
	p.WaitDiscovery(t, tenant, accountID)
}

// DiscoveryWait bounds how long WaitDiscovery waits for a job (an organization of a few thousand accounts, on a
// loaded machine).
const DiscoveryWait = 5 * time.Minute

// WaitDiscovery waits for the account's latest discovery job to finish and returns it (the zero Job if it never
// had one). A job still unfinished after DiscoveryWait fails the test, saying where it stood.
func (p *Platform) WaitDiscovery(t testing.TB, tenant, accountID string) discovery.Job {
	t.Helper()
	return p.WaitDiscoveryWithin(t, tenant, accountID, DiscoveryWait)
}

// WaitDiscoveryWithin is WaitDiscovery with its own bound (the scale benchmarks').
func (p *Platform) WaitDiscoveryWithin(t testing.TB, tenant, accountID string, within time.Duration) discovery.Job {
	t.Helper()
	j, err := p.jobs.Latest(t.Context(), tenant, accountID)
	if errors.Is(err, discovery.ErrJobNotFound) {
		return discovery.Job{}
	}
	if err != nil {
		t.Fatalf("current discovery of %s: %v", accountID, err)
	}
	return p.WaitJob(t, tenant, j.ID, within)
}

// WaitJob waits, at most within, for a discovery job to finish and returns it; a job still unfinished fails the
// test with its progress.
func (p *Platform) WaitJob(t testing.TB, tenant, id string, within time.Duration) discovery.Job {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		j, err := p.jobs.Job(t.Context(), tenant, id)
		if err != nil {
			t.Fatalf("discovery job %s: %v", id, err)
		}
		if j.Finished() {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("discovery job %s did not finish within %s: %s, progress %+v", id, within, j.Status, j.Progress)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("discovery job %s: %v", id, t.Context().Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// Discover starts a discovery of the account (its organization, or its management account) and waits for it.
func (p *Platform) Discover(t testing.TB, tenant, accountID string) discovery.Job {
	t.Helper()
	j, err := p.Services.Discovery.Start(t.Context(), tenant, accountID, discovery.TriggerAPI)
	if err != nil {
		t.Fatalf("start discovery of %s: %v", accountID, err)
	}
	return p.WaitJob(t, tenant, j.ID, DiscoveryWait)
}
