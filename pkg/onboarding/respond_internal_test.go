package onboarding

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// TestHTTPResponder: a 4xx (an expired presigned URL) is final at once; 5xx and timeouts are retried; the body
// arrives as sent, with no Content-Type (the presigned URL is signed without one).
func TestHTTPResponder(t *testing.T) {
	tests := []struct {
		name         string
		statuses     []int // answers in order; a 0 hangs past the client's timeout
		wantErr      error
		wantAttempts int32
	}{
		{"accepted", []int{200}, nil, 1},
		{"expired URL", []int{403}, ErrResponseRejected, 1},
		{"S3 hiccups, then accepts", []int{503, 500, 200}, nil, 3},
		{"timeout, then accepts", []int{0, 200}, nil, 2},
		{"never accepts", []int{500, 500, 500}, errAny, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var attempts atomic.Int32
			release := make(chan struct{})
			defer close(release)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := attempts.Add(1)
				body := make([]byte, 64)
				k, _ := r.Body.Read(body)
				if r.Method != http.MethodPut || string(body[:k]) != `{"Status":"SUCCESS"}` || r.Header.Get("Content-Type") != "" {
					t.Errorf("request %s %q content-type %q", r.Method, body[:k], r.Header.Get("Content-Type"))
				}
				status := tc.statuses[min(int(n), len(tc.statuses))-1]
				if status == 0 {
					select {
					case <-release:
					case <-time.After(400 * time.Millisecond):
					}
					return
				}
				w.WriteHeader(status)
			}))
			defer srv.Close()
			r := &HTTPResponder{Client: &http.Client{Timeout: 200 * time.Millisecond}, Attempts: 3, Backoff: 10 * time.Millisecond}
			err := r.Respond(context.Background(), srv.URL, []byte(`{"Status":"SUCCESS"}`))
			switch {
			case tc.wantErr == nil && err != nil, tc.wantErr == errAny && err == nil:
				t.Errorf("err = %v", err)
			case tc.wantErr != nil && tc.wantErr != errAny && !errors.Is(err, tc.wantErr):
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if got := attempts.Load(); got != tc.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tc.wantAttempts)
			}
		})
	}
}

var errAny = errors.New("any error")

// TestSampleEvents: the sample events in events/callback are what the callback reads: each custom resource
// request passes the request checks, each stack notification parses, and the failures are recognised.
func TestSampleEvents(t *testing.T) {
	files, _ := filepath.Glob("../../events/callback/*.json")
	if len(files) < 5 {
		t.Fatalf("sample events: %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var e events.SNSEvent
			if err := json.Unmarshal(raw, &e); err != nil || len(e.Records) != 1 {
				t.Fatalf("not an SNS event: %v", err)
			}
			msg := e.Records[0].SNS.Message
			var req CustomResourceRequest
			if json.Unmarshal([]byte(msg), &req) == nil && req.RequestType != "" {
				if reason := checkRequest(req, readProperties(req.ResourceProperties)); reason != "" {
					t.Errorf("sample request refused: %s", reason)
				}
				if req.LogicalResourceID != ConnectionResource || req.StackID == "" || req.ResponseURL == "" {
					t.Errorf("request = %+v", req)
				}
				return
			}
			ev, ok := ParseStackEvent(msg)
			if !ok || stackFailure(ev) == "" {
				t.Errorf("stack notification %+v (parsed %v) is not recognised as a failure", ev, ok)
			}
		})
	}
}
