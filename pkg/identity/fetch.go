package identity

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gangplank/gangplank/pkg/accounts"
)

// FetchOptions tune a fetch.
type FetchOptions struct {
	// PageSize is the entities per GetAccountAuthorizationDetails page and the devices per ListVirtualMFADevices
	// page (default and AWS's maximum: 1,000).
	PageSize int32
	// ReportWait is the first wait between GenerateCredentialReport calls while AWS builds the report (default 2 s,
	// doubling to 10 s); ReportTimeout bounds the whole wait (default 2 minutes).
	ReportWait, ReportTimeout time.Duration
}

// MaxPageSize is AWS's most entities per page of GetAccountAuthorizationDetails and ListVirtualMFADevices.
const MaxPageSize = 1000

// Fetched is what a fetch read, and its lower bound in requests.
type Fetched struct {
	Directory Directory
	// Entities counts the users, groups and local policies of the whole account (what the pages hold).
	Entities          int
	VirtualMFAs       int
	ReportGeneratedAt *time.Time
}

// LowerBound is the fewest requests AWS allows for this account: full pages of GetAccountAuthorizationDetails,
// one GenerateCredentialReport and one GetCredentialReport (when a report under four hours old exists), and full
// pages of ListVirtualMFADevices.
func (f Fetched) LowerBound() int {
	pages := func(n int) int { return max(1, (n+MaxPageSize-1)/MaxPageSize) }
	return pages(f.Entities) + 2 + pages(f.VirtualMFAs)
}

// Fetch reads the account's IAM users under prefix, every group and the number of local managed policies, in a
// number of requests that does not grow with users one by one: GetAccountAuthorizationDetails pages (users with
// their groups, attached and inline policies; groups with theirs; local policies), the credential report (one CSV
// for every user: password, access keys, MFA, certificates, last use) and the assigned virtual MFA devices.
func Fetch(ctx context.Context, c IAM, prefix accounts.IAMPath, o FetchOptions) (Fetched, error) {
	if o.PageSize == 0 {
		o.PageSize = MaxPageSize
	}
	var f Fetched
	var users []iamtypes.UserDetail
	var groups []iamtypes.GroupDetail
	in := &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(o.PageSize),
		Filter: []iamtypes.EntityType{iamtypes.EntityTypeUser, iamtypes.EntityTypeGroup, iamtypes.EntityTypeLocalManagedPolicy}}
	for {
		out, err := c.GetAccountAuthorizationDetails(ctx, in)
		if err != nil {
			return Fetched{}, fmt.Errorf("GetAccountAuthorizationDetails: %w", err)
		}
		users = append(users, out.UserDetailList...)
		groups = append(groups, out.GroupDetailList...)
		f.Directory.Policies += len(out.Policies)
		if !out.IsTruncated || aws.ToString(out.Marker) == "" {
			break
		}
		in.Marker = out.Marker
	}
	f.Entities = len(users) + len(groups) + f.Directory.Policies

	report, generated, err := credentialReport(ctx, c, o)
	if err != nil {
		return Fetched{}, err
	}
	f.ReportGeneratedAt = generated
	mfa, err := virtualMFAs(ctx, c, o.PageSize)
	if err != nil {
		return Fetched{}, err
	}
	for _, serials := range mfa {
		f.VirtualMFAs += len(serials)
	}

	members := map[string]int{}
	for _, u := range users {
		for _, g := range u.GroupList {
			members[g]++
		}
		if !prefix.Holds(aws.ToString(u.Path)) {
			f.Directory.OutsidePrefix++
			continue
		}
		f.Directory.Users = append(f.Directory.Users, userFrom(u, report, mfa, generated))
	}
	for _, g := range groups {
		grp := Group{GroupName: aws.ToString(g.GroupName), ARN: aws.ToString(g.Arn), Path: aws.ToString(g.Path),
			ManagedPolicies: policyRefs(g.AttachedManagedPolicies), InlinePolicies: []string{}, Members: members[aws.ToString(g.GroupName)]}
		for _, p := range g.GroupPolicyList {
			grp.InlinePolicies = append(grp.InlinePolicies, aws.ToString(p.PolicyName))
		}
		sort.Strings(grp.InlinePolicies)
		f.Directory.Groups = append(f.Directory.Groups, grp)
	}
	sort.Slice(f.Directory.Users, func(i, j int) bool { return f.Directory.Users[i].UserName < f.Directory.Users[j].UserName })
	sort.Slice(f.Directory.Groups, func(i, j int) bool { return f.Directory.Groups[i].GroupName < f.Directory.Groups[j].GroupName })
	return f, nil
}

func policyRefs(list []iamtypes.AttachedPolicy) []PolicyRef {
	out := make([]PolicyRef, 0, len(list))
	for _, p := range list {
		out = append(out, PolicyRef{Name: aws.ToString(p.PolicyName), ARN: aws.ToString(p.PolicyArn)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out
}

func userFrom(u iamtypes.UserDetail, report map[string]reportRow, mfa map[string][]string, generated *time.Time) User {
	name := aws.ToString(u.UserName)
	out := User{UserName: name, UserID: aws.ToString(u.UserId), ARN: aws.ToString(u.Arn), Path: aws.ToString(u.Path),
		CreatedAt: aws.ToTime(u.CreateDate).UTC(), Groups: append([]string{}, u.GroupList...),
		ManagedPolicies: policyRefs(u.AttachedManagedPolicies), InlinePolicies: []string{}}
	sort.Strings(out.Groups)
	for _, p := range u.UserPolicyList {
		out.InlinePolicies = append(out.InlinePolicies, aws.ToString(p.PolicyName))
	}
	sort.Strings(out.InlinePolicies)
	if u.PermissionsBoundary != nil {
		out.PermissionsBoundary = aws.ToString(u.PermissionsBoundary.PermissionsBoundaryArn)
	}
	out.Credentials = Credentials{AccessKeys: []KeyState{}, SigningCertificates: []CertState{}, VirtualMFADevices: append([]string{}, mfa[name]...)}
	if row, ok := report[name]; ok {
		out.Credentials = row.credentials(generated)
		out.Credentials.VirtualMFADevices = append([]string{}, mfa[name]...)
	}
	return out
}

// reportRow is one user's line of the credential report, by column name.
type reportRow map[string]string

func (r reportRow) time(col string) *time.Time {
	v := r[col]
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil // N/A, no_information, not_supported
	}
	t = t.UTC()
	return &t
}

func (r reportRow) bool(col string) bool { return r[col] == "true" }

func (r reportRow) credentials(asOf *time.Time) Credentials {
	c := Credentials{AsOf: asOf, PasswordEnabled: r.bool("password_enabled"), PasswordLastUsed: r.time("password_last_used"),
		PasswordLastChanged: r.time("password_last_changed"), MFAActive: r.bool("mfa_active"), AccessKeys: []KeyState{},
		SigningCertificates: []CertState{}}
	latest := c.PasswordLastUsed
	for slot := 1; slot <= 2; slot++ {
		p := fmt.Sprintf("access_key_%d_", slot)
		k := KeyState{Slot: slot, Active: r.bool(p + "active"), LastRotated: r.time(p + "last_rotated"), LastUsed: r.time(p + "last_used_date"),
			LastUsedRegion: notNA(r[p+"last_used_region"]), LastUsedService: notNA(r[p+"last_used_service"])}
		if k.Active || k.LastRotated != nil {
			c.AccessKeys = append(c.AccessKeys, k)
		}
		if k.LastUsed != nil && (latest == nil || k.LastUsed.After(*latest)) {
			latest = k.LastUsed
		}
		cp := fmt.Sprintf("cert_%d_", slot)
		cert := CertState{Slot: slot, Active: r.bool(cp + "active"), LastRotated: r.time(cp + "last_rotated")}
		if cert.Active || cert.LastRotated != nil {
			c.SigningCertificates = append(c.SigningCertificates, cert)
		}
	}
	c.LastUsed = latest
	return c
}

func notNA(v string) string {
	if v == "N/A" {
		return ""
	}
	return v
}

// credentialReport asks AWS for a credential report (GenerateCredentialReport answers COMPLETE at once when one
// under four hours old exists, or STARTED while AWS builds one) and reads it.
func credentialReport(ctx context.Context, c IAM, o FetchOptions) (map[string]reportRow, *time.Time, error) {
	wait, timeout := o.ReportWait, o.ReportTimeout
	if wait == 0 {
		wait = 2 * time.Second
	}
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	deadline := time.Now().Add(timeout)
	for {
		out, err := c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			return nil, nil, fmt.Errorf("GenerateCredentialReport: %w", err)
		}
		if out.State == iamtypes.ReportStateTypeComplete {
			break
		}
		if time.Now().Add(wait).After(deadline) {
			return nil, nil, fmt.Errorf("AWS did not finish the credential report within %s; the next sync will read it", timeout)
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 10*time.Second)
	}
	out, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		return nil, nil, fmt.Errorf("GetCredentialReport: %w", err)
	}
	rows, err := parseReport(out.Content)
	if err != nil {
		return nil, nil, err
	}
	var generated *time.Time
	if out.GeneratedTime != nil {
		t := out.GeneratedTime.UTC()
		generated = &t
	}
	return rows, generated, nil
}

// parseReport reads the credential report's CSV by column name (AWS adds columns over time), skipping the
// account's root user.
func parseReport(content []byte) (map[string]reportRow, error) {
	r := csv.NewReader(bytes.NewReader(content))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("the credential report has no header: %w", err)
	}
	rows := map[string]reportRow{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("the credential report is not CSV: %w", err)
		}
		row := reportRow{}
		for i, col := range header {
			if i < len(rec) {
				row[col] = rec[i]
			}
		}
		if name := row["user"]; name != "" && name != "<root_account>" {
			rows[name] = row
		}
	}
}

// virtualMFAs lists the assigned virtual MFA devices, by user.
func virtualMFAs(ctx context.Context, c IAM, pageSize int32) (map[string][]string, error) {
	out := map[string][]string{}
	in := &iam.ListVirtualMFADevicesInput{AssignmentStatus: iamtypes.AssignmentStatusTypeAssigned, MaxItems: aws.Int32(pageSize)}
	for {
		page, err := c.ListVirtualMFADevices(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("ListVirtualMFADevices: %w", err)
		}
		for _, d := range page.VirtualMFADevices {
			if d.User == nil {
				continue
			}
			name := aws.ToString(d.User.UserName)
			out[name] = append(out[name], aws.ToString(d.SerialNumber))
		}
		if !page.IsTruncated || aws.ToString(page.Marker) == "" {
			return out, nil
		}
		in.Marker = page.Marker
	}
}
