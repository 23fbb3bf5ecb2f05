package localaws

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// OrganizationSeed describes an organization to build in one request: a local shortcut for benchmarks, not an AWS
// API and nothing the product calls. Through the API, moto creates and moves each account in time proportional to
// the organization's size, so 50,000 accounts would take hours; the seed builds them in seconds, the same objects
// moto's own CreateOrganizationalUnit and CreateAccount make (member accounts without their
// OrganizationAccountAccessRole unless MemberRoles).
type OrganizationSeed struct {
	ManagementAccountID string `json:"managementAccountId"`
	// OUs in creation order; each names its parent by index into OUs (-1: the root), so parents come first.
	OUs []SeedOU `json:"ous"`
	// Accounts name their OU by index into OUs (-1: the root).
	Accounts    []SeedAccount `json:"accounts"`
	MemberRoles bool          `json:"memberRoles"`
}

// SeedOU is one OU of a seed.
type SeedOU struct {
	Name   string `json:"name"`
	Parent int    `json:"parent"`
}

// SeedAccount is one member account of a seed.
type SeedAccount struct {
	Name   string `json:"name"`
	Email  string `json:"email"`
	Parent int    `json:"parent"`
}

// SeededOrganization is what a seed built, in the seed's order.
type SeededOrganization struct {
	RootID   string   `json:"rootId"`
	OUs      []string `json:"ous"`
	Accounts []string `json:"accounts"`
}

// SeedOrganization builds the organization in moto directly (creating it if the management account has none).
func (e *Env) SeedOrganization(ctx context.Context, seed OrganizationSeed) (SeededOrganization, error) {
	for i, ou := range seed.OUs {
		if ou.Parent >= i {
			return SeededOrganization{}, fmt.Errorf("OU %d names parent %d, which does not come before it", i, ou.Parent)
		}
	}
	body, err := json.Marshal(seed)
	if err != nil {
		return SeededOrganization{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.MotoEndpoint+"/moto-api/gangplank/organization-seed", bytes.NewReader(body))
	if err != nil {
		return SeededOrganization{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return SeededOrganization{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return SeededOrganization{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return SeededOrganization{}, fmt.Errorf("seed the organization: %s: %.500s", resp.Status, raw)
	}
	var out SeededOrganization
	if err := json.Unmarshal(raw, &out); err != nil {
		return SeededOrganization{}, fmt.Errorf("seed answer: %w", err)
	}
	if len(out.OUs) != len(seed.OUs) || len(out.Accounts) != len(seed.Accounts) {
		return SeededOrganization{}, fmt.Errorf("seed built %d OUs and %d accounts of %d and %d", len(out.OUs), len(out.Accounts), len(seed.OUs), len(seed.Accounts))
	}
	return out, nil
}
