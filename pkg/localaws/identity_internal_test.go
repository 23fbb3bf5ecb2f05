package localaws

import (
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkEnforce is the edge's own cost per call, without moto: resolving the principal, checking the policy
// cache against moto's IAM generation and evaluating the policies (a role session holding the real ViewOnlyAccess,
// 373 action patterns, and an inline Deny), against the same call by the platform's credentials. The cache is warm:
// no IAM lookups.
func BenchmarkEnforce(b *testing.B) {
	out, err := exec.Command(pythonForBench(b), "-c", `import json
from moto.iam.aws_managed_policies import aws_managed_policies_data as d
print(json.dumps(json.loads(d)["ViewOnlyAccess"]["Document"]))`).Output()
	if err != nil {
		b.Fatalf("read ViewOnlyAccess from moto: %v", err)
	}
	viewOnly, err := parsePolicy(string(out))
	if err != nil {
		b.Fatal(err)
	}
	deny, _ := parsePolicy(`{"Statement":{"Effect":"Deny","Action":["tag:GetResources","tag:GetTagKeys","tag:GetTagValues"],"Resource":"*"}}`)
	gens, err := newGenerations(filepath.Join(b.TempDir(), "gens"))
	if err != nil {
		b.Fatal(err)
	}
	defer gens.close()
	e := &Env{creds: newCredentialStore(), generations: gens}
	e.policies = newPolicyStore(e, gens)
	const account = "111111111111"
	e.creds.addSession("ASIAAAAAAAAAAAAAAAAA", session{RoleARN: "arn:aws:iam::" + account + ":role/GangplankAccess", AccountID: account,
		AssumedARN: "arn:aws:sts::" + account + ":assumed-role/GangplankAccess/s"})
	e.policies.store("role", account, "GangplankAccess", &entity{generation: gens.of(account), exists: true, full: true,
		identity: []policyDocument{viewOnly, deny}})
	enforcer := &identityEnforcer{env: e}

	for _, key := range []string{"testing", "ASIAAAAAAAAAAAAAAAAA"} {
		name := map[string]string{"testing": "platform", "ASIAAAAAAAAAAAAAAAAA": "role session"}[key]
		b.Run(name, func(b *testing.B) {
			r := httptest.NewRequest("POST", "/", strings.NewReader("Action=DescribeVolumes&Version=2016-11-15"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+key+"/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=x")
			template, err := ParseCall(r)
			if err != nil {
				b.Fatal(err)
			}
			w := httptest.NewRecorder()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				c := *template
				if enforcer.Intercept(w, &c) {
					b.Fatalf("refused: %s", w.Body)
				}
			}
		})
	}
	if n := e.policies.lookups.Load(); n != 0 {
		b.Errorf("a warm cache made %d IAM lookups", n)
	}
}

func pythonForBench(b *testing.B) string {
	for _, p := range []string{"python3", "python"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	b.Fatal(InstallHint)
	return ""
}
