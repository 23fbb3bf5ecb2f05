package localaws

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// iamEmulator makes moto's IAM behave as AWS does where the identity integration relies on it:
//   - GetAccountAuthorizationDetails pages (MaxItems, at most 1,000, and Marker): moto answers everything at once;
//   - DeleteUser refuses a user that still has any way in, membership or policy (DeleteConflict, in AWS's words):
//     moto deletes it and leaves the rest dangling;
//   - service-specific credentials (CodeCommit, Keyspaces...), which moto does not implement: created, listed,
//     updated and deleted per user, as IAM does;
//   - CreateLoginProfile keeps PasswordResetRequired (moto drops it, and only UpdateLoginProfile sets it).
type iamEmulator struct {
	env *Env

	mu sync.Mutex
	// snapshots are the unread rest of paged GetAccountAuthorizationDetails answers, by marker.
	snapshots map[string]*authzSnapshot
	// creds are service-specific credentials by account and user.
	creds map[string]map[string][]serviceCredential
}

func newIAMEmulator(e *Env) *iamEmulator {
	return &iamEmulator{env: e, snapshots: map[string]*authzSnapshot{}, creds: map[string]map[string][]serviceCredential{}}
}

// moto is an IAM client acting in account straight at moto: the emulator's own reads are no customer's calls, so
// they pass no interceptor and no policy of the edge.
func (x *iamEmulator) moto(account string) *iam.Client {
	return iam.New(iam.Options{Region: Region, BaseEndpoint: aws.String(x.env.MotoEndpoint), Credentials: staticCredentials,
		HTTPClient: &http.Client{Transport: accountHeader{account}}, RetryMaxAttempts: 1})
}

func (x *iamEmulator) Intercept(w http.ResponseWriter, c *Call) bool {
	if c.Service != "iam" {
		return false
	}
	switch c.Action {
	case "GetAccountAuthorizationDetails":
		x.authorizationDetails(w, c)
	case "DeleteUser":
		return x.guardDeleteUser(w, c)
	case "CreateLoginProfile":
		x.createLoginProfile(w, c)
	case "CreateServiceSpecificCredential", "ListServiceSpecificCredentials", "UpdateServiceSpecificCredential",
		"DeleteServiceSpecificCredential", "ResetServiceSpecificCredential":
		x.serviceCredentials(w, c)
	default:
		return false
	}
	return true
}

const iamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"

// forward sends the call to moto as is, but for the form values given (nil removes one), in the caller's account,
// and returns moto's status and body.
func (x *iamEmulator) forward(c *Call, set map[string]*string) (int, []byte, error) {
	form, _ := url.ParseQuery(string(c.Body))
	for k, v := range set {
		if v == nil {
			form.Del(k)
		} else {
			form.Set(k, *v)
		}
	}
	body := form.Encode()
	req, err := http.NewRequestWithContext(c.Request.Context(), http.MethodPost, x.env.MotoEndpoint+c.Request.URL.RequestURI(), strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header = c.Request.Header.Clone()
	req.Header.Set("x-moto-account-id", x.env.callerAccount(c))
	req.ContentLength = int64(len(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// createLoginProfile creates the console password in moto, then sets PasswordResetRequired as asked, which moto's
// CreateLoginProfile ignores.
func (x *iamEmulator) createLoginProfile(w http.ResponseWriter, c *Call) {
	status, body, err := x.forward(c, nil)
	if err != nil {
		WriteQueryError(w, http.StatusInternalServerError, "ServiceFailure", err.Error())
		return
	}
	if status == http.StatusOK && c.Form("PasswordResetRequired") == "true" {
		_, err := x.moto(x.env.callerAccount(c)).UpdateLoginProfile(c.Request.Context(), &iam.UpdateLoginProfileInput{
			// moto's UpdateLoginProfile also replaces the password (with none, when none is given).
			UserName: aws.String(c.Form("UserName")), Password: aws.String(c.Form("Password")), PasswordResetRequired: aws.Bool(true)})
		if err != nil {
			WriteQueryError(w, http.StatusInternalServerError, "ServiceFailure", err.Error())
			return
		}
		body = bytes.Replace(body, []byte("<PasswordResetRequired>false</PasswordResetRequired>"), []byte("<PasswordResetRequired>true</PasswordResetRequired>"), 1)
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// rawMember keeps one list member's XML as moto wrote it.
type rawMember struct {
	Inner string `xml:",innerxml"`
}

type authzSnapshot struct {
	lists   [4][]rawMember // users, groups, roles, policies: the order pages follow
	expires time.Time
}

var authzListNames = [4]string{"UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"}

// authorizationDetails answers one page: the first page reads moto's whole answer and keeps the rest behind an
// opaque marker, as AWS's markers are (valid for a while, bound to the listing that issued them).
func (x *iamEmulator) authorizationDetails(w http.ResponseWriter, c *Call) {
	maxItems := 100
	if v := c.Form("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			WriteQueryError(w, http.StatusBadRequest, "ValidationError", "1 validation error detected: Value at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000")
			return
		}
		maxItems = n
	}
	var snap *authzSnapshot
	if marker := c.Form("Marker"); marker != "" {
		x.mu.Lock()
		snap = x.snapshots[marker]
		delete(x.snapshots, marker)
		x.mu.Unlock()
		if snap == nil || time.Now().After(snap.expires) {
			WriteQueryError(w, http.StatusBadRequest, "ValidationError", "Invalid Marker: the marker is unknown or expired; start the listing again")
			return
		}
	} else {
		status, body, err := x.forward(c, map[string]*string{"MaxItems": nil, "Marker": nil})
		if err != nil {
			WriteQueryError(w, http.StatusInternalServerError, "ServiceFailure", err.Error())
			return
		}
		if status != http.StatusOK {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(status)
			_, _ = w.Write(body)
			return
		}
		var parsed struct {
			Result struct {
				Users    []rawMember `xml:"UserDetailList>member"`
				Groups   []rawMember `xml:"GroupDetailList>member"`
				Roles    []rawMember `xml:"RoleDetailList>member"`
				Policies []rawMember `xml:"Policies>member"`
			} `xml:"GetAccountAuthorizationDetailsResult"`
		}
		if err := xml.Unmarshal(body, &parsed); err != nil {
			WriteQueryError(w, http.StatusInternalServerError, "ServiceFailure", "moto's answer is not XML: "+err.Error())
			return
		}
		snap = &authzSnapshot{lists: [4][]rawMember{parsed.Result.Users, parsed.Result.Groups, parsed.Result.Roles, parsed.Result.Policies}}
	}
	var page [4][]rawMember
	left := maxItems
	for i := range snap.lists {
		n := min(left, len(snap.lists[i]))
		page[i], snap.lists[i] = snap.lists[i][:n], snap.lists[i][n:]
		left -= n
	}
	rest := 0
	for _, l := range snap.lists {
		rest += len(l)
	}
	var b strings.Builder
	b.WriteString(`<GetAccountAuthorizationDetailsResponse xmlns="` + iamNamespace + `"><GetAccountAuthorizationDetailsResult>`)
	if rest > 0 {
		marker := randomHex(16)
		snap.expires = time.Now().Add(15 * time.Minute)
		x.mu.Lock()
		for m, s := range x.snapshots { // forget listings nobody finished
			if time.Now().After(s.expires) {
				delete(x.snapshots, m)
			}
		}
		x.snapshots[marker] = snap
		x.mu.Unlock()
		b.WriteString(`<IsTruncated>true</IsTruncated><Marker>` + marker + `</Marker>`)
	} else {
		b.WriteString(`<IsTruncated>false</IsTruncated>`)
	}
	for i, name := range authzListNames {
		b.WriteString("<" + name + ">")
		for _, m := range page[i] {
			b.WriteString("<member>" + m.Inner + "</member>")
		}
		b.WriteString("</" + name + ">")
	}
	b.WriteString(`</GetAccountAuthorizationDetailsResult><ResponseMetadata><RequestId>` + randomHex(8) + `</RequestId></ResponseMetadata></GetAccountAuthorizationDetailsResponse>`)
	w.Header().Set("Content-Type", "text/xml")
	_, _ = io.WriteString(w, b.String())
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// guardDeleteUser refuses, as IAM does, to delete a user that still has a console password, access keys, signing
// certificates, SSH public keys, service-specific credentials, MFA devices, inline or attached policies, or group
// memberships. A user without any passes on to moto.
func (x *iamEmulator) guardDeleteUser(w http.ResponseWriter, c *Call) bool {
	name := c.Form("UserName")
	account := x.env.callerAccount(c)
	client := x.moto(account)
	ctx := c.Request.Context()
	user := aws.String(name)
	if _, err := client.GetUser(ctx, &iam.GetUserInput{UserName: user}); err != nil {
		return false // moto answers NoSuchEntity itself
	}
	checks := []struct {
		what  string
		found func() (bool, error)
	}{
		{"delete login profile", func() (bool, error) {
			_, err := client.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: user})
			if err != nil && strings.Contains(err.Error(), "NoSuchEntity") {
				return false, nil
			}
			return err == nil, err
		}},
		{"delete access keys", func() (bool, error) {
			out, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: user})
			return err == nil && len(out.AccessKeyMetadata) > 0, err
		}},
		{"delete signing certificates", func() (bool, error) {
			out, err := client.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: user})
			return err == nil && len(out.Certificates) > 0, err
		}},
		{"delete SSH public keys", func() (bool, error) {
			out, err := client.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: user})
			return err == nil && len(out.SSHPublicKeys) > 0, err
		}},
		{"delete service specific credentials", func() (bool, error) {
			return len(x.credentials(account, name)) > 0, nil
		}},
		{"delete MFA devices", func() (bool, error) {
			out, err := client.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: user})
			return err == nil && len(out.MFADevices) > 0, err
		}},
		{"delete policies", func() (bool, error) {
			out, err := client.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: user})
			return err == nil && len(out.PolicyNames) > 0, err
		}},
		{"detach all policies", func() (bool, error) {
			out, err := client.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: user})
			return err == nil && len(out.AttachedPolicies) > 0, err
		}},
		{"remove users from group", func() (bool, error) {
			out, err := client.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: user})
			return err == nil && len(out.Groups) > 0, err
		}},
	}
	for _, ch := range checks {
		found, err := ch.found()
		if err != nil {
			WriteQueryError(w, http.StatusInternalServerError, "ServiceFailure", err.Error())
			return true
		}
		if found {
			WriteQueryError(w, http.StatusConflict, "DeleteConflict", "Cannot delete entity, must "+ch.what+" first.")
			return true
		}
	}
	return false
}

type serviceCredential struct {
	ID, ServiceName, ServiceUserName, Status string
	Created                                  time.Time
}

func (x *iamEmulator) credentials(account, user string) []serviceCredential {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]serviceCredential(nil), x.creds[account][user]...)
}

// serviceCredentials answers the service-specific credential actions.
func (x *iamEmulator) serviceCredentials(w http.ResponseWriter, c *Call) {
	account := x.env.callerAccount(c)
	user := c.Form("UserName")
	if user == "" {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "UserName is required (Gangplank's local IAM does not default it to the caller)")
		return
	}
	if _, err := x.moto(account).GetUser(c.Request.Context(), &iam.GetUserInput{UserName: aws.String(user)}); err != nil {
		WriteQueryError(w, http.StatusNotFound, "NoSuchEntity", "The user with name "+user+" cannot be found.")
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.creds[account] == nil {
		x.creds[account] = map[string][]serviceCredential{}
	}
	list := x.creds[account][user]
	find := func() int {
		for i, cr := range list {
			if cr.ID == c.Form("ServiceSpecificCredentialId") {
				return i
			}
		}
		return -1
	}
	var result string
	switch c.Action {
	case "CreateServiceSpecificCredential":
		service := c.Form("ServiceName")
		n := 0
		for _, cr := range list {
			if cr.ServiceName == service {
				n++
			}
		}
		if n >= 2 {
			WriteQueryError(w, http.StatusConflict, "LimitExceeded", "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2")
			return
		}
		cr := serviceCredential{ID: "ACCA" + strings.ToUpper(randomHex(8)), ServiceName: service, ServiceUserName: user + "-at-" + account,
			Status: "Active", Created: time.Now().UTC()}
		x.creds[account][user] = append(list, cr)
		result = "<ServiceSpecificCredential>" + credentialXML(cr, user) + "<ServicePassword>" + randomHex(20) + "</ServicePassword></ServiceSpecificCredential>"
	case "ListServiceSpecificCredentials":
		var b strings.Builder
		b.WriteString("<ServiceSpecificCredentials>")
		for _, cr := range list {
			if s := c.Form("ServiceName"); s == "" || s == cr.ServiceName {
				b.WriteString("<member>" + credentialXML(cr, user) + "</member>")
			}
		}
		b.WriteString("</ServiceSpecificCredentials>")
		result = b.String()
	case "UpdateServiceSpecificCredential", "ResetServiceSpecificCredential", "DeleteServiceSpecificCredential":
		i := find()
		if i < 0 {
			WriteQueryError(w, http.StatusNotFound, "NoSuchEntity", "No such credential "+c.Form("ServiceSpecificCredentialId")+" for user "+user+".")
			return
		}
		switch c.Action {
		case "UpdateServiceSpecificCredential":
			list[i].Status = c.Form("Status")
		case "ResetServiceSpecificCredential":
			result = "<ServiceSpecificCredential>" + credentialXML(list[i], user) + "<ServicePassword>" + randomHex(20) + "</ServicePassword></ServiceSpecificCredential>"
		case "DeleteServiceSpecificCredential":
			x.creds[account][user] = append(list[:i:i], list[i+1:]...)
		}
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%[1]sResponse xmlns="%[2]s">`, c.Action, iamNamespace)
	if result != "" || c.Action == "ListServiceSpecificCredentials" {
		fmt.Fprintf(w, "<%[1]sResult>%[2]s</%[1]sResult>", c.Action, result)
	}
	fmt.Fprintf(w, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>", randomHex(8), c.Action)
}

func credentialXML(cr serviceCredential, user string) string {
	var b strings.Builder
	b.WriteString("<CreateDate>" + cr.Created.Format(time.RFC3339) + "</CreateDate><ServiceName>")
	xmlEscape(&b, cr.ServiceName)
	b.WriteString("</ServiceName><ServiceUserName>")
	xmlEscape(&b, cr.ServiceUserName)
	b.WriteString("</ServiceUserName><ServiceSpecificCredentialId>" + cr.ID + "</ServiceSpecificCredentialId><UserName>")
	xmlEscape(&b, user)
	b.WriteString("</UserName><Status>" + cr.Status + "</Status>")
	return b.String()
}
