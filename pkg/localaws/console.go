package localaws

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// ConsoleURL is the local stand-in for the AWS CloudFormation console: quick-create links of `make local` open it.
func (e *Env) ConsoleURL() string { return e.Endpoint + "/console/cloudformation/home" }

// serveConsole plays the part of the CloudFormation console for the emulated accounts: its quick-create review
// page shows the template and parameters of a link, and "Create stack" calls CreateStack as the account named
// in the link, then follows the stack's events, as the real console does.
func (e *Env) serveConsole() {
	e.Handle("GET /console/cloudformation/home", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(consolePage))
	}))
	e.Handle("POST /console/cloudformation/stacks", http.HandlerFunc(e.consoleCreateStack))
	e.Handle("GET /console/cloudformation/stacks", http.HandlerFunc(e.consoleDescribeStack))
}

type consoleCreate struct {
	Account     string            `json:"account"`
	Region      string            `json:"region"`
	StackName   string            `json:"stackName"`
	TemplateURL string            `json:"templateURL"`
	Parameters  map[string]string `json:"parameters"`
	// StackID, when set, updates that stack (the update page's link): parameters the link leaves out keep their
	// current values, as the console's update wizard shows them.
	StackID string `json:"stackId"`
}

func (e *Env) consoleCreateStack(w http.ResponseWriter, r *http.Request) {
	var in consoleCreate
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil || in.Account == "" || in.Region == "" {
		consoleJSON(w, http.StatusBadRequest, map[string]string{"error": "account, region, stackName and templateURL are required"})
		return
	}
	var params []cfntypes.Parameter
	for k, v := range in.Parameters {
		params = append(params, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
	}
	if in.StackID != "" {
		e.consoleUpdateStack(w, r, in, params)
		return
	}
	out, err := e.consoleClient(in.Account, in.Region).CreateStack(r.Context(), &cloudformation.CreateStackInput{
		StackName: aws.String(in.StackName), TemplateURL: aws.String(in.TemplateURL), Parameters: params,
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam},
	})
	if err != nil {
		consoleJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	consoleJSON(w, http.StatusOK, map[string]string{"stackId": aws.ToString(out.StackId)})
}

func (e *Env) consoleUpdateStack(w http.ResponseWriter, r *http.Request, in consoleCreate, params []cfntypes.Parameter) {
	client := e.consoleClient(in.Account, in.Region)
	current, err := client.DescribeStacks(r.Context(), &cloudformation.DescribeStacksInput{StackName: aws.String(in.StackID)})
	if err != nil || len(current.Stacks) == 0 {
		consoleJSON(w, http.StatusNotFound, map[string]string{"error": "no such stack"})
		return
	}
	for _, p := range current.Stacks[0].Parameters {
		if _, given := in.Parameters[aws.ToString(p.ParameterKey)]; !given {
			params = append(params, cfntypes.Parameter{ParameterKey: p.ParameterKey, UsePreviousValue: aws.Bool(true)})
		}
	}
	out, err := client.UpdateStack(r.Context(), &cloudformation.UpdateStackInput{
		StackName: aws.String(in.StackID), TemplateURL: aws.String(in.TemplateURL), Parameters: params,
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam},
	})
	if err != nil {
		consoleJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	consoleJSON(w, http.StatusOK, map[string]string{"stackId": aws.ToString(out.StackId)})
}

func (e *Env) consoleDescribeStack(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	client := e.consoleClient(q.Get("account"), q.Get("region"))
	stacks, err := client.DescribeStacks(r.Context(), &cloudformation.DescribeStacksInput{StackName: aws.String(q.Get("stackId"))})
	if err != nil || len(stacks.Stacks) == 0 {
		consoleJSON(w, http.StatusNotFound, map[string]string{"error": "no such stack"})
		return
	}
	events, _ := client.DescribeStackEvents(r.Context(), &cloudformation.DescribeStackEventsInput{StackName: aws.String(q.Get("stackId"))})
	type event struct{ Time, Resource, Status, Reason string }
	var list []event
	if events != nil {
		for _, ev := range events.StackEvents {
			list = append(list, event{Time: aws.ToTime(ev.Timestamp).Format("15:04:05"), Resource: aws.ToString(ev.LogicalResourceId),
				Status: string(ev.ResourceStatus), Reason: aws.ToString(ev.ResourceStatusReason)})
		}
	}
	s := stacks.Stacks[0]
	consoleJSON(w, http.StatusOK, map[string]any{"status": s.StackStatus, "reason": aws.ToString(s.StackStatusReason), "events": list})
}

func (e *Env) consoleClient(account, region string) *cloudformation.Client {
	if region == "" {
		region = Region
	}
	return cloudformation.NewFromConfig(e.AccountConfig(strings.TrimSpace(account)), func(o *cloudformation.Options) { o.Region = region })
}

func consoleJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// consolePage reads the quick-create link's fragment (#/stacks/create/review?templateURL=...&param_X=...), or the
// update link's (#/stacks/update/template?stackId=...&templateURL=...&param_X=...), in the browser, as the AWS
// console does.
const consolePage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local CloudFormation console (Gangplank)</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#16191f}
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;font-size:.9rem;word-break:break-all}
button{background:#ec7211;color:#fff;border:0;padding:.6rem 1.2rem;font-size:1rem;border-radius:2px;cursor:pointer}
.note{color:#555;font-size:.9rem}#status{font-weight:bold;margin:1rem 0}
</style></head><body>
<h1><span id="title">Quick create stack</span> <span class="note">(local AWS, emulating the CloudFormation console)</span></h1>
<p class="note">Signed in to account <b id="account"></b> in <b id="region"></b>. Stack name <b id="stackName"></b>.</p>
<p class="note">Template: <span id="templateURL"></span></p>
<table id="params"><tr><th>Parameter</th><th>Value</th></tr></table>
<p><label><input type="checkbox" id="ack"> I acknowledge that AWS CloudFormation might create IAM resources with custom names.</label></p>
<button id="create">Create stack</button>
<div id="status"></div>
<table id="events"></table>
<script>
const page = new URLSearchParams(location.search);
const frag = new URLSearchParams((location.hash.split("?")[1]) || "");
const account = page.get("account") || "", region = page.get("region") || "us-east-1";
const stackId = location.hash.startsWith("#/stacks/update/") ? (frag.get("stackId") || "") : "";
const stackName = stackId ? stackId.split("/")[1] : (frag.get("stackName") || "Gangplank-Onboarding"), templateURL = frag.get("templateURL") || "";
if (stackId) { document.getElementById("title").textContent = "Update stack"; document.getElementById("create").textContent = "Update stack"; }
const params = {};
for (const [k, v] of frag) if (k.startsWith("param_")) params[k.slice(6)] = v;
const text = (id, v) => document.getElementById(id).textContent = v;
text("account", account); text("region", region); text("stackName", stackName); text("templateURL", templateURL);
const table = document.getElementById("params");
for (const k of Object.keys(params).sort()) {
  const row = table.insertRow(); row.insertCell().textContent = k;
  row.insertCell().textContent = /Token|ExternalId/.test(k) ? params[k].slice(0, 8) + "…" : params[k];
}
document.getElementById("create").onclick = async () => {
  if (!document.getElementById("ack").checked) { text("status", "Acknowledge the IAM capability first."); return; }
  const r = await fetch("/console/cloudformation/stacks", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({account, region, stackName, templateURL, parameters: params, stackId})});
  const body = await r.json();
  if (!r.ok) { text("status", body.error); return; }
  poll(body.stackId);
};
async function poll(stackId) {
  const r = await fetch("/console/cloudformation/stacks?" + new URLSearchParams({account, region, stackId}));
  const s = await r.json();
  text("status", s.status + (s.reason ? ": " + s.reason : ""));
  const ev = document.getElementById("events"); ev.innerHTML = "<tr><th>Time</th><th>Resource</th><th>Status</th><th>Reason</th></tr>";
  for (const e of s.events || []) { const row = ev.insertRow(); for (const v of [e.Time, e.Resource, e.Status, e.Reason]) row.insertCell().textContent = v; }
  if (/IN_PROGRESS$/.test(s.status)) setTimeout(() => poll(stackId), 1000);
}
</script></body></html>`
