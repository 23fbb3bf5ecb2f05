// Package costsync pulls Cost Explorer's purchase recommendations (reservations and Savings Plans) for every payer
// whose cost sync is on, at the lowest API cost: from the payer with AccountScope LINKED, one call covers every
// linked account, so the calls per payer per sync do not grow with the organization. It also reports EDP
// commitments against spend.
package costsync

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sort"
	"time"
)

// Kinds of recommendation.
const (
	KindReservation = "reservation"
	KindSavingsPlan = "savings_plan"
)

// Recommendation is one line of a purchase recommendation, for one account.
type Recommendation struct {
	ID   string `json:"id" dynamodbav:"id"`
	Kind string `json:"kind" dynamodbav:"kind"`
	// Service is the reservation service key (ec2-standard, rds...) or the Savings Plans type (COMPUTE_SP...).
	Service        string `json:"service" dynamodbav:"service"`
	AccountID      string `json:"accountId" dynamodbav:"accountId"`
	PayerAccountID string `json:"payerAccountId" dynamodbav:"payerAccountId"`
	Term           string `json:"term" dynamodbav:"term"`
	PaymentOption  string `json:"paymentOption" dynamodbav:"paymentOption"`
	// InstanceType is the instance (or node) type of a reservation, or the instance family of an EC2 Instance
	// Savings Plan; Region where the purchase applies.
	InstanceType string `json:"instanceType,omitempty" dynamodbav:"instanceType,omitempty"`
	Region       string `json:"region,omitempty" dynamodbav:"region,omitempty"`
	// Quantity is the number of instances (reservations) or the hourly commitment in the currency (Savings Plans).
	Quantity                float64   `json:"quantity" dynamodbav:"quantity"`
	UpfrontCost             float64   `json:"upfrontCost" dynamodbav:"upfrontCost"`
	RecurringMonthlyCost    float64   `json:"recurringMonthlyCost" dynamodbav:"recurringMonthlyCost"`
	EstimatedMonthlySavings float64   `json:"estimatedMonthlySavings" dynamodbav:"estimatedMonthlySavings"`
	BreakEvenMonths         float64   `json:"breakEvenMonths" dynamodbav:"breakEvenMonths"`
	Currency                string    `json:"currency" dynamodbav:"currency"`
	GeneratedAt             time.Time `json:"generatedAt" dynamodbav:"generatedAt"`
	LookbackDays            int       `json:"lookbackDays" dynamodbav:"lookbackDays"`
}

// Sync statuses.
const (
	StatusOK             = "ok"
	StatusWaitingForData = "waiting_for_data"
	StatusFailed         = "failed"
	StatusNeverSynced    = "never_synced"
)

// SyncStatus is where a payer's sync stands; it points at the current generation of its recommendations.
type SyncStatus struct {
	PayerAccountID string     `json:"payerAccountId" dynamodbav:"payerAccountId"`
	Status         string     `json:"status" dynamodbav:"status"`
	LastSyncAt     *time.Time `json:"lastSyncAt,omitempty" dynamodbav:"lastSyncAt,omitempty"`
	LastSuccessAt  *time.Time `json:"lastSuccessAt,omitempty" dynamodbav:"lastSuccessAt,omitempty"`
	LastError      string     `json:"lastError,omitempty" dynamodbav:"lastError,omitempty"`
	// Calls is how many Cost Explorer requests the last sync made (each costs $0.01).
	Calls int `json:"calls" dynamodbav:"calls"`
	// Generation names the current set of recommendations; ContentHash detects an unchanged one.
	Generation     string  `json:"-" dynamodbav:"generation,omitempty"`
	ContentHash    string  `json:"-" dynamodbav:"contentHash,omitempty"`
	Count          int     `json:"count" dynamodbav:"count"`
	MonthlySavings float64 `json:"estimatedMonthlySavings" dynamodbav:"estimatedMonthlySavings"`
	Version        int64   `json:"-" dynamodbav:"version"`
}

// Commitment is an Enterprise Discount Program commitment on a management account.
type Commitment struct {
	PayerAccountID string    `json:"payerAccountId" dynamodbav:"payerAccountId"`
	Amount         float64   `json:"amount" dynamodbav:"amount"`
	Currency       string    `json:"currency" dynamodbav:"currency"`
	Start          time.Time `json:"start" dynamodbav:"start"`
	End            time.Time `json:"end" dynamodbav:"end"`
	UpdatedAt      time.Time `json:"updatedAt" dynamodbav:"updatedAt"`
}

// contentHash identifies a set of recommendations regardless of order and of when Cost Explorer generated it,
// so an unchanged set is not written again.
func contentHash(recs []Recommendation) string {
	norm := make([]Recommendation, len(recs))
	copy(norm, recs)
	for i := range norm {
		norm[i].GeneratedAt = time.Time{}
	}
	sort.Slice(norm, func(i, j int) bool { return norm[i].ID < norm[j].ID })
	b, _ := json.Marshal(norm)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// recommendationID is stable for the same purchase for the same account.
func recommendationID(parts ...string) string {
	b, _ := json.Marshal(parts)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

var (
	// ErrNotPayer: recommendations are synced from management and standalone accounts.
	ErrNotPayer = errors.New("Cost Explorer recommendations are synced from management and standalone accounts; this linked account's appear under its management account's sync")
	// ErrSyncOff: the account's costSync is off.
	ErrSyncOff = errors.New("cost sync is off for this account: PATCH costSync: true to turn it on")
)

// RateLimitedError: on-demand syncs are limited per tenant.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return "a sync was requested less than " + MinManualSyncInterval.String() + " ago; Cost Explorer regenerates recommendations at most a few times a day"
}

// MinManualSyncInterval bounds on-demand syncs per tenant: each sync costs about $0.10 per payer, and Cost Explorer
// refreshes recommendations only a few times a day.
const MinManualSyncInterval = 5 * time.Minute
