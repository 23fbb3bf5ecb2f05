import { useState, type FormEvent } from "react";
import { withETag, type Account, type Schemas } from "../api/client";
import { ApiError } from "../api/problem";
import { useAction, useApp } from "../app";
import { Badge, Dialog, Field, FormErrors, fieldError } from "../components/ui";
import { dateTime } from "../lib/format";
import { listFieldError, splitList } from "../lib/lists";

type Loaded = { data: Account; etag: string };
type IntegrationRequest = Schemas["IntegrationRequest"];

/** The account's integration settings (PUT /v1/accounts/{id}/integration), as Terraform states them too. */
export function IntegrationCard({ loaded, set }: { loaded: Loaded; set: (l: Loaded) => void }) {
  const { canWrite } = useApp();
  const [editing, setEditing] = useState(false);
  const i = loaded.data.integration;
  const list = (xs: string[], none: string) => (xs.length ? xs.join(", ") : none);
  return (
    <section className="card" aria-labelledby="integration-title" data-testid="integration">
      <div className="card-head">
        <h2 id="integration-title">Integration settings</h2>
        {canWrite && (
          <button type="button" className="btn btn-small" onClick={() => setEditing(true)}>
            Edit integration settings
          </button>
        )}
      </div>
      {i.integrationName ? (
        <dl className="facts">
          <dt>Integration name</dt>
          <dd className="mono">{i.integrationName}</dd>
          <dt>Owners</dt>
          <dd>{list(i.owners, "—")}</dd>
          {i.customAccessDetails && (
            <>
              <dt>Access details</dt>
              <dd>{i.customAccessDetails}</dd>
            </>
          )}
          <dt>Credential rotation</dt>
          <dd>
            {i.credentialRotationDays ? `Every ${i.credentialRotationDays} days` : "Off"}
            {i.nextCredentialRotationAt && <span className="reason">Next {dateTime(i.nextCredentialRotationAt)}</span>}
          </dd>
          <dt>Offboarded users</dt>
          <dd>{i.userCleanupDays ? `Deleted after ${i.userCleanupDays} days` : "Deleted at once"}</dd>
          <dt>Resource types</dt>
          <dd>{list(i.resourceTypes, "All")}</dd>
          <dt>Regions</dt>
          <dd>{list(i.regions, "Every region enabled in the account")}</dd>
          {i.ssoRegion && (
            <>
              <dt>IAM Identity Center</dt>
              <dd>
                {i.ssoRegion}{" "}
                {i.ssoRegionCheck && (
                  <>
                    <Badge tone={i.ssoRegionCheck.status === "verified" ? "ok" : "warn"}>{i.ssoRegionCheck.status}</Badge>
                    <span className="reason">{i.ssoRegionCheck.reason}</span>
                  </>
                )}
              </dd>
            </>
          )}
        </dl>
      ) : (
        <p className="hint">No integration settings yet: name the integration and its owners to use this account in access flows.</p>
      )}
      {editing && <IntegrationDialog loaded={loaded} onClose={() => setEditing(false)} onSaved={(l) => (set(l), setEditing(false))} />}
    </section>
  );
}

function IntegrationDialog({ loaded, onClose, onSaved }: { loaded: Loaded; onClose: () => void; onSaved: (l: Loaded) => void }) {
  const { api } = useApp();
  const a = loaded.data;
  const i = a.integration;
  const [name, setName] = useState(i.integrationName ?? "");
  const [owners, setOwners] = useState(i.owners.join(", "));
  const [details, setDetails] = useState(i.customAccessDetails ?? "");
  const [rotation, setRotation] = useState(i.credentialRotationDays ? String(i.credentialRotationDays) : "");
  const [cleanup, setCleanup] = useState(i.userCleanupDays ? String(i.userCleanupDays) : "");
  const [types, setTypes] = useState(i.resourceTypes.join(", "));
  const [regions, setRegions] = useState(i.regions.join(", "));
  const [sso, setSso] = useState(i.ssoRegion ?? "");
  const act = useAction();
  const days = (s: string) => (s.trim() === "" ? undefined : Number(s));
  const body: IntegrationRequest = {
    integrationName: name.trim(),
    owners: splitList(owners),
    ...(details.trim() && { customAccessDetails: details.trim() }),
    ...(days(rotation) !== undefined && { credentialRotationDays: days(rotation) }),
    ...(days(cleanup) !== undefined && { userCleanupDays: days(cleanup) }),
    resourceTypes: splitList(types),
    regions: splitList(regions),
    ...(sso.trim() && { ssoRegion: sso.trim() }),
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await act.run(() =>
      withETag(api.PUT("/v1/accounts/{accountId}/integration", { params: { path: { accountId: a.accountId }, header: { "If-Match": loaded.etag } }, body })),
    );
    if (r) onSaved(r);
  };
  const errors = act.error instanceof ApiError ? act.error.fieldErrors() : {};
  const fields = ["integrationName", "owners", "customAccessDetails", "credentialRotationDays", "userCleanupDays", "resourceTypes", "regions", "ssoRegion"];
  // Item errors (owners[1]) are shown at their list's input, not above the form.
  const shown = [...fields, ...Object.keys(errors).filter((f) => fields.includes(f.replace(/\[\d+\]$/, "")))];
  return (
    <Dialog title="Integration settings" onClose={onClose} wide>
      <form onSubmit={submit} noValidate className="form">
        <FormErrors error={act.error} fields={shown} />
        <Field label="Integration name" hint="Letters, digits, - and _; unique in your tenant" error={fieldError(act.error, "integrationName")}>
          {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />}
        </Field>
        <Field label="Owners" hint="Emails of the people responsible, separated by commas" error={listFieldError(errors, "owners", body.owners)}>
          {(p) => <input {...p} value={owners} onChange={(e) => setOwners(e.target.value)} autoComplete="off" />}
        </Field>
        <Field label="Access details for end users" hint="Plain text, one line, at most 400 characters" error={fieldError(act.error, "customAccessDetails")}>
          {(p) => <input {...p} value={details} onChange={(e) => setDetails(e.target.value)} autoComplete="off" />}
        </Field>
        <div className="grid-2">
          <Field label="Rotate the access key every (days)" hint="1 to 365; empty turns rotation off" error={fieldError(act.error, "credentialRotationDays")}>
            {(p) => <input {...p} inputMode="numeric" value={rotation} onChange={(e) => setRotation(e.target.value)} />}
          </Field>
          <Field label="Delete offboarded users after (days)" hint="1 to 365; empty deletes them at once" error={fieldError(act.error, "userCleanupDays")}>
            {(p) => <input {...p} inputMode="numeric" value={cleanup} onChange={(e) => setCleanup(e.target.value)} />}
          </Field>
        </div>
        <Field label="Resource types" hint="Such as ec2:instance, s3:bucket; empty for all" error={listFieldError(errors, "resourceTypes", body.resourceTypes ?? [])}>
          {(p) => <input {...p} value={types} onChange={(e) => setTypes(e.target.value)} autoComplete="off" />}
        </Field>
        <Field label="Regions" hint="Such as us-east-1; empty for every region enabled in the account" error={listFieldError(errors, "regions", body.regions ?? [])}>
          {(p) => <input {...p} value={regions} onChange={(e) => setRegions(e.target.value)} autoComplete="off" />}
        </Field>
        {a.type === "management" && (
          <Field label="IAM Identity Center region" hint="Checked through the account's role" error={fieldError(act.error, "ssoRegion")}>
            {(p) => <input {...p} value={sso} onChange={(e) => setSso(e.target.value)} autoComplete="off" />}
          </Field>
        )}
        <div className="dialog-foot">
          <button type="submit" className="btn btn-primary" disabled={act.busy}>
            Save settings
          </button>
          <button type="button" className="btn btn-quiet" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
