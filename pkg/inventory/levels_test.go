package inventory_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/inventory"
	"github.com/gangplank/gangplank/pkg/localaws"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/testkit"
)

// launch adds accountID to acme at level and has the customer launch the onboarding stack in it, as the CLI command
// of its instructions does; the callback activates the account and its first sync runs on the inventory queue.
func (w *world) launch(t testing.TB, accountID string, level accounts.AccessLevel) {
	t.Helper()
	r := w.Do(t, testkit.Request{Method: http.MethodPost, Path: "/v1/accounts", Token: w.admin,
		Body: map[string]any{"name": "Stack " + accountID, "accountId": accountID, "type": "standalone", "region": "us-east-1", "accessLevel": string(level)}})
	if r.Status != http.StatusCreated {
		t.Fatalf("add account: %d %s", r.Status, r.Body)
	}
	var out struct {
		Onboarding onboarding.Instructions `json:"onboarding"`
	}
	r.JSON(t, &out)
	ins := out.Onboarding
	params := map[string]string{}
	for k, v := range ins.Parameters {
		params[k] = v
	}
	params["RoleName"] = testkit.UniqueName("GangplankAccess") // moto's IAM outlives the test
	var list []cfntypes.Parameter
	for k, v := range params {
		list = append(list, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
	}
	cfn := cloudformation.NewFromConfig(w.env.AccountConfig(accountID), func(o *cloudformation.Options) { o.Region = ins.Region })
	created, err := cfn.CreateStack(t.Context(), &cloudformation.CreateStackInput{
		StackName: aws.String(testkit.UniqueName(onboarding.StackName)), TemplateURL: aws.String(ins.TemplateURL), Parameters: list,
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam}, NotificationARNs: []string{params["CallbackTopicArn"]},
	})
	if err != nil {
		t.Fatalf("create stack: %v", err)
	}
	testkit.WaitIdle(t)
	stacks, err := cfn.DescribeStacks(t.Context(), &cloudformation.DescribeStacksInput{StackName: created.StackId})
	if err != nil || stacks.Stacks[0].StackStatus != cfntypes.StackStatusCreateComplete {
		t.Fatalf("stack: %+v, %v", stacks, err)
	}
}

// TestAccessLevelsThroughStacks: three accounts connected through their onboarding stacks, one per access level;
// each first sync runs on the queue right after activation.
//   - resources: listed through Resource Explorer; no tag is stored or shown, tags cannot be edited, and the role's
//     NoTagReads deny keeps the Tagging API's reads out of reach;
//   - resources_tags: tags shown, edits kept in Gangplank;
//   - tags_write: edits written to AWS.
//
// The local AWS's log of each role's calls proves that nothing was written at the two lower levels.
func TestAccessLevelsThroughStacks(t *testing.T) {
	w := newWorld(t, worldOptions{})
	levels := map[accounts.AccessLevel]string{accounts.Resources: "620000000010", accounts.ResourcesTags: "620000000011", accounts.TagsWrite: "620000000012"}
	topics := map[string][]string{}
	for level, acct := range levels {
		topics[acct] = w.seed(t, localaws.Seed{Account: acct, Region: "us-east-1", Type: "sns:topic", Prefix: "lvl-" + string(level), Count: 4,
			Tags: map[string]string{"Name": "t-{i}", "cost-center": "cc-1"}})
	}
	w.env.ResourceExplorerSetup(levels[accounts.Resources], []string{"us-east-1"}, "us-east-1", true)
	for level, acct := range levels {
		w.launch(t, acct, level)
	}

	// resources
	acct := levels[accounts.Resources]
	st := w.status(t, acct)
	if st.Status != inventory.StatusActive || st.Source != inventory.SourceExplorer || st.Last.Trigger != "activation" {
		t.Fatalf("resources level status = %s", mustJSON(st))
	}
	// The onboarding stack is a resource of the account too.
	if got := w.list(t, "/v1/accounts/"+acct+"/resources?type=sns:topic"); len(got) != 4 {
		t.Errorf("the resources-level account lists %d topics", len(got))
	}
	res, etag := w.get(t, topics[acct][0])
	if res.Tags != nil || res.AWSTags != nil {
		t.Errorf("tags shown at the resources level: %s", mustJSON(res))
	}
	if r := w.patch(t, topics[acct][0], etag, map[string]any{"owner": "x"}); r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "tags-unavailable") {
		t.Errorf("edit at the resources level: %d %s", r.Status, r.Body)
	}
	if got := w.list(t, "/v1/resources?tag=cost-center:cc-1&accountId="+acct); len(got) != 0 {
		t.Errorf("a tag filter finds %d resources of the resources-level account", len(got))
	}
	_ = w.Services.Inventory.Store.AccountResources(t.Context(), "acme", acct, []string{"us-east-1", inventory.GlobalRegion}, func(r inventory.Stored) error {
		for _, v := range []*inventory.Version{r.Old, r.New} {
			if v != nil && v.Tags != nil {
				t.Errorf("tags stored at the resources level: %s", mustJSON(r))
			}
		}
		return nil
	})
	if n := w.env.RoleCalls(acct)["tag:GetResources"]; n != 0 {
		t.Errorf("the resources-level role called tag:GetResources %d times", n)
	}

	// resources_tags
	acct = levels[accounts.ResourcesTags]
	st = w.status(t, acct)
	if st.Status != inventory.StatusActive || st.Source != inventory.SourceTagging || st.Resources < 4 {
		t.Fatalf("resources_tags status = %s", mustJSON(st))
	}
	_, etag = w.get(t, topics[acct][0])
	if r := w.patch(t, topics[acct][0], etag, map[string]any{"owner": "bob", "cost-center": nil}); r.Status != http.StatusOK {
		t.Fatalf("edit: %d %s", r.Status, r.Body)
	}
	testkit.WaitIdle(t)
	res, _ = w.get(t, topics[acct][0])
	if (*res.Tags)["owner"] != "bob" || (*res.Tags)["cost-center"] != "" || res.TagEdits.State != inventory.EditLocal {
		t.Errorf("local edit: %s", mustJSON(res))
	}

	// tags_write
	acct = levels[accounts.TagsWrite]
	_, etag = w.get(t, topics[acct][0])
	if r := w.patch(t, topics[acct][0], etag, map[string]any{"owner": "carol", "cost-center": nil}); r.Status != http.StatusOK {
		t.Fatalf("edit: %d %s", r.Status, r.Body)
	}
	testkit.WaitIdle(t)
	out, err := sns.NewFromConfig(w.env.AccountConfig(acct)).ListTagsForResource(context.Background(), &sns.ListTagsForResourceInput{ResourceArn: aws.String(topics[acct][0])})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tag := range out.Tags {
		got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	if got["owner"] != "carol" || got["cost-center"] != "" {
		t.Errorf("AWS's tags after a tags_write edit: %v", got)
	}
	// The edit's two calls, and the UntagResources of a key never set on a resource that does not exist with which
	// the callback probed the level.
	if wr := writes(w.env.RoleCalls(acct)); wr["tag:TagResources"] != 1 || wr["tag:UntagResources"] != 2 {
		t.Errorf("tags_write role's writes = %v", wr)
	}

	for _, level := range []accounts.AccessLevel{accounts.Resources, accounts.ResourcesTags} {
		if wr := writes(w.env.RoleCalls(levels[level])); len(wr) != 0 {
			t.Errorf("%s: the role wrote %v", level, wr)
		}
	}
}

// TestResourceExplorerProblems: at the resources level Resource Explorer is the only source; each way it can be
// unusable is an error status naming what to do.
func TestResourceExplorerProblems(t *testing.T) {
	w := newWorld(t, worldOptions{})
	acct := "620000000013"
	w.seed(t, localaws.Seed{Account: acct, Region: "us-east-1", Type: "sqs:queue", Prefix: "rep", Count: 3, Tags: map[string]string{"a": "b"}})
	w.connect(t, acct, accounts.Resources)
	st := w.status(t, acct)
	if st.Status != inventory.StatusError || !strings.Contains(st.Reason, "no aggregator index") || !strings.Contains(st.Reason, "resources_tags") {
		t.Errorf("without Resource Explorer: %s %q", st.Status, st.Reason)
	}
	w.env.ResourceExplorerSetup(acct, []string{"us-east-1"}, "us-east-1", false)
	w.env.SetResourceExplorerFault(acct, "ListResources", "AccessDeniedException", 1)
	if st = w.sync(t, acct); st.Status != inventory.StatusError || !strings.Contains(st.Reason, "resource-explorer-2:Search") {
		t.Errorf("without Search: %s %q", st.Status, st.Reason)
	}
	if st = w.sync(t, acct); st.Status != inventory.StatusActive || st.Resources != 3 || st.Last.ListingCalls != 1 || st.Last.Bound != 1 {
		t.Errorf("with Resource Explorer: %s", mustJSON(st))
	}
	w.env.SetResourceExplorerFault(acct, "ListResources", "ResourceNotFoundException", 1)
	if st = w.sync(t, acct); st.Status != inventory.StatusError || !strings.Contains(st.Reason, "does not exist") || st.Resources != 3 {
		t.Errorf("view gone: %s %q (resources still shown: %d)", st.Status, st.Reason, st.Resources)
	}
}
