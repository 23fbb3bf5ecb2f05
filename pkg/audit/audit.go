// Package audit describes the record every mutation leaves: who did what to which resource, when, and which fields
// changed from what to what. Stores write the entry in the same transaction as the change it describes, so the
// trail can never miss a change nor describe one that did not happen.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/gangplank/gangplank/pkg/requestid"
)

// ActorType says whether a person or Gangplank itself made a change.
type ActorType string

const (
	// User is a person calling the API with a token.
	User ActorType = "user"
	// System is a Gangplank component acting on a customer's behalf (a callback, discovery, a workflow).
	System ActorType = "system"
)

// Actor is who made a change.
type Actor struct {
	Type ActorType `json:"type" dynamodbav:"type"`
	// ID is the token's subject for users, or the component's name for the system ("onboarding-callback").
	ID   string `json:"id" dynamodbav:"id"`
	Role string `json:"role,omitempty" dynamodbav:"role,omitempty"`
}

// Change is one field's old and new value. Values are kept as JSON so the trail shows exactly what the API showed.
type Change struct {
	Field string          `json:"field"`
	From  json.RawMessage `json:"from,omitempty"`
	To    json.RawMessage `json:"to,omitempty"`
}

// Entry is one audit record.
type Entry struct {
	TenantID  string    `json:"-"`
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	Actor     Actor     `json:"actor"`
	Action    string    `json:"action"`
	Target    string    `json:"target"`
	Changes   []Change  `json:"changes"`
	RequestID string    `json:"requestId,omitempty"`
}

// Page is one page of a tenant's trail, newest first; NextCursor is empty on the last page.
type Page struct {
	Items      []Entry `json:"items"`
	NextCursor string  `json:"nextCursor"`
}

type actorKey struct{}

// WithActor returns a context whose mutations are attributed to actor.
func WithActor(ctx context.Context, actor Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor stored in ctx. A context without one is attributed to an unnamed system actor, which
// keeps the trail complete even when a caller forgot to say who it is.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Type: System, ID: "unknown"}
}

// New builds an entry for an action on target at time at, attributed to the context's actor.
func New(ctx context.Context, tenantID string, at time.Time, action, target string, changes []Change) Entry {
	var id [8]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails on supported platforms.
	return Entry{
		TenantID:  tenantID,
		ID:        hex.EncodeToString(id[:]),
		At:        at.UTC(),
		Actor:     ActorFrom(ctx),
		Action:    action,
		Target:    target,
		Changes:   changes,
		RequestID: requestid.From(ctx),
	}
}

// Diff compares two values of the same struct type field by field, using their JSON names and representation,
// and returns a Change for every field whose JSON differs. Fields named in skip are ignored (bookkeeping such as
// version and updatedAt, which change on every write). A nil before (creation) or after (deletion) records every
// field on one side only.
func Diff[T any](before, after *T, skip ...string) []Change {
	b, a := jsonFields(before), jsonFields(after)
	names := orderedNames(reflect.TypeFor[T]())
	var out []Change
	for _, name := range names {
		if slices.Contains(skip, name) {
			continue
		}
		from, to := b[name], a[name]
		if string(from) == string(to) {
			continue
		}
		out = append(out, Change{Field: name, From: from, To: to})
	}
	return out
}

func jsonFields[T any](v *T) map[string]json.RawMessage {
	if v == nil {
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]json.RawMessage
	_ = json.Unmarshal(raw, &m)
	return m
}

// orderedNames lists a struct's JSON field names in declaration order, so diffs read in a stable order.
func orderedNames(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name := f.Name
		if tag != "" {
			if n, _, _ := strings.Cut(tag, ","); n != "" {
				name = n
			}
		}
		if name == "-" {
			continue
		}
		names = append(names, name)
	}
	return names
}
