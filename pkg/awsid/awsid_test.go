package awsid

import (
	"slices"
	"strings"
	"testing"
)

func TestParseAccountID(t *testing.T) {
	tests := []struct {
		in   string
		good bool
	}{
		{"123456789012", true},
		{"000000000001", true},
		{"12345678901", false},
		{"1234567890123", false},
		{"12345678901a", false},
		{" 23456789012", false},
		{"", false},
		{"１２３４５６７８９０１２", false}, // full-width digits
	}
	for _, tt := range tests {
		got, err := ParseAccountID(tt.in)
		if tt.good != (err == nil) {
			t.Errorf("ParseAccountID(%q) error = %v, want valid=%v", tt.in, err, tt.good)
		}
		if tt.good && got != tt.in {
			t.Errorf("ParseAccountID(%q) = %q", tt.in, got)
		}
	}
}

func TestRegions(t *testing.T) {
	if !slices.IsSorted(regions) {
		t.Fatal("regions must stay sorted: IsRegion searches them by bisection")
	}
	for _, r := range []string{"us-east-1", "eu-west-1", "ap-southeast-7", "mx-central-1"} {
		if !IsRegion(r) {
			t.Errorf("IsRegion(%q) = false", r)
		}
	}
	for _, r := range []string{"", "us-east-9", "US-EAST-1", "us-gov-west-1", "cn-north-1", "us-east-1 "} {
		if IsRegion(r) {
			t.Errorf("IsRegion(%q) = true", r)
		}
	}
}

func TestParseRoleARN(t *testing.T) {
	tests := []struct {
		in            string
		account, name string
		path          string
		wantErr       string
	}{
		{in: "arn:aws:iam::123456789012:role/GangplankAccess", account: "123456789012", name: "GangplankAccess", path: "/"},
		{in: "arn:aws:iam::123456789012:role/team/ops/Reader", account: "123456789012", name: "Reader", path: "/team/ops/"},
		{in: "arn:aws:iam::123456789012:user/bob", wantErr: "not an IAM role ARN"},
		{in: "arn:aws:sts::123456789012:assumed-role/R/s", wantErr: "not an IAM role ARN"},
		{in: "arn:aws-cn:iam::123456789012:role/R", wantErr: "not an IAM role ARN"},
		{in: "arn:aws:iam::12345:role/R", wantErr: "12 digits"},
		{in: "arn:aws:iam::123456789012:role/", wantErr: "1 to 64"},
		{in: "arn:aws:iam::123456789012:role/bad name", wantErr: "only letters"},
		{in: "arn:aws:iam::123456789012:role/" + strings.Repeat("a", 65), wantErr: "1 to 64"},
		{in: "not-an-arn", wantErr: "not an ARN"},
		{in: "arn:aws:iam::123456789012:role//R", wantErr: "starts and ends with /"},
		{in: "arn:aws:iam::123456789012:role/my path/R", wantErr: "printable ASCII"},
		{in: "arn:aws:iam::123456789012:role/p\u00e4th/R", wantErr: "printable ASCII"},
		{in: "arn:aws:iam::123456789012:role/" + strings.Repeat("p/", 300) + "R", wantErr: "at most 512"},
		{in: "arn:aws:iam::123456789012:role/" + strings.Repeat("p/", 255) + "R", account: "123456789012", name: "R", path: "/" + strings.Repeat("p/", 255)},
	}
	for _, tt := range tests {
		got, err := ParseRoleARN(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseRoleARN(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRoleARN(%q): %v", tt.in, err)
			continue
		}
		if got.AccountID != tt.account || got.Name != tt.name || got.Path != tt.path || got.String() != tt.in {
			t.Errorf("ParseRoleARN(%q) = %+v", tt.in, got)
		}
	}
}

// FuzzParseAccountID: whatever the input, a parsed ID is exactly 12 ASCII digits, and nothing else parses.
func FuzzParseAccountID(f *testing.F) {
	for _, s := range []string{"123456789012", "", "12345678901x", "000000000000", "1234567890123"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseAccountID(s)
		if err != nil {
			return
		}
		if len(got) != 12 || strings.Trim(got, "0123456789") != "" || got != s {
			t.Fatalf("ParseAccountID(%q) accepted %q", s, got)
		}
	})
}

// FuzzParseRoleARN: a parsed role ARN always names a 12-digit account and a valid role name, and prints back as
// the input.
func FuzzParseRoleARN(f *testing.F) {
	for _, s := range []string{"arn:aws:iam::123456789012:role/R", "arn:aws:iam::123456789012:role/a/b/C", "arn:::::", "arn:aws:iam::123456789012:role//"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRoleARN(s)
		if err != nil {
			return
		}
		if _, err := ParseAccountID(r.AccountID); err != nil {
			t.Fatalf("%q: account %q", s, r.AccountID)
		}
		if CheckRoleName(r.Name) != nil || CheckRolePath(r.Path) != nil || r.String() != s {
			t.Fatalf("%q parsed as %+v", s, r)
		}
	})
}

// TestCheckRoleName: IAM's [\w+=,.@-]{1,64}, so a member role name can never widen a policy's Resource.
func TestCheckRoleName(t *testing.T) {
	for _, good := range []string{"OrganizationAccountAccessRole", "a", "Org_Access+=,.@-1", strings.Repeat("R", 64)} {
		if err := CheckRoleName(good); err != nil {
			t.Errorf("CheckRoleName(%q): %v", good, err)
		}
	}
	for _, bad := range []string{"", "*", "Org*", "?", "../../Admin", "path/Admin", "Org\x00Role", "Org Role", "Rôle",
		"${aws:username}", "Role:1", strings.Repeat("R", 65)} {
		if CheckRoleName(bad) == nil {
			t.Errorf("CheckRoleName(%q) accepted it", bad)
		}
	}
}

// TestCheckOUID: Organizations' RootId and OrganizationalUnitId patterns, exactly.
func TestCheckOUID(t *testing.T) {
	for _, good := range []string{"r-ab12", "r-" + strings.Repeat("a", 32), "ou-ab12-cd34ef56", "ou-" + strings.Repeat("0", 32) + "-" + strings.Repeat("z", 32)} {
		if err := CheckOUID(good); err != nil {
			t.Errorf("CheckOUID(%q): %v", good, err)
		}
	}
	for _, bad := range []string{"", "r-", "r-ab1", "R-AB12", "r-ab12 ", "r-" + strings.Repeat("a", 33), "ou-ab12-cd34ef5", "ou-ab1-cd34ef56",
		"ou-12345678", "ou-ab12-CD34EF56", "ou-*", "prod", "ou-ab12-cd34ef56\n", "ou-ab12-cd34ef56/ou-ab12-cd34ef57", "o-ab12cd34ef"} {
		if CheckOUID(bad) == nil {
			t.Errorf("CheckOUID(%q) accepted it", bad)
		}
	}
}
