package accounts

import "encoding/json"

// MarshalJSON shows unset filter lists as empty ones: a management account whose discovery ran before any settings
// were saved stores none, and the API promises arrays.
func (d Discovery) MarshalJSON() ([]byte, error) {
	type plain Discovery
	for _, l := range []*[]string{&d.IncludeOUs, &d.ExcludeOUs, &d.ExcludeAccounts} {
		if *l == nil {
			*l = []string{}
		}
	}
	return json.Marshal(plain(d))
}
