package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/validation"
)

// MaxBodyBytes is the largest request body the API reads (64 KiB); larger bodies get 413.
const MaxBodyBytes = 64 << 10

// decodeJSON reads a JSON object from the request body into dst, strictly: the content type must be JSON, the body
// at most MaxBodyBytes, every field known and of the right type, and nothing may follow the object.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any, mediaTypes ...string) error {
	if err := checkContentType(r.Header.Get("Content-Type"), mediaTypes); err != nil {
		return err
	}
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	return decodeStrict(body, dst)
}

// decodeStrict decodes one JSON value from body into dst. It is separate from decodeJSON so the fuzz target can
// exercise it without HTTP plumbing.
func decodeStrict(body io.Reader, dst any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return describeDecodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return describeDecodeError(err)
		}
		return badRequest("the body must hold a single JSON object and nothing after it")
	}
	return nil
}

func describeDecodeError(err error) error {
	var (
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		tooLarge  *http.MaxBytesError
		unknownFn = "json: unknown field "
	)
	switch {
	case errors.As(err, &tooLarge):
		return &statusError{p: problem(http.StatusRequestEntityTooLarge, "payload-too-large", "The body is too large",
			fmt.Sprintf("request bodies are limited to %d bytes", MaxBodyBytes))}
	case errors.Is(err, io.EOF):
		return badRequest("the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("the body ends in the middle of a JSON value")
	case errors.As(err, &syntax):
		return badRequest(fmt.Sprintf("the body is not valid JSON (at byte %d: %s)", syntax.Offset, syntax.Error()))
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return badRequest(fmt.Sprintf("the body must be a JSON object, not %s", typeErr.Value))
		}
		return badRequest("a field has the wrong type", validation.FieldError{
			Field: field, Message: fmt.Sprintf("must be %s, not %s", jsonType(typeErr.Type.Kind().String()), typeErr.Value)})
	case strings.HasPrefix(err.Error(), unknownFn):
		// encoding/json has no typed error for unknown fields; its message is stable and documented.
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), unknownFn))
		return badRequest("the body has a field this API does not know", validation.FieldError{
			Field: name, Message: "is not a known field; check its spelling against the API reference"})
	}
	return badRequest("the body could not be read as JSON: " + err.Error())
}

// jsonType names a Go kind the way a JSON client thinks of it.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "ptr":
		return "an object or value"
	}
	return "of another type"
}

// checkContentType accepts application/json (any charset that is UTF-8) and the extra media types a route lists.
func checkContentType(header string, extra []string) error {
	unsupported := &statusError{p: problem(http.StatusUnsupportedMediaType, "unsupported-media-type",
		"Unsupported content type", "send the body as application/json")}
	if header == "" {
		unsupported.p.Detail = "the Content-Type header is missing; send the body as application/json"
		return unsupported
	}
	mt, params, err := mime.ParseMediaType(header)
	if err != nil {
		return unsupported
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		unsupported.p.Detail = "send JSON bodies in UTF-8"
		return unsupported
	}
	if mt == "application/json" {
		return nil
	}
	if slices.Contains(extra, mt) {
		return nil
	}
	unsupported.p.Detail = fmt.Sprintf("%s is not accepted here; send the body as application/json", mt)
	return unsupported
}

// queryParams checks that the query string names only allowed parameters, each at most once, so a typo such as
// ?stauts=active is reported instead of silently listing everything.
func queryParams(r *http.Request, allowed ...string) (map[string]string, error) {
	values := r.URL.Query()
	out := map[string]string{}
	var fields []validation.FieldError
	for name, v := range values {
		switch {
		case !slices.Contains(allowed, name):
			fields = append(fields, validation.FieldError{Field: name,
				Message: fmt.Sprintf("is not a known query parameter (known: %s)", strings.Join(allowed, ", "))})
		case len(v) > 1:
			fields = append(fields, validation.FieldError{Field: name, Message: "must be given at most once"})
		default:
			out[name] = v[0]
		}
	}
	if len(fields) > 0 {
		slices.SortFunc(fields, func(a, b validation.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return nil, badRequest("the query string has parameters this endpoint does not accept", fields...)
	}
	return out, nil
}

// parseLimit reads the limit parameter: absent means def, otherwise an integer in [1, max].
func parseLimit(params map[string]string, def, max int) (int, error) {
	raw, ok := params["limit"]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > max {
		return 0, badRequest("limit is out of range", validation.FieldError{Field: "limit",
			Message: fmt.Sprintf("must be an integer between 1 and %d", max)})
	}
	return n, nil
}

// ifMatch splits an If-Match header into its entity tags ("*" included). Weak tags never match, as RFC 9110
// requires strong comparison for If-Match, so they are dropped.
func ifMatch(r *http.Request) []string {
	var tags []string
	for _, h := range r.Header.Values("If-Match") {
		for _, t := range strings.Split(h, ",") {
			t = strings.TrimSpace(t)
			if t != "" && !strings.HasPrefix(t, "W/") {
				tags = append(tags, t)
			}
		}
	}
	if len(tags) == 0 && r.Header.Get("If-Match") != "" {
		// Only weak tags were sent: a precondition that can never hold.
		return []string{`"never"`}
	}
	return tags
}

// accountParam is the {accountId} of the path. A malformed id is an account that does not exist: 404, as for any
// id not in the caller's tenant.
func accountParam(r *http.Request) (string, error) {
	id := r.PathValue("accountId")
	if _, err := awsid.ParseAccountID(id); err != nil {
		return "", accounts.ErrNotFound
	}
	return id, nil
}
