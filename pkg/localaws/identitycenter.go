package localaws

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// identityCenter answers IAM Identity Center's ListInstances as AWS does: an organization's instance lives in the
// one region where it was enabled, and ListInstances in any other region returns no instance. moto answers with an
// instance in every account and region, which would make any region look right. Tests and the local demo enable
// an instance with EnableIdentityCenter.
type identityCenter struct {
	env     *Env
	mu      sync.Mutex
	regions map[string]string // account → region of its instance
}

// EnableIdentityCenter gives account (an organization's management account) an IAM Identity Center instance in region.
func (e *Env) EnableIdentityCenter(account, region string) {
	e.sso.mu.Lock()
	defer e.sso.mu.Unlock()
	e.sso.regions[account] = region
}

func newIdentityCenter(e *Env) *identityCenter {
	return &identityCenter{env: e, regions: map[string]string{}}
}

func (ic *identityCenter) Intercept(w http.ResponseWriter, call *Call) bool {
	if call.Service != "sso" || call.Action != "ListInstances" {
		return false
	}
	account := ic.env.callerAccount(call)
	region := signingRegion(call.Request.Header.Get("Authorization"))
	ic.mu.Lock()
	home, enabled := ic.regions[account]
	ic.mu.Unlock()
	instances := []any{}
	if enabled && home == region {
		id := sha256.Sum256([]byte(account))
		instances = append(instances, map[string]any{
			"InstanceArn":     "arn:aws:sso:::instance/ssoins-" + hex.EncodeToString(id[:8]),
			"IdentityStoreId": "d-" + hex.EncodeToString(id[8:13]),
			"OwnerAccountId":  account,
			"Name":            "organization",
			"Status":          "ACTIVE",
			"CreatedDate":     float64(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix()),
			"PrimaryRegion":   home,
		})
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{"Instances": instances})
	return true
}

// signingRegion is the region of a SigV4 Authorization header's credential scope.
func signingRegion(h string) string {
	i := strings.Index(h, "Credential=")
	if i < 0 {
		return ""
	}
	cred := h[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	if parts := strings.Split(cred, "/"); len(parts) == 5 {
		return parts[2]
	}
	return ""
}
