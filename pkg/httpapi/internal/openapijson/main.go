// Command openapijson writes the API's OpenAPI document as JSON (go generate ./pkg/httpapi): the API serves the
// JSON as it is embedded, so that it links no YAML parser.
//
//	go run ./internal/openapijson openapi.yaml openapi.json
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: openapijson <openapi.yaml> <openapi.json>")
		os.Exit(2)
	}
	if err := convert(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "openapijson:", err)
		os.Exit(1)
	}
}

func convert(from, to string) error {
	src, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return fmt.Errorf("parse %s: %w", from, err)
	}
	v, err := plain(&doc)
	if err != nil {
		return err
	}
	out, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(to, append(out, '\n'), 0o644)
}

// plain turns a YAML node into JSON values. Mapping keys are taken as written (OpenAPI's status codes are keys
// like 200, which YAML would read as numbers); merge keys (<<: *anchor) bring in the anchored mapping's entries,
// under the ones written beside them.
func plain(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		return plain(n.Content[0])
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for _, merging := range []bool{true, false} {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if (n.Content[i].Value == "<<" && n.Content[i].Tag == "!!merge") != merging {
					continue
				}
				v, err := plain(n.Content[i+1])
				if err != nil {
					return nil, err
				}
				if !merging {
					m[n.Content[i].Value] = v
					continue
				}
				merged, ok := v.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("openapi.yaml line %d: a merge key must name a mapping", n.Content[i].Line)
				}
				for k, mv := range merged {
					m[k] = mv
				}
			}
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := plain(c)
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return l, nil
	case yaml.AliasNode:
		return plain(n.Alias)
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, fmt.Errorf("openapi.yaml line %d: %w", n.Line, err)
	}
	return v, nil
}
