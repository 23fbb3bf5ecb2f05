// Package logging builds the structured logger every Gangplank process uses: JSON lines, in the field names Lambda's
// own JSON log format uses, each carrying the request it serves.
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

// New returns a JSON logger writing to w at the level named by AWS_LAMBDA_LOG_LEVEL (or LOG_LEVEL), INFO by
// default, adding the context's request id to every record: the local server's logger.
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

// SetupLambda makes the default logger a Lambda function's: aws-lambda-go's log handler (Lambda's JSON format and
// level settings, the invocation's requestId on every record), with the function's name on every record, and,
// when the request came through API Gateway, the gateway's request id as apiRequestId (the id in its access logs,
// error bodies and the audit trail).
func SetupLambda() *slog.Logger {
	l := slog.New(gatewayHandler{lambdacontext.NewLogHandler()}).With("function", lambdacontext.FunctionName)
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

// gatewayHandler adds API Gateway's request id, when one was set on the context, beside the invocation's.
type gatewayHandler struct{ slog.Handler }

func (h gatewayHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := requestid.Set(ctx); ok {
		r.AddAttrs(slog.String("apiRequestId", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h gatewayHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return gatewayHandler{h.Handler.WithAttrs(attrs)}
}

func (h gatewayHandler) WithGroup(name string) slog.Handler {
	return gatewayHandler{h.Handler.WithGroup(name)}
}
