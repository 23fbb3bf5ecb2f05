package validation

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

var errOdd = errors.New("must be even")

func even(s string) error {
	if len(s)%2 == 1 {
		return errOdd
	}
	return nil
}

func TestList(t *testing.T) {
	many := make([]string, 12)
	for i := range many {
		many[i] = strings.Repeat("x", i%2+1) + fmt.Sprint(i%10)
	}
	tests := []struct {
		name  string
		items []string
		want  []string
	}{
		{"fine", []string{"aa", "bb"}, nil},
		{"empty", nil, nil},
		{"one wrong", []string{"aa", "b"}, []string{`item 2 ("b"): must be even`}},
		{"twice", []string{"aa", "bb", "aa"}, []string{`item 3 ("aa") repeats item 1; name each once`}},
		{"too many", []string{"aa", "bb", "cc", "dd"}, []string{"may hold at most 3 items (got 4)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Collector
			c.List("ids", tt.items, 3, even)
			var got []string
			for _, f := range c.fields {
				if f.Field != "ids" {
					t.Errorf("field %q", f.Field)
				}
				got = append(got, f.Message)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	var c Collector
	c.List("ids", many, 100, even)
	if n := len(c.fields); n != maxItemErrors+1 || !strings.Contains(c.fields[n-1].Message, "2 more") {
		t.Errorf("a long list of wrong items gives %d messages: %v", n, c.fields)
	}
}

func TestCausesSurviveCollection(t *testing.T) {
	var c Collector
	c.Add("a", "plain")
	c.Check("b", fmt.Errorf("wrapped: %w", errOdd))
	err := c.Err()
	if !errors.Is(err, errOdd) {
		t.Errorf("errors.Is cannot find the cause in %v", err)
	}
	if fields, ok := As(err); !ok || len(fields) != 2 || fields[1].Field != "b" {
		t.Errorf("As = %v, %v", fields, ok)
	}
	var none Collector
	if none.Err() != nil {
		t.Error("an empty collector reports an error")
	}
}
