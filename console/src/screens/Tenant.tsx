import { useEffect, useState, type FormEvent } from "react";
import { withETag, type Tenant } from "../api/client";
import { useAction, useApp, useLoad } from "../app";
import { PageHead } from "../components/layout";
import { CopyButton, Dialog, ErrorBox, Field, FormErrors, Notice, Spinner, fieldError } from "../components/ui";
import { dateTime } from "../lib/format";

type Loaded = { data: Tenant; etag: string };

export function TenantScreen() {
  const tenant = useLoad((api) => withETag(api.GET("/v1/tenant")), []);
  return (
    <>
      <PageHead title="Tenant" />
      {tenant.error ? <ErrorBox error={tenant.error} /> : null}
      {!tenant.data && !tenant.error && <Spinner />}
      {tenant.data && (
        <>
          <ExternalIdCard loaded={tenant.data} set={tenant.set} />
          <SettingsCard loaded={tenant.data} set={tenant.set} />
        </>
      )}
    </>
  );
}

function ExternalIdCard({ loaded, set }: { loaded: Loaded; set: (l: Loaded) => void }) {
  const { api, canWrite } = useApp();
  const t = loaded.data;
  const [confirm, setConfirm] = useState(false);
  const act = useAction();
  const rotate = async () => {
    const r = await act.run(() => withETag(api.POST("/v1/tenant/external-id/rotate", { params: { header: { "If-Match": loaded.etag } } })));
    if (r) {
      set(r);
      setConfirm(false);
    }
  };
  const w = t.externalIdRotation.warning;
  return (
    <section className="card" aria-labelledby="extid-title">
      <div className="card-head">
        <h2 id="extid-title">External ID</h2>
        {canWrite && (
          <button type="button" className="btn" onClick={() => setConfirm(true)}>
            Rotate External ID
          </button>
        )}
      </div>
      <p>Every cross-account role of tenant {t.tenantId} must require this External ID (sts:ExternalId) in its trust policy.</p>
      <p className="extid">
        <code data-testid="external-id">{t.externalId}</code> <CopyButton text={t.externalId} label="Copy External ID" />
      </p>
      {t.externalIdRotation.nextRotationAt && <p className="hint">Next scheduled rotation: {dateTime(t.externalIdRotation.nextRotationAt)}</p>}
      {w && (
        <Notice tone="warn">
          {w.message} (the old External ID stops working {dateTime(w.deadline)})
          {w.accounts.length > 0 && (
            <ul>
              {w.accounts.map((a) => (
                <li key={a.accountId}>
                  {a.name} <span className="mono">{a.accountId}</span>: {a.reason}
                </li>
              ))}
            </ul>
          )}
        </Notice>
      )}
      <h3>Previous External IDs</h3>
      {t.previousExternalIds.length === 0 ? (
        <p className="hint">None: the External ID has not been rotated.</p>
      ) : (
        <div className="table-wrap">
          <table className="table stack" data-testid="previous-ids">
            <caption className="sr-only">Previous External IDs and their grace periods</caption>
            <thead>
              <tr>
                <th scope="col">External ID</th>
                <th scope="col">Retired</th>
                <th scope="col">Works until</th>
              </tr>
            </thead>
            <tbody>
              {t.previousExternalIds.map((p) => (
                <tr key={p.externalId}>
                  <td data-label="External ID" className="mono break">
                    {p.externalId}
                  </td>
                  <td data-label="Retired">{dateTime(p.retiredAt)}</td>
                  <td data-label="Works until">{dateTime(p.validUntil)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {confirm && (
        <Dialog title="Rotate the External ID" onClose={() => setConfirm(false)}>
          <p>
            Gangplank issues a new External ID at once; new links carry it. The current one keeps working for the grace period of{" "}
            <strong>{t.settings.externalIdGraceDays} days</strong>, while you update each account's stack. Accounts still on it show as degraded with the date it
            stops working.
          </p>
          <ErrorBox error={act.error} />
          <div className="dialog-foot">
            <button type="button" className="btn btn-primary" onClick={rotate} disabled={act.busy}>
              Rotate now
            </button>
            <button type="button" className="btn btn-quiet" onClick={() => setConfirm(false)}>
              Cancel
            </button>
          </div>
        </Dialog>
      )}
    </section>
  );
}

const termOptions = [
  ["ONE_YEAR", "1 year"],
  ["THREE_YEARS", "3 years"],
] as const;
const paymentOptions = [
  ["NO_UPFRONT", "No upfront"],
  ["PARTIAL_UPFRONT", "Partial upfront"],
  ["ALL_UPFRONT", "All upfront"],
] as const;

function SettingsCard({ loaded, set }: { loaded: Loaded; set: (l: Loaded) => void }) {
  const { api, canWrite } = useApp();
  const s = loaded.data.settings;
  const init = () => ({
    defaultRegion: s.defaultRegion,
    costSyncDefault: s.costSyncDefault,
    externalIdGraceDays: String(s.externalIdGraceDays),
    credentialRotationDays: s.credentialRotationDays ? String(s.credentialRotationDays) : "",
    activationStacksInFlight: s.activationStacksInFlight ? String(s.activationStacksInFlight) : "",
    terms: s.recommendations?.terms ?? [],
    paymentOptions: s.recommendations?.paymentOptions ?? [],
    lookbackDays: String(s.recommendations?.lookbackDays ?? 0),
  });
  const [f, setF] = useState(init);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  useEffect(() => setF(init()), [loaded.etag]);
  const [saved, setSaved] = useState(false);
  const act = useAction();
  const num = (v: string) => (v.trim() === "" ? undefined : Number(v));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    const r = await act.run(() =>
      withETag(
        api.PATCH("/v1/tenant", {
          params: { header: { "If-Match": loaded.etag } },
          body: {
            settings: {
              defaultRegion: f.defaultRegion,
              costSyncDefault: f.costSyncDefault,
              externalIdGraceDays: num(f.externalIdGraceDays),
              credentialRotationDays: num(f.credentialRotationDays) ?? 0,
              activationStacksInFlight: num(f.activationStacksInFlight),
              recommendations: { terms: f.terms, paymentOptions: f.paymentOptions, lookbackDays: Number(f.lookbackDays) as 0 | 7 | 30 | 60 },
            },
          },
        }),
      ),
    );
    if (r) {
      set(r);
      setSaved(true);
    }
  };
  const err = (k: string) => fieldError(act.error, `settings.${k}`) ?? fieldError(act.error, k);
  const toggle = <T extends string>(list: T[], v: T): T[] => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);
  return (
    <section className="card" aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <form onSubmit={submit} noValidate className="form form-grid">
        <FormErrors
          error={act.error}
          fields={["defaultRegion", "costSyncDefault", "externalIdGraceDays", "credentialRotationDays", "activationStacksInFlight", "recommendations", "recommendations.terms", "recommendations.paymentOptions", "recommendations.lookbackDays"].flatMap((k) => [k, `settings.${k}`])}
        />
        <Field label="Default region" error={err("defaultRegion")} hint="Used when a new account names no region; empty for none.">
          {(p) => <input {...p} value={f.defaultRegion} onChange={(e) => setF({ ...f, defaultRegion: e.target.value })} disabled={!canWrite} />}
        </Field>
        <Field label="External ID grace period (days)" error={err("externalIdGraceDays")} hint="How long a rotated-out External ID keeps working (0 to 365).">
          {(p) => <input {...p} inputMode="numeric" value={f.externalIdGraceDays} onChange={(e) => setF({ ...f, externalIdGraceDays: e.target.value })} disabled={!canWrite} />}
        </Field>
        <Field label="Bulk activation: stacks at a time" error={err("activationStacksInFlight")} hint="Onboarding stacks created and awaited at once (10 to 500; 100 when empty).">
          {(p) => <input {...p} inputMode="numeric" value={f.activationStacksInFlight} onChange={(e) => setF({ ...f, activationStacksInFlight: e.target.value })} disabled={!canWrite} />}
        </Field>
        <Field label="Rotate the External ID every (days)" error={err("credentialRotationDays")} hint="7 to 365; empty to rotate only when asked.">
          {(p) => <input {...p} inputMode="numeric" value={f.credentialRotationDays} onChange={(e) => setF({ ...f, credentialRotationDays: e.target.value })} disabled={!canWrite} />}
        </Field>
        <label className="check">
          <input type="checkbox" checked={f.costSyncDefault} onChange={(e) => setF({ ...f, costSyncDefault: e.target.checked })} disabled={!canWrite} /> New accounts sync Cost
          Explorer recommendations
        </label>
        <fieldset className="field">
          <legend>Recommendation terms</legend>
          {termOptions.map(([v, l]) => (
            <label key={v} className="check">
              <input type="checkbox" checked={f.terms.includes(v)} onChange={() => setF({ ...f, terms: toggle(f.terms, v) })} disabled={!canWrite} /> {l}
            </label>
          ))}
          {err("recommendations.terms") && <p className="field-error">{err("recommendations.terms")}</p>}
        </fieldset>
        <fieldset className="field">
          <legend>Payment options</legend>
          {paymentOptions.map(([v, l]) => (
            <label key={v} className="check">
              <input type="checkbox" checked={f.paymentOptions.includes(v)} onChange={() => setF({ ...f, paymentOptions: toggle(f.paymentOptions, v) })} disabled={!canWrite} /> {l}
            </label>
          ))}
        </fieldset>
        <Field label="Look back (days)" error={err("recommendations.lookbackDays")} hint="Cost Explorer's lookback; default 30.">
          {(p) => (
            <select {...p} value={f.lookbackDays} onChange={(e) => setF({ ...f, lookbackDays: e.target.value })} disabled={!canWrite}>
              <option value="0">Default (30)</option>
              <option value="7">7</option>
              <option value="30">30</option>
              <option value="60">60</option>
            </select>
          )}
        </Field>
        {canWrite && (
          <div className="button-row">
            <button type="submit" className="btn btn-primary" disabled={act.busy}>
              Save settings
            </button>
            <span role="status">{saved ? "Settings saved." : ""}</span>
          </div>
        )}
      </form>
    </section>
  );
}
