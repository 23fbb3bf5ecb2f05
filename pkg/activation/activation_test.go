package activation_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func wait(t *testing.T, p *testkit.Platform, id string) activation.Progress {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		pr, _, err := p.Services.Activation.Get(t.Context(), "acme", id, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		if pr.Status != activation.Running {
			return pr
		}
	}
	t.Fatal("the activation did not finish within 2 minutes")
	return activation.Progress{}
}

// TestBulkActivation: one request activates the organization's member accounts through Step Functions; the ones
// without the member access role and the one whose callback never comes fail with their reasons, every other one is
// active; a retried request starts nothing twice.
func TestBulkActivation(t *testing.T) {
	p := testkit.NewPlatform(t)
	env := testkit.LocalAWS(t)
	members := testkit.NewOrganization(t, "750000000001", 8)
	if err := p.Services.Tenants.Ensure(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Services.Accounts.Create(t.Context(), "acme", accounts.CreateInput{Name: "Payer", AccountID: "750000000001", Type: "management", Region: "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	ins, _ := p.Services.Onboarding.IssueLink(t.Context(), "acme", "750000000001")
	if _, err := p.Services.Onboarding.Connect(t.Context(), "acme", "750000000001", p.CreateRole(t, ins)); err != nil {
		t.Fatal(err)
	}
	// Two invited accounts: no OrganizationAccountAccessRole.
	noRole := members[:2]
	for _, id := range noRole {
		if _, err := env.AccountIAM(id).DeleteRole(t.Context(), &iam.DeleteRoleInput{RoleName: aws.String("OrganizationAccountAccessRole")}); err != nil {
			t.Fatal(err)
		}
	}
	// One account's custom resource request is lost: its callback never comes.
	lost := members[2]
	defer env.SetCustomResourceTimeoutCap(12 * time.Second)() // longer than the batch deadline below
	defer env.Intercept(localaws.InterceptorFunc(func(w http.ResponseWriter, c *localaws.Call) bool {
		if c.Is("sns", "Publish") && strings.Contains(c.Form("Message"), `"RequestType":"Create"`) && strings.Contains(c.Form("Message"), ":"+lost+":stack/") {
			w.Header().Set("Content-Type", "text/xml")
			_, _ = w.Write([]byte(`<PublishResponse><PublishResult><MessageId>lost</MessageId></PublishResult></PublishResponse>`))
			return true
		}
		return false
	}))()
	p.Services.Activation.BatchSize, p.Services.Activation.Deadline = 3, 6*time.Second

	id, err := p.Services.Activation.Start(t.Context(), "acme", "750000000001", "", activation.Request{All: true})
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.Services.Activation.Start(t.Context(), "acme", "750000000001", "", activation.Request{All: true})
	if err != nil || again != id {
		t.Fatalf("retried request: %s %v, want %s", again, err, id)
	}
	pr := wait(t, p, id)
	if pr.Total != 8 || pr.Succeeded != 5 || pr.Failed != 3 || pr.Status != activation.Completed {
		t.Errorf("progress = %+v", pr)
	}
	for _, it := range pr.Items {
		a, _ := p.Services.Accounts.Get(t.Context(), "acme", it.AccountID)
		switch {
		case it.AccountID == noRole[0] || it.AccountID == noRole[1]:
			if it.Status != activation.Failed || !strings.Contains(it.Reason, "OrganizationAccountAccessRole") || a.Status != accounts.Failed {
				t.Errorf("account without the role: %+v, account %s", it, a.Status)
			}
		case it.AccountID == lost:
			if it.Status != activation.Failed || !strings.Contains(it.Reason, "did not report back") || a.Status != accounts.Failed {
				t.Errorf("account whose callback never came: %+v, account %s", it, a.Status)
			}
		default:
			if it.Status != activation.Succeeded || a.Status != accounts.Active || it.StackID == "" {
				t.Errorf("account %s: %+v, account %s %q", it.AccountID, it, a.Status, a.StatusReason)
			}
		}
	}
}
