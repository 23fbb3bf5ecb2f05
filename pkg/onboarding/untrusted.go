package onboarding

import (
	"context"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Everything that arrives on the callback topic is untrusted: anyone may publish there, since customers' accounts
// are not known in advance. A message proves itself (an activation token bound to the account and stack, or a
// stack name or StackId only Gangplank and the stack know) before it changes anything, and text that reaches a
// tenant from a stack is shown as the stack's word, bounded and stripped of control characters.

// maxReportedBytes bounds the text a stack reported that Gangplank keeps and shows.
const maxReportedBytes = 600

// reported turns text a stack sent into something safe to show a tenant: control and format characters (escape
// sequences, NUL, bidirectional overrides) become spaces, runs of spaces one, and the result is cut to max bytes on
// a character boundary. The caller marks it as the stack's word.
func reported(text string, max int) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(text, "\uFFFD") {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		if b.Len()+utf8.RuneLen(r) > max {
			return strings.TrimRight(cutRunes(b.String(), max-len("…")), " ") + "…"
		}
		b.WriteRune(r)
	}
	return b.String()
}

func cutRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Rejections are counted in CloudWatch through the embedded metric format: the metric travels in the warning's own
// log line, so a flood of junk costs no API call (PutMetricData would add a call, latency and a permission to every
// rejected message, which is exactly what a flood should not be able to buy) and the count arrives in the same
// place as the details. The alarm on it is defined with the stack (infra/stack).
const (
	// MetricNamespace is the CloudWatch namespace of Gangplank's own metrics.
	MetricNamespace = "Gangplank"
	// RejectedMetric counts callback messages that changed nothing because they proved nothing.
	RejectedMetric = "CallbackRejected"
	// MetricService is the dimension value of the callback's metrics.
	MetricService = "onboarding-callback"
)

// Kinds of rejection, logged with each one.
const (
	rejectResponseURL  = "response-url"       // a ResponseURL outside CloudFormation's response bucket of the stack's region
	rejectRegion       = "region"             // not delivered through the topic of the stack's region
	rejectMalformed    = "malformed"          // neither a custom resource request nor a stack notification
	rejectToken        = "token"              // a request whose token is not bound to the account and stack
	rejectNotification = "stack-notification" // a failure notification about a stack no account waits for
)

// reject logs a message that changed nothing, with the metric that counts it.
func reject(ctx context.Context, kind, msg string, attrs ...any) {
	args := append([]any{
		"_aws", map[string]any{
			"Timestamp": time.Now().UnixMilli(),
			"CloudWatchMetrics": []map[string]any{{
				"Namespace":  MetricNamespace,
				"Dimensions": [][]string{{"Service"}},
				"Metrics":    []map[string]string{{"Name": RejectedMetric, "Unit": "Count"}},
			}},
		},
		"Service", MetricService,
		RejectedMetric, 1,
		"rejection", kind,
	}, attrs...)
	slog.WarnContext(ctx, msg, args...)
}
