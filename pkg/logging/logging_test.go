package logging

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/gangplank/gangplank/pkg/requestid"
)

// TestLambdaRecordsCarryTheInvocation: in a function, every record carries the invocation's request id and the
// function's name, and a request that came through API Gateway its gateway request id too.
func TestLambdaRecordsCarryTheInvocation(t *testing.T) {
	lambdacontext.FunctionName = "gangplank-callback"
	out := capture(t, func() {
		l := SetupLambda()
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "inv-1"})
		l.InfoContext(ctx, "background work")
		l.InfoContext(requestid.With(ctx, "gw-1"), "api request")
	})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("logged %q", out)
	}
	for _, want := range []string{"inv-1", "gangplank-callback"} {
		for _, l := range lines {
			if !strings.Contains(l, want) {
				t.Errorf("record %q lacks %s", l, want)
			}
		}
	}
	if strings.Contains(lines[0], "apiRequestId") || !strings.Contains(lines[1], "apiRequestId=gw-1") && !strings.Contains(lines[1], `"apiRequestId":"gw-1"`) {
		t.Errorf("gateway ids: %q", lines)
	}
}

// capture runs f with os.Stdout redirected (aws-lambda-go's handler writes there).
func capture(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, logger := os.Stdout, slog.Default()
	os.Stdout = w
	defer func() { os.Stdout = stdout; slog.SetDefault(logger) }()
	f()
	w.Close()
	var buf bytes.Buffer
	_, _ = io.Copy(&buf, r)
	return buf.String()
}
