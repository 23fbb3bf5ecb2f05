package audit

import (
	"context"
	"testing"
	"time"
)

type thing struct {
	Name    string `json:"name"`
	Count   int    `json:"count"`
	Secret  string `json:"-"`
	Version int64  `json:"version"`
}

func TestDiff(t *testing.T) {
	a := thing{Name: "a", Count: 1, Secret: "x", Version: 1}
	b := thing{Name: "b", Count: 1, Secret: "y", Version: 2}
	got := Diff(&a, &b, "version")
	if len(got) != 1 || got[0].Field != "name" || string(got[0].From) != `"a"` || string(got[0].To) != `"b"` {
		t.Errorf("Diff = %+v; want only name a→b (secret hidden, version skipped)", got)
	}
	created := Diff(nil, &a)
	if len(created) != 3 || created[0].Field != "name" || created[0].From != nil {
		t.Errorf("Diff(nil, a) = %+v; want every visible field, in order, with no from", created)
	}
	if d := Diff(&a, &a); len(d) != 0 {
		t.Errorf("Diff(a, a) = %+v", d)
	}
}

func TestNew(t *testing.T) {
	ctx := WithActor(context.Background(), Actor{Type: User, ID: "u1", Role: "admin"})
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	e := New(ctx, "acme", at, "account.created", "account/1", nil)
	if e.Actor.ID != "u1" || e.TenantID != "acme" || e.At.Location() != time.UTC || len(e.ID) != 16 {
		t.Errorf("New = %+v", e)
	}
	if other := New(ctx, "acme", at, "x", "y", nil); other.ID == e.ID {
		t.Error("two entries at the same instant got the same id")
	}
	if anon := New(context.Background(), "acme", at, "x", "y", nil); anon.Actor.Type != System {
		t.Errorf("an entry without an actor is attributed to %+v", anon.Actor)
	}
}
