import { useState, type FormEvent, type ReactNode } from "react";
import { ok, withETag, type AccessLevel, type Account, type Onboarding } from "../api/client";
import { ApiError } from "../api/problem";
import { useAction, useApp, useLoad } from "../app";
import { PageHead } from "../components/layout";
import { Badge, Dialog, ErrorBox, Field, FormErrors, Notice, Spinner, fieldError } from "../components/ui";
import { StatusCell } from "../components/accountsTable";
import { accessLabel, accessLevels, healthTone, identityAccessOptions, needsStackUpdate, typeLabels, type IdentityAccess } from "../lib/accounts";
import { dateTime } from "../lib/format";
import { Link, navigate, useLocation } from "../lib/router";
import { ConnectPanel } from "./Connect";
import { OrganizationSection } from "./Organization";
import { AccountRecommendations } from "./Recommendations";
import { CommitmentSection } from "./Commitment";
import { AccountResources } from "./Resources";
import { AccountIAM } from "./IAMUsers";
import { ViewAsCode } from "./ViewAsCode";
import { IntegrationCard } from "./Integration";

type Loaded = { data: Account; etag: string };

export function AccountScreen({ accountId, section }: { accountId: string; section: string }) {
  const account = useLoad((api) => withETag(api.GET("/v1/accounts/{accountId}", { params: { path: { accountId } } })), [accountId]);
  if (account.error) {
    return (
      <>
        <PageHead title={`Account ${accountId}`} crumbs={[{ to: "/accounts", label: "Accounts" }]} />
        <ErrorBox error={account.error} />
      </>
    );
  }
  if (!account.data) return <Spinner label="Loading the account…" />;
  const a = account.data.data;
  const sections = [
    { id: "", label: "Overview" },
    ...(a.type === "management" ? [{ id: "organization", label: "Organization" }] : []),
    { id: "recommendations", label: "Recommendations" },
    ...(a.type !== "linked" ? [{ id: "commitment", label: "EDP commitment" }] : []),
    { id: "resources", label: "Resources and tags" },
    { id: "iam", label: "IAM users" },
    { id: "code", label: "View as Code" },
  ];
  const base = `/accounts/${accountId}`;
  let body: ReactNode;
  switch (section) {
    case "organization":
      body = <OrganizationSection account={a} onChanged={account.reload} />;
      break;
    case "recommendations":
      body = <AccountRecommendations account={a} />;
      break;
    case "commitment":
      body = <CommitmentSection account={a} />;
      break;
    case "resources":
      body = <AccountResources account={a} />;
      break;
    case "iam":
      body = <AccountIAM account={a} />;
      break;
    case "code":
      body = <ViewAsCode account={a} />;
      break;
    default:
      body = <Overview loaded={account.data} set={account.set} reload={account.reload} />;
  }
  return (
    <>
      <PageHead title={a.name} crumbs={[{ to: "/accounts", label: "Accounts" }]}>
        <span className="mono">{a.accountId}</span>
        <span data-testid="account-status">
          <StatusCell account={{ status: a.status, statusReason: "" }} />
        </span>
      </PageHead>
      <nav className="subnav" aria-label="Account sections">
        <ul>
          {sections.map((s) => (
            <li key={s.id}>
              <Link to={s.id ? `${base}/${s.id}` : base} aria-current={section === s.id ? "page" : undefined}>
                {s.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {body}
      {section === "connect" && <ConnectDialog account={a} onClose={() => navigate(base)} onDone={account.reload} />}
    </>
  );
}

function Overview({ loaded, set, reload }: { loaded: Loaded; set: (l: Loaded) => void; reload: () => void }) {
  const { api, canWrite } = useApp();
  const a = loaded.data;
  const [dialog, setDialog] = useState<"" | "rename" | "access" | "remove" | "disconnect">("");
  // Once the person started updating the stack, the callout stays (saying the update landed) until dismissed,
  // rather than vanishing under them when the account reloads.
  const [updating, setUpdating] = useState(false);
  const verify = useAction();
  const connectable = ["pending", "failed", "disconnected", "not_activated"].includes(a.status);
  const doVerify = async () => {
    const r = await verify.run(() => withETag(api.POST("/v1/accounts/{accountId}/verify", { params: { path: { accountId: a.accountId } } })));
    if (r) set(r);
  };
  return (
    <>
      {canWrite && (
        <div className="button-row" role="group" aria-label="Account actions">
          {connectable && (
            <Link className="btn btn-primary" to={`/accounts/${a.accountId}/connect`}>
              Connect
            </Link>
          )}
          <button type="button" className="btn" onClick={() => setDialog("rename")}>
            Rename
          </button>
          <button type="button" className="btn" onClick={() => setDialog("access")}>
            Change Access
          </button>
          {a.status === "active" && (
            <button type="button" className="btn" onClick={doVerify} disabled={verify.busy}>
              {verify.busy ? "Checking the role…" : "Check the role now"}
            </button>
          )}
          {a.roleArn && a.status !== "disconnected" && (
            <button type="button" className="btn btn-danger" onClick={() => setDialog("disconnect")}>
              Disconnect
            </button>
          )}
          <button type="button" className="btn btn-danger" onClick={() => setDialog("remove")}>
            Remove
          </button>
        </div>
      )}
      <ErrorBox error={verify.error} />
      {(needsStackUpdate(a) || updating) && (
        <UpdateStackCallout account={a} onStarted={() => setUpdating(true)} onUpdated={reload} onDismiss={() => setUpdating(false)} />
      )}
      <div className="grid-2">
        <section className="card" aria-labelledby="status-title">
          <h2 id="status-title">Status</h2>
          <dl className="facts">
            <dt>Status</dt>
            <dd>
              <StatusCell account={a} />
            </dd>
            <dt>Health</dt>
            <dd>
              <Badge tone={healthTone[a.health.status] ?? "muted"}>{a.health.status}</Badge>
              {a.health.reason && <span className="reason">{a.health.reason}</span>}
            </dd>
            <dt>Last checked</dt>
            <dd>{dateTime(a.lastVerifiedAt ?? a.health.checkedAt)}</dd>
            <dt>Activated</dt>
            <dd>{dateTime(a.activatedAt)}</dd>
          </dl>
        </section>
        <section className="card" aria-labelledby="details-title">
          <h2 id="details-title">Details</h2>
          <dl className="facts">
            <dt>Type</dt>
            <dd>{typeLabels[a.type]}</dd>
            {a.managementAccountId && (
              <>
                <dt>Management account</dt>
                <dd>
                  <Link to={`/accounts/${a.managementAccountId}`} className="mono">
                    {a.managementAccountId}
                  </Link>
                </dd>
              </>
            )}
            <dt>Region</dt>
            <dd>{a.region}</dd>
            <dt>Access level</dt>
            <dd data-testid="access-level">{accessLabel(a.accessLevel)}</dd>
            <dt>Granted by the role</dt>
            <dd>{a.grantedAccessLevel ? accessLabel(a.grantedAccessLevel) : "—"}</dd>
            <dt>Cost Explorer sync</dt>
            <dd>{a.costSync ? "On" : "Off"}</dd>
            <dt>Role</dt>
            <dd className="mono break">{a.roleArn ?? "—"}</dd>
            <dt>Template version</dt>
            <dd>{a.templateVersion ?? "—"}</dd>
            {a.organization && (
              <>
                <dt>Organization path</dt>
                <dd>{a.organization.path}</dd>
              </>
            )}
          </dl>
        </section>
      </div>
      <IntegrationCard loaded={loaded} set={set} />
      {dialog === "rename" && <RenameDialog loaded={loaded} onClose={() => setDialog("")} onSaved={(l) => (set(l), setDialog(""))} />}
      {dialog === "access" && <AccessDialog loaded={loaded} onClose={() => setDialog("")} onSaved={(l) => (set(l), setDialog(""))} />}
      {dialog === "remove" && <RemoveDialog account={a} onClose={() => setDialog("")} />}
      {dialog === "disconnect" && <DisconnectDialog account={a} onClose={() => setDialog("")} onDone={(l) => (set(l), setDialog(""))} />}
    </>
  );
}

function RenameDialog({ loaded, onClose, onSaved }: { loaded: Loaded; onClose: () => void; onSaved: (l: Loaded) => void }) {
  const { api } = useApp();
  const [name, setName] = useState(loaded.data.name);
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await act.run(() =>
      withETag(
        api.PATCH("/v1/accounts/{accountId}", {
          params: { path: { accountId: loaded.data.accountId }, header: { "If-Match": loaded.etag } },
          body: { name },
        }),
      ),
    );
    if (r) onSaved(r);
  };
  return (
    <Dialog title={`Rename ${loaded.data.name}`} onClose={onClose}>
      <form onSubmit={submit} noValidate className="form">
        <FormErrors error={act.error} fields={["name"]} />
        <Field label="New name" error={fieldError(act.error, "name")}>
          {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />}
        </Field>
        <div className="dialog-foot">
          <button type="submit" className="btn btn-primary" disabled={act.busy}>
            Save name
          </button>
          <button type="button" className="btn btn-quiet" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Change Access: PyraCloud's three access levels and the Cost Explorer sync. */
function AccessDialog({ loaded, onClose, onSaved }: { loaded: Loaded; onClose: () => void; onSaved: (l: Loaded) => void }) {
  const { api } = useApp();
  const a = loaded.data;
  const [level, setLevel] = useState<AccessLevel>(a.accessLevel);
  const [costSync, setCostSync] = useState(a.costSync);
  const [identity, setIdentity] = useState<IdentityAccess>(a.identityAccess);
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await act.run(() =>
      withETag(
        api.PATCH("/v1/accounts/{accountId}", {
          params: { path: { accountId: a.accountId }, header: { "If-Match": loaded.etag } },
          body: { accessLevel: level, costSync, ...(identity !== a.identityAccess ? { identityAccess: identity } : {}) },
        }),
      ),
    );
    if (r) onSaved(r);
  };
  return (
    <Dialog title="Change Access" onClose={onClose} wide>
      <form onSubmit={submit} noValidate className="form">
        <FormErrors error={act.error} fields={["accessLevel", "costSync", "identityAccess"]} />
        <fieldset className="field">
          <legend>What Gangplank may do in {a.name}</legend>
          <div className="choices">
            {accessLevels.map((l) => (
              <label key={l.value} className="choice">
                <input type="radio" name="level" value={l.value} checked={level === l.value} onChange={() => setLevel(l.value)} />
                <span>
                  <strong>{l.label}</strong>
                  <span className="hint">{l.description}</span>
                </span>
              </label>
            ))}
          </div>
          {fieldError(act.error, "accessLevel") && <p className="field-error">{fieldError(act.error, "accessLevel")}</p>}
        </fieldset>
        <fieldset className="field">
          <legend>IAM users in {a.name}</legend>
          <div className="choices">
            {identityAccessOptions.map((l) => (
              <label key={l.value} className="choice">
                <input type="radio" name="identityAccess" value={l.value} checked={identity === l.value} onChange={() => setIdentity(l.value)} />
                <span>
                  <strong>{l.label}</strong>
                  <span className="hint">{l.description}</span>
                </span>
              </label>
            ))}
          </div>
          {fieldError(act.error, "identityAccess") && <p className="field-error">{fieldError(act.error, "identityAccess")}</p>}
        </fieldset>
        <label className="check">
          <input type="checkbox" checked={costSync} onChange={(e) => setCostSync(e.target.checked)} /> Sync Cost Explorer recommendations
        </label>
        {a.status === "active" && a.grantedAccessLevel && level !== a.grantedAccessLevel && (
          <Notice tone="info">The role was deployed with “{accessLabel(a.grantedAccessLevel)}”. A higher level needs the stack updated: the console offers the update link after you save.</Notice>
        )}
        <div className="dialog-foot">
          <button type="submit" className="btn btn-primary" disabled={act.busy}>
            Save access
          </button>
          <button type="button" className="btn btn-quiet" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The role grants less than chosen: the stack must be updated, with the update link of new launch material. */
function UpdateStackCallout({
  account,
  onStarted,
  onUpdated,
  onDismiss,
}: {
  account: Account;
  onStarted: () => void;
  onUpdated: () => void;
  onDismiss: () => void;
}) {
  const { api, canWrite } = useApp();
  const [material, setMaterial] = useState<Onboarding | null>(null);
  const act = useAction();
  const updated = !needsStackUpdate(account);
  const get = async () => {
    const m = await act.run(() => ok(api.GET("/v1/accounts/{accountId}/onboarding", { params: { path: { accountId: account.accountId } } })));
    if (m) {
      setMaterial(m);
      onStarted();
    }
  };
  return (
    <section className={updated ? "alert alert-ok" : "alert alert-warn"} aria-labelledby="update-title" data-testid="update-stack">
      <h2 id="update-title">{updated ? "The stack is updated" : "Update the stack"}</h2>
      {updated ? (
        <p>
          The role grants “{accessLabel(account.grantedAccessLevel)}”, the level chosen.{" "}
          <button type="button" className="btn" onClick={onDismiss}>
            Dismiss
          </button>
        </p>
      ) : (
        <p>
          You chose “{accessLabel(account.accessLevel)}”, but the role grants “{accessLabel(account.grantedAccessLevel)}”. Update the onboarding stack so the
          role grants the new level; until then Gangplank works with what the role grants.
        </p>
      )}
      {canWrite && !material && (
        <button type="button" className="btn btn-primary" onClick={get} disabled={act.busy}>
          Get the update link
        </button>
      )}
      <ErrorBox error={act.error} />
      {material && (
        <ConnectPanel
          account={account}
          onboarding={material}
          goal={(x) => x.grantedAccessLevel === x.accessLevel}
          onDone={onUpdated}
        />
      )}
    </section>
  );
}

/** Disconnect on request: Gangplank forgets the role and stops using it; the account stays, to connect again. */
function DisconnectDialog({ account, onClose, onDone }: { account: Account; onClose: () => void; onDone: (l: Loaded) => void }) {
  const { api } = useApp();
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await act.run(() => withETag(api.POST("/v1/accounts/{accountId}/disconnect", { params: { path: { accountId: account.accountId } } })));
    if (r) onDone(r);
  };
  return (
    <Dialog title={`Disconnect ${account.name}`} onClose={onClose}>
      <form onSubmit={submit} noValidate className="form">
        <p>
          Gangplank forgets the role <span className="mono wrap-anywhere">{account.roleArn}</span> and stops using it: no syncs, no activations, no changes in
          account <span className="mono">{account.accountId}</span>. The account stays listed as Disconnected, with its settings, until you connect a role again
          or remove it. The role itself stays in the account until you delete its stack.
        </p>
        <ErrorBox error={act.error} />
        <div className="dialog-foot">
          <button type="submit" className="btn btn-danger" disabled={act.busy}>
            Disconnect account
          </button>
          <button type="button" className="btn btn-quiet" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function RemoveDialog({ account, onClose }: { account: Account; onClose: () => void }) {
  const { api } = useApp();
  const [typed, setTyped] = useState("");
  const act = useAction();
  const confirmed = typed === account.name;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!confirmed) return;
    const done = await act.run(async () => {
      await ok(api.DELETE("/v1/accounts/{accountId}", { params: { path: { accountId: account.accountId }, query: { confirm: typed } } }));
      return true;
    });
    if (done) navigate("/accounts");
  };
  const linked = act.error instanceof ApiError && act.error.kind === "has-linked-accounts" ? act.error.problem : null;
  return (
    <Dialog title={`Remove ${account.name}`} onClose={onClose}>
      <form onSubmit={submit} noValidate className="form">
        <p>
          Gangplank stops using account <span className="mono">{account.accountId}</span> and forgets it. The role in the account stays until you delete its
          stack.
        </p>
        {linked ? (
          <div className="alert alert-bad" role="alert" data-testid="remove-refused">
            <strong>{account.name} still has linked accounts.</strong> {linked.detail} Remove its {linked.linkedAccountCount ?? linked.linkedAccounts?.length} linked
            account(s) first:
            <ul className="mono">
              {(linked.linkedAccounts ?? []).map((id) => (
                <li key={id}>
                  <Link to={`/accounts/${id}`}>{id}</Link>
                </li>
              ))}
            </ul>
          </div>
        ) : (
          <FormErrors error={act.error} fields={["confirm"]} />
        )}
        <Field label={`Type the account's name, ${account.name}, to confirm`} error={linked ? undefined : fieldError(act.error, "confirm")}>
          {(p) => <input {...p} value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />}
        </Field>
        <div className="dialog-foot">
          <button type="submit" className="btn btn-danger" disabled={!confirmed || act.busy} aria-disabled={!confirmed}>
            Remove account
          </button>
          <button type="button" className="btn btn-quiet" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** New launch material for an account not connected yet (each call issues a new link: admins only). */
function ConnectDialog({ account, onClose, onDone }: { account: Account; onClose: () => void; onDone: () => void }) {
  const { path } = useLocation();
  const material = useLoad((api) => ok(api.GET("/v1/accounts/{accountId}/onboarding", { params: { path: { accountId: account.accountId } } })), [account.accountId, path]);
  return (
    <Dialog title={`Connect ${account.name}`} onClose={onClose} wide>
      {material.error ? <ErrorBox error={material.error} /> : null}
      {!material.data && !material.error && <Spinner label="Issuing a new link…" />}
      {material.data && <ConnectPanel account={account} onboarding={material.data} onDone={onDone} onNewLink={material.reload} />}
      <div className="dialog-foot">
        <button type="button" className="btn btn-quiet" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
