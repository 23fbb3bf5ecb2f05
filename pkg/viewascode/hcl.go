package viewascode

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// hclFile is a Terraform configuration written statement by statement, one per line and without indentation, then
// laid out as `terraform fmt` lays it out (String): hashicorp/hcl's writer would do the same, but linking it costs
// the API about 3 ms at every cold start (its go-cmp and go-cty dependencies compile regular expressions and build
// type tables at package init), for the two routes that render Terraform.
type hclFile struct{ lines []string }

func (h *hclFile) blank()              { h.lines = append(h.lines, "") }
func (h *hclFile) comment(text string) { h.lines = append(h.lines, "# "+text) }
func (h *hclFile) close()              { h.lines = append(h.lines, "}") }
func (h *hclFile) attr(name, ex string) {
	h.lines = append(h.lines, strings.Split(name+" = "+ex, "\n")...)
}

// open starts a block: typ "label" ... {
func (h *hclFile) open(typ string, labels ...string) {
	line := typ
	for _, l := range labels {
		line += " " + quoted(l)
	}
	h.lines = append(h.lines, line+" {")
}

// emptyBlock is a block with nothing in it (hashicorp/hcl writes its braces on two lines).
func (h *hclFile) emptyBlock(typ string, labels ...string) {
	h.open(typ, labels...)
	h.close()
}

// String lays the configuration out: each line indented two spaces per bracket level it is in (brackets opened on
// one line count as one level), and the = of consecutive one-line attributes aligned.
func (h *hclFile) String() string {
	type line struct {
		text   string
		indent int
		assign int // byte offset of a one-line attribute's " = ", or -1
	}
	lines := make([]line, len(h.lines))
	var levels []int // brackets opened by each indented level
	for i, text := range h.lines {
		net, assign := scan(text)
		l := line{text: text, assign: assign}
		switch {
		case text == "":
		case net > 0:
			l.indent = len(levels)
			levels = append(levels, net)
		case net < 0:
			for closed := -net; closed > 0 && len(levels) > 0; {
				top := &levels[len(levels)-1]
				if closed < *top {
					*top -= closed
					break
				}
				closed -= *top
				levels = levels[:len(levels)-1]
			}
			l.indent = len(levels)
		default:
			l.indent = len(levels)
		}
		lines[i] = l
	}
	width := func(l line) int { return 2*l.indent + utf8.RuneCountInString(l.text[:l.assign]) }
	var b strings.Builder
	for start := 0; start < len(lines); {
		end, widest := start+1, 0
		if lines[start].assign >= 0 {
			for end = start; end < len(lines) && lines[end].assign >= 0; end++ {
				widest = max(widest, width(lines[end]))
			}
		}
		for _, l := range lines[start:end] {
			if l.text == "" {
				b.WriteByte('\n')
				continue
			}
			b.WriteString(strings.Repeat(" ", 2*l.indent))
			if l.assign < 0 {
				b.WriteString(l.text)
			} else {
				b.WriteString(l.text[:l.assign])
				b.WriteString(strings.Repeat(" ", widest-width(l)+1))
				b.WriteString(l.text[l.assign+1:])
			}
			b.WriteByte('\n')
		}
		start = end
	}
	return b.String()
}

// scan returns a line's net count of brackets opened, outside string literals, and the offset of its " = " when the
// line is a whole attribute on one line (its brackets balance after the =), else -1.
func scan(text string) (net, assign int) {
	assign = -1
	if strings.HasPrefix(text, "#") {
		return 0, -1 // a comment is one token: its brackets are text
	}
	equals := -1
	inString := false
	afterEquals := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[' || c == '(':
			net++
			afterEquals++
		case c == '}' || c == ']' || c == ')':
			net--
			afterEquals--
		case c == '=' && equals < 0 && i > 0 && text[i-1] == ' ':
			equals, afterEquals = i-1, 0
		}
	}
	if equals > 0 && afterEquals == 0 {
		assign = equals
	}
	return net, assign
}

// quoted is s as an HCL string literal: escaped as hashicorp/hcl escapes it, template introducers (${, %{) doubled.
func quoted(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i, r := range s {
		switch r {
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		case '"':
			b = append(b, `\"`...)
		case '\\':
			b = append(b, `\\`...)
		case '$', '%':
			b = utf8.AppendRune(b, r)
			if strings.HasPrefix(s[i+1:], "{") {
				b = utf8.AppendRune(b, r)
			}
		default:
			switch {
			case unicode.IsPrint(r):
				b = utf8.AppendRune(b, r)
			case r < 0x10000:
				b = fmt.Appendf(b, `\u%04x`, r)
			default:
				b = fmt.Appendf(b, `\U%08x`, r)
			}
		}
	}
	return string(append(b, '"'))
}

// list is ["a", "b"].
func list(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = quoted(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// object is { key = value } over several lines, keys in byte order (as cty orders an object's attributes).
func object(attrs map[string]string) string {
	if len(attrs) == 0 {
		return "{}"
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("{\n")
	for _, k := range keys {
		key := k
		if !identifier(k) {
			key = quoted(k)
		}
		b.WriteString(key + " = " + attrs[k] + "\n")
	}
	b.WriteString("}")
	return b.String()
}

// jsonencode is jsonencode(<v as an HCL value>), with each string equal to a key of refs written as that reference.
func jsonencode(v any, refs map[string]string) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return "", err
	}
	used := map[string]bool{}
	out, err := value(doc, refs, used)
	if err != nil {
		return "", err
	}
	for placeholder := range refs {
		if !used[placeholder] {
			return "", fmt.Errorf("placeholder %q not found in the rendered value", placeholder)
		}
	}
	return "jsonencode(" + out + ")", nil
}

func value(v any, refs map[string]string, used map[string]bool) (string, error) {
	switch v := v.(type) {
	case nil:
		return "null", nil
	case bool:
		return strconv.FormatBool(v), nil
	case json.Number:
		f, err := strconv.ParseFloat(v.String(), 64)
		if err != nil {
			return "", err
		}
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	case string:
		if ref, ok := refs[v]; ok {
			used[v] = true
			return ref, nil
		}
		return quoted(v), nil
	case []any:
		items := make([]string, len(v))
		for i, e := range v {
			s, err := value(e, refs, used)
			if err != nil {
				return "", err
			}
			items[i] = s
		}
		return "[" + strings.Join(items, ", ") + "]", nil
	case map[string]any:
		attrs := make(map[string]string, len(v))
		for k, e := range v {
			s, err := value(e, refs, used)
			if err != nil {
				return "", err
			}
			attrs[k] = s
		}
		return object(attrs), nil
	default:
		return "", fmt.Errorf("no HCL value for %T", v)
	}
}

// identifier reports whether an object key can be written bare: an HCL identifier (a letter or _, then letters,
// digits, _ and -).
func identifier(s string) bool {
	for i, r := range s {
		if !(unicode.IsLetter(r) || r == '_' || (i > 0 && (unicode.IsDigit(r) || r == '-'))) {
			return false
		}
	}
	return s != ""
}
