package discovery

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/gangplank/gangplank/pkg/accounts"
)

// Kind is what a discovery job reads.
type Kind string

const (
	// KindOrganization reads a management account's organization (every account and the OU tree).
	KindOrganization Kind = "organization"
	// KindManagementAccount reads a linked account's organization through its own role, to find the organization's
	// management account (a tenant that started with the linked account).
	KindManagementAccount Kind = "management_account"
)

// Trigger is what started a job.
type Trigger string

const (
	TriggerAPI        Trigger = "api"
	TriggerActivation Trigger = "activation"
	TriggerSchedule   Trigger = "schedule"
)

// JobStatus is where a job stands.
type JobStatus string

const (
	// Queued: started, its first step not run yet.
	Queued JobStatus = "queued"
	// Running: at least one step ran, more are queued.
	Running JobStatus = "running"
	// Succeeded: the organization was read and the tenant's accounts are in step with it.
	Succeeded JobStatus = "succeeded"
	// Failed: Error says why; the accounts written before the failure stay (each write stands on its own).
	Failed JobStatus = "failed"
)

// Phase is the part of an organization job a step is in.
type Phase string

const (
	// PhaseRead lists the organization.
	PhaseRead Phase = "read"
	// PhaseApply compares what was read with the tenant's accounts and writes what changed.
	PhaseApply Phase = "apply"
)

// Progress is what a job did so far, for the tenant to watch.
type Progress struct {
	// Steps is how many steps (queue messages, each one Lambda invocation) ran.
	Steps int `json:"steps" dynamodbav:"steps"`
	// Calls and Retries count Organizations requests, and those retried after throttling.
	Calls   int `json:"calls" dynamodbav:"calls"`
	Retries int `json:"retries" dynamodbav:"retries"`
	// OUsRead and AccountsRead count what the listing returned so far.
	OUsRead      int `json:"ousRead" dynamodbav:"ousRead"`
	AccountsRead int `json:"accountsRead" dynamodbav:"accountsRead"`
	// AccountsCompared counts the members compared with the tenant's accounts (and written when they changed).
	AccountsCompared int `json:"accountsCompared" dynamodbav:"accountsCompared"`
}

// Cursor is where an unfinished job goes on from: what the next step needs besides the checkpointed OUs and
// members. It is never shown.
type Cursor struct {
	// Step is the step the next queue message carries; a message for another step is a duplicate.
	Step int `dynamodbav:"step"`
	// Sent is the last step whose message is known to be on the queue (a duplicate of the step before it need not
	// queue it again).
	Sent  int   `dynamodbav:"sent"`
	Phase Phase `dynamodbav:"phase"`
	Walk  Walk  `dynamodbav:"walk"`
	// Chunks are the sets of chunks (of OUs and members read) the job's checkpoints stored, in order.
	Chunks []ChunkSet `dynamodbav:"chunks"`
	// Applied is how many members, in account ID order, are in step with the tenant's accounts.
	Applied int `dynamodbav:"applied"`
	// Run holds the counts so far.
	Run accounts.DiscoveryRun `dynamodbav:"run"`
}

// ChunkSet names the chunks one step stored: Writer is random per step run, so a duplicate delivery of the same
// step never overwrites the chunks the job's checkpoint refers to.
type ChunkSet struct {
	Writer string `dynamodbav:"writer"`
	Count  int    `dynamodbav:"count"`
}

// NewWriter names one step run's chunks.
func NewWriter() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Job is one discovery: of an organization, or of a linked account's management account.
type Job struct {
	ID       string `json:"id" dynamodbav:"id"`
	TenantID string `json:"-" dynamodbav:"tenantId"`
	// AccountID is the account whose role the job reads through (the management account, or the linked account).
	AccountID string    `json:"accountId" dynamodbav:"accountId"`
	Kind      Kind      `json:"kind" dynamodbav:"kind"`
	Trigger   Trigger   `json:"trigger" dynamodbav:"trigger"`
	Status    JobStatus `json:"status" dynamodbav:"status"`
	Progress  Progress  `json:"progress" dynamodbav:"progress"`
	// Run is an organization job's result; Lookup a management account job's.
	Run    *accounts.DiscoveryRun     `json:"run,omitempty" dynamodbav:"run,omitempty"`
	Lookup *accounts.ManagementLookup `json:"lookup,omitempty" dynamodbav:"lookup,omitempty"`
	// Error says why a failed job failed, and what to do.
	Error      string     `json:"error,omitempty" dynamodbav:"error,omitempty"`
	CreatedAt  time.Time  `json:"createdAt" dynamodbav:"createdAt"`
	UpdatedAt  time.Time  `json:"updatedAt" dynamodbav:"updatedAt"`
	StartedAt  *time.Time `json:"startedAt,omitempty" dynamodbav:"startedAt,omitempty"`
	FinishedAt *time.Time `json:"finishedAt,omitempty" dynamodbav:"finishedAt,omitempty"`
	// LeaseUntil is when an unfinished job that made no progress counts as stopped: its account may start another.
	LeaseUntil time.Time `json:"-" dynamodbav:"leaseUntil"`
	Cursor     Cursor    `json:"-" dynamodbav:"cursor"`
	// Version is the stored version; every save is conditional on it.
	Version int64 `json:"-" dynamodbav:"version"`
}

// jobIDPattern is the format of job IDs: when it was started, then 48 random bits.
var jobIDPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}-[0-9a-f]{12}$`)

// NewJobID names a job: sortable by start time, unguessable within it.
func NewJobID(now time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// ValidJobID reports whether id has a job ID's format (anything else names no job, and never reaches the store).
func ValidJobID(id string) bool { return jobIDPattern.MatchString(id) }

// ErrJobNotFound: the tenant has no job with this ID.
var ErrJobNotFound = errors.New("no discovery job with this id")

// ErrJobMoved: the job changed since it was read (another delivery of the same step got there first).
var ErrJobMoved = errors.New("the discovery job changed since it was read")

// Finished reports whether the job is over.
func (j Job) Finished() bool { return j.Status == Succeeded || j.Status == Failed }

// Begin records that a step is running.
func (j *Job) Begin(now time.Time) {
	if j.StartedAt == nil {
		j.StartedAt = &now
	}
	j.Status = Running
	j.Progress.Steps++
	j.UpdatedAt = now
}

// Continue records a checkpoint: the next step is queued, and the job holds its account until lease has passed
// without progress.
func (j *Job) Continue(now time.Time, lease time.Duration) {
	j.Cursor.Step++
	j.UpdatedAt, j.LeaseUntil = now, now.Add(lease)
}

// Succeed ends the job with its result.
func (j *Job) Succeed(now time.Time) {
	j.Status, j.Error = Succeeded, ""
	j.UpdatedAt, j.FinishedAt = now, &now
}

// Fail ends the job with the reason the tenant reads.
func (j *Job) Fail(reason string, now time.Time) {
	j.Status, j.Error = Failed, reason
	j.UpdatedAt, j.FinishedAt = now, &now
	if j.Kind == KindOrganization {
		run := j.Cursor.Run
		run.At, run.Status, run.Error, run.JobID = now, "failed", reason, j.ID
		run.Calls, run.Retries = j.Progress.Calls, j.Progress.Retries
		j.Run = &run
	}
}

// Stalled reports whether an unfinished job stopped making progress (its steps failed every delivery, or its queue
// lost them): past its lease, its account may start another job.
func (j Job) Stalled(now time.Time) bool { return !j.Finished() && now.After(j.LeaseUntil) }

// AsSeen is the job as the tenant sees it at now: a stalled job is shown failed, with what to do.
func (j Job) AsSeen(now time.Time) Job {
	if j.Stalled(now) {
		j.Fail(fmt.Sprintf("The discovery stopped making progress (last at %s): start it again.", j.UpdatedAt.UTC().Format(time.RFC3339)), j.LeaseUntil)
	}
	return j
}
