package onboarding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/awsid"
)

// CustomResourceRequest is the request CloudFormation publishes to the ServiceToken topic.
type CustomResourceRequest struct {
	RequestType           string         `json:"RequestType"`
	ServiceToken          string         `json:"ServiceToken"`
	ResponseURL           string         `json:"ResponseURL"`
	StackID               string         `json:"StackId"`
	RequestID             string         `json:"RequestId"`
	LogicalResourceID     string         `json:"LogicalResourceId"`
	ResourceType          string         `json:"ResourceType"`
	PhysicalResourceID    string         `json:"PhysicalResourceId,omitempty"`
	ResourceProperties    map[string]any `json:"ResourceProperties"`
	OldResourceProperties map[string]any `json:"OldResourceProperties,omitempty"`
}

// CustomResourceResponse is the body PUT to the ResponseURL, exactly as CloudFormation reads it.
type CustomResourceResponse struct {
	Status             string            `json:"Status"`
	Reason             string            `json:"Reason,omitempty"`
	PhysicalResourceID string            `json:"PhysicalResourceId"`
	StackID            string            `json:"StackId"`
	RequestID          string            `json:"RequestId"`
	LogicalResourceID  string            `json:"LogicalResourceId"`
	NoEcho             bool              `json:"NoEcho"`
	Data               map[string]string `json:"Data,omitempty"`
}

// MaxResponseBytes is CloudFormation's limit on a custom resource response.
const MaxResponseBytes = 4096

// DefaultCallbackBudget bounds how long the callback keeps retrying a role that is not assumable yet: IAM can take up to a
// minute to propagate a new role, and the answer must reach CloudFormation well within the template's five-minute
// ServiceTimeout even if Lambda retries the invocation.
const DefaultCallbackBudget = 90 * time.Second

// answerMargin is kept free before the invocation's deadline to send the answer.
const answerMargin = 15 * time.Second

// callbackActor attributes the callback's changes in the audit trail.
var callbackActor = audit.Actor{Type: audit.System, ID: "onboarding-callback"}

// properties are the custom resource's properties, as the template sets them.
type properties struct {
	TenantID, AccountID, RoleARN, Token, TemplateVersion string
	AccountType, AccessLevel                             string
}

func readProperties(m map[string]any) properties {
	get := func(k string) string { s, _ := m[k].(string); return s }
	return properties{TenantID: get("TenantId"), AccountID: get("AccountId"), RoleARN: get("RoleArn"),
		Token: get("ActivationToken"), TemplateVersion: get("TemplateVersion"),
		AccountType: get("AccountType"), AccessLevel: get("AccessLevel")}
}

// errAnswered stops a Mutate that finds the request already answered by a concurrent duplicate delivery.
type errAnswered struct{ body string }

func (e *errAnswered) Error() string { return "request already answered" }

// HandleCustomResource answers one request that arrived through the callback topic topicARN and delivers the
// answer. It returns an error only when the answer could not be delivered, or what follows it (observers) failed,
// for a reason that may pass (so that the invocation is retried; the recorded answer makes the retry send the same
// body without a second transition).
func (s *Service) HandleCustomResource(ctx context.Context, topicARN string, req CustomResourceRequest) (err error) {
	ctx = audit.WithActor(ctx, callbackActor)
	log := slog.With("requestId", reported(req.RequestID, 100), "stackId", reported(req.StackID, 300), "requestType", reported(req.RequestType, 20))
	if !s.cfg.responseURLAllowed(req.ResponseURL, req.StackID) {
		// There is nobody safe to answer: the request did not come from CloudFormation.
		reject(ctx, rejectResponseURL, "custom resource request with a ResponseURL outside CloudFormation's response bucket of its stack's region; ignored",
			"requestId", reported(req.RequestID, 100), "stackId", reported(req.StackID, 300), "responseUrl", reported(req.ResponseURL, 300))
		return nil
	}
	if req.ServiceToken != topicARN || !sameRegion(topicARN, req.StackID) {
		// CloudFormation publishes a request to its ServiceToken, which AWS requires in the stack's own region.
		reject(ctx, rejectRegion, "custom resource request that CloudFormation did not send through this topic; ignored",
			"requestId", reported(req.RequestID, 100), "stackId", reported(req.StackID, 300), "topicArn", topicARN,
			"serviceToken", reported(req.ServiceToken, 300))
		return nil
	}
	settled := &[]accounts.Account{}
	body := s.answer(context.WithValue(ctx, settledKey{}, settled), req)
	// What follows a settled account (bulk activation's count-down, discovering a management account's
	// organization) starts only once CloudFormation has its answer, so it never delays the customer's stack. A
	// failure of it fails the invocation, which is then delivered again.
	defer func() { err = errors.Join(err, s.followUp(ctx, *settled)) }()
	if err := s.responder.Respond(ctx, req.ResponseURL, body); err != nil {
		if errors.Is(err, ErrResponseRejected) {
			log.ErrorContext(ctx, "CloudFormation refused the answer", "error", err.Error())
			return nil
		}
		return fmt.Errorf("deliver the answer to request %s: %w", req.RequestID, err)
	}
	log.InfoContext(ctx, "answered custom resource request", "answer", statusOf(body))
	return nil
}

// sameRegion reports whether a topic and a stack are in the same region (and partition).
func sameRegion(topicARN, stackID string) bool {
	topic, err1 := awsid.ParseARN(topicARN)
	stack, err2 := awsid.ParseARN(stackID)
	return err1 == nil && err2 == nil && topic.Service == "sns" && stack.Service == "cloudformation" &&
		topic.Partition == stack.Partition && topic.Region == stack.Region && topic.Region != ""
}

// answer decides the response body to a request, making at most one transition of the account.
func (s *Service) answer(ctx context.Context, req CustomResourceRequest) []byte {
	p := readProperties(req.ResourceProperties)
	physicalID := req.PhysicalResourceID
	if physicalID == "" {
		physicalID = "gangplank-connection-" + p.AccountID
	}
	reply := func(status, reason string, data map[string]string) CustomResourceResponse {
		return CustomResourceResponse{Status: status, Reason: reason, PhysicalResourceID: physicalID, StackID: req.StackID,
			RequestID: req.RequestID, LogicalResourceID: req.LogicalResourceID, Data: data}
	}
	switch req.RequestType {
	case "Delete":
		return encode(s.delete(ctx, req, p, reply))
	case "Create", "Update":
		return encode(s.connectFromStack(ctx, req, p, reply))
	}
	reject(ctx, rejectMalformed, "custom resource request of an unknown type", "requestType", reported(req.RequestType, 20))
	return encode(reply("FAILED", "Gangplank handles only Create, Update and Delete requests.", nil))
}

type replyFunc func(status, reason string, data map[string]string) CustomResourceResponse

// authenticate is the one check every request type passes before it may change an account: the activation token
// in the request's properties must be bound to the account, and to the stack. The stack that connected the account
// proves itself with the token it carries (Update, Delete); any other stack with the account's current link
// (Create, or an Update with a new link). A StackId alone proves nothing: any viewer of the tenant can read it.
func authenticate(a accounts.Account, req CustomResourceRequest, p properties, now time.Time) tokenVerdict {
	if connectedStackToken(a, p.Token, req.StackID) {
		return tokenConnectedStack
	}
	return checkToken(a.Link, p.Token, accounts.Type(p.AccountType), req.StackID, now)
}

// connectFromStack answers Create and Update: the request's shape, the account, the token, the region, then the
// role.
func (s *Service) connectFromStack(ctx context.Context, req CustomResourceRequest, p properties, reply replyFunc) CustomResourceResponse {
	if reason := checkRequest(req, p); reason != "" {
		reject(ctx, rejectMalformed, "custom resource request that is not the onboarding template's", "stackId", reported(req.StackID, 300),
			"reason", reported(reason, 300))
		return reply("FAILED", reason, nil)
	}
	a, err := s.accounts.Get(ctx, p.TenantID, p.AccountID)
	if errors.Is(err, accounts.ErrNotFound) {
		// The same answer as a token that proves nothing: it must not tell which accounts the tenant holds.
		reject(ctx, rejectToken, "custom resource request for an account the tenant does not hold", "stackId", reported(req.StackID, 300))
		return reply("FAILED", unknownTokenReason, nil)
	}
	if err != nil {
		return s.internalFailure(ctx, req, reply, err)
	}
	if body, ok := a.Answer(req.RequestID); ok {
		// A redelivery: what followed the first answer may not have happened (the first delivery can die right
		// after recording it), and all of it is idempotent, so it follows this one too.
		noteSettled(ctx, a)
		return decodeAnswer(body, req)
	}

	claimedType := accounts.Type(p.AccountType)
	verdict := authenticate(a, req, p, s.now())
	if !verdict.connects() {
		resp := reply("FAILED", tokenReason(verdict, a.Link, claimedType), nil)
		if !verdict.authentic() {
			// The token proves nothing: answer, but leave the account as it is.
			reject(ctx, rejectToken, "custom resource request whose token is not bound to the account and stack",
				"stackId", reported(req.StackID, 300), "accountId", a.AccountID)
			return resp
		}
		return s.settle(ctx, req, p, resp, func(a *accounts.Account, now time.Time) { a.Fail(resp.Reason, now) })
	}
	if stack, _ := awsid.ParseARN(req.StackID); req.StackID != a.StackID && stack.Region != a.Region {
		// A new stack must run where Gangplank expects it (and where its update instructions will point).
		resp := reply("FAILED", fmt.Sprintf("This link is for a stack in %s, where Gangplank expects account %s's onboarding stack, "+
			"but this stack runs in %s. Delete this stack and launch the link in %s.", a.Region, a.AccountID, stack.Region, a.Region), nil)
		return s.settle(ctx, req, p, resp, func(a *accounts.Account, now time.Time) { a.Fail(resp.Reason, now) })
	}

	tenant, err := s.tenants.Get(ctx, p.TenantID)
	if err != nil {
		return s.internalFailure(ctx, req, reply, err)
	}
	v, err := s.verifier.Verify(ctx, s.target(a, p.RoleARN, tenant), s.retryBudget(ctx))
	if err != nil {
		resp := reply("FAILED", "Gangplank could not verify the role: "+err.Error(), nil)
		return s.settle(ctx, req, p, resp, func(a *accounts.Account, now time.Time) { a.Fail(resp.Reason, now) })
	}
	// The stack says which access level its role grants; the role itself has the last word.
	granted := s.grantedLevel(ctx, a.Region, p.RoleARN, v, accounts.AccessLevel(p.AccessLevel))
	resp := reply("SUCCESS", "", map[string]string{"RoleArn": p.RoleARN, "AccountStatus": string(accounts.Active)})
	return s.settle(ctx, req, p, resp, func(a *accounts.Account, now time.Time) {
		a.Activate(accounts.Connection{RoleARN: p.RoleARN, StackID: req.StackID, StackTokenHash: hashToken(p.Token),
			TemplateVersion: p.TemplateVersion, GrantedAccessLevel: granted.Level,
			Health: s.health(a.AccessLevel, granted, v, tenant, now)}, now)
		if verdict == tokenValid {
			a.Link.UsedAt, a.Link.UsedByStack = &now, req.StackID
		}
	})
}

// templateVersionPattern is what the template's TemplateVersion looks like (it is stored and shown).
var templateVersionPattern = regexp.MustCompile(`^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$`)

// checkRequest checks what the request says before anything is looked up: the fields the answer needs, and that
// the stack, the role and the claimed account are one and the same account.
func checkRequest(req CustomResourceRequest, p properties) string {
	switch {
	case !auth.ValidTenantID(p.TenantID):
		return "The stack's TenantId is missing or malformed: launch the stack from the link Gangplank shows, without editing parameters."
	case p.Token == "":
		return "The stack carries no ActivationToken: launch it from the link Gangplank shows for this account."
	case !templateVersionPattern.MatchString(p.TemplateVersion):
		return "The stack's TemplateVersion is not a template version: use Gangplank's template unchanged."
	}
	if _, err := awsid.ParseAccountID(p.AccountID); err != nil {
		return "The stack's AccountId is not an AWS account ID: use Gangplank's template unchanged."
	}
	stack, err := awsid.ParseARN(req.StackID)
	if err != nil || stack.Service != "cloudformation" {
		return "The request's StackId is not a CloudFormation stack ARN."
	}
	if stack.AccountID != p.AccountID {
		return fmt.Sprintf("The stack runs in account %s but says it connects account %s: launch it in account %s.", stack.AccountID, p.AccountID, p.AccountID)
	}
	role, err := awsid.ParseRoleARN(p.RoleARN)
	if err != nil {
		return "The stack's RoleArn is not an IAM role ARN: use Gangplank's template unchanged."
	}
	if role.AccountID != p.AccountID {
		return fmt.Sprintf("The role %s belongs to account %s, not to account %s, which the stack connects.", p.RoleARN, role.AccountID, p.AccountID)
	}
	if _, err := accounts.ParseType(p.AccountType); err != nil {
		return "The stack's AccountType " + err.Error() + "."
	}
	if _, err := accounts.ParseAccessLevel(p.AccessLevel); err != nil {
		return "The stack's AccessLevel " + err.Error() + "."
	}
	return ""
}

// delete answers a Delete: the account becomes disconnected if (and only if) the stack that connected it is
// deleted, which it proves with the token it carries. The answer is always SUCCESS: Gangplank never stands in the
// way of a customer deleting a stack.
func (s *Service) delete(ctx context.Context, req CustomResourceRequest, p properties, reply replyFunc) CustomResourceResponse {
	resp := reply("SUCCESS", "", nil)
	if _, err := awsid.ParseAccountID(p.AccountID); err != nil || !auth.ValidTenantID(p.TenantID) {
		reject(ctx, rejectMalformed, "delete request that is not the onboarding template's", "stackId", reported(req.StackID, 300))
		return resp
	}
	a, err := s.accounts.Get(ctx, p.TenantID, p.AccountID)
	if err != nil {
		if errors.Is(err, accounts.ErrNotFound) {
			reject(ctx, rejectToken, "delete request for an account the tenant does not hold", "stackId", reported(req.StackID, 300))
		} else {
			slog.ErrorContext(ctx, "delete request: could not read the account; answering SUCCESS", "error", err.Error())
		}
		return resp
	}
	if body, ok := a.Answer(req.RequestID); ok {
		return decodeAnswer(body, req)
	}
	switch verdict := authenticate(a, req, p, s.now()); {
	case verdict == tokenUnknown:
		reject(ctx, rejectToken, "delete request whose token is not bound to the account and stack", "stackId", reported(req.StackID, 300),
			"accountId", a.AccountID)
		return resp
	case verdict != tokenConnectedStack:
		// A stack that never connected the account (the rollback of a failed create, an older stack): nothing to
		// record.
		return resp
	}
	return s.settle(ctx, req, p, resp, func(a *accounts.Account, now time.Time) {
		if !connectedStackToken(*a, p.Token, req.StackID) {
			return
		}
		a.StackDeleted(fmt.Sprintf("The onboarding stack %s was deleted on %s, which removed Gangplank's role. Issue a new link in "+
			"Gangplank and launch the stack again to reconnect.", stackName(req.StackID), now.Format("2006-01-02 15:04 UTC")), now)
	})
}

// settle applies a transition and records the answer in the same write, then tells observers. When a duplicate
// delivery recorded its answer first, that answer is returned instead, so both deliveries send the same body.
func (s *Service) settle(ctx context.Context, req CustomResourceRequest, p properties, resp CustomResourceResponse,
	transition func(a *accounts.Account, now time.Time)) CustomResourceResponse {
	body := encode(resp)
	action := "account.callback_" + strings.ToLower(req.RequestType)
	a, err := s.accounts.Mutate(ctx, p.TenantID, p.AccountID, action, func(a *accounts.Account) error {
		if recorded, ok := a.Answer(req.RequestID); ok {
			return &errAnswered{body: recorded}
		}
		now := s.now().UTC()
		transition(a, now)
		a.RecordAnswer(req.RequestID, string(body), now)
		return nil
	})
	var answered *errAnswered
	switch {
	case errors.As(err, &answered):
		return decodeAnswer(answered.body, req)
	case errors.Is(err, accounts.ErrNotFound):
		// Deleted from Gangplank while we worked.
		if req.RequestType == "Delete" {
			return resp
		}
		failed := resp
		failed.Status, failed.Data = "FAILED", nil
		failed.Reason = "The account was removed from Gangplank while the stack was being created."
		return failed
	case err != nil:
		if req.RequestType == "Delete" {
			slog.ErrorContext(ctx, "could not record the stack's deletion; answering SUCCESS", "error", err.Error())
			return resp
		}
		return s.internalFailure(ctx, req, func(status, reason string, data map[string]string) CustomResourceResponse {
			out := resp
			out.Status, out.Reason, out.Data = status, reason, data
			return out
		}, err)
	}
	noteSettled(ctx, a)
	return resp
}

// noteSettled remembers, for the request being answered, an account its answer settled.
func noteSettled(ctx context.Context, a accounts.Account) {
	if list, ok := ctx.Value(settledKey{}).(*[]accounts.Account); ok {
		*list = append(*list, a)
	}
}

// followUp tells the observers of each settled account (their errors are returned, so that the delivery is
// retried), then runs the work that follows an answer.
func (s *Service) followUp(ctx context.Context, settled []accounts.Account) error {
	var errs []error
	for _, a := range settled {
		for _, o := range s.observers {
			errs = append(errs, o.Settled(ctx, a))
		}
		for _, f := range s.afterAnswer {
			f(ctx, a)
		}
	}
	return errors.Join(errs...)
}

// internalFailure answers FAILED for a problem on Gangplank's side, so the stack fails now instead of hanging.
func (s *Service) internalFailure(ctx context.Context, req CustomResourceRequest, reply replyFunc, err error) CustomResourceResponse {
	slog.ErrorContext(ctx, "custom resource request failed on Gangplank's side", "error", err.Error())
	return reply("FAILED", fmt.Sprintf("Gangplank could not process this request (request %s) because of a problem on our side. "+
		"Delete the stack and launch it again in a few minutes; if it happens again, contact support with this request id.", req.RequestID), nil)
}

// retryBudget is how long role verification may retry within this invocation.
func (s *Service) retryBudget(ctx context.Context) time.Duration {
	budget := s.CallbackBudget
	if d, ok := ctx.Deadline(); ok {
		if left := time.Until(d) - answerMargin; left < budget {
			budget = max(left, 0)
		}
	}
	return budget
}

// encode serialises a response within CloudFormation's 4,096 bytes, shortening the reason if it must.
func encode(r CustomResourceResponse) []byte {
	body, _ := json.Marshal(r)
	for len(body) > MaxResponseBytes && r.Reason != "" {
		over := len(body) - MaxResponseBytes
		cut := len(r.Reason) - over - len("…") - 8
		if cut < 0 {
			cut = 0
		}
		for cut > 0 && !utf8.RuneStart(r.Reason[cut]) {
			cut--
		}
		r.Reason = r.Reason[:cut] + "…"
		body, _ = json.Marshal(r)
	}
	return body
}

// decodeAnswer reads a recorded answer back. Gangplank wrote it, so it always parses; should it not, the request
// is refused rather than answered with something else than before.
func decodeAnswer(body string, req CustomResourceRequest) CustomResourceResponse {
	var r CustomResourceResponse
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return CustomResourceResponse{Status: "FAILED", Reason: "Gangplank could not read its earlier answer; launch the stack again.",
			PhysicalResourceID: req.PhysicalResourceID, StackID: req.StackID, RequestID: req.RequestID, LogicalResourceID: req.LogicalResourceID}
	}
	return r
}

func statusOf(body []byte) string {
	var r CustomResourceResponse
	_ = json.Unmarshal(body, &r)
	return r.Status
}

// stackName extracts the name from arn:aws:cloudformation:<region>:<account>:stack/<name>/<id>.
func stackName(stackID string) string {
	if a, err := awsid.ParseARN(stackID); err == nil {
		parts := strings.Split(a.Resource, "/")
		if len(parts) >= 2 {
			return parts[1]
		}
	}
	return stackID
}

// settledKey carries, through one request, the accounts its answer settled.
type settledKey struct{}

// AfterAnswer adds work to run for each account a callback settled, after CloudFormation has been answered.
func (s *Service) AfterAnswer(f func(ctx context.Context, a accounts.Account)) {
	s.afterAnswer = append(s.afterAnswer, f)
}
