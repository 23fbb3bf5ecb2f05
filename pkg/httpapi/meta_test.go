package httpapi

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestOpenAPIJSONIsTheDocument: the JSON served at /v1/openapi.json (openapi.json, converted from the YAML by go
// generate without an OpenAPI library) is a valid OpenAPI document equal to the one the contract tests load from
// the YAML.
func TestOpenAPIJSONIsTheDocument(t *testing.T) {
	served := openAPIJSON
	loader := openapi3.NewLoader()
	fromJSON, err := loader.LoadFromData(served)
	if err != nil {
		t.Fatalf("the served JSON is not an OpenAPI document: %v", err)
	}
	if err := fromJSON.Validate(context.Background()); err != nil {
		t.Fatalf("the served JSON does not validate: %v", err)
	}
	fromYAML, err := openapi3.NewLoader().LoadFromData(OpenAPIYAML)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(fromJSON)
	b, _ := json.Marshal(fromYAML)
	var x, y any
	_ = json.Unmarshal(a, &x)
	_ = json.Unmarshal(b, &y)
	if !reflect.DeepEqual(x, y) {
		t.Error("openapi.json differs from openapi.yaml: run go generate ./pkg/httpapi")
	}
	if len(fromJSON.Paths.Map()) == 0 {
		t.Error("no paths")
	}
}
