package localaws

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// policyDocument is an IAM policy, with the single-or-list fields normalised to lists.
type policyDocument struct {
	Statement []statement
}

type statement struct {
	Effect string
	// Principal and NotPrincipal hold AWS principals ("*" for everyone); only trust policies have them.
	Principal, NotPrincipal []string
	// Action and NotAction are lower-cased: IAM matches actions case-insensitively.
	Action, NotAction     []string
	Resource, NotResource []string
	// Condition is operator → lower-cased key → values.
	Condition map[string]map[string][]string
}

func parsePolicy(raw string) (policyDocument, error) {
	if strings.HasPrefix(raw, "%7B") || strings.HasPrefix(raw, "%7b") {
		if u, err := url.QueryUnescape(raw); err == nil {
			raw = u
		}
	}
	var doc struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		return policyDocument{}, fmt.Errorf("the policy is not valid JSON: %w", err)
	}
	var rawStatements []map[string]json.RawMessage
	if err := json.Unmarshal(doc.Statement, &rawStatements); err != nil {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(doc.Statement, &one); err != nil {
			return policyDocument{}, fmt.Errorf("the policy's Statement is malformed: %w", err)
		}
		rawStatements = []map[string]json.RawMessage{one}
	}
	var out policyDocument
	for _, rs := range rawStatements {
		s := statement{Condition: map[string]map[string][]string{}}
		_ = json.Unmarshal(rs["Effect"], &s.Effect)
		s.Action, s.NotAction = lower(stringOrList(rs["Action"])), lower(stringOrList(rs["NotAction"]))
		s.Resource, s.NotResource = stringOrList(rs["Resource"]), stringOrList(rs["NotResource"])
		s.Principal, s.NotPrincipal = awsPrincipals(rs["Principal"]), awsPrincipals(rs["NotPrincipal"])
		var cond map[string]map[string]json.RawMessage
		_ = json.Unmarshal(rs["Condition"], &cond)
		for op, kv := range cond {
			s.Condition[op] = map[string][]string{}
			for k, v := range kv {
				s.Condition[op][strings.ToLower(k)] = stringOrList(v)
			}
		}
		out.Statement = append(out.Statement, s)
	}
	return out, nil
}

// awsPrincipals reads a Principal element: "*", or {"AWS": ...} (service and federated principals never sign
// requests at this edge, so they match nobody).
func awsPrincipals(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star == "*" {
			return []string{"*"}
		}
		return nil
	}
	var m map[string]json.RawMessage
	_ = json.Unmarshal(raw, &m)
	return stringOrList(m["AWS"])
}

func stringOrList(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var list []string
	_ = json.Unmarshal(raw, &list)
	return list
}

func lower(list []string) []string {
	for i, v := range list {
		list[i] = strings.ToLower(v)
	}
	return list
}

// decision is the outcome of evaluating policies, in IAM's order of precedence.
type decision int

const (
	implicitDeny decision = iota // no statement allows
	allowed
	explicitDeny
)

// authzRequest is what a policy is evaluated against.
type authzRequest struct {
	// Action is "service:Operation".
	Action string
	// Resource is the resource's ARN, "*" for actions without one, or "" when the edge cannot tell (then only a
	// statement for every resource allows, and any Deny for the action applies: unknown never widens access).
	Resource string
	// Principal is who asks; trust policies match it against their Principal.
	Principal principal
	Keys      conditionKeys
}

// evaluate applies IAM's rule to a set of policies: an explicit Deny wins, else some Allow must match. Trust
// policies (trust=true) match the principal; identity policies match the resource.
func evaluate(docs []policyDocument, req authzRequest, trust bool) decision {
	action := strings.ToLower(req.Action)
	result := implicitDeny
	for _, d := range docs {
		for _, s := range d.Statement {
			deny := s.Effect == "Deny"
			if !deny && s.Effect != "Allow" {
				continue
			}
			if len(s.Action) > 0 && !matchAny(s.Action, action) || len(s.NotAction) > 0 && matchAny(s.NotAction, action) {
				continue
			}
			if len(s.Action) == 0 && len(s.NotAction) == 0 {
				continue
			}
			if trust {
				if len(s.Principal) > 0 && !req.Principal.matchesAny(s.Principal) ||
					len(s.NotPrincipal) > 0 && req.Principal.matchesAny(s.NotPrincipal) ||
					len(s.Principal) == 0 && len(s.NotPrincipal) == 0 {
					continue
				}
			} else if !resourceApplies(s, req, deny) {
				continue
			}
			switch conditionsHold(s.Condition, req.Keys) {
			case condFalse:
				continue
			case condUnknown:
				if !deny { // an operator or key the edge cannot evaluate never grants; it may still deny
					continue
				}
			}
			if deny {
				return explicitDeny
			}
			result = allowed
		}
	}
	return result
}

// resourceApplies matches a statement's Resource or NotResource (with policy variables substituted) against the
// request's resource. ARNs match case-sensitively, as IAM matches them.
func resourceApplies(s statement, req authzRequest, deny bool) bool {
	patterns, negated := s.Resource, false
	if len(patterns) == 0 {
		patterns, negated = s.NotResource, true
	}
	if len(patterns) == 0 {
		return false
	}
	if req.Resource == "" { // unknown: only "every resource" allows; a Deny applies whatever it names
		if deny {
			return true
		}
		if negated {
			return false
		}
		for _, p := range patterns {
			if strings.Trim(p, "*") == "" {
				return true
			}
		}
		return false
	}
	matched := false
	for _, p := range patterns {
		if wildcardMatch(substituteVariables(p, req.Keys), req.Resource) {
			matched = true
			break
		}
	}
	return matched != negated
}

// conditionKeys looks up a request's condition key (lower-case) as IAM would see it: known is false for a key the
// edge does not model (the condition is then unknown); values is empty for a modelled key absent from the request.
type conditionKeys func(key string) (values []string, known bool)

type condResult int

const (
	condTrue condResult = iota
	condFalse
	condUnknown
)

// conditionsHold evaluates a statement's Condition block. Supported: the String*, Arn*, Bool and Null operators,
// with IfExists and the ForAnyValue:/ForAllValues: set qualifiers. Any other operator is unknown.
func conditionsHold(cond map[string]map[string][]string, keys conditionKeys) condResult {
	result := condTrue
	for op, kv := range cond {
		for key, wanted := range kv {
			actual, known := keys(key)
			if !known {
				result = condUnknown
				continue
			}
			switch conditionHolds(op, actual, wanted, keys) {
			case condFalse:
				return condFalse
			case condUnknown:
				result = condUnknown
			}
		}
	}
	return result
}

func conditionHolds(op string, actual, wanted []string, keys conditionKeys) condResult {
	qualifier := ""
	if q, rest, ok := strings.Cut(op, ":"); ok {
		qualifier, op = q, rest
	}
	ifExists := strings.HasSuffix(op, "IfExists")
	op = strings.TrimSuffix(op, "IfExists")
	if op == "Null" {
		if len(wanted) != 1 {
			return condUnknown
		}
		return boolResult((wanted[0] == "true") == (len(actual) == 0))
	}
	negated := strings.Contains(op, "Not")
	base := strings.Replace(op, "Not", "", 1)
	match, ok := comparators[base]
	if !ok {
		return condUnknown
	}
	if len(actual) == 0 {
		switch {
		case ifExists, qualifier == "ForAllValues":
			return condTrue
		case qualifier == "ForAnyValue":
			return condFalse
		}
		return boolResult(negated) // a negated operator matches a missing key, as in IAM
	}
	one := func(v string) bool {
		for _, w := range wanted {
			if match(substituteVariables(w, keys), v) {
				return true
			}
		}
		return false
	}
	all, any := true, false
	for _, v := range actual {
		m := one(v)
		all, any = all && m, any || m
	}
	if qualifier == "ForAllValues" {
		return boolResult(all != negated)
	}
	return boolResult(any != negated)
}

func boolResult(b bool) condResult {
	if b {
		return condTrue
	}
	return condFalse
}

var comparators = map[string]func(want, got string) bool{
	"StringEquals":           func(w, g string) bool { return w == g },
	"StringEqualsIgnoreCase": strings.EqualFold,
	"StringLike":             wildcardMatch,
	"ArnEquals":              wildcardMatch, // ArnEquals and ArnLike both take wildcards
	"ArnLike":                wildcardMatch,
	"Bool":                   strings.EqualFold,
}

// substituteVariables replaces ${key} policy variables (and ${*}, ${?}, ${$}) by their values.
func substituteVariables(v string, keys conditionKeys) string {
	if !strings.Contains(v, "${") {
		return v
	}
	var b strings.Builder
	for {
		i := strings.Index(v, "${")
		if i < 0 {
			b.WriteString(v)
			return b.String()
		}
		j := strings.IndexByte(v[i:], '}')
		if j < 0 {
			b.WriteString(v)
			return b.String()
		}
		b.WriteString(v[:i])
		switch name := v[i+2 : i+j]; name {
		case "*", "?", "$":
			b.WriteString(name)
		default:
			if vals, _ := keys(strings.ToLower(name)); len(vals) > 0 {
				b.WriteString(vals[0])
			}
		}
		v = v[i+j+1:]
	}
}

// matchAny matches lower-cased IAM action patterns against a lower-cased action.
func matchAny(patterns []string, value string) bool {
	for _, p := range patterns {
		if wildcardMatch(p, value) {
			return true
		}
	}
	return false
}

// wildcardMatch is IAM's glob: * matches any run of characters (including "/" and ":"), ? one character.
func wildcardMatch(pattern, s string) bool {
	// Iterative with one backtrack point: linear for IAM's patterns, and no recursion on hostile input.
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p, mark = star+1, mark+1
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
