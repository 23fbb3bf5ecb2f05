// Package statemachines holds the Step Functions definitions (Amazon States Language), used as they are by the CDK
// stack (definition substitutions) and by the local runtime.
package statemachines

import (
	_ "embed"
	"strings"
)

// BulkActivation is statemachines/bulk-activation.asl.json.
//
//go:embed bulk-activation.asl.json
var BulkActivation string

// Substitute fills ${Name} placeholders, as CloudFormation's DefinitionSubstitutions do.
func Substitute(definition string, values map[string]string) string {
	for k, v := range values {
		definition = strings.ReplaceAll(definition, "${"+k+"}", v)
	}
	return definition
}
