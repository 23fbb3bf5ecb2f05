package localaws

import (
	"encoding/json"
	"testing"
)

// TestEvaluate: IAM's evaluation rules, statement by statement (the over-the-wire tests prove them per service).
func TestEvaluate(t *testing.T) {
	doc := func(statements ...map[string]any) policyDocument {
		raw, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
		d, err := parsePolicy(string(raw))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	user := principal{kind: kindUser, account: "111111111111", arn: "arn:aws:iam::111111111111:user/team/alice", userName: "alice"}
	keys := func(values map[string]string) conditionKeys {
		return func(key string) ([]string, bool) {
			switch key {
			case "aws:username":
				return []string{user.userName}, true
			case "aws:principalorgid":
				return []string{"o-1"}, true
			case "aws:multifactorauthpresent", "sts:externalid":
				if v, ok := values[key]; ok {
					return []string{v}, true
				}
				return nil, true // modelled, absent
			}
			return nil, false
		}
	}
	allowAll := map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"}
	tests := []struct {
		name     string
		docs     []policyDocument
		action   string
		resource string
		keys     map[string]string
		want     decision
	}{
		{"no policy", nil, "iam:ListUsers", "*", nil, implicitDeny},
		{"allow all", []policyDocument{doc(allowAll)}, "iam:ListUsers", "*", nil, allowed},
		{"actions match case-insensitively", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "IAM:listusers", "Resource": "*"})}, "iam:ListUsers", "*", nil, allowed},
		{"action wildcard", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "iam:List*", "Resource": "*"})}, "iam:ListUsers", "*", nil, allowed},
		{"action wildcard does not cross services", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "iam:List*", "Resource": "*"})}, "s3:ListBucket", "*", nil, implicitDeny},
		{"? matches one character", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "iam:?etUser", "Resource": "*"})}, "iam:GetUser", "*", nil, allowed},
		{"deny beats allow", []policyDocument{doc(allowAll), doc(map[string]any{"Effect": "Deny", "Action": "iam:Delete*", "Resource": "*"})}, "iam:DeleteUser", "arn:aws:iam::111111111111:user/bob", nil, explicitDeny},
		{"NotAction allows the rest", []policyDocument{doc(map[string]any{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})}, "s3:ListBucket", "*", nil, allowed},
		{"NotAction excludes its own", []policyDocument{doc(map[string]any{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})}, "iam:ListUsers", "*", nil, implicitDeny},
		{"Deny with NotAction", []policyDocument{doc(allowAll), doc(map[string]any{"Effect": "Deny", "NotAction": []string{"iam:Get*", "iam:List*"}, "Resource": "*"})}, "iam:CreateUser", "*", nil, explicitDeny},
		{"resource prefix inside", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "arn:aws:iam::*:user/team/*"})}, "iam:CreateUser", "arn:aws:iam::111111111111:user/team/bob", nil, allowed},
		{"resource prefix outside", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "arn:aws:iam::*:user/team/*"})}, "iam:CreateUser", "arn:aws:iam::111111111111:user/bob", nil, implicitDeny},
		{"resources match case-sensitively", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "arn:aws:iam::*:user/Team/*"})}, "iam:CreateUser", "arn:aws:iam::111111111111:user/team/bob", nil, implicitDeny},
		{"NotResource", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "iam:*", "NotResource": "arn:aws:iam::*:user/admins/*"})}, "iam:DeleteUser", "arn:aws:iam::111111111111:user/admins/root2", nil, implicitDeny},
		{"NotResource allows the rest", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "iam:*", "NotResource": "arn:aws:iam::*:user/admins/*"})}, "iam:DeleteUser", "arn:aws:iam::111111111111:user/bob", nil, allowed},
		{"policy variable in a resource", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "iam:*AccessKey*", "Resource": "arn:aws:iam::*:user/team/${aws:username}"})}, "iam:CreateAccessKey", user.arn, nil, allowed},
		{"unknown resource: a specific Allow does not grant", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "arn:aws:ec2:*:*:instance/*"})}, "ec2:RunInstances", "", nil, implicitDeny},
		{"unknown resource: Allow on every resource grants", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*"})}, "ec2:RunInstances", "", nil, allowed},
		{"unknown resource: a specific Deny applies", []policyDocument{doc(allowAll), doc(map[string]any{"Effect": "Deny", "Action": "ec2:RunInstances", "Resource": "arn:aws:ec2:*:*:instance/*"})}, "ec2:RunInstances", "", nil, explicitDeny},
		{"StringEquals with a variable", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*", "Condition": map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": "${aws:PrincipalOrgID}"}}})}, "sts:AssumeRole", "*", nil, allowed},
		{"StringEquals fails", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*", "Condition": map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": "o-2"}}})}, "sts:AssumeRole", "*", nil, implicitDeny},
		{"StringNotEquals on a missing key holds", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": map[string]any{"StringNotEquals": map[string]any{"sts:ExternalId": "x"}}})}, "iam:ListUsers", "*", nil, allowed},
		{"IfExists on a missing key holds", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": map[string]any{"StringEqualsIfExists": map[string]any{"sts:ExternalId": "x"}}})}, "iam:ListUsers", "*", nil, allowed},
		{"Bool deny without MFA", []policyDocument{doc(allowAll), doc(map[string]any{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": map[string]any{"BoolIfExists": map[string]any{"aws:MultiFactorAuthPresent": "false"}}})}, "iam:ListUsers", "*", nil, explicitDeny},
		{"Null: the key is absent", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": map[string]any{"Null": map[string]any{"sts:ExternalId": "true"}}})}, "iam:ListUsers", "*", nil, allowed},
		{"Null: the key is present", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": map[string]any{"Null": map[string]any{"sts:ExternalId": "true"}}})}, "iam:ListUsers", "*", map[string]string{"sts:externalid": "e"}, implicitDeny},
		{"StringLike", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": map[string]any{"StringLike": map[string]any{"aws:username": "al*"}}})}, "iam:ListUsers", "*", nil, allowed},
		{"an unknown key never grants", []policyDocument{doc(map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": map[string]any{"IpAddress": map[string]any{"aws:SourceIp": "10.0.0.0/8"}}})}, "iam:ListUsers", "*", nil, implicitDeny},
		{"an unknown operator still denies", []policyDocument{doc(allowAll), doc(map[string]any{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": map[string]any{"DateGreaterThan": map[string]any{"aws:CurrentTime": "2020-01-01T00:00:00Z"}}})}, "iam:ListUsers", "*", nil, explicitDeny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := evaluate(tc.docs, authzRequest{Action: tc.action, Resource: tc.resource, Principal: user, Keys: keys(tc.keys)}, false)
			if got != tc.want {
				t.Errorf("evaluate = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestTrustPrincipals: trust policies match the calling principal: an account, its root, a user, a role (for its
// sessions) or an assumed-role session; NotPrincipal excludes.
func TestTrustPrincipals(t *testing.T) {
	trust := func(principalElement any, effect string) []policyDocument {
		raw, _ := json.Marshal(map[string]any{"Statement": []any{
			map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*"},
			map[string]any{"Effect": effect, "Action": "sts:AssumeRole", "Principal": principalElement},
		}})
		d, _ := parsePolicy(string(raw))
		if effect == "Allow" {
			d.Statement = d.Statement[1:]
		}
		return []policyDocument{d}
	}
	session := principal{kind: kindSession, account: "222222222222", arn: "arn:aws:sts::222222222222:assumed-role/R/s", roleARN: "arn:aws:iam::222222222222:role/R"}
	user := principal{kind: kindUser, account: "222222222222", arn: "arn:aws:iam::222222222222:user/alice"}
	tests := []struct {
		name   string
		docs   []policyDocument
		caller principal
		want   decision
	}{
		{"account id", trust(map[string]any{"AWS": "222222222222"}, "Allow"), user, allowed},
		{"account root", trust(map[string]any{"AWS": "arn:aws:iam::222222222222:root"}, "Allow"), session, allowed},
		{"the user", trust(map[string]any{"AWS": user.arn}, "Allow"), user, allowed},
		{"another user", trust(map[string]any{"AWS": "arn:aws:iam::222222222222:user/bob"}, "Allow"), user, implicitDeny},
		{"the session's role", trust(map[string]any{"AWS": session.roleARN}, "Allow"), session, allowed},
		{"the session itself", trust(map[string]any{"AWS": session.arn}, "Allow"), session, allowed},
		{"another account", trust(map[string]any{"AWS": "333333333333"}, "Allow"), session, implicitDeny},
		{"a service principal signs nothing here", trust(map[string]any{"Service": "lambda.amazonaws.com"}, "Allow"), session, implicitDeny},
		{"Deny of the user beats everyone allowed", trust(map[string]any{"AWS": user.arn}, "Deny"), user, explicitDeny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := evaluate(tc.docs, authzRequest{Action: "sts:AssumeRole", Principal: tc.caller, Keys: func(string) ([]string, bool) { return nil, false }}, true); got != tc.want {
				t.Errorf("evaluate = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"*", "anything:at/all", true}, {"a*c", "abbbc", true}, {"a*c", "abbb", false},
		{"arn:aws:iam::*:role/Gangplank*", "arn:aws:iam::1:role/GangplankAccess", true},
		{"arn:aws:iam::*:role/Gangplank*", "arn:aws:iam::1:role/Other", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"**a", "bba", true}, {"a*b*c", "a-b-b-c", true},
		{"*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false}, // linear, not exponential
	}
	for _, tc := range tests {
		if got := wildcardMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", tc.pattern, tc.s, got)
		}
	}
}
