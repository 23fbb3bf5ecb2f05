package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client is Gangplank's HTTP API as the provider uses it: JSON in and out, the token on every request, and
// problem+json answers turned into *APIError.
type Client struct {
	endpoint string
	token    string
	http     *http.Client
	// UserAgent names the provider and its version in Gangplank's logs.
	UserAgent string
}

// NewClient returns a client of the API at endpoint (its base URL, without /v1).
func NewClient(endpoint, token string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q is not an http(s) URL such as https://api.gangplank.example", endpoint)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	return &Client{endpoint: strings.TrimRight(endpoint, "/"), token: token, http: hc, UserAgent: "terraform-provider-gangplank"}, nil
}

// FieldError is one field's problem, as the API names it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// APIError is a problem+json answer (RFC 9457).
type APIError struct {
	Status    int          `json:"status"`
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Detail    string       `json:"detail"`
	RequestID string       `json:"requestId"`
	Errors    []FieldError `json:"errors"`
	Method    string       `json:"-"`
	Path      string       `json:"-"`
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, e.Title)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	for _, f := range e.Errors {
		msg += fmt.Sprintf("; %s: %s", f.Field, f.Message)
	}
	return msg
}

// Kind is the problem type's last segment ("validation-failed", "not-found").
func (e *APIError) Kind() string { return e.Type[strings.LastIndexByte(e.Type, '/')+1:] }

// IsNotFound reports whether err is the API's 404 for the resource.
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// request is one call: body is sent as JSON when not nil; ifMatch, when set, goes in If-Match.
type request struct {
	method, path string
	query        url.Values
	body         any
	ifMatch      string
}

// do sends a request and decodes a 2xx answer into out (when not nil). It returns the answer's ETag.
func (c *Client) do(ctx context.Context, r request, out any) (string, error) {
	var body io.Reader
	if r.body != nil {
		raw, err := json.Marshal(r.body)
		if err != nil {
			return "", err
		}
		body = bytes.NewReader(raw)
	}
	target := c.endpoint + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.UserAgent)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.ifMatch != "" {
		req.Header.Set("If-Match", r.ifMatch)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("%s %s: Gangplank could not be reached: %w", r.method, r.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return "", fmt.Errorf("%s %s: reading the answer: %w", r.method, r.path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &APIError{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode), Method: r.method, Path: r.path}
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
			_ = json.Unmarshal(raw, e)
		} else if len(raw) > 0 {
			e.Detail = strings.TrimSpace(string(raw[:min(len(raw), 500)]))
		}
		if e.Type == "" {
			e.Type = "about:blank"
		}
		return "", e
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return "", fmt.Errorf("%s %s: the answer is not the JSON expected: %w", r.method, r.path, err)
		}
	}
	return resp.Header.Get("ETag"), nil
}

// etag is the entity tag of a version, as the API writes it.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

func accountPath(id string, rest ...string) string {
	return "/v1/accounts/" + url.PathEscape(id) + strings.Join(rest, "")
}

// The API's shapes, as far as the provider reads them.

// Account is an account as GET /v1/accounts/{id} shows it.
type Account struct {
	AccountID           string      `json:"accountId"`
	Name                string      `json:"name"`
	Type                string      `json:"type"`
	Status              string      `json:"status"`
	StatusReason        string      `json:"statusReason"`
	Region              string      `json:"region"`
	AccessLevel         string      `json:"accessLevel"`
	CostSync            bool        `json:"costSync"`
	ManagementAccountID string      `json:"managementAccountId"`
	RoleARN             string      `json:"roleArn"`
	ActivatedAt         *time.Time  `json:"activatedAt"`
	Health              Health      `json:"health"`
	Discovery           *Discovery  `json:"discovery"`
	Integration         Integration `json:"integration"`
	Organization        *Membership `json:"organization"`
	Version             int64       `json:"version"`
	Onboarding          *Onboarding `json:"onboarding"`
}

// Health is an account's latest check.
type Health struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// Membership is a member account's place in its organization.
type Membership struct {
	Name   string `json:"name"`
	Email  string `json:"email"`
	Status string `json:"status"`
	Path   string `json:"path"`
}

// Integration is an account's integration settings.
type Integration struct {
	IntegrationName          string          `json:"integrationName,omitempty"`
	Owners                   []string        `json:"owners"`
	CustomAccessDetails      string          `json:"customAccessDetails,omitempty"`
	CredentialRotationDays   *int64          `json:"credentialRotationDays,omitempty"`
	NextCredentialRotationAt *time.Time      `json:"nextCredentialRotationAt,omitempty"`
	UserCleanupDays          *int64          `json:"userCleanupDays,omitempty"`
	ResourceTypes            []string        `json:"resourceTypes"`
	Regions                  []string        `json:"regions"`
	SSORegion                string          `json:"ssoRegion,omitempty"`
	SSORegionCheck           *SSORegionCheck `json:"ssoRegionCheck,omitempty"`
}

// SSORegionCheck is what Gangplank found of Identity Center in ssoRegion.
type SSORegionCheck struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// IntegrationRequest is the body of PUT .../integration and POST /v1/accounts's integration member.
type IntegrationRequest struct {
	IntegrationName        string   `json:"integrationName"`
	Owners                 []string `json:"owners"`
	CustomAccessDetails    string   `json:"customAccessDetails,omitempty"`
	CredentialRotationDays *int64   `json:"credentialRotationDays,omitempty"`
	UserCleanupDays        *int64   `json:"userCleanupDays,omitempty"`
	ResourceTypes          []string `json:"resourceTypes"`
	Regions                []string `json:"regions"`
	SSORegion              string   `json:"ssoRegion,omitempty"`
}

// sent is the request as the API reads it: a list Terraform leaves unset is empty, and the API refuses a null
// member rather than guess whether it means "empty" or "keep".
func (in IntegrationRequest) sent() IntegrationRequest {
	in.Owners, in.ResourceTypes, in.Regions = listOf(in.Owners), listOf(in.ResourceTypes), listOf(in.Regions)
	return in
}

func listOf(items []string) []string {
	if items == nil {
		return []string{}
	}
	return items
}

// Discovery is a management account's discovery settings.
type Discovery struct {
	IncludeOUs      []string `json:"includeOuIds"`
	ExcludeOUs      []string `json:"excludeOuIds"`
	ExcludeAccounts []string `json:"excludeAccountIds"`
	MemberRoleName  string   `json:"memberRoleName"`
	AutoEnroll      bool     `json:"autoEnroll"`
}

func (d Discovery) sent() Discovery {
	d.IncludeOUs, d.ExcludeOUs, d.ExcludeAccounts = listOf(d.IncludeOUs), listOf(d.ExcludeOUs), listOf(d.ExcludeAccounts)
	return d
}

// Onboarding is the launch material POST /v1/accounts answers with.
type Onboarding struct {
	TemplateURL    string            `json:"templateUrl"`
	QuickCreateURL string            `json:"quickCreateUrl"`
	Parameters     map[string]string `json:"parameters"`
	Manual         struct {
		RoleName string `json:"roleName"`
	} `json:"manual"`
}

// TerraformView is GET /v1/accounts/{id}/terraform: the configuration and the facts it is built from.
type TerraformView struct {
	AccountID        string `json:"accountId"`
	RoleName         string `json:"roleName"`
	TemplateURL      string `json:"templateUrl"`
	CallbackTopicARN string `json:"callbackTopicArn"`
	TrustedPrincipal string `json:"trustedPrincipal"`
	Configuration    string `json:"configuration"`
}

// CreateAccountRequest is the body of POST /v1/accounts.
type CreateAccountRequest struct {
	Name                string              `json:"name"`
	AccountID           string              `json:"accountId"`
	Type                string              `json:"type"`
	Region              string              `json:"region,omitempty"`
	AccessLevel         string              `json:"accessLevel,omitempty"`
	CostSync            *bool               `json:"costSync,omitempty"`
	ManagementAccountID string              `json:"managementAccountId,omitempty"`
	Integration         *IntegrationRequest `json:"integration,omitempty"`
}

// PatchAccountRequest is the body of PATCH /v1/accounts/{id}.
type PatchAccountRequest struct {
	Name        *string `json:"name,omitempty"`
	AccessLevel *string `json:"accessLevel,omitempty"`
	CostSync    *bool   `json:"costSync,omitempty"`
}

// Tenant is GET /v1/tenant.
type Tenant struct {
	TenantID   string         `json:"tenantId"`
	ExternalID string         `json:"externalId"`
	Settings   TenantSettings `json:"settings"`
	Rotation   struct {
		NextRotationAt *time.Time `json:"nextRotationAt"`
	} `json:"externalIdRotation"`
	Version int64 `json:"version"`
}

// TenantSettings are the tenant's settings.
type TenantSettings struct {
	DefaultRegion          string                 `json:"defaultRegion"`
	CostSyncDefault        bool                   `json:"costSyncDefault"`
	ExternalIDGraceDays    int64                  `json:"externalIdGraceDays"`
	CredentialRotationDays int64                  `json:"credentialRotationDays"`
	Recommendations        RecommendationSettings `json:"recommendations"`
}

// RecommendationSettings choose what the cost sync asks Cost Explorer for.
type RecommendationSettings struct {
	Terms          []string `json:"terms"`
	PaymentOptions []string `json:"paymentOptions"`
	LookbackDays   int64    `json:"lookbackDays"`
}

// Commitment is an EDP commitment.
type Commitment struct {
	PayerAccountID string    `json:"payerAccountId"`
	Amount         float64   `json:"amount"`
	Currency       string    `json:"currency"`
	Start          time.Time `json:"start"`
	End            time.Time `json:"end"`
}

// CommitmentRequest is the body of PUT .../commitment.
type CommitmentRequest struct {
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency,omitempty"`
	Start    string  `json:"start"`
	End      string  `json:"end"`
}

// AccountPage is one page of GET /v1/accounts.
type AccountPage struct {
	Items      []Account `json:"items"`
	NextCursor string    `json:"nextCursor"`
}

// Organization is GET /v1/accounts/{id}/organization.
type Organization struct {
	ManagementAccountID string    `json:"managementAccountId"`
	RootID              string    `json:"rootId"`
	DiscoveredAt        time.Time `json:"discoveredAt"`
	OUs                 []struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		ParentID string `json:"parentId"`
		Path     string `json:"path"`
	} `json:"ous"`
	Accounts []struct {
		AccountID    string     `json:"accountId"`
		Name         string     `json:"name"`
		Status       string     `json:"status"`
		Organization Membership `json:"organization"`
	} `json:"accounts"`
}

// The calls.

func (c *Client) GetAccount(ctx context.Context, id string) (Account, error) {
	var a Account
	_, err := c.do(ctx, request{method: http.MethodGet, path: accountPath(id)}, &a)
	return a, err
}

func (c *Client) CreateAccount(ctx context.Context, in CreateAccountRequest) (Account, error) {
	if in.Integration != nil {
		sent := in.Integration.sent()
		in.Integration = &sent
	}
	var a Account
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/accounts", body: in}, &a)
	return a, err
}

func (c *Client) PatchAccount(ctx context.Context, id string, version int64, in PatchAccountRequest) (Account, error) {
	var a Account
	_, err := c.do(ctx, request{method: http.MethodPatch, path: accountPath(id), body: in, ifMatch: etag(version)}, &a)
	return a, err
}

func (c *Client) PutIntegration(ctx context.Context, id string, version int64, in IntegrationRequest) (Account, error) {
	var a Account
	_, err := c.do(ctx, request{method: http.MethodPut, path: accountPath(id, "/integration"), body: in.sent(), ifMatch: etag(version)}, &a)
	return a, err
}

func (c *Client) DeleteAccount(ctx context.Context, id, confirm string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: accountPath(id), query: url.Values{"confirm": {confirm}}}, nil)
	return err
}

func (c *Client) ListAccounts(ctx context.Context, q url.Values) (AccountPage, error) {
	var p AccountPage
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/accounts", query: q}, &p)
	return p, err
}

func (c *Client) Connect(ctx context.Context, id, roleARN string) (Account, error) {
	var a Account
	_, err := c.do(ctx, request{method: http.MethodPost, path: accountPath(id, "/connect"), body: map[string]string{"roleArn": roleARN}}, &a)
	return a, err
}

func (c *Client) Disconnect(ctx context.Context, id string) (Account, error) {
	var a Account
	_, err := c.do(ctx, request{method: http.MethodPost, path: accountPath(id, "/disconnect")}, &a)
	return a, err
}

func (c *Client) Terraform(ctx context.Context, id string) (TerraformView, error) {
	var v TerraformView
	_, err := c.do(ctx, request{method: http.MethodGet, path: accountPath(id, "/terraform")}, &v)
	return v, err
}

func (c *Client) PutDiscoverySettings(ctx context.Context, id string, in Discovery) (Account, error) {
	var a Account
	_, err := c.do(ctx, request{method: http.MethodPut, path: accountPath(id, "/discovery/settings"), body: in.sent()}, &a)
	return a, err
}

func (c *Client) Organization(ctx context.Context, id string) (Organization, error) {
	var o Organization
	_, err := c.do(ctx, request{method: http.MethodGet, path: accountPath(id, "/organization")}, &o)
	return o, err
}

func (c *Client) GetCommitment(ctx context.Context, id string) (Commitment, error) {
	var out struct {
		Commitment Commitment `json:"commitment"`
	}
	_, err := c.do(ctx, request{method: http.MethodGet, path: accountPath(id, "/commitment"), query: url.Values{"spend": {"false"}}}, &out)
	return out.Commitment, err
}

func (c *Client) PutCommitment(ctx context.Context, id string, in CommitmentRequest) (Commitment, error) {
	var out Commitment
	_, err := c.do(ctx, request{method: http.MethodPut, path: accountPath(id, "/commitment"), body: in}, &out)
	return out, err
}

func (c *Client) DeleteCommitment(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: accountPath(id, "/commitment")}, nil)
	return err
}

func (c *Client) GetTenant(ctx context.Context) (Tenant, error) {
	var t Tenant
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/tenant"}, &t)
	return t, err
}

func (c *Client) PatchTenant(ctx context.Context, version int64, settings map[string]any) (Tenant, error) {
	var t Tenant
	_, err := c.do(ctx, request{method: http.MethodPatch, path: "/v1/tenant", body: map[string]any{"settings": settings}, ifMatch: etag(version)}, &t)
	return t, err
}
