import { useState, type FormEvent } from "react";
import { ok, type AccessLevel, type AccountType, type AccountWithOnboarding } from "../api/client";
import { useAction, useApp, useLoad } from "../app";
import { Dialog, Field, FormErrors, fieldError } from "../components/ui";
import { accessLevels, identityAccessOptions, typeLabels, type IdentityAccess } from "../lib/accounts";
import { navigate } from "../lib/router";
import { regions } from "../lib/regions";
import { ConnectPanel } from "./Connect";

const fields = ["name", "accountId", "type", "region", "accessLevel", "costSync", "managementAccountId", "identityAccess"];

/** Add Cloud Account: the form (the API's validation shown next to each field), then every way to connect it. */
export function AddAccountDialog({ onClose }: { onClose: () => void }) {
  const { api } = useApp();
  const tenant = useLoad((a) => ok(a.GET("/v1/tenant")), []);
  const managements = useLoad((a) => ok(a.GET("/v1/accounts", { params: { query: { type: "management", limit: 100 } } })), []);
  const [created, setCreated] = useState<AccountWithOnboarding | null>(null);
  const [form, setForm] = useState({ name: "", accountId: "", type: "standalone" as AccountType, region: "", accessLevel: "resources" as AccessLevel, costSync: "", managementAccountId: "", identityAccess: "none" as IdentityAccess });
  const act = useAction();
  const set = (k: keyof typeof form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  const defaultRegion = tenant.data?.settings.defaultRegion ?? "";
  // The region starts as the tenant's default, or us-east-1 where it has none (the API needs one).
  const [regionTouched, setRegionTouched] = useState(false);
  const region = regionTouched ? form.region : form.region || defaultRegion || "us-east-1";
  const costSyncDefault = tenant.data?.settings.costSyncDefault ?? true;
  const costSync = form.costSync === "" ? costSyncDefault : form.costSync === "on";

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const a = await act.run(() =>
      ok(
        api.POST("/v1/accounts", {
          body: {
            name: form.name,
            accountId: form.accountId.replace(/[\s-]/g, ""),
            type: form.type,
            region: region || undefined,
            accessLevel: form.accessLevel,
            costSync,
            identityAccess: form.identityAccess,
            managementAccountId: form.type === "linked" ? form.managementAccountId || undefined : undefined,
          },
        }),
      ),
    );
    if (a) setCreated(a);
  };

  if (created) {
    return (
      <Dialog title={`Connect ${created.name}`} onClose={onClose} wide>
        <p>
          Account <span className="mono">{created.accountId}</span> was added. Choose one way to give Gangplank its role:
        </p>
        <ConnectPanel account={created} onboarding={created.onboarding} onNewLink={() => navigate(`/accounts/${created.accountId}/connect`)} />
        <div className="dialog-foot">
          <button type="button" className="btn" onClick={() => navigate(`/accounts/${created.accountId}`)}>
            Go to the account
          </button>
          <button type="button" className="btn btn-quiet" onClick={onClose}>
            Close
          </button>
        </div>
      </Dialog>
    );
  }

  const err = (f: string) => fieldError(act.error, f);
  return (
    <Dialog title="Add Cloud Account" onClose={onClose} wide>
      <form onSubmit={submit} noValidate className="form">
        <FormErrors error={act.error} fields={fields} />
        <Field label="Name" error={err("name")} hint="How your team knows it, such as Production. Unique in your tenant.">
          {(p) => <input {...p} value={form.name} onChange={(e) => set("name")(e.target.value)} autoComplete="off" maxLength={200} />}
        </Field>
        <Field label="AWS account ID" error={err("accountId")} hint="12 digits, as the AWS console shows it.">
          {(p) => <input {...p} value={form.accountId} onChange={(e) => set("accountId")(e.target.value)} inputMode="numeric" autoComplete="off" className="mono" />}
        </Field>
        <fieldset className="field">
          <legend>Type</legend>
          <div className="choices">
            {(["standalone", "management", "linked"] as AccountType[]).map((t) => (
              <label key={t} className="choice">
                <input type="radio" name="type" value={t} checked={form.type === t} onChange={() => set("type")(t)} />
                <span>
                  <strong>{typeLabels[t]}</strong>
                  <span className="hint">
                    {t === "standalone" && "An account outside any organization you link."}
                    {t === "management" && "Your organization's management (payer) account: Gangplank discovers its members."}
                    {t === "linked" && "A member of an organization whose management account you added."}
                  </span>
                </span>
              </label>
            ))}
          </div>
          {err("type") && <p className="field-error">{err("type")}</p>}
        </fieldset>
        {form.type === "linked" && (
          <Field label="Management account" error={err("managementAccountId")}>
            {(p) => (
              <select {...p} value={form.managementAccountId} onChange={(e) => set("managementAccountId")(e.target.value)}>
                <option value="">Choose its management account</option>
                {managements.data?.items.map((m) => (
                  <option key={m.accountId} value={m.accountId}>
                    {m.name} ({m.accountId})
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        <Field label="Region" error={err("region")} hint="Where the onboarding stack goes, such as us-east-1.">
          {(p) => (
            <>
              <input
                {...p}
                value={region}
                onChange={(e) => {
                  setRegionTouched(true);
                  set("region")(e.target.value);
                }}
                list="region-list"
                autoComplete="off"
              />
              <datalist id="region-list">
                {regions.map((r) => (
                  <option key={r} value={r} />
                ))}
              </datalist>
            </>
          )}
        </Field>
        <fieldset className="field">
          <legend>Access level</legend>
          <div className="choices">
            {accessLevels.map((l) => (
              <label key={l.value} className="choice">
                <input type="radio" name="accessLevel" value={l.value} checked={form.accessLevel === l.value} onChange={() => set("accessLevel")(l.value)} />
                <span>
                  <strong>{l.label}</strong>
                  <span className="hint">{l.description}</span>
                </span>
              </label>
            ))}
          </div>
          {err("accessLevel") && <p className="field-error">{err("accessLevel")}</p>}
        </fieldset>
        <fieldset className="field">
          <legend>IAM users</legend>
          <div className="choices">
            {identityAccessOptions.map((l) => (
              <label key={l.value} className="choice">
                <input type="radio" name="identityAccess" value={l.value} checked={form.identityAccess === l.value} onChange={() => set("identityAccess")(l.value)} />
                <span>
                  <strong>{l.label}</strong>
                  <span className="hint">{l.description}</span>
                </span>
              </label>
            ))}
          </div>
          {err("identityAccess") && <p className="field-error">{err("identityAccess")}</p>}
        </fieldset>
        <label className="check">
          <input type="checkbox" checked={costSync} onChange={(e) => set("costSync")(e.target.checked ? "on" : "off")} /> Sync Cost Explorer recommendations
        </label>
        <div className="dialog-foot">
          <button type="submit" className="btn btn-primary" disabled={act.busy}>
            {act.busy ? "Adding…" : "Add account"}
          </button>
          <button type="button" className="btn btn-quiet" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
