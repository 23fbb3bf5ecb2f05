package costsync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/awsx"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/tenants"
	"github.com/gangplank/gangplank/pkg/validation"
)

// PayerRef names a payer whose recommendations are synced.
type PayerRef = accounts.Ref

// Accounts is what the sync reads and updates of accounts.
type Accounts interface {
	Get(ctx context.Context, tenantID, accountID string) (accounts.Account, error)
	Mutate(ctx context.Context, tenantID, accountID, action string, fn func(a *accounts.Account) error) (accounts.Account, error)
}

// Tenants gives the tenant's External ID and settings.
type Tenants interface {
	Get(ctx context.Context, tenantID string) (tenants.Tenant, error)
}

// Store keeps sync statuses, recommendations and commitments.
type Store interface {
	Status(ctx context.Context, tenantID, payerID string) (SyncStatus, error)
	Statuses(ctx context.Context, tenantID string) ([]SyncStatus, error)
	SaveStatus(ctx context.Context, tenantID string, before, after SyncStatus) error
	WriteGeneration(ctx context.Context, tenantID, payerID, generation string, recs []Recommendation) error
	DeleteGeneration(ctx context.Context, tenantID, payerID, generation string) error
	Generation(ctx context.Context, tenantID, payerID, generation, accountID string) ([]Recommendation, error)
	Commitment(ctx context.Context, tenantID, payerID string) (Commitment, int64, bool, error)
	PutCommitment(ctx context.Context, tenantID string, c Commitment, readVersion int64, entry audit.Entry) error
	DeleteCommitment(ctx context.Context, tenantID, payerID string, readVersion int64, entry audit.Entry) error
	AcquireManualSync(ctx context.Context, tenantID string, now time.Time, interval time.Duration) (time.Duration, error)
}

// Payers lists every payer with cost sync on, across tenants.
type Payers interface {
	CostSyncPayers(ctx context.Context) ([]PayerRef, error)
}

// Door enters a customer's account (crossaccount.Door): the one way in.
type Door interface {
	Enter(ctx context.Context, tenantID, accountID, purpose string, require ...func(accounts.Account) error) (crossaccount.Session, error)
}

// Queue carries payers to sync to the workers.
type Queue interface {
	Enqueue(ctx context.Context, payers []PayerRef) error
}

// Service is the cost sync. Build one per cold start.
type Service struct {
	Accounts Accounts
	Tenants  Tenants
	Store    Store
	Payers   Payers
	Door     Door
	Queue    Queue
	Now      func() time.Time
	// CostExplorer builds the Cost Explorer reader over a payer's configuration (awscostexplorer.New), which
	// waits out throttling with backoff up to maxBackoff. Nil in a function that never reads Cost Explorer.
	CostExplorer func(cfg aws.Config, maxBackoff time.Duration) CostExplorer
	// PageSize overrides the options' page size (tests use small pages to exercise pagination).
	PageSize int32
	// MaxBackoff bounds the wait between retries of throttled calls (default 20 s).
	MaxBackoff time.Duration
}

func (s *Service) now() time.Time { return s.Now().UTC() }

func (s *Service) costExplorer(cfg aws.Config) (CostExplorer, error) {
	if s.CostExplorer == nil {
		return nil, ErrCostExplorerNotWired
	}
	maxBackoff := s.MaxBackoff
	if maxBackoff == 0 {
		maxBackoff = 20 * time.Second
	}
	return s.CostExplorer(cfg, maxBackoff), nil
}

// payer checks that the account is one whose recommendations are synced.
func payer(a accounts.Account) error {
	switch {
	case a.Type == accounts.Linked:
		return ErrNotPayer
	case !a.CostSync:
		return ErrSyncOff
	}
	return nil
}

// Options turns the tenant's settings into what to ask Cost Explorer for.
func OptionsFor(t tenants.Tenant) Options {
	o := DefaultOptions
	r := t.Settings.Recommendations
	if len(r.Terms) > 0 {
		o.Terms = slices.Clone(r.Terms)
	}
	if len(r.PaymentOptions) > 0 {
		o.PaymentOptions = slices.Clone(r.PaymentOptions)
	}
	if ValidLookbackDays(r.LookbackDays) {
		o.LookbackDays = r.LookbackDays
	}
	return o
}

// healthPrefix marks health reasons the cost sync set, so a later success can clear them.
const healthPrefix = "Cost Explorer: "

// SyncPayer fetches the payer's recommendations and makes them the current generation, unless unchanged.
func (s *Service) SyncPayer(ctx context.Context, tenantID, accountID string) (SyncStatus, error) {
	sess, err := s.Door.Enter(ctx, tenantID, accountID, "costsync", payer)
	var refused *crossaccount.AccessError
	if errors.As(err, &refused) {
		return s.recordRefusal(ctx, tenantID, accountID, refused)
	}
	if err != nil {
		return SyncStatus{}, err
	}
	t, err := s.Tenants.Get(ctx, tenantID)
	if err != nil {
		return SyncStatus{}, err
	}
	a, cfg := sess.Account, sess.Config
	cfg.Region = "us-east-1"
	counter := awsx.NewCallCounter()
	counter.Instrument(&cfg)
	opts := OptionsFor(t)
	if s.PageSize > 0 {
		opts.PageSize = s.PageSize
	}
	ce, err := s.costExplorer(cfg)
	if err != nil {
		return SyncStatus{}, err
	}
	fetched, fetchErr := Fetch(ctx, ce, accountID, opts)
	now := s.now()

	before, err := s.Store.Status(ctx, tenantID, accountID)
	if err != nil {
		return SyncStatus{}, err
	}
	after := before
	after.PayerAccountID, after.LastSyncAt, after.Calls = accountID, &now, int(counter.ServiceCalls("Cost Explorer"))
	var denied *AccessDeniedError
	switch {
	case errors.As(fetchErr, &denied):
		after.Status, after.LastError = StatusFailed, denied.Error()
		s.setHealth(ctx, a, accounts.Degraded, healthPrefix+denied.Error())
	case fetchErr != nil:
		after.Status, after.LastError = StatusFailed, "Cost Explorer could not be read: "+fetchErr.Error()
		if err := s.Store.SaveStatus(ctx, tenantID, before, after); err != nil {
			return SyncStatus{}, err
		}
		return after, fetchErr // retried by the queue
	case fetched.WaitingForData:
		after.Status, after.LastError = StatusWaitingForData, ""
	default:
		after.Status, after.LastError, after.LastSuccessAt = StatusOK, "", &now
		hash := contentHash(fetched.Recommendations)
		if hash != before.ContentHash || before.Generation == "" {
			gen := newGeneration(now)
			if err := s.Store.WriteGeneration(ctx, tenantID, accountID, gen, fetched.Recommendations); err != nil {
				return SyncStatus{}, err
			}
			after.Generation, after.ContentHash, after.Count = gen, hash, len(fetched.Recommendations)
			after.MonthlySavings = 0
			for _, r := range fetched.Recommendations {
				after.MonthlySavings += r.EstimatedMonthlySavings
			}
		}
		s.setHealth(ctx, a, accounts.Healthy, "")
	}
	if err := s.Store.SaveStatus(ctx, tenantID, before, after); err != nil {
		return SyncStatus{}, err
	}
	if before.Generation != "" && after.Generation != before.Generation {
		if err := s.Store.DeleteGeneration(ctx, tenantID, accountID, before.Generation); err != nil {
			slog.WarnContext(ctx, "could not delete a replaced generation", "payer", accountID, "error", err.Error())
		}
	}
	return after, nil
}

// recordRefusal records a sync that could not enter the account: its role refused every accepted External ID.
// Retrying cannot help until the customer updates the stack, so the error is the caller's to drop.
func (s *Service) recordRefusal(ctx context.Context, tenantID, accountID string, refused *crossaccount.AccessError) (SyncStatus, error) {
	before, err := s.Store.Status(ctx, tenantID, accountID)
	if err != nil {
		return SyncStatus{}, err
	}
	now := s.now()
	after := before
	after.PayerAccountID, after.LastSyncAt, after.Calls = accountID, &now, 0
	after.Status, after.LastError = StatusFailed, refused.Reason
	if err := s.Store.SaveStatus(ctx, tenantID, before, after); err != nil {
		return SyncStatus{}, err
	}
	return after, refused
}

// setHealth records a Cost Explorer problem on the account's health, or clears one the sync set earlier.
func (s *Service) setHealth(ctx context.Context, a accounts.Account, status accounts.HealthStatus, reason string) {
	if status == accounts.Healthy && !strings.HasPrefix(a.Health.Reason, healthPrefix) {
		return
	}
	if status != accounts.Healthy && a.Health.Reason == reason {
		return
	}
	_, err := s.Accounts.Mutate(ctx, a.TenantID, a.AccountID, "account.health_changed", func(cur *accounts.Account) error {
		now := s.now()
		if status == accounts.Healthy {
			if !strings.HasPrefix(cur.Health.Reason, healthPrefix) {
				return accounts.ErrNoChange
			}
			cur.Health = accounts.Health{Status: accounts.Healthy, Reason: "Gangplank read Cost Explorer with the role.", CheckedAt: &now}
			return nil
		}
		cur.Health = accounts.Health{Status: status, Reason: reason, CheckedAt: &now}
		return nil
	})
	if err != nil && !errors.Is(err, accounts.ErrNoChange) {
		slog.WarnContext(ctx, "could not record the account's health", "accountId", a.AccountID, "error", err.Error())
	}
}

func newGeneration(now time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return now.Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// ScheduleAll enqueues every payer with cost sync on: the daily schedule's job.
func (s *Service) ScheduleAll(ctx context.Context) (int, error) {
	payers, err := s.Payers.CostSyncPayers(ctx)
	if err != nil {
		return 0, err
	}
	return len(payers), s.Queue.Enqueue(ctx, payers)
}

// Synced reports whether the account's recommendations are synced: an active payer with cost sync on.
func Synced(a accounts.Account) bool {
	return payer(a) == nil && crossaccount.Usable(a) == nil
}

// FirstSync hands a payer that just became active to the worker, so that its recommendations appear right after
// activation rather than at the next daily run. Accounts whose recommendations are not synced are left alone.
func (s *Service) FirstSync(ctx context.Context, a accounts.Account) error {
	if !Synced(a) {
		return nil
	}
	return s.Queue.Enqueue(ctx, []PayerRef{{TenantID: a.TenantID, AccountID: a.AccountID}})
}

// RequestSync is an on-demand sync of one payer, limited per tenant.
func (s *Service) RequestSync(ctx context.Context, tenantID, accountID string) error {
	a, err := s.Accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return err
	}
	if err := payer(a); err != nil {
		return err
	}
	if err := crossaccount.Usable(a); err != nil {
		return err
	}
	wait, err := s.Store.AcquireManualSync(ctx, tenantID, s.now(), MinManualSyncInterval)
	if err != nil {
		return err
	}
	if wait > 0 {
		return &RateLimitedError{RetryAfter: wait}
	}
	return s.Queue.Enqueue(ctx, []PayerRef{{TenantID: tenantID, AccountID: accountID}})
}

// HandleSQS is the worker: one payer per message. A failure that may pass (throttling, an outage) is reported
// for that message only, so the queue retries it alone and then dead-letters it; a payer that is no longer
// eligible is dropped.
func (s *Service) HandleSQS(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, m := range e.Records {
		var p PayerRef
		if err := json.Unmarshal([]byte(m.Body), &p); err != nil || p.TenantID == "" || p.AccountID == "" {
			slog.ErrorContext(ctx, "cost sync message is not a payer; dropped", "messageId", m.MessageId)
			continue
		}
		_, err := s.SyncPayer(ctx, p.TenantID, p.AccountID)
		switch {
		case err == nil:
		case errors.Is(err, ErrNotPayer), errors.Is(err, crossaccount.ErrNotConnected), errors.Is(err, ErrSyncOff), errors.Is(err, accounts.ErrNotFound),
			errors.Is(err, crossaccount.ErrAccessDenied):
			slog.InfoContext(ctx, "payer not synced (recorded in its sync status); dropped", "tenantId", p.TenantID, "accountId", p.AccountID, "reason", err.Error())
		default:
			slog.WarnContext(ctx, "cost sync failed; will retry", "tenantId", p.TenantID, "accountId", p.AccountID, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

// Filter narrows a listing.
type Filter struct{ Service, Term, PaymentOption string }

func (f Filter) match(r Recommendation) bool {
	return (f.Service == "" || r.Service == f.Service) && (f.Term == "" || r.Term == f.Term) &&
		(f.PaymentOption == "" || r.PaymentOption == f.PaymentOption)
}

// Totals sum a listing.
type Totals struct {
	Count                   int     `json:"count"`
	EstimatedMonthlySavings float64 `json:"estimatedMonthlySavings"`
	UpfrontCost             float64 `json:"upfrontCost"`
}

// AccountListing is an account's recommendations.
type AccountListing struct {
	AccountID string           `json:"accountId"`
	Sync      SyncStatus       `json:"sync"`
	Totals    Totals           `json:"totals"`
	Items     []Recommendation `json:"items"`
}

// AccountRecommendations lists one account's current recommendations (a linked account's come from its payer's
// sync), highest savings first.
func (s *Service) AccountRecommendations(ctx context.Context, tenantID, accountID string, f Filter) (AccountListing, error) {
	if err := f.Validate(); err != nil {
		return AccountListing{}, err
	}
	a, err := s.Accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return AccountListing{}, err
	}
	payerID := a.AccountID
	if a.Type == accounts.Linked {
		payerID = a.ManagementAccountID
	}
	st, err := s.Store.Status(ctx, tenantID, payerID)
	if err != nil {
		return AccountListing{}, err
	}
	recs, err := s.Store.Generation(ctx, tenantID, payerID, st.Generation, accountID)
	if err != nil {
		return AccountListing{}, err
	}
	out := AccountListing{AccountID: accountID, Sync: st, Items: []Recommendation{}}
	for _, r := range recs {
		if f.match(r) {
			out.Items = append(out.Items, r)
		}
	}
	sortBySavings(out.Items)
	out.Totals = totals(out.Items)
	return out, nil
}

// Validate reports every unknown value of the filter at once.
func (f Filter) Validate() error {
	var c validation.Collector
	if f.Service != "" && !knownService(f.Service) {
		c.Add("service", "%q is not a reservation service (%s) or Savings Plans type", f.Service, serviceKeys())
	}
	if f.Term != "" && f.Term != "ONE_YEAR" && f.Term != "THREE_YEARS" {
		c.Add("term", "use ONE_YEAR or THREE_YEARS")
	}
	if f.PaymentOption != "" && !ValidPaymentOption(f.PaymentOption) {
		c.Add("paymentOption", "use NO_UPFRONT, PARTIAL_UPFRONT or ALL_UPFRONT")
	}
	return c.Err()
}

func knownService(s string) bool {
	for _, r := range ReservationServices {
		if r.Key == s {
			return true
		}
	}
	for _, p := range SavingsPlansTypes() {
		if string(p) == s {
			return true
		}
	}
	return false
}

func serviceKeys() string {
	var keys []string
	for _, r := range ReservationServices {
		keys = append(keys, r.Key)
	}
	return strings.Join(keys, ", ")
}

func sortBySavings(recs []Recommendation) {
	sort.SliceStable(recs, func(i, j int) bool {
		if recs[i].EstimatedMonthlySavings != recs[j].EstimatedMonthlySavings {
			return recs[i].EstimatedMonthlySavings > recs[j].EstimatedMonthlySavings
		}
		return recs[i].ID < recs[j].ID
	})
}

func totals(recs []Recommendation) Totals {
	t := Totals{Count: len(recs)}
	for _, r := range recs {
		t.EstimatedMonthlySavings += r.EstimatedMonthlySavings
		t.UpfrontCost += r.UpfrontCost
	}
	return t
}

// TenantListing is one page of the tenant's recommendations across payers, highest savings first.
type TenantListing struct {
	Totals Totals           `json:"totals"`
	Items  []Recommendation `json:"items"`
	// Offset of the next page (0: none).
	Next int `json:"-"`
}

// TenantRecommendations lists every current recommendation of the tenant, highest savings first, a page at a time.
func (s *Service) TenantRecommendations(ctx context.Context, tenantID string, f Filter, offset, limit int) (TenantListing, error) {
	if err := f.Validate(); err != nil {
		return TenantListing{}, err
	}
	statuses, err := s.Store.Statuses(ctx, tenantID)
	if err != nil {
		return TenantListing{}, err
	}
	var all []Recommendation
	for _, st := range statuses {
		recs, err := s.Store.Generation(ctx, tenantID, st.PayerAccountID, st.Generation, "")
		if err != nil {
			return TenantListing{}, err
		}
		for _, r := range recs {
			if f.match(r) {
				all = append(all, r)
			}
		}
	}
	sortBySavings(all)
	out := TenantListing{Totals: totals(all), Items: []Recommendation{}}
	if offset < len(all) {
		end := min(offset+limit, len(all))
		out.Items = all[offset:end]
		if end < len(all) {
			out.Next = end
		}
	}
	return out, nil
}

// ErrNotManagement: EDP commitments are made by an organization's management (payer) account.
var ErrNotManagement = errors.New("an EDP commitment belongs to a management account (or a standalone payer)")

// CommitmentInput is a commitment as the tenant states it: dates are days (2026-01-01), the currency an ISO 4217
// code (USD when empty).
type CommitmentInput struct {
	Amount   float64
	Currency string
	Start    string
	End      string
}

// Commitment bounds. No EDP comes near a quadrillion, and DynamoDB cannot store numbers beyond 10^126 at all.
const (
	MaxCommitmentAmount = 1e15
	MaxCommitmentYears  = 10
	commitmentFirstYear = 2000
	commitmentLastYear  = 2100
)

// validate reports every problem with the commitment at once and returns its term.
func (in *CommitmentInput) validate() (start, end time.Time, err error) {
	var c validation.Collector
	switch {
	case !(in.Amount > 0):
		c.Add("amount", "must be a positive amount")
	case in.Amount > MaxCommitmentAmount:
		c.Add("amount", "must be at most %.0f", float64(MaxCommitmentAmount))
	}
	if in.Currency == "" {
		in.Currency = "USD"
	}
	c.Check("currency", CheckCurrency(in.Currency))
	start, startErr := commitmentDay(in.Start)
	c.Check("start", startErr)
	end, endErr := commitmentDay(in.End)
	c.Check("end", endErr)
	switch {
	case startErr != nil || endErr != nil:
	case !end.After(start):
		c.Add("end", "the commitment must end after it starts")
	case end.After(start.AddDate(MaxCommitmentYears, 0, 0)):
		c.Add("end", "a commitment lasts at most %d years", MaxCommitmentYears)
	}
	return start, end, c.Err()
}

func commitmentDay(s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || d.Year() < commitmentFirstYear || d.Year() > commitmentLastYear {
		return time.Time{}, fmt.Errorf("must be a day between %d and %d, such as 2026-01-01", commitmentFirstYear, commitmentLastYear)
	}
	return d, nil
}

// CheckCurrency accepts the ISO 4217 codes in current use, in capitals. The list is CLDR's (currencies.go, checked
// against github.com/bojanz/currency by a test, and updated with that module): it follows ISO 4217's amendments
// (VES, SLE, ZWG, XCG are there; withdrawn codes such as DEM or HRK are not) and leaves out precious metals, test
// and "no currency" codes (XAU, XTS, XXX), which no commitment is made in.
func CheckCurrency(code string) error {
	if len(code) != 3 || strings.ToUpper(code) != code || !isISO4217(code) {
		return fmt.Errorf("%q is not an ISO 4217 currency code in use: write one in capitals, such as USD or EUR", code)
	}
	return nil
}

// SetCommitment records the payer's EDP commitment.
func (s *Service) SetCommitment(ctx context.Context, tenantID, accountID string, in CommitmentInput) (Commitment, error) {
	a, err := s.Accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return Commitment{}, err
	}
	if a.Type == accounts.Linked {
		return Commitment{}, ErrNotManagement
	}
	start, end, err := in.validate()
	if err != nil {
		return Commitment{}, err
	}
	before, version, _, err := s.Store.Commitment(ctx, tenantID, accountID)
	if err != nil {
		return Commitment{}, err
	}
	now := s.now()
	after := Commitment{PayerAccountID: accountID, Amount: in.Amount, Currency: in.Currency, Start: start, End: end, UpdatedAt: now}
	entry := audit.New(ctx, tenantID, now, "commitment.set", "account/"+accountID, audit.Diff(&before, &after))
	return after, s.Store.PutCommitment(ctx, tenantID, after, version, entry)
}

// ErrNoCommitment: the account has no commitment recorded.
var ErrNoCommitment = errors.New("no EDP commitment is recorded for this account: PUT one first")

// CommitmentReport is spend to date against a commitment and its straight-line target.
type CommitmentReport struct {
	Commitment Commitment `json:"commitment"`
	// SpendToDate is the payer's net unblended cost from the start to today (or the end), all linked accounts.
	SpendToDate float64 `json:"spendToDate"`
	// TargetToDate is where spend should be if it grew evenly over the commitment.
	TargetToDate float64        `json:"targetToDate"`
	OnTrack      bool           `json:"onTrack"`
	Elapsed      float64        `json:"elapsedFraction"`
	Months       []MonthlySpend `json:"months"`
	// Calls is the Cost Explorer requests this report made.
	Calls int `json:"calls"`
}

// MonthlySpend is one month's spend.
type MonthlySpend struct {
	Month  string  `json:"month"`
	Amount float64 `json:"amount"`
}

// CommitmentReport reads spend to date with GetCostAndUsage (monthly, at payer level: no grouping, one call a page).
func (s *Service) CommitmentReport(ctx context.Context, tenantID, accountID string) (CommitmentReport, error) {
	a, err := s.Accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return CommitmentReport{}, err
	}
	c, _, ok, err := s.Store.Commitment(ctx, tenantID, accountID)
	if err != nil {
		return CommitmentReport{}, err
	}
	if !ok {
		return CommitmentReport{}, ErrNoCommitment
	}
	if err := crossaccount.Usable(a); err != nil {
		return CommitmentReport{}, err
	}
	now := s.now()
	end := now
	if c.End.Before(end) {
		end = c.End
	}
	rep := CommitmentReport{Commitment: c, Months: []MonthlySpend{}}
	total := c.End.Sub(c.Start)
	if elapsed := end.Sub(c.Start); elapsed > 0 && total > 0 {
		rep.Elapsed = float64(elapsed) / float64(total)
	}
	rep.TargetToDate = c.Amount * rep.Elapsed
	if end.After(c.Start) {
		sess, err := s.Door.Enter(ctx, tenantID, accountID, "commitment")
		if err != nil {
			return CommitmentReport{}, err
		}
		cfg := sess.Config
		cfg.Region = "us-east-1"
		counter := awsx.NewCallCounter()
		counter.Instrument(&cfg)
		ce, err := s.costExplorer(cfg)
		if err != nil {
			return CommitmentReport{}, err
		}
		for token := ""; ; {
			months, next, err := ce.MonthlyCosts(ctx, c.Start, end.AddDate(0, 0, 1), token)
			if err != nil {
				var denied *AccessDeniedError
				if errors.As(err, &denied) {
					return CommitmentReport{}, denied
				}
				return CommitmentReport{}, fmt.Errorf("Cost Explorer: %w", err)
			}
			for _, m := range months {
				rep.Months = append(rep.Months, m)
				rep.SpendToDate += m.Amount
			}
			if token = next; token == "" {
				break
			}
		}
		rep.Calls = int(counter.ServiceCalls("Cost Explorer"))
	}
	rep.OnTrack = rep.SpendToDate >= rep.TargetToDate
	return rep, nil
}

// Status is a payer's latest sync.
func (s *Service) Status(ctx context.Context, tenantID, accountID string) (SyncStatus, error) {
	return s.Store.Status(ctx, tenantID, accountID)
}
