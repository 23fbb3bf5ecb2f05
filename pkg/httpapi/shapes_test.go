package httpapi_test

import (
	"net/http"
	"testing"
)

// TestSparseResponses: responses in their sparsest states still match the OpenAPI document (every response is
// checked by the contract): lists are [] and never null, required members are present. Each state here is one a
// real tenant meets: a management account activated and discovered but never given discovery settings, an account
// with every optional part absent, a tenant that has nothing yet.
func TestSparseResponses(t *testing.T) {
	f := newFixture(t)
	f.connectedPayer(t, "790000000070", 1)
	f.mustCreate(t, account("Bare", "790000000079", "standalone"))

	payer := f.do(t, http.MethodGet, "/v1/accounts/790000000070", f.viewer, nil).Map(t)
	d, ok := payer["discovery"].(map[string]any)
	if !ok {
		t.Fatalf("the discovered payer has no discovery member: %v", payer)
	}
	for _, list := range []string{"includeOuIds", "excludeOuIds", "excludeAccountIds"} {
		if v, ok := d[list].([]any); !ok || len(v) != 0 {
			t.Errorf("discovery.%s = %#v, want []", list, d[list])
		}
	}
	if d["memberRoleName"] != "OrganizationAccountAccessRole" {
		t.Errorf("memberRoleName = %v", d["memberRoleName"])
	}

	bare := f.do(t, http.MethodGet, "/v1/accounts/790000000079", f.viewer, nil).Map(t)
	for _, absent := range []string{"managementAccountId", "roleArn", "stackId", "templateVersion", "grantedAccessLevel",
		"activatedAt", "lastVerifiedAt", "organization", "discovery"} {
		if v, ok := bare[absent]; ok {
			t.Errorf("a pending standalone account shows %s = %v", absent, v)
		}
	}

	// Every listing of the payer and of a tenant that has nothing, each checked by the contract.
	for _, path := range []string{
		"/v1/accounts?type=management", "/v1/accounts?managementAccountId=790000000070", "/v1/accounts/790000000070/organization",
		"/v1/accounts/790000000070/recommendations", "/v1/accounts/790000000079/recommendations", "/v1/recommendations",
		"/v1/activations", "/v1/audit?limit=1",
	} {
		if r := f.do(t, http.MethodGet, path, f.viewer, nil); r.Status != http.StatusOK {
			t.Errorf("%s: %d %s", path, r.Status, r.Body)
		}
	}
	for _, path := range []string{"/v1/accounts", "/v1/audit", "/v1/recommendations", "/v1/activations", "/v1/tenant"} {
		r := f.do(t, http.MethodGet, path, f.other, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
		for k, v := range r.Map(t) {
			if v == nil {
				t.Errorf("%s: %s is null", path, k)
			}
		}
	}
	tenant := f.do(t, http.MethodGet, "/v1/tenant", f.other, nil).Map(t)
	recs := tenant["settings"].(map[string]any)["recommendations"].(map[string]any)
	if _, ok := tenant["previousExternalIds"].([]any); !ok || recs["terms"] == nil || recs["paymentOptions"] == nil {
		t.Errorf("a new tenant shows null lists: %v", tenant)
	}
}
