// Package requestid carries the id of the request being served through a context, so that logs, audit entries and
// error bodies can all name the same request.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

type key struct{}

// With returns a context carrying id.
func With(ctx context.Context, id string) context.Context { return context.WithValue(ctx, key{}, id) }

// From returns the request id in ctx: the one set by With, else the Lambda invocation's, else "".
func From(ctx context.Context) string {
	if id, ok := ctx.Value(key{}).(string); ok {
		return id
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}

// Set returns the id set on ctx by With, if any (the API's: API Gateway's request id, or one it made up).
func Set(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(key{}).(string)
	return id, ok
}

// New returns a fresh random id for requests that arrive without one.
func New() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms.
	return hex.EncodeToString(b[:])
}
