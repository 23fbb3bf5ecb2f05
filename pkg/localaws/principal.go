package localaws

import (
	"strings"
	"sync"
)

// principalKind is what signs a request at the edge.
type principalKind int

const (
	// kindPlatform is the platform account's default credentials (any access key this local AWS did not issue,
	// "testing" in tests and `make local`): the account's administrator, never restricted.
	kindPlatform principalKind = iota
	// kindRoot is an account's root user: the tests' and the local console's own credentials acting in a customer
	// account (x-moto-account-id), or an access key id that is a 12-digit account id (the local stand-in for a
	// customer's root credentials, for the plain AWS CLI). Never restricted, as root is not.
	kindRoot
	// kindUser is an IAM user's access key, issued by CreateAccessKey through the edge.
	kindUser
	// kindSession is a role session the edge handed out (AssumeRole).
	kindSession
)

// principal is who a request acts as.
type principal struct {
	kind    principalKind
	account string
	// arn is the identity's ARN as AWS names it in errors: arn:aws:iam::<a>:user/<path><name>,
	// arn:aws:sts::<a>:assumed-role/<role>/<session>, arn:aws:iam::<a>:root.
	arn string
	// userName is the IAM user (kindUser); roleARN and roleName the session's role (kindSession).
	userName, roleARN, roleName string
}

// enforced reports whether the principal's identity policies govern its requests.
func (p principal) enforced() bool { return p.kind == kindUser || p.kind == kindSession }

// matchesAny reports whether a trust policy's AWS principals name p: "*", p's account (as its id or root ARN), or
// p itself (a user's ARN, a session's role or assumed-role ARN).
func (p principal) matchesAny(names []string) bool {
	for _, n := range names {
		switch n {
		case "*", p.account, "arn:aws:iam::" + p.account + ":root":
			return true
		}
		if n != "" && (n == p.roleARN || n == p.arn) {
			return true
		}
	}
	return false
}

// session is a role session: who is calling when its access key signs a request.
type session struct {
	RoleARN    string // arn:aws:iam::<account>:role/<path><name>
	AccountID  string
	AssumedARN string // arn:aws:sts::<account>:assumed-role/<name>/<session>
}

// userKey is an IAM user's access key as the edge saw CreateAccessKey issue it.
type userKey struct {
	AccountID, UserName string
}

// credentialStore remembers the credentials this local AWS issued: what moto hands out is moto's business, but
// which account and identity a key acts as is the edge's, so that moto, the edge and every emulator agree.
type credentialStore struct {
	mu       sync.RWMutex
	sessions map[string]session // access key → role session
	userKeys map[string]userKey // access key → IAM user
}

func newCredentialStore() *credentialStore {
	return &credentialStore{sessions: map[string]session{}, userKeys: map[string]userKey{}}
}

func (s *credentialStore) session(accessKey string) (session, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.sessions[accessKey]
	return v, ok
}

func (s *credentialStore) userKey(accessKey string) (userKey, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.userKeys[accessKey]
	return v, ok
}

func (s *credentialStore) addSession(accessKey string, v session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[accessKey] = v
}

func (s *credentialStore) addUserKey(accessKey string, v userKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userKeys[accessKey] = v
}

// renameUser follows UpdateUser's NewUserName: the user's keys keep working under its new name.
func (s *credentialStore) renameUser(account, from, to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.userKeys {
		if v.AccountID == account && v.UserName == from {
			s.userKeys[k] = userKey{AccountID: account, UserName: to}
		}
	}
}

func (s *credentialStore) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions, s.userKeys = map[string]session{}, map[string]userKey{}
}

// issuedByAWS reports whether an access key id has the shape of keys AWS (and moto) issue: AKIA for long-term
// keys, ASIA for temporary ones, then 16 upper-case letters and digits. Such a key must be one the edge knows;
// anything else is the platform's default credentials.
func issuedByAWS(accessKey string) bool {
	if len(accessKey) != 20 || !(strings.HasPrefix(accessKey, "AKIA") || strings.HasPrefix(accessKey, "ASIA")) {
		return false
	}
	for _, c := range accessKey[4:] {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// isAccountID reports whether s is a 12-digit AWS account id.
func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// resolvePrincipal says who a call acts as, from its access key alone (no moto call): ok is false for a key that
// looks issued by AWS but that this local AWS never issued, or that belongs to no one any more (AWS refuses it as
// an invalid security token). Whether a known user key is still active is checked by the identity enforcer.
func (e *Env) resolvePrincipal(c *Call) (principal, bool) {
	if c.resolved {
		return c.principal, c.principalOK
	}
	p, ok := e.resolveKey(c.AccessKeyID, c.Request.Header.Get(accountHeaderName))
	c.principal, c.principalOK, c.resolved = p, ok, true
	return p, ok
}

func (e *Env) resolveKey(accessKey, headerAccount string) (principal, bool) {
	if s, ok := e.creds.session(accessKey); ok {
		_, name, _ := splitRoleARN(s.RoleARN)
		return principal{kind: kindSession, account: s.AccountID, arn: s.AssumedARN, roleARN: s.RoleARN, roleName: name}, true
	}
	if k, ok := e.creds.userKey(accessKey); ok {
		// The ARN (with the user's path) is filled in by the enforcer from IAM.
		return principal{kind: kindUser, account: k.AccountID, arn: "arn:aws:iam::" + k.AccountID + ":user/" + k.UserName, userName: k.UserName}, true
	}
	if issuedByAWS(accessKey) {
		return principal{}, false
	}
	if isAccountID(accessKey) {
		return principal{kind: kindRoot, account: accessKey, arn: "arn:aws:iam::" + accessKey + ":root"}, true
	}
	if isAccountID(headerAccount) {
		return principal{kind: kindRoot, account: headerAccount, arn: "arn:aws:iam::" + headerAccount + ":root"}, true
	}
	return principal{kind: kindPlatform, account: PlatformAccountID, arn: "arn:aws:iam::" + PlatformAccountID + ":user/admin"}, true
}
