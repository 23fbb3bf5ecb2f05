package platform

import (
	"fmt"
	"strings"

	"github.com/gangplank/gangplank/pkg/identitycenter"
)

// Adapters are the clients of the AWS services that only some functions call. Each is implemented in a package of
// its own (pkg/<domain>/aws<service>) that only those functions' mains import, and handed to ColdStart: a Go binary
// runs the init of every package it links, and an SDK service package's init (its operation schemas, its endpoint
// rules) costs each cold start up to 5 ms whether the function calls the service or not (docs/deploy.md, Cold
// start). pkg/platform itself links none of them; pkg/platform/awsadapters has them all, for one process running
// the whole platform (the local server, the tests).
type Adapters struct {
	// IdentityCenter lists IAM Identity Center instances: functions whose Needs have SSORegions.
	IdentityCenter identitycenter.Instances
}

// missing names the adapters a function with these needs must be given and was not.
func (a Adapters) missing(n Needs) error {
	var out []string
	if n.SSORegions && a.IdentityCenter == nil {
		out = append(out, "IdentityCenter (pkg/identitycenter/awsssoadmin)")
	}
	if len(out) > 0 {
		return fmt.Errorf("the function's main does not pass the adapters its Needs call for: %s", strings.Join(out, ", "))
	}
	return nil
}
