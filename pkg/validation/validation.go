// Package validation collects field-level problems with a request so that a client learns about all of them at
// once, each tied to the field (a JSON pointer-like dotted path) it concerns.
package validation

import (
	"fmt"
	"strings"
)

// FieldError is one problem with one field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
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

// Collector gathers field errors; Err returns them as one *Error, or nil when there are none.
type Collector struct {
	fields []FieldError
}

// Add records a problem with field.
func (c *Collector) Add(field, format string, args ...any) {
	c.fields = append(c.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Check records msg against field when err is not nil.
func (c *Collector) Check(field string, err error) {
	if err != nil {
		c.Add(field, "%s", err.Error())
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
