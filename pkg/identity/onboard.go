package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/audit"
	"github.com/gangplank/gangplank/pkg/validation"
)

// NewUser is a person to onboard as an IAM user. An empty Password is generated (and returned once).
type NewUser struct {
	UserName          string
	Password          string
	Groups            []string
	ManagedPolicyARNs []string
}

// Onboarded is a user just created. Password is set only when Gangplank generated it: this answer is the one
// place it is ever shown. It is never stored, logged or audited.
type Onboarded struct {
	User                  User       `json:"user"`
	Password              string     `json:"password,omitempty"`
	PasswordResetRequired bool       `json:"passwordResetRequired"`
	SignInURL             string     `json:"signInUrl"`
	Onboarding            Onboarding `json:"onboarding"`
}

// OnboardedBy tags the users Gangplank creates (value: the onboarding's id), so a retry recognizes its own user.
const OnboardedBy = "gangplank:onboarding"

// Onboard creates an IAM user under the integration's path prefix, with a console password that must be reset at
// first sign-in (the account's password policy applies; read from IAM), in the groups and with the managed
// policies asked for. The onboarding is recorded before anything is made; a step that fails rolls back what was
// made, and where even that fails the user is left recorded as incomplete, which the same request finishes.
func (s *Service) Onboard(ctx context.Context, tenantID, accountID string, in NewUser) (Onboarded, error) {
	return s.onboard(ctx, tenantID, accountID, in, "api")
}

func (s *Service) onboard(ctx context.Context, tenantID, accountID string, in NewUser, via string) (Onboarded, error) {
	var c validation.Collector
	c.Check("userName", CheckUserName(in.UserName))
	checkNames(&c, accountID, in.Groups, in.ManagedPolicyARNs)
	if len(in.Password) > MaxPasswordLength {
		c.Add("password", "must be at most %d characters", MaxPasswordLength)
	}
	if err := c.Err(); err != nil {
		return Onboarded{}, err
	}
	a, err := s.Accounts.Get(ctx, tenantID, accountID)
	if err != nil {
		return Onboarded{}, err
	}
	integ, err := s.Store.Integration(ctx, tenantID, accountID)
	if err != nil {
		return Onboarded{}, err
	}
	if err := requireWrite(integ); err != nil {
		return Onboarded{}, err
	}
	sess, err := s.Door.EnterIdentity(ctx, tenantID, accountID, "identity-onboard")
	if err != nil {
		return Onboarded{}, err
	}
	client := s.iam(sess.Config)
	policy, err := readPasswordPolicy(ctx, client)
	if err != nil {
		return Onboarded{}, s.permission(ctx, a, err, "iam:GetAccountPasswordPolicy")
	}
	password, generated := in.Password, false
	if password == "" {
		if password, err = policy.Generate(); err != nil {
			return Onboarded{}, err
		}
		generated = true
	} else if broken := policy.Check(password, in.UserName); len(broken) > 0 {
		return Onboarded{}, validation.Field("password", "the account's password policy is not met: %s", strings.Join(broken, "; "))
	}
	if err := s.checkExisting(ctx, client, accountID, in); err != nil {
		return Onboarded{}, err
	}

	prefix := string(a.IdentityPathPrefix.Or())
	rec, err := s.startOnboarding(ctx, client, tenantID, accountID, in, prefix, via)
	if err != nil {
		return Onboarded{}, err
	}
	rec, stepErr := s.makeUser(ctx, client, tenantID, rec, password)
	if stepErr != nil {
		return Onboarded{}, s.rollBack(ctx, a, client, tenantID, rec, stepErr)
	}
	before := rec
	rec.Status, rec.Error, rec.UpdatedAt, rec.LeaseTill, rec.Version = OnboardingComplete, "", s.now(), nil, before.Version+1
	entry := audit.New(ctx, tenantID, rec.UpdatedAt, "iam.user_onboarded", userTarget(accountID, in.UserName), audit.Diff(nil, &onboardedAudit{
		UserName: rec.UserName, Path: rec.Path, Groups: rec.Groups, ManagedPolicyARNs: rec.ManagedPolicyARNs, Via: via,
		ConsolePassword: "set", PasswordResetRequired: true,
	}))
	if err := s.Store.SaveOnboarding(ctx, tenantID, &before, rec, &entry); err != nil {
		return Onboarded{}, err
	}
	u := User{UserName: in.UserName, Path: prefix, Groups: slices.Clone(rec.Groups), InlinePolicies: []string{}, ManagedPolicies: []PolicyRef{},
		CreatedAt: rec.UpdatedAt, Credentials: Credentials{PasswordEnabled: true, AccessKeys: []KeyState{}, SigningCertificates: []CertState{}, VirtualMFADevices: []string{}}}
	if out, err := client.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(in.UserName)}); err == nil {
		u.UserID, u.ARN, u.CreatedAt = aws.ToString(out.User.UserId), aws.ToString(out.User.Arn), aws.ToTime(out.User.CreateDate).UTC()
	}
	for _, p := range rec.ManagedPolicyARNs {
		u.ManagedPolicies = append(u.ManagedPolicies, PolicyRef{ARN: p, Name: p[strings.LastIndexByte(p, '/')+1:]})
	}
	if err := s.Store.PutUser(ctx, tenantID, accountID, u); err != nil {
		slog.WarnContext(ctx, "onboarded user not stored until the next sync", "accountId", accountID, "error", err.Error())
	}
	out := Onboarded{User: u, PasswordResetRequired: true, SignInURL: fmt.Sprintf("https://%s.signin.aws.amazon.com/console", accountID), Onboarding: rec}
	if generated {
		out.Password = password
	}
	return out, nil
}

// onboardedAudit is what the trail says of an onboarding: that a console password was set, never which.
type onboardedAudit struct {
	UserName              string   `json:"userName"`
	Path                  string   `json:"path"`
	Groups                []string `json:"groups"`
	ManagedPolicyARNs     []string `json:"managedPolicyArns"`
	Via                   string   `json:"via"`
	ConsolePassword       string   `json:"consolePassword"`
	PasswordResetRequired bool     `json:"passwordResetRequired"`
}

// checkExisting checks that every group and policy exists before anything is made, naming each that does not.
func (s *Service) checkExisting(ctx context.Context, c IAM, accountID string, in NewUser) error {
	var v validation.Collector
	for i, g := range in.Groups {
		if _, err := c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String(g), MaxItems: aws.Int32(1)}); isNoSuchEntity(err) {
			v.Add(fmt.Sprintf("groups[%d]", i), "account %s has no IAM group %q", accountID, g)
		} else if err != nil {
			return fmt.Errorf("check group %s: %w", g, err)
		}
	}
	for i, p := range in.ManagedPolicyARNs {
		if _, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(p)}); isNoSuchEntity(err) {
			v.Add(fmt.Sprintf("managedPolicyArns[%d]", i), "no managed policy %s exists for account %s", p, accountID)
		} else if err != nil {
			return fmt.Errorf("check policy %s: %w", p, err)
		}
	}
	return v.Err()
}

// startOnboarding records the onboarding before anything is made, or takes over one that stopped half-way.
func (s *Service) startOnboarding(ctx context.Context, c IAM, tenantID, accountID string, in NewUser, prefix, via string) (Onboarding, error) {
	now := s.now()
	lease := now.Add(s.lease())
	prev, err := s.Store.Onboarding(ctx, tenantID, accountID, in.UserName)
	found := err == nil
	if err != nil && !errors.Is(err, ErrRecordNotFound) {
		return Onboarding{}, err
	}
	userExists := false
	if _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(in.UserName)}); err == nil {
		userExists = true
	} else if !isNoSuchEntity(err) {
		return Onboarding{}, fmt.Errorf("check user %s: %w", in.UserName, err)
	}
	resume := found && (prev.Status == OnboardingIncomplete || (prev.Status == OnboardingInProgress && prev.LeaseTill != nil && now.After(*prev.LeaseTill)))
	switch {
	case found && prev.Status == OnboardingInProgress && !resume:
		return Onboarding{}, &BusyError{What: "onboarded", Until: *prev.LeaseTill}
	case userExists && !resume:
		return Onboarding{}, ErrUserExists
	}
	rec := Onboarding{AccountID: accountID, UserName: in.UserName, Path: prefix, Groups: nonNil(in.Groups), ManagedPolicyARNs: nonNil(in.ManagedPolicyARNs),
		Status: OnboardingInProgress, Made: []string{}, Via: via, ID: newID(), StartedAt: now, UpdatedAt: now, LeaseTill: &lease, Version: 1}
	if resume {
		rec.ID, rec.Made, rec.StartedAt, rec.Path = prev.ID, slices.Clone(prev.Made), prev.StartedAt, prev.Path
	}
	var before *Onboarding
	if found {
		before = &prev
		rec.Version = prev.Version + 1
	}
	if err := s.Store.SaveOnboarding(ctx, tenantID, before, rec, nil); errors.Is(err, ErrConflict) {
		return Onboarding{}, &BusyError{What: "onboarded", Until: lease}
	} else if err != nil {
		return Onboarding{}, err
	}
	return rec, nil
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return slices.Clone(l)
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// makeUser runs the steps not made yet, recording each once made.
func (s *Service) makeUser(ctx context.Context, c IAM, tenantID string, rec Onboarding, password string) (Onboarding, error) {
	save := func(what string) error {
		before := rec
		rec.record(what)
		rec.UpdatedAt, rec.Version = s.now(), before.Version+1
		return s.Store.SaveOnboarding(ctx, tenantID, &before, rec, nil)
	}
	name := aws.String(rec.UserName)
	if !rec.made("user") {
		_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: name, Path: aws.String(rec.Path),
			Tags: []iamtypes.Tag{{Key: aws.String(OnboardedBy), Value: aws.String(rec.ID)}}})
		if isAlreadyExists(err) && s.ownUser(ctx, c, rec) {
			err = nil // made by this onboarding before it was interrupted
		}
		if isAlreadyExists(err) {
			return rec, ErrUserExists
		}
		if err != nil {
			return rec, stepError("create the user", "iam:CreateUser", err)
		}
		if err := save("user"); err != nil {
			return rec, err
		}
	}
	if !rec.made("login_profile") {
		_, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: name, Password: aws.String(password), PasswordResetRequired: true})
		if isAlreadyExists(err) {
			// An earlier attempt set a password nobody knows any more: replace it with this request's.
			if _, derr := c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: name}); derr != nil && !isNoSuchEntity(derr) {
				return rec, stepError("replace the console password", "iam:DeleteLoginProfile", derr)
			}
			_, err = c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: name, Password: aws.String(password), PasswordResetRequired: true})
		}
		var policyErr *iamtypes.PasswordPolicyViolationException
		if errors.As(err, &policyErr) {
			return rec, validation.Field("password", "IAM refused the password under the account's password policy (it may have changed): %s",
				aws.ToString(policyErr.Message))
		}
		if err != nil {
			return rec, stepError("set the console password", "iam:CreateLoginProfile", err)
		}
		if err := save("login_profile"); err != nil {
			return rec, err
		}
	}
	for i, g := range rec.Groups {
		if rec.made("group:" + g) {
			continue
		}
		_, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: name, GroupName: aws.String(g)})
		if isNoSuchEntity(err) {
			return rec, validation.Field(fmt.Sprintf("groups[%d]", i), "account %s has no IAM group %q (it was deleted during the onboarding)", rec.AccountID, g)
		}
		if err != nil {
			return rec, stepError("add the user to group "+g, "iam:AddUserToGroup", err)
		}
		if err := save("group:" + g); err != nil {
			return rec, err
		}
	}
	for i, p := range rec.ManagedPolicyARNs {
		if rec.made("policy:" + p) {
			continue
		}
		_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: name, PolicyArn: aws.String(p)})
		if isNoSuchEntity(err) {
			return rec, validation.Field(fmt.Sprintf("managedPolicyArns[%d]", i), "no managed policy %s exists (it was deleted during the onboarding)", p)
		}
		if err != nil {
			return rec, stepError("attach policy "+p, "iam:AttachUserPolicy", err)
		}
		if err := save("policy:" + p); err != nil {
			return rec, err
		}
	}
	return rec, nil
}

// ownUser reports whether the existing user was made by this onboarding (its tag), as a retry finds it.
func (s *Service) ownUser(ctx context.Context, c IAM, rec Onboarding) bool {
	out, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(rec.UserName)})
	if err != nil {
		return false
	}
	for _, t := range out.User.Tags {
		if aws.ToString(t.Key) == OnboardedBy && aws.ToString(t.Value) == rec.ID {
			return true
		}
	}
	return false
}

// stepFailure is an onboarding step AWS refused or failed.
type stepFailure struct {
	what, action string
	err          error
}

func (e *stepFailure) Error() string { return fmt.Sprintf("could not %s: %v", e.what, e.err) }
func (e *stepFailure) Unwrap() error { return e.err }

func stepError(what, action string, err error) error {
	return &stepFailure{what: what, action: action, err: err}
}

// rollBack removes what the onboarding made, newest first, and records the outcome. It returns the error to show:
// the step's own (bad input, a missing permission) when everything was removed, or an IncompleteError naming the
// half-made user when the rollback could not finish.
func (s *Service) rollBack(ctx context.Context, a accounts.Account, c IAM, tenantID string, rec Onboarding, cause error) error {
	if errors.Is(cause, ErrUserExists) {
		// Nothing was made (the name is taken by a user this onboarding did not create).
		before := rec
		rec.Status, rec.Error, rec.UpdatedAt, rec.LeaseTill, rec.Version = OnboardingRolledBack, cause.Error(), s.now(), nil, before.Version+1
		if err := s.Store.SaveOnboarding(ctx, tenantID, &before, rec, nil); err != nil {
			slog.WarnContext(ctx, "could not record the onboarding's end", "error", err.Error())
		}
		return cause
	}
	name := aws.String(rec.UserName)
	var undoErr error
	for i := len(rec.Made) - 1; i >= 0 && undoErr == nil; i-- {
		what := rec.Made[i]
		var err error
		switch {
		case strings.HasPrefix(what, "policy:"):
			_, err = c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: name, PolicyArn: aws.String(strings.TrimPrefix(what, "policy:"))})
		case strings.HasPrefix(what, "group:"):
			_, err = c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: name, GroupName: aws.String(strings.TrimPrefix(what, "group:"))})
		case what == "login_profile":
			_, err = c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: name})
		case what == "user":
			_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: name})
		}
		if err != nil && !isNoSuchEntity(err) {
			undoErr = fmt.Errorf("undo %s: %w", what, err)
			break
		}
		rec.forget(what)
	}
	before, err := s.Store.Onboarding(ctx, tenantID, rec.AccountID, rec.UserName)
	if err != nil {
		return err
	}
	rec.UpdatedAt, rec.LeaseTill, rec.Version = s.now(), nil, before.Version+1
	rec.Error = cause.Error()
	if undoErr == nil {
		rec.Status = OnboardingRolledBack
	} else {
		rec.Status = OnboardingIncomplete
		rec.Error += "; the rollback could not finish: " + undoErr.Error()
	}
	entry := audit.New(ctx, tenantID, rec.UpdatedAt, "iam.user_onboarding_failed", userTarget(rec.AccountID, rec.UserName),
		[]audit.Change{{Field: "status", To: quoteJSON(string(rec.Status))}, {Field: "error", To: quoteJSON(rec.Error)}})
	if err := s.Store.SaveOnboarding(ctx, tenantID, &before, rec, &entry); err != nil {
		return err
	}
	var sf *stepFailure
	if errors.As(cause, &sf) && isAccessDenied(sf.err) {
		cause = s.permission(ctx, a, sf.err, sf.action)
	}
	if undoErr != nil {
		r := rec
		return &IncompleteError{Onboarding: &r, Cause: cause, Reason: fmt.Sprintf("The user %s is half-made (%s): %s. Send the same request again "+
			"to finish it, or offboard it (DELETE .../iam/users/%s) to remove it.", rec.UserName, strings.Join(rec.Made, ", "), rec.Error, rec.UserName)}
	}
	var invalid *validation.Error
	if errors.As(cause, &invalid) {
		return cause
	}
	var perm *PermissionError
	if errors.As(cause, &perm) {
		return cause
	}
	r := rec
	return &IncompleteError{Onboarding: &r, Cause: cause, Reason: fmt.Sprintf("Onboarding %s failed and was rolled back (nothing of the user "+
		"remains): %s. Try again.", rec.UserName, cause.Error())}
}

func quoteJSON(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// permission turns AccessDenied from a way in that should allow action into a PermissionError, and lowers the
// integration's verified access to what was seen; any other error is returned as is.
func (s *Service) permission(ctx context.Context, a accounts.Account, err error, action string) error {
	if !isAccessDenied(err) {
		return err
	}
	if named := refusedAction(err); named != "" {
		action = named // AWS names the action it refused; the step's main action is only a guess
	}
	reason := fmt.Sprintf("The account refused %s to Gangplank. ", action)
	_, merr := s.mutate(ctx, a.TenantID, a.AccountID, "iam.integration_verified", func(cur *Integration) error {
		if cur.Via == ViaKey {
			reason += "Give the key's user IAMFullAccess, or enter another key."
		} else {
			reason += fmt.Sprintf("Update the stack with a new link from Gangplank: it grants identityAccess %s under %s.", a.IdentityAccess.Or(), a.IdentityPathPrefix.Or())
		}
		if strings.HasPrefix(action, "iam:Get") || strings.HasPrefix(action, "iam:List") {
			cur.Access = accounts.IdentityNone
		} else if cur.Access == accounts.IdentityReadWrite {
			cur.Access = accounts.IdentityRead
		}
		now := s.now()
		cur.AccessReason, cur.VerifiedAt = reason, &now
		return nil
	})
	if merr != nil {
		slog.WarnContext(ctx, "could not record the refused permission", "accountId", a.AccountID, "error", merr.Error())
	}
	return &PermissionError{Action: action, Reason: reason, Cause: err}
}
