package localaws

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// template is a CloudFormation template in its long (JSON) form.
type template map[string]any

// parseTemplate reads a YAML or JSON template, turning YAML short-form intrinsics (!Ref, !Sub, !GetAtt, !If...)
// into their long form, which moto understands in JSON templates.
func parseTemplate(body []byte) (template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(body, &root); err != nil {
		return nil, fmt.Errorf("Template format error: %v", err)
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("Template format error: the template is empty")
	}
	v, err := longForm(root.Content[0])
	if err != nil {
		return nil, err
	}
	t, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("Template format error: not a JSON or YAML object")
	}
	return t, nil
}

func longForm(n *yaml.Node) (any, error) {
	fn := ""
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		fn = n.Tag[1:]
	}
	var v any
	switch n.Kind {
	case yaml.AliasNode:
		return longForm(n.Alias)
	case yaml.ScalarNode:
		if fn != "" {
			v = n.Value
			break
		}
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			x, err := longForm(c)
			if err != nil {
				return nil, err
			}
			list = append(list, x)
		}
		v = list
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			x, err := longForm(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = x
		}
		v = m
	}
	switch fn {
	case "":
		return v, nil
	case "Ref", "Condition":
		return map[string]any{fn: v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			resource, attr, _ := strings.Cut(s, ".")
			return map[string]any{"Fn::GetAtt": []any{resource, attr}}, nil
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	default:
		return map[string]any{"Fn::" + fn: v}, nil
	}
}

// customResource is a Custom:: resource of a template, to be delivered by the emulator rather than moto.
type customResource struct {
	Logical, Type string
	Condition     string
	Properties    map[string]any // long form; resolved before each request
}

// splitCustomResources removes the custom resources whose ServiceToken moto cannot serve (every one: moto treats
// ServiceTokens as Lambda names) and returns them, with the template moto can create. Each intrinsic in their
// properties becomes an output of moto's template (same condition), so moto resolves Ref, Sub, GetAtt and If
// exactly as it does for everything else; outputs that read a custom resource are left to the emulator.
func splitCustomResources(t template) (template, []customResource, map[string][]string, map[string]any) {
	resources, _ := t["Resources"].(map[string]any)
	custom := map[string]bool{}
	var found []customResource
	names := make([]string, 0, len(resources))
	for name := range resources {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		r, _ := resources[name].(map[string]any)
		typ, _ := r["Type"].(string)
		if strings.HasPrefix(typ, "Custom::") || typ == "AWS::CloudFormation::CustomResource" {
			custom[name] = true
			props, _ := r["Properties"].(map[string]any)
			cond, _ := r["Condition"].(string)
			found = append(found, customResource{Logical: name, Type: typ, Condition: cond, Properties: props})
		}
	}
	if len(found) == 0 {
		return t, nil, nil, nil
	}
	out := template{}
	for k, v := range t {
		out[k] = v
	}
	kept := map[string]any{}
	for name, r := range resources {
		if custom[name] {
			continue
		}
		res, _ := r.(map[string]any)
		copyRes := map[string]any{}
		for k, v := range res {
			copyRes[k] = v
		}
		switch dep := res["DependsOn"].(type) {
		case string:
			if custom[dep] {
				delete(copyRes, "DependsOn")
			}
		case []any:
			var keep []any
			for _, d := range dep {
				if s, _ := d.(string); !custom[s] {
					keep = append(keep, d)
				}
			}
			copyRes["DependsOn"] = keep
		}
		kept[name] = copyRes
	}
	out["Resources"] = kept

	outputs := map[string]any{}
	deferred := map[string]any{} // outputs reading a custom resource: resolved by the emulator
	if orig, ok := t["Outputs"].(map[string]any); ok {
		for k, v := range orig {
			if refersTo(v, custom) {
				deferred[k] = v
				continue
			}
			outputs[k] = v
		}
	}
	// placeholders maps an output name to the path of the property it resolves: [resource, key, key...].
	placeholders := map[string][]string{}
	n := 0
	for _, cr := range found {
		walkIntrinsics(cr.Properties, []string{cr.Logical}, func(path []string, expr any) {
			n++
			name := fmt.Sprintf("GangplankLocalCustomProperty%d", n)
			o := map[string]any{"Value": expr}
			if cr.Condition != "" {
				o["Condition"] = cr.Condition
			}
			outputs[name] = o
			placeholders[name] = path
		})
		if cr.Condition != "" {
			n++
			name := fmt.Sprintf("GangplankLocalCustomProperty%d", n)
			outputs[name] = map[string]any{"Value": "created", "Condition": cr.Condition}
			placeholders[name] = []string{cr.Logical}
		}
	}
	out["Outputs"] = outputs
	return out, found, placeholders, deferred
}

// walkIntrinsics calls f for every intrinsic function (a one-key map Ref / Fn::*) in v, with its path.
func walkIntrinsics(v any, path []string, f func(path []string, expr any)) {
	switch x := v.(type) {
	case map[string]any:
		if isIntrinsic(x) {
			f(append([]string(nil), path...), x)
			return
		}
		for k, c := range x {
			walkIntrinsics(c, append(path, k), f)
		}
	case []any:
		for i, c := range x {
			walkIntrinsics(c, append(path, fmt.Sprint(i)), f)
		}
	}
}

func isIntrinsic(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

// refersTo reports whether v uses Ref or GetAtt on one of the named resources.
func refersTo(v any, names map[string]bool) bool {
	switch x := v.(type) {
	case map[string]any:
		if r, ok := x["Ref"].(string); ok && names[r] {
			return true
		}
		if ga, ok := x["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
			if s, _ := ga[0].(string); names[s] {
				return true
			}
		}
		if sub, ok := x["Fn::Sub"].(string); ok {
			for n := range names {
				if strings.Contains(sub, "${"+n+"}") || strings.Contains(sub, "${"+n+".") {
					return true
				}
			}
		}
		for _, c := range x {
			if refersTo(c, names) {
				return true
			}
		}
	case []any:
		for _, c := range x {
			if refersTo(c, names) {
				return true
			}
		}
	}
	return false
}

// resolveProperties returns a custom resource's properties with each intrinsic replaced by moto's resolved output,
// every scalar as a string (CloudFormation sends custom resources strings), or false if its condition is false.
func resolveProperties(cr customResource, placeholders map[string][]string, outputs map[string]string) (map[string]any, bool) {
	if cr.Condition != "" {
		created := false
		for name, path := range placeholders {
			if len(path) == 1 && path[0] == cr.Logical {
				_, created = outputs[name]
			}
		}
		if !created {
			return nil, false
		}
	}
	values := map[string]string{}
	for name, path := range placeholders {
		if path[0] == cr.Logical && len(path) > 1 {
			values[strings.Join(path[1:], "\x00")] = outputs[name]
		}
	}
	resolved, _ := stringify(cr.Properties, nil, values).(map[string]any)
	if resolved == nil {
		resolved = map[string]any{}
	}
	return resolved, true
}

func stringify(v any, path []string, values map[string]string) any {
	switch x := v.(type) {
	case map[string]any:
		if isIntrinsic(x) {
			return values[strings.Join(path, "\x00")]
		}
		m := make(map[string]any, len(x))
		for k, c := range x {
			m[k] = stringify(c, append(path, k), values)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, c := range x {
			l[i] = stringify(c, append(path, fmt.Sprint(i)), values)
		}
		return l
	case nil:
		return ""
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}
