package httpapi

import (
	"bytes"
	"testing"
)

// TestTagPatchNulls: in a tag edit, null is a value (remove the key, as a merge patch says), and only there: the
// tags member itself may not be null, a key may not be given twice, and a value must be a string.
func TestTagPatchNulls(t *testing.T) {
	for _, tc := range []struct {
		body  string
		ok    bool
		field string
	}{
		{`{"tags":{"gone":null,"owner":"alice"}}`, true, ""},
		{`{"tags":null}`, false, "tags"},
		{`{"tags":{"a":"x","a":null}}`, false, "tags.a"},
		{`{"tags":{"a":1}}`, false, "tags"},
		{`{"tags":{"a":["x"]}}`, false, "tags"},
		{`{"tags":{"a":"x"},"other":1}`, false, "other"},
	} {
		var req PatchTagsRequest
		err := decodeStrict(bytes.NewReader([]byte(tc.body)), &req)
		if tc.ok {
			if err != nil {
				t.Errorf("%s: %v", tc.body, err)
			} else if v, has := req.Tags["gone"]; !has || v != nil || *req.Tags["owner"] != "alice" {
				t.Errorf("%s decoded as %v", tc.body, req.Tags)
			}
			continue
		}
		p := problemFor(err)
		named := false
		for _, e := range p.Errors {
			named = named || e.Field == tc.field
		}
		if p.Status != 400 || !named {
			t.Errorf("%s: %+v, want a 400 naming %s", tc.body, p, tc.field)
		}
	}
}
