package localaws

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Call is one AWS API request arriving at the edge, classified so that interceptors can match on it cheaply.
type Call struct {
	// Service is the SigV4 signing name: "sts", "dynamodb", "ce", "cloudformation", "organizations"...
	Service string
	// Action is the operation: the X-Amz-Target suffix for JSON protocols, the Action form value for query ones.
	Action string
	// AccessKeyID identifies the caller (see resolvePrincipal for whom it stands).
	AccessKeyID string
	// Region is the region of the request's signature (us-east-1 if unsigned).
	Region string
	// Body is the whole request body (the request's own Body has been read).
	Body    []byte
	Request *http.Request

	form url.Values

	// The principal, once resolved (resolvePrincipal).
	resolved, principalOK bool
	principal             principal
}

// accountHeaderName is moto's header naming the account a request acts in. The tests and the local console set it
// to act as an account's root; the edge sets it on every call to the account its principal belongs to.
const accountHeaderName = "x-moto-account-id"

// Interceptor may answer a call in moto's place.
type Interceptor interface {
	// Intercept writes the answer and returns true, or returns false (writing nothing) to pass the call on.
	Intercept(w http.ResponseWriter, c *Call) bool
}

// InterceptorFunc adapts a function to Interceptor.
type InterceptorFunc func(w http.ResponseWriter, c *Call) bool

// Intercept calls f.
func (f InterceptorFunc) Intercept(w http.ResponseWriter, c *Call) bool { return f(w, c) }

// maxCallBody bounds what the edge buffers per call; AWS's own API limits are far lower.
const maxCallBody = 32 << 20

// ParseCall reads and classifies a request.
func ParseCall(r *http.Request) (*Call, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCallBody))
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	c := &Call{Body: body, Request: r}
	c.Service, c.AccessKeyID, c.Region = parseAuthorization(r.Header.Get("Authorization"))
	if c.AccessKeyID == "" { // a presigned URL carries its credential in the query
		c.Service, c.AccessKeyID, c.Region = parseCredential(r.URL.Query().Get("X-Amz-Credential"))
	}
	if c.AccessKeyID == "" { // S3's legacy signature (SigV2): "AWS AKID:signature", or a presigned ?AWSAccessKeyId=
		if v2, ok := strings.CutPrefix(r.Header.Get("Authorization"), "AWS "); ok {
			key, _, _ := strings.Cut(v2, ":")
			c.Service, c.AccessKeyID = "s3", strings.TrimSpace(key)
		} else if key := r.URL.Query().Get("AWSAccessKeyId"); key != "" {
			c.Service, c.AccessKeyID = "s3", key
		}
	}
	if c.Region == "" {
		c.Region = Region
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		if i := strings.LastIndexByte(target, '.'); i >= 0 {
			c.Action = target[i+1:]
		} else {
			c.Action = target
		}
	} else if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		c.form, _ = url.ParseQuery(string(body))
		c.Action = c.form.Get("Action")
	} else if q := r.URL.Query(); q.Get("Action") != "" && c.Service != "s3" { // a query-protocol GET
		c.form, c.Action = q, q.Get("Action")
	}
	return c, nil
}

// Form returns a query-protocol parameter (STS, IAM, CloudFormation, SNS).
func (c *Call) Form(name string) string { return c.form.Get(name) }

// DecodeJSON decodes a JSON-protocol body.
func (c *Call) DecodeJSON(v any) error { return json.Unmarshal(c.Body, v) }

// Is reports whether the call is service's action.
func (c *Call) Is(service, action string) bool { return c.Service == service && c.Action == action }

// parseAuthorization extracts the signing service, access key and region from a SigV4 Authorization header:
// "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sts/aws4_request, SignedHeaders=..., Signature=...".
func parseAuthorization(h string) (service, accessKey, region string) {
	i := strings.Index(h, "Credential=")
	if i < 0 {
		return "", "", ""
	}
	cred := h[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	return parseCredential(cred)
}

// parseCredential reads a SigV4 credential scope: AKID/20260101/us-east-1/sts/aws4_request.
func parseCredential(cred string) (service, accessKey, region string) {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return "", "", ""
	}
	return parts[3], parts[0], parts[2]
}

// WriteJSONError answers a JSON-protocol call with a modeled AWS error that the Go SDK turns into a typed error.
func WriteJSONError(w http.ResponseWriter, status int, code, message string) {
	writeJSONError(w, "application/x-amz-json-1.1", status, code, message)
}

func writeJSONError(w http.ResponseWriter, contentType string, status int, code, message string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": message, "Message": message})
}

// WriteQueryError answers a query-protocol call (STS, IAM, CloudFormation) with an AWS XML error.
func WriteQueryError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	var b strings.Builder
	b.WriteString(`<ErrorResponse><Error><Type>Sender</Type><Code>`)
	xmlEscape(&b, code)
	b.WriteString(`</Code><Message>`)
	xmlEscape(&b, message)
	b.WriteString(`</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>`)
	_, _ = io.WriteString(w, b.String())
}

func xmlEscape(b *strings.Builder, s string) {
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
}

// roundTripMoto sends the call to moto as it stands (headers included) and reads the whole answer.
func (e *Env) roundTripMoto(c *Call) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(c.Request.Context(), c.Request.Method, e.MotoEndpoint+c.Request.URL.RequestURI(), bytes.NewReader(c.Body))
	if err != nil {
		return nil, nil, err
	}
	req.Header = c.Request.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// writeUpstream relays an answer read by roundTripMoto.
func writeUpstream(w http.ResponseWriter, resp *http.Response, body []byte) {
	for k, v := range resp.Header {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}
