package provider

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestAccDocsExample: the configurations docs/terraform.md shows (the provider, the management account onboarded with
// its role and discovery settings, the account brought under Terraform by import) are one configuration that passes
// `fmt -check` and `validate` with the providers installed as the document says, so the document cannot drift from
// the provider's schema.
func TestAccDocsExample(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "terraform.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```hcl\n(.*?)```").FindAllStringSubmatch(string(raw), -1) {
		// The CLI configuration (provider_installation) is not part of the configuration.
		if !strings.Contains(m[1], "provider_installation") {
			blocks = append(blocks, m[1])
		}
	}
	if len(blocks) != 3 {
		t.Fatalf("docs/terraform.md has %d HCL configurations, want the provider, the example and the import", len(blocks))
	}
	for _, want := range []string{`resource "gangplank_account" "payer"`, `resource "gangplank_discovery_settings"`, `resource "aws_iam_role" "gangplank"`,
		`resource "gangplank_account_connection" "payer"`, `resource "gangplank_account" "data"`} {
		if !strings.Contains(strings.Join(blocks, ""), want) {
			t.Errorf("the document's example lacks %s", want)
		}
	}
	rc, withAWS := installProviders(t)
	dir := t.TempDir()
	for i, b := range blocks {
		if err := os.WriteFile(filepath.Join(dir, "docs"+string(rune('0'+i))+".tf"), []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tf := newCLIRunner(t, dir, append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1"))
	tf.run(0, "fmt", "-check", "-diff")
	if !withAWS {
		return // logged by awsProviderMirror
	}
	tf.run(0, "init", "-input=false")
	tf.run(0, "validate")
}
