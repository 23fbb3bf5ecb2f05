// Package validation collects field-level problems with a request so that a client learns about all of them at
// once, each tied to the field (a JSON pointer-like dotted path) it concerns.
package validation

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError is one problem with one field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	// cause is the domain error behind the message, when there is one, so callers can test for it with errors.Is.
	cause error
}

// Error lists every field problem found in one input.
type Error struct {
	Fields []FieldError
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Unwrap returns the domain errors behind the field problems (see Collector.Check).
func (e *Error) Unwrap() []error {
	var causes []error
	for _, f := range e.Fields {
		if f.cause != nil {
			causes = append(causes, f.cause)
		}
	}
	return causes
}

// Collector gathers field errors; Err returns them as one *Error, or nil when there are none.
type Collector struct {
	fields []FieldError
}

// Add records a problem with field.
func (c *Collector) Add(field, format string, args ...any) {
	c.fields = append(c.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Check records err's message against field when err is not nil, keeping err as a cause errors.Is can find.
func (c *Collector) Check(field string, err error) {
	if err != nil {
		c.fields = append(c.fields, FieldError{Field: field, Message: err.Error(), cause: err})
	}
}

// maxItemErrors bounds the problems reported for the items of one list: a list of a thousand wrong ids gets a
// readable answer, and the count of the rest.
const maxItemErrors = 5

// List checks a list of identifiers: at most max items, each passing check, none twice. Every problem is reported
// against the list's field, naming the item and its position (from 1).
func (c *Collector) List(field string, items []string, max int, check func(string) error) {
	if len(items) > max {
		c.Add(field, "may hold at most %d items (got %d)", max, len(items))
		return
	}
	reported, more := 0, 0
	report := func(format string, args ...any) {
		if reported == maxItemErrors {
			more++
			return
		}
		reported++
		c.Add(field, format, args...)
	}
	seen := make(map[string]int, len(items))
	for i, it := range items {
		if err := check(it); err != nil {
			report("item %d (%q): %s", i+1, it, err)
			continue
		}
		if first, dup := seen[it]; dup {
			report("item %d (%q) repeats item %d; name each once", i+1, it, first)
			continue
		}
		seen[it] = i + 1
	}
	if more > 0 {
		c.Add(field, "and %d more items like these", more)
	}
}

// Err returns the collected problems, or nil.
func (c *Collector) Err() error {
	if len(c.fields) == 0 {
		return nil
	}
	return &Error{Fields: c.fields}
}

// Field returns a single-field error.
func Field(field, format string, args ...any) error {
	var c Collector
	c.Add(field, format, args...)
	return c.Err()
}

// As returns err's field problems when it is a validation error.
func As(err error) ([]FieldError, bool) {
	var ve *Error
	if errors.As(err, &ve) {
		return ve.Fields, true
	}
	return nil, false
}
