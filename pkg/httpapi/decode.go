package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/cursor"
	"github.com/gangplank/gangplank/pkg/validation"
)

// Everything a request carries is read here, once, by the same rules for every endpoint: the body (decodeJSON),
// the query string (queryParams, applied by the router to every route), the path ids (accountParam,
// activationParam) and the headers with a syntax (ifMatch, idempotencyKey). What cannot be read is a 400
// malformed-request (or 404 for a path id that cannot name anything); what is read but not valid is the domain's
// 422 validation-failed.

// MaxBodyBytes is the largest request body the API reads (64 KiB); larger bodies get 413.
const MaxBodyBytes = 64 << 10

// maxBodyDepth bounds how deeply a body may nest; the deepest request is three levels (settings.recommendations.terms).
const maxBodyDepth = 8

// decodeJSON reads a JSON object from the request body into dst, strictly: the content type must be JSON, the body
// at most MaxBodyBytes, every field known and of the right type, and nothing may follow the object.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any, mediaTypes ...string) error {
	if err := checkContentType(r.Header.Get("Content-Type"), mediaTypes); err != nil {
		return err
	}
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	return decodeStrict(body, dst)
}

// decodeStrict decodes one JSON object from body into dst. It is separate from decodeJSON so the fuzz target can
// exercise it without HTTP plumbing. Before encoding/json sees the body, it checks what encoding/json lets pass:
// invalid UTF-8 and lone surrogate escapes (which it silently turns into U+FFFD), a body that is not an object (it
// reads null as "leave everything as it is"), members given twice (it keeps the last), null members (it keeps the
// zero value, so null would mean "absent" where the API documents no null), and member names in another case (it
// matches them case-insensitively).
func decodeStrict(body io.Reader, dst any) error {
	raw, err := io.ReadAll(body)
	if err != nil {
		return describeDecodeError(err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return badRequest("the body is empty; send a JSON object")
	}
	if i := invalidUTF8(raw); i >= 0 {
		return badRequest(fmt.Sprintf("the body is not valid UTF-8 (at byte %d); send JSON in UTF-8", i))
	}
	if i := loneSurrogate(raw); i >= 0 {
		return badRequest(fmt.Sprintf("the body is not valid UTF-8: the escape at byte %d is half of a UTF-16 surrogate pair", i))
	}
	if err := checkShape(raw, reflect.TypeOf(dst)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return describeDecodeError(err)
	}
	return nil
}

// invalidUTF8 returns the offset of the first byte that is not part of valid UTF-8, or -1.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// loneSurrogate returns the offset of a \u escape of half a surrogate pair inside a JSON string, or -1.
// encoding/json replaces such an escape with U+FFFD instead of refusing it. (In a text that is not JSON at all it may
// misplace strings; checkShape refuses such a text anyway.)
func loneSurrogate(b []byte) int {
	inString := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case !inString:
			inString = c == '"'
		case c == '"':
			inString = false
		case c == '\\' && i+1 < len(b) && b[i+1] == 'u':
			r := hex4(b, i+2)
			switch {
			case r >= 0xD800 && r <= 0xDBFF:
				if i+11 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
					if lo := hex4(b, i+8); lo >= 0xDC00 && lo <= 0xDFFF {
						i += 11
						continue
					}
				}
				return i
			case r >= 0xDC00 && r <= 0xDFFF:
				return i
			}
			i += 5
		case c == '\\':
			i++ // an escaped quote or backslash does not end the string
		}
	}
	return -1
}

func hex4(b []byte, at int) rune {
	if at+4 > len(b) {
		return -1
	}
	n, err := strconv.ParseUint(string(b[at:at+4]), 16, 32)
	if err != nil {
		return -1
	}
	return rune(n)
}

// checkShape walks the body's tokens: one object, nothing after it, no member twice, no null, member names spelled
// as the API spells them (t is the type the body decodes into, to know them), and nesting within maxBodyDepth.
// Problems are reported under the member's dotted path; items of a list under the list's.
func checkShape(raw []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return describeDecodeError(err)
	}
	if tok != json.Delim('{') {
		return badRequest("the body must be a JSON object, not " + describeToken(tok))
	}
	if err := walkObject(dec, "", t, 1); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("the body must hold a single JSON object and nothing after it")
	}
	return nil
}

func walkObject(dec *json.Decoder, path string, t reflect.Type, depth int) error {
	fields := jsonFields(t)
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return describeDecodeError(err)
		}
		key, _ := tok.(string)
		name := join(path, key)
		if seen[key] {
			return badRequest("a member appears twice in the body", validation.FieldError{Field: name,
				Message: "is given twice; give each member once"})
		}
		seen[key] = true
		var ft reflect.Type
		if fields != nil {
			var known bool
			if ft, known = fields[key]; !known {
				return unknownMember(name, key, fields)
			}
		}
		if err := walkValue(dec, name, ft, depth); err != nil {
			return err
		}
	}
	_, err := dec.Token() // the closing brace
	if err != nil {
		return describeDecodeError(err)
	}
	return nil
}

func walkValue(dec *json.Decoder, path string, t reflect.Type, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return describeDecodeError(err)
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch tok {
	case nil:
		return badRequest("a member is null", validation.FieldError{Field: path,
			Message: "must not be null: give a value, or leave the member out to keep (or default) it"})
	case json.Delim('{'), json.Delim('['):
		if depth >= maxBodyDepth {
			return badRequest(fmt.Sprintf("the body nests deeper than %d levels", maxBodyDepth))
		}
	}
	switch tok {
	case json.Delim('{'):
		if t != nil && t.Kind() == reflect.Map && t.Elem().Kind() == reflect.Pointer {
			return walkNullableMap(dec, path, t, depth+1)
		}
		if t != nil && t.Kind() != reflect.Struct {
			t = nil // the wrong type: encoding/json reports it with the member's name
		}
		if t == nil {
			t = anyObject
		}
		return walkObject(dec, path, t, depth+1)
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for dec.More() {
			if err := walkValue(dec, path, elem, depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return describeDecodeError(err)
		}
	}
	return nil
}

// walkNullableMap walks an object decoded into a map of pointers: a map the API documents null as a value of
// (a merge patch's "remove this key", as in PATCH /v1/resources/{resourceArn}'s tags). Members may have any name;
// each is given once; a value other than null is walked as the map's element.
func walkNullableMap(dec *json.Decoder, path string, t reflect.Type, depth int) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return describeDecodeError(err)
		}
		key, _ := tok.(string)
		name := join(path, key)
		if seen[key] {
			return badRequest("a member appears twice in the body", validation.FieldError{Field: name,
				Message: "is given twice; give each member once"})
		}
		seen[key] = true
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return describeDecodeError(err)
		}
		if string(value) == "null" {
			continue
		}
		inner := json.NewDecoder(bytes.NewReader(value))
		inner.UseNumber()
		if err := walkValue(inner, name, t.Elem(), depth); err != nil {
			return err
		}
	}
	_, err := dec.Token() // the closing brace
	if err != nil {
		return describeDecodeError(err)
	}
	return nil
}

// anyObject stands for an object whose members are not known (a value of the wrong type, reported later by
// encoding/json): its members are walked for nulls and repeats, not for names.
var anyObject = reflect.TypeFor[map[string]any]()

// jsonFields maps the member names of a struct type to their types; nil when t is not a struct (any name goes).
func jsonFields(t reflect.Type) map[string]reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || (!f.IsExported() && !f.Anonymous):
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			maps.Copy(out, jsonFields(f.Type)) // promoted, as encoding/json promotes them
		case name == "":
			out[f.Name] = f.Type
		default:
			out[name] = f.Type
		}
	}
	return out
}

func unknownMember(path, key string, fields map[string]reflect.Type) error {
	for name := range fields {
		if strings.EqualFold(name, key) {
			return badRequest("the body has a member this API does not know", validation.FieldError{Field: path,
				Message: fmt.Sprintf("is not a known member; member names are case-sensitive: did you mean %q?", name)})
		}
	}
	return badRequest("the body has a member this API does not know", validation.FieldError{Field: path,
		Message: "is not a known member; check its spelling against the API reference"})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return strconv.FormatBool(v)
	}
	return "another value"
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
		return badRequest("the body has a member this API does not know", validation.FieldError{
			Field: name, Message: "is not a known member; check its spelling against the API reference"})
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
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
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

// maxCursor bounds a cursor: the longest one the API issues is a few hundred characters.
const maxCursor = 2048

// queryParams reads the query string: only allowed parameters, each at most once, each name and value well
// percent-encoded, valid UTF-8 and free of control characters, "&" the only separator. A typo such as
// ?stauts=active is reported instead of silently listing everything; so is what net/url would silently drop
// (a bad escape, a semicolon).
func queryParams(r *http.Request, allowed ...string) (map[string]string, error) {
	out := map[string]string{}
	seen := map[string]bool{}
	var fields []validation.FieldError
	bad := func(name, format string, args ...any) {
		fields = append(fields, validation.FieldError{Field: strings.ToValidUTF8(name, "\uFFFD"), Message: fmt.Sprintf(format, args...)})
	}
	for pair := range strings.SplitSeq(r.URL.RawQuery, "&") {
		if pair == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			bad(rawName, "is not a well percent-encoded parameter name")
			continue
		}
		value, err := url.QueryUnescape(rawValue)
		switch {
		case strings.Contains(pair, ";"):
			bad(name, "holds a semicolon: separate parameters with &, and encode a semicolon in a value as %%3B")
		case err != nil:
			bad(name, "is not well percent-encoded")
		case !utf8.ValidString(name) || !utf8.ValidString(value):
			bad(name, "is not valid UTF-8")
		case strings.ContainsFunc(name+value, unicode.IsControl):
			bad(name, "holds a control character")
		case !slices.Contains(allowed, name):
			known := "none"
			if len(allowed) > 0 {
				known = strings.Join(allowed, ", ")
			}
			bad(name, "is not a known query parameter here (known: %s)", known)
		case seen[name]:
			bad(name, "must be given at most once")
		default:
			out[name] = value
		}
		seen[name] = true
	}
	if c, ok := out["cursor"]; ok && len(c) > maxCursor {
		return nil, fmt.Errorf("%w: a cursor has at most %d characters", cursor.ErrInvalid, maxCursor)
	}
	if len(fields) > 0 {
		slices.SortStableFunc(fields, func(a, b validation.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return nil, badRequest("the query string has parameters this endpoint cannot read", fields...)
	}
	return out, nil
}

type queryKey struct{}

// query returns the request's query parameters, as the router checked them for the route (queryParams).
func query(r *http.Request) map[string]string {
	params, _ := r.Context().Value(queryKey{}).(map[string]string)
	return params
}

func withQuery(r *http.Request, params map[string]string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), queryKey{}, params))
}

// parseLimit reads the limit parameter: absent means def, otherwise decimal digits making an integer in [1, max].
func parseLimit(params map[string]string, def, max int) (int, error) {
	raw, ok := params["limit"]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || strings.Trim(raw, "0123456789") != "" || n < 1 || n > max {
		return 0, badRequest("limit is out of range", validation.FieldError{Field: "limit",
			Message: fmt.Sprintf("must be a whole number between 1 and %d, in digits", max)})
	}
	return n, nil
}

// maxIfMatch bounds the If-Match header: a handful of entity tags of a few digits each.
const maxIfMatch = 256

var errIfMatch = badRequest(`If-Match is not "*" nor a list of entity tags`, validation.FieldError{Field: "If-Match",
	Message: `must be "*" or entity tags as the ETag header gives them, quotes included, such as "3"`})

// ifMatch parses If-Match (RFC 9110: "*" or a comma-separated list of entity tags) into its strong tags, quoted
// as ETag headers are. Weak tags never match, as RFC 9110 requires strong comparison for If-Match, so they are
// dropped; a header of weak tags only is a precondition that can never hold. A header that is not an If-Match is a
// 400: read as a tag it would answer 412 and send the client to fetch again for nothing.
func ifMatch(r *http.Request) ([]string, error) {
	values := r.Header.Values("If-Match")
	h := strings.Join(values, ",")
	if len(h) > maxIfMatch {
		return nil, errIfMatch
	}
	if strings.TrimSpace(h) == "*" {
		return []string{"*"}, nil
	}
	var tags []string
	weak := false
	for part := range strings.SplitSeq(h, ",") {
		part = strings.Trim(part, " \t")
		if part == "" {
			continue
		}
		w := strings.HasPrefix(part, "W/")
		tag := strings.TrimPrefix(part, "W/")
		if len(tag) < 2 || tag[0] != '"' || tag[len(tag)-1] != '"' || !etagChars(tag[1:len(tag)-1]) {
			return nil, errIfMatch
		}
		if w {
			weak = true
			continue
		}
		tags = append(tags, tag)
	}
	if len(tags) == 0 && weak {
		return []string{`"never"`}, nil
	}
	return tags, nil
}

// etagChars reports whether s holds only etagc characters (RFC 9110: visible ASCII but the double quote).
func etagChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c == '"' || c > 0x7e {
			return false
		}
	}
	return true
}

// MaxIdempotencyKey is the longest Idempotency-Key.
const MaxIdempotencyKey = 255

// idempotencyKey reads the Idempotency-Key header: absent, or 1 to 255 characters of visible ASCII (a UUID fits;
// so does any client's own key format) given once.
func idempotencyKey(r *http.Request) (string, error) {
	values := r.Header.Values("Idempotency-Key")
	if len(values) == 0 {
		return "", nil
	}
	k := values[0]
	if len(values) > 1 || len(k) > MaxIdempotencyKey || k == "" || !visibleASCII(k) {
		return "", badRequest("the Idempotency-Key header is not a key", validation.FieldError{Field: "Idempotency-Key",
			Message: fmt.Sprintf("must be given once, as 1 to %d characters of visible ASCII (a UUID, for example)", MaxIdempotencyKey)})
	}
	return k, nil
}

func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// accountParam is the {accountId} of the path. A malformed id is an account that does not exist: 404, as for any
// id not in the caller's tenant, and no DynamoDB request is made for it.
func accountParam(r *http.Request) (string, error) {
	id := r.PathValue("accountId")
	if _, err := awsid.ParseAccountID(id); err != nil {
		return "", accounts.ErrNotFound
	}
	return id, nil
}

// activationIDPattern is the form of activation.ID; TestActivationIDsPassThePathCheck keeps the two together.
var activationIDPattern = regexp.MustCompile(`^act-[0-9a-f]{24}$`)

// activationParam is the {activationId} of the path. A malformed id is an activation that does not exist: 404
// without a DynamoDB request (an over-long key would be a DynamoDB ValidationException, a 500).
func activationParam(r *http.Request) (string, error) {
	id := r.PathValue("activationId")
	if !activationIDPattern.MatchString(id) {
		return "", activation.ErrNotFound
	}
	return id, nil
}
