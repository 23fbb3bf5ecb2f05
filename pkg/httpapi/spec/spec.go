// Package spec parses the API's OpenAPI document (pkg/httpapi/openapi.yaml) into kin-openapi's model, for what
// reads the contract as a whole: the contract tests (pkg/testkit) and the CDK app's routes (infra/stack). It is apart
// from pkg/httpapi so that the API function does not link, nor run the init of, an OpenAPI and JSON Schema library
// it never uses to serve.
package spec

import (
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/gangplank/gangplank/pkg/httpapi"
)

// Load parses the embedded OpenAPI document.
func Load() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(httpapi.OpenAPIYAML)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	return doc, nil
}
