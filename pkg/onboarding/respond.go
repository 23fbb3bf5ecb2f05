package onboarding

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ErrResponseRejected: the ResponseURL refused the answer for good (a presigned URL that expired answers 403).
var ErrResponseRejected = errors.New("the ResponseURL rejected the answer")

// HTTPResponder PUTs answers to CloudFormation's presigned ResponseURL, retrying what may pass (timeouts, 5xx).
type HTTPResponder struct {
	Client   *http.Client
	Attempts int
	Backoff  time.Duration
}

// NewHTTPResponder returns a responder with a 10-second timeout per attempt and 4 attempts. It never follows a
// redirect: the answer goes to the allowed ResponseURL or nowhere.
func NewHTTPResponder() *HTTPResponder {
	return &HTTPResponder{Client: &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}, Attempts: 4, Backoff: 500 * time.Millisecond}
}

// Respond delivers body. A 4xx answer is final (ErrResponseRejected); other failures are retried, then returned.
func (h *HTTPResponder) Respond(ctx context.Context, responseURL string, body []byte) error {
	wait := h.Backoff
	var last error
	for attempt := 1; attempt <= h.Attempts; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, responseURL, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("%w: %v", ErrResponseRejected, err)
		}
		// The presigned URL is signed without a content type: sending one would break the signature.
		req.Header.Set("Content-Type", "")
		req.ContentLength = int64(len(body))
		resp, err := h.Client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			switch {
			case resp.StatusCode < 300:
				return nil
			case resp.StatusCode < 400:
				return fmt.Errorf("%w: %s (redirects are not followed)", ErrResponseRejected, resp.Status)
			case resp.StatusCode < 500:
				return fmt.Errorf("%w: %s", ErrResponseRejected, resp.Status)
			}
			err = fmt.Errorf("ResponseURL answered %s", resp.Status)
		}
		last = err
		if attempt == h.Attempts {
			break
		}
		select {
		case <-ctx.Done():
			return errors.Join(last, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
	return last
}
