package inventory

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gangplank/gangplank/pkg/validation"
)

// AWS's tag rules, which every tag a tenant sets must follow: Gangplank may write it back to AWS.
const (
	MaxTagKeyLength    = 128
	MaxTagValueLength  = 256
	MaxTagsPerResource = 50
	reservedPrefix     = "aws:"
)

// validTagRune is AWS's character set for tag keys and values: letters, numbers and spaces in any script, and
// _ . : / = + - @.
func validTagRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Zs, r) || strings.ContainsRune("_.:/=+-@", r)
}

func checkChars(s string) (rune, bool) {
	for _, r := range s {
		if !validTagRune(r) {
			return r, false
		}
	}
	return 0, true
}

// TagPatch is a tenant's change to a resource's tags: a value sets a key, nil removes it.
type TagPatch map[string]*string

// validate applies the tag rules to each key and value of the patch, and to the tag count after it; every
// violation names its field (tags.<key>).
func (p TagPatch) validate(after Tags) error {
	var c validation.Collector
	if len(p) == 0 {
		c.Add("tags", "name at least one tag to set (\"key\": \"value\") or remove (\"key\": null)")
	}
	for _, k := range sortedKeys(p) {
		field := "tags." + k
		n := utf8.RuneCountInString(k)
		switch {
		case !utf8.ValidString(k):
			c.Add(field, "the key must be valid UTF-8")
		case n == 0:
			c.Add("tags", "a tag key must not be empty")
		case n > MaxTagKeyLength:
			c.Add(field, "a tag key is at most %d characters (this one has %d)", MaxTagKeyLength, n)
		case strings.HasPrefix(strings.ToLower(k), reservedPrefix):
			c.Add(field, "keys starting with aws: are reserved for AWS and cannot be set or removed")
		default:
			if r, ok := checkChars(k); !ok {
				c.Add(field, "%q is not allowed in a tag key: use letters, numbers, spaces and _ . : / = + - @", r)
			}
		}
		v := p[k]
		if v == nil || n == 0 {
			continue
		}
		vn := utf8.RuneCountInString(*v)
		switch {
		case !utf8.ValidString(*v):
			c.Add(field, "the value must be valid UTF-8")
		case vn > MaxTagValueLength:
			c.Add(field, "a tag value is at most %d characters (this one has %d)", MaxTagValueLength, vn)
		default:
			if r, ok := checkChars(*v); !ok {
				c.Add(field, "%q is not allowed in a tag value: use letters, numbers, spaces and _ . : / = + - @", r)
			}
		}
	}
	if err := c.Err(); err != nil {
		return err
	}
	if user := countUserTags(after); user > MaxTagsPerResource {
		return validation.Field("tags", "a resource has at most %d tags (not counting AWS's aws: tags); this change makes %d", MaxTagsPerResource, user)
	}
	return nil
}

// countUserTags counts tags that count toward AWS's limit (aws: tags do not).
func countUserTags(t Tags) int {
	n := 0
	for k := range t {
		if !strings.HasPrefix(strings.ToLower(k), reservedPrefix) {
			n++
		}
	}
	return n
}

// ParseTagFilter reads a listing's tag filter: "key:value", or "key" for any value. The first colon separates key
// and value; a key that itself holds colons (aws:cloudformation:stack-name) is written in double quotes:
// "aws:cloudformation:stack-name":my-stack.
func ParseTagFilter(s string) (TagFilter, error) {
	if s == "" {
		return TagFilter{}, nil
	}
	var key, value string
	var hasValue bool
	if rest, ok := strings.CutPrefix(s, `"`); ok {
		end := strings.IndexByte(rest, '"')
		if end < 0 {
			return TagFilter{}, fmt.Errorf("a quoted key needs its closing quote, such as \"aws:cloudformation:stack-name\":my-stack")
		}
		key, rest = rest[:end], rest[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return TagFilter{}, fmt.Errorf("after a quoted key comes :value or nothing")
			}
			value, hasValue = rest[1:], true
		}
	} else {
		key, value, hasValue = strings.Cut(s, ":")
	}
	if key == "" {
		return TagFilter{}, fmt.Errorf("use tag=key:value (or tag=key for any value), such as tag=env:prod")
	}
	return TagFilter{Key: key, Value: value, HasValue: hasValue}, nil
}

// TagFilter selects resources by one of their tags (as the tenant sees them, with its edits).
type TagFilter struct {
	Key      string
	Value    string
	HasValue bool
}

// Match reports whether tags pass the filter.
func (f TagFilter) Match(tags Tags) bool {
	if f.Key == "" {
		return true
	}
	v, ok := tags[f.Key]
	return ok && (!f.HasValue || v == f.Value)
}
