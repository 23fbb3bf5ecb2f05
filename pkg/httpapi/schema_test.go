package httpapi

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/tenants"
)

// TestStoredStatesMatchTheSchemas: values as DynamoDB gives them back (an empty list comes back as nil, an optional
// part as absent) still marshal to what the OpenAPI document promises. The live contract check sees the states
// tests reach; this one sees each sparse state of the types whose lists come from storage.
func TestStoredStatesMatchTheSchemas(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPIYAML)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	bare := accounts.Account{AccountID: "123456789012", Name: "Payer", Type: accounts.Management, Status: accounts.Active,
		Region: "us-east-1", AccessLevel: accounts.Resources, Health: accounts.Health{Status: accounts.HealthUnknown},
		CreatedAt: now, UpdatedAt: now, Version: 1}
	withDiscovery := func(d accounts.Discovery) accounts.Account {
		a := bare
		a.Discovery = &d
		return a
	}
	member := bare
	member.Type, member.ManagementAccountID = accounts.Linked, "210987654321"
	member.Organization = &accounts.Membership{Status: "ACTIVE"}
	tests := []struct {
		name, schema string
		value        any
	}{
		{"account with nothing optional", "Account", bare},
		{"management account discovered without settings", "Account", withDiscovery(accounts.Discovery{MemberRoleName: accounts.DefaultMemberRoleName,
			LastRun: &accounts.DiscoveryRun{At: now, Status: "ok"}})},
		{"discovery stored before its member role had a default", "Account", withDiscovery(accounts.Discovery{})},
		{"member account with a bare membership", "Account", member},
		{"empty page", "AccountPage", accounts.Page{}},
		{"tenant that never rotated nor chose recommendations", "Tenant", tenants.Tenant{TenantID: "acme", ExternalID: "gp-x",
			CreatedAt: now, UpdatedAt: now, Version: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, ok := doc.Components.Schemas[tt.schema]
			if !ok {
				t.Fatalf("no schema %s", tt.schema)
			}
			body, err := json.Marshal(tt.value)
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatal(err)
			}
			if err := ref.Value.VisitJSON(v); err != nil {
				t.Errorf("%s does not match %s: %v\n%s", tt.name, tt.schema, err, body)
			}
		})
	}
}
