package provider

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

// fieldPaths maps the API's field names to a resource's attribute paths. A field that maps nowhere stays in the
// summary diagnostic with its API name, so no message of the API is ever lost.
type fieldPaths map[string]path.Path

// indexed is "owners[1]": a list element of an API field.
var indexed = regexp.MustCompile(`^(.+)\[(\d+)\]$`)

// attribute finds the attribute path of an API field, trying the field as named, then without a prefix such as
// "integration." or "settings.", then its list element's parent.
func (m fieldPaths) attribute(field string) (path.Path, bool) {
	candidates := []string{field}
	if i := strings.IndexByte(field, '.'); i >= 0 {
		candidates = append(candidates, field[i+1:])
	}
	for _, f := range candidates {
		if p, ok := m[f]; ok {
			return p, true
		}
		if g := indexed.FindStringSubmatch(f); g != nil {
			if p, ok := m[g[1]]; ok {
				// Sets have no element index in Terraform: the message goes on the whole attribute, and names the
				// element by its value.
				return p, true
			}
		}
	}
	return path.Empty(), false
}

// addAPIError turns an API error into diagnostics: one per field error, on its attribute where it maps to one,
// and a summary that says what was being done and what the API answered. 401 and 403 say what to fix in the
// provider's configuration or the token's role.
func addAPIError(diags *diag.Diagnostics, action string, err error, fields fieldPaths) {
	var e *APIError
	if !errors.As(err, &e) {
		diags.AddError("Gangplank: could not "+action, err.Error())
		return
	}
	ref := ""
	if e.RequestID != "" {
		ref = "\n\nGangplank request id: " + e.RequestID
	}
	switch e.Status {
	case http.StatusUnauthorized:
		diags.AddError("Gangplank rejected the token (401 Unauthorized)",
			fmt.Sprintf("Could not %s: %s\n\nSet a valid token in the provider's token argument or in GANGPLANK_TOKEN.%s", action, e.Detail, ref))
		return
	case http.StatusForbidden:
		diags.AddError("Gangplank refused the request (403 Forbidden)",
			fmt.Sprintf("Could not %s: %s\n\nThe token's role must be admin to change anything; viewer tokens can only read.%s", action, e.Detail, ref))
		return
	}
	var unmapped []string
	for _, f := range e.Errors {
		if p, ok := fields.attribute(f.Field); ok {
			// The attribute's diagnostic carries the API's message for it, with what was being done.
			diags.AddAttributeError(p, fmt.Sprintf("Gangplank: invalid %s (%s)", f.Field, e.Kind()),
				fmt.Sprintf("Could not %s: %s%s", action, f.Message, ref))
			continue
		}
		unmapped = append(unmapped, f.Field+": "+f.Message)
	}
	if len(e.Errors) > 0 && len(unmapped) == 0 {
		return
	}
	detail := fmt.Sprintf("Could not %s: %s %s (%d).", action, e.Title, e.Kind(), e.Status)
	if e.Detail != "" {
		detail += "\n\n" + e.Detail
	}
	if len(unmapped) > 0 {
		detail += "\n\n" + strings.Join(unmapped, "\n")
	}
	diags.AddError("Gangplank: "+e.Title, detail+ref)
}
