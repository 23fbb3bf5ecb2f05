// Package logging builds the structured logger every Gangplank process uses: JSON lines, with the request id of
// the context each record is logged in, in the field names Lambda's own JSON log format uses.
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/gangplank/gangplank/pkg/requestid"
)

// New returns a JSON logger writing to w at the level named by AWS_LAMBDA_LOG_LEVEL (or LOG_LEVEL), INFO by default.
func New(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level(), ReplaceAttr: lambdacontext.ReplaceAttr}
	return slog.New(contextHandler{slog.NewJSONHandler(w, opts)})
}

// Setup makes New(os.Stdout) the default logger, so slog.InfoContext(ctx, ...) works everywhere.
func Setup() *slog.Logger {
	l := New(os.Stdout)
	slog.SetDefault(l)
	return l
}

func level() slog.Level {
	v := os.Getenv("AWS_LAMBDA_LOG_LEVEL")
	if v == "" {
		v = os.Getenv("LOG_LEVEL")
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(v))); err != nil {
		return slog.LevelInfo
	}
	return l
}

// contextHandler adds the context's request id to every record.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := requestid.From(ctx); id != "" {
		r.AddAttrs(slog.String("requestId", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
