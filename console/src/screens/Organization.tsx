import { useEffect, useMemo, useState, type FormEvent } from "react";
import { ok, type Account, type Schemas, type paths } from "../api/client";
import { ApiError } from "../api/problem";
import { useAction, useApp, useLoad } from "../app";
import { Badge, ErrorBox, Notice, Progress, Spinner } from "../components/ui";
import { activatable, statusLabels, statusTone } from "../lib/accounts";
import { backoffDelays, poll } from "../lib/backoff";
import { dateTime } from "../lib/format";
import { accountsUnder, buildTree, type TreeNode } from "../lib/orgtree";
import { Link } from "../lib/router";

type Org = paths["/v1/accounts/{accountId}/organization"]["get"]["responses"]["200"]["content"]["application/json"];
type OrgOU = Org["ous"][number];
type OrgMember = Org["accounts"][number];
type Progress = Schemas["ActivationProgress"];

export function OrganizationSection({ account, onChanged }: { account: Account; onChanged: () => void }) {
  const { api, canWrite } = useApp();
  const org = useLoad(
    (a) =>
      ok(a.GET("/v1/accounts/{accountId}/organization", { params: { path: { accountId: account.accountId } } })).catch((err) => {
        // Not discovered yet: the page offers discovery instead of an error.
        if (err instanceof ApiError && (err.status === 404 || err.status === 422 || err.status === 409)) return null;
        throw err;
      }),
    [account.accountId],
  );
  const activations = useLoad((a) => ok(a.GET("/v1/activations")), [account.accountId]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [running, setRunning] = useState<string[]>([]);
  const start = useAction();

  const mine = (activations.data?.items ?? []).filter((x) => x.managementAccountId === account.accountId);
  const shown = [...new Set([...running, ...mine.slice(0, 3).map((x) => x.activationId)])];

  const activate = async (ids: string[]) => {
    const r = await start.run(() =>
      ok(api.POST("/v1/accounts/{accountId}/activations", { params: { path: { accountId: account.accountId } }, body: { accountIds: ids } })),
    );
    if (r) {
      setRunning((x) => [r.activationId, ...x.filter((y) => y !== r.activationId)]);
      setSelected(new Set());
      org.reload();
    }
  };

  if (account.status !== "active" && !org.data) {
    return <Notice tone="info">Connect this management account first: Gangplank reads its organization through its role.</Notice>;
  }
  return (
    <div className="org">
      <DiscoveryCard account={account} lastRun={org.data?.lastRun ?? account.discovery?.lastRun} onDiscovered={() => (org.reload(), onChanged())} />
      {org.data && <FiltersCard account={account} ous={org.data.ous.filter((ou) => ou.id !== org.data!.rootId)} onSaved={onChanged} />}
      <ErrorBox error={start.error} />
      {shown.map((id) => (
        <ActivationPanel key={id} activationId={id} onFinished={org.reload} />
      ))}
      {org.error ? <ErrorBox error={org.error} /> : null}
      {org.loading && !org.data && <Spinner label="Loading the organization…" />}
      {org.data === null && <Notice>The organization has not been discovered yet: discover it now.</Notice>}
      {org.data && (
        <section aria-labelledby="tree-title" className="card">
          <div className="card-head">
            <h2 id="tree-title">Organization</h2>
            {canWrite && (
              <button type="button" className="btn btn-primary" disabled={selected.size === 0 || start.busy} onClick={() => activate([...selected])}>
                Activate Selected ({selected.size})
              </button>
            )}
          </div>
          <p className="hint">
            Discovered {dateTime(org.data.discoveredAt)} · {org.data.accounts.length} member accounts in {org.data.ous.length} OUs
          </p>
          <OrgTree org={org.data} selected={selected} setSelected={setSelected} onActivate={(id) => activate([id])} busy={start.busy} />
        </section>
      )}
    </div>
  );
}

type DiscoveryJob = Schemas["DiscoveryJob"];

/** Discovery on demand: starts a job (or finds the account's unfinished one) and follows its progress to the end. */
function DiscoveryCard({ account, lastRun, onDiscovered }: { account: Account; lastRun?: Schemas["DiscoveryRun"]; onDiscovered: () => void }) {
  const { api, canWrite } = useApp();
  const act = useAction();
  const [run, setRun] = useState(lastRun);
  const [job, setJob] = useState<DiscoveryJob | null>(null);
  const [followError, setFollowError] = useState<unknown>(null);
  useEffect(() => setRun(lastRun), [lastRun]);
  const following = job !== null && (job.status === "queued" || job.status === "running");
  const jobId = following ? job.id : null;
  useEffect(() => {
    if (!jobId) return;
    const ctl = new AbortController();
    poll({
      read: () => ok(api.GET("/v1/discoveries/{discoveryId}", { params: { path: { discoveryId: jobId } }, signal: ctl.signal })),
      done: (j) => j.status === "succeeded" || j.status === "failed",
      onValue: (j) => {
        setJob(j);
        setFollowError(null);
      },
      onError: setFollowError,
      delays: backoffDelays({ start: 500, max: 4000 }),
      signal: ctl.signal,
    }).then((j) => {
      if (j.run) setRun(j.run);
      onDiscovered();
    }, () => undefined);
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [jobId]);
  const discover = async () => {
    const j = await act.run(() => ok(api.POST("/v1/accounts/{accountId}/discovery", { params: { path: { accountId: account.accountId } } })));
    if (j) setJob(j);
  };
  const busy = act.busy || following;
  return (
    <section className="card" aria-labelledby="discovery-title">
      <div className="card-head">
        <h2 id="discovery-title">Discovery</h2>
        {canWrite && (
          <button type="button" className="btn" onClick={discover} disabled={busy}>
            {busy ? "Discovering…" : "Discover now"}
          </button>
        )}
      </div>
      {job && (
        <div role="status" aria-live="polite" className={`alert alert-${job.status === "failed" ? "bad" : job.status === "succeeded" ? "ok" : "info"}`} data-testid="discovery-job" data-status={job.status}>
          {following && <span className="spinner" aria-hidden="true" />} Discovery job <Badge tone={job.status === "failed" ? "bad" : job.status === "succeeded" ? "ok" : "info"}>{job.status}</Badge>{" "}
          {job.progress.accountsRead} accounts and {job.progress.ousRead} OUs read, {job.progress.accountsCompared} compared · {job.progress.calls} Organizations requests
          {job.progress.retries > 0 ? ` (${job.progress.retries} retried after throttling)` : ""}
          {job.error ? <p>{job.error}</p> : null}
        </div>
      )}
      <ErrorBox error={followError} title="Could not read the discovery's progress (retrying):" />
      <ErrorBox error={act.error} />
      {run ? (
        <div role="status" aria-live="polite" data-testid="discovery-run" data-run-at={run.at}>
          <p>
            Last run {dateTime(run.at)}: <Badge tone={run.status === "ok" ? "ok" : "bad"}>{run.status}</Badge> {run.error}
          </p>
          <dl className="facts facts-inline">
            <dt>Found</dt>
            <dd>{run.found}</dd>
            <dt>Added</dt>
            <dd>{run.added}</dd>
            <dt>Updated</dt>
            <dd>{run.updated}</dd>
            <dt>Left</dt>
            <dd>{run.left}</dd>
            <dt>Excluded</dt>
            <dd>{run.excluded}</dd>
            <dt>Held by another tenant</dt>
            <dd>{run.claimedElsewhere}</dd>
            <dt>OUs</dt>
            <dd>{run.ous}</dd>
            <dt>Organizations requests</dt>
            <dd>{run.calls}</dd>
          </dl>
        </div>
      ) : (
        <p className="hint">No discovery has run yet.</p>
      )}
    </section>
  );
}

/** The discovery settings: which OUs and accounts Gangplank brings in, the member role, auto-enrolment. */
function FiltersCard({ account, ous, onSaved }: { account: Account; ous: OrgOU[]; onSaved: () => void }) {
  const { api, canWrite } = useApp();
  const d = account.discovery;
  const [include, setInclude] = useState(new Set(d?.includeOuIds ?? []));
  const [exclude, setExclude] = useState(new Set(d?.excludeOuIds ?? []));
  const [excludedAccounts, setExcludedAccounts] = useState((d?.excludeAccountIds ?? []).join(", "));
  const [role, setRole] = useState(d?.memberRoleName ?? "OrganizationAccountAccessRole");
  const [autoEnroll, setAutoEnroll] = useState(d?.autoEnroll ?? false);
  const [open, setOpen] = useState(false);
  const act = useAction();
  const [saved, setSaved] = useState(false);
  const toggle = (set: Set<string>, update: (s: Set<string>) => void, id: string) => {
    const n = new Set(set);
    if (n.has(id)) n.delete(id);
    else n.add(id);
    update(n);
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    const r = await act.run(() =>
      ok(
        api.PUT("/v1/accounts/{accountId}/discovery/settings", {
          params: { path: { accountId: account.accountId } },
          body: {
            includeOuIds: [...include],
            excludeOuIds: [...exclude],
            excludeAccountIds: excludedAccounts.split(/[\s,]+/).filter(Boolean),
            memberRoleName: role,
            autoEnroll,
          },
        }),
      ),
    );
    if (r) {
      setSaved(true);
      onSaved();
    }
  };
  const summary = `${include.size} included OUs, ${exclude.size} excluded OUs, ${excludedAccounts.split(/[\s,]+/).filter(Boolean).length} excluded accounts`;
  return (
    <section className="card" aria-labelledby="filters-title">
      <div className="card-head">
        <h2 id="filters-title">Include and exclude</h2>
        <button type="button" className="btn btn-small" aria-expanded={open} aria-controls="filters-form" onClick={() => setOpen((o) => !o)}>
          {open ? "Hide filters" : "Edit filters"}
        </button>
      </div>
      <p className="hint">{summary}. No included OU means the whole organization.</p>
      {open && (
        <form id="filters-form" onSubmit={submit} className="form" noValidate>
          <ErrorBox error={act.error} />
          <div className="table-wrap">
            <table className="table stack">
              <caption className="sr-only">Organizational units to include or exclude</caption>
              <thead>
                <tr>
                  <th scope="col">OU</th>
                  <th scope="col">Include</th>
                  <th scope="col">Exclude</th>
                </tr>
              </thead>
              <tbody>
                {[...ous]
                  .sort((x, y) => x.path.localeCompare(y.path))
                  .map((ou) => (
                    <tr key={ou.id}>
                      <th scope="row" data-label="OU">
                        {ou.path}
                      </th>
                      <td data-label="Include">
                        <input type="checkbox" aria-label={`Include ${ou.path}`} checked={include.has(ou.id)} onChange={() => toggle(include, setInclude, ou.id)} disabled={!canWrite} />
                      </td>
                      <td data-label="Exclude">
                        <input type="checkbox" aria-label={`Exclude ${ou.path}`} checked={exclude.has(ou.id)} onChange={() => toggle(exclude, setExclude, ou.id)} disabled={!canWrite} />
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
          <div className="field">
            <label htmlFor="exclude-accounts">Exclude accounts</label>
            <input id="exclude-accounts" value={excludedAccounts} onChange={(e) => setExcludedAccounts(e.target.value)} placeholder="Account IDs, separated by commas" disabled={!canWrite} />
          </div>
          <div className="field">
            <label htmlFor="member-role">Member access role</label>
            <input id="member-role" value={role} onChange={(e) => setRole(e.target.value)} disabled={!canWrite} aria-describedby="member-role-hint" />
            <p className="hint" id="member-role-hint">
              The role bulk activation assumes in member accounts to create their stacks.
            </p>
          </div>
          <label className="check">
            <input type="checkbox" checked={autoEnroll} onChange={(e) => setAutoEnroll(e.target.checked)} disabled={!canWrite} /> Activate new accounts of
            included OUs as discovery finds them
          </label>
          {canWrite && (
            <div className="button-row">
              <button type="submit" className="btn btn-primary" disabled={act.busy}>
                Save filters
              </button>
              {saved && <span role="status">Saved. They apply from the next discovery.</span>}
            </div>
          )}
        </form>
      )}
    </section>
  );
}

function OrgTree({
  org,
  selected,
  setSelected,
  onActivate,
  busy,
}: {
  org: Org;
  selected: Set<string>;
  setSelected: (s: Set<string>) => void;
  onActivate: (id: string) => void;
  busy: boolean;
}) {
  const tree = useMemo(() => buildTree(org.rootId, org.ous, org.accounts), [org]);
  return (
    <ul className="tree" aria-label="Organizational units and member accounts">
      <OUNode node={tree} selected={selected} setSelected={setSelected} onActivate={onActivate} busy={busy} level={0} />
    </ul>
  );
}

const SMALL_OU = 25;

function OUNode({
  node,
  selected,
  setSelected,
  onActivate,
  busy,
  level,
}: {
  node: TreeNode<OrgMember>;
  selected: Set<string>;
  setSelected: (s: Set<string>) => void;
  onActivate: (id: string) => void;
  busy: boolean;
  level: number;
}) {
  const { canWrite } = useApp();
  // A small OU opens whole (every member in sight); in a large organization only the top two levels start open.
  const [open, setOpen] = useState(level < 2 || node.total <= SMALL_OU);
  const candidates = accountsUnder(node).filter((a) => activatable(a.status));
  const allSelected = candidates.length > 0 && candidates.every((a) => selected.has(a.accountId));
  const selectAll = () => {
    const n = new Set(selected);
    for (const a of candidates) {
      if (allSelected) n.delete(a.accountId);
      else n.add(a.accountId);
    }
    setSelected(n);
  };
  const id = `ou-${node.id}`;
  return (
    <li className="ou">
      <div className="ou-head">
        <button type="button" className="expander" aria-expanded={open} aria-controls={id} onClick={() => setOpen((o) => !o)}>
          <span aria-hidden="true">{open ? "▾" : "▸"}</span> <strong>{node.name}</strong>
        </button>
        <span className="hint">
          {node.total} accounts{node.id !== "" && node.path !== node.name ? ` · ${node.path}` : ""}
        </span>
        {canWrite && candidates.length > 0 && (
          <label className="check check-small">
            <input type="checkbox" checked={allSelected} onChange={selectAll} /> Select the {candidates.length} to activate in {node.name}
          </label>
        )}
      </div>
      {open && (
        <ul id={id} className="tree-children">
          {node.accounts.map((a) => (
            <li key={a.accountId} className="member" data-member={a.accountId}>
              {canWrite && activatable(a.status) ? (
                <input
                  type="checkbox"
                  aria-label={`Select ${a.name} (${a.accountId})`}
                  checked={selected.has(a.accountId)}
                  onChange={() => {
                    const n = new Set(selected);
                    if (n.has(a.accountId)) n.delete(a.accountId);
                    else n.add(a.accountId);
                    setSelected(n);
                  }}
                />
              ) : (
                <span className="checkbox-gap" aria-hidden="true" />
              )}
              <Link to={`/accounts/${a.accountId}`}>{a.name}</Link>
              <span className="mono hint">{a.accountId}</span>
              <Badge tone={statusTone[a.status]}>{statusLabels[a.status]}</Badge>
              {a.organization.status !== "ACTIVE" && <Badge tone="warn">{a.organization.status}</Badge>}
              {canWrite && activatable(a.status) && (
                <button type="button" className="btn btn-small" onClick={() => onActivate(a.accountId)} disabled={busy} aria-label={`Activate ${a.name}`}>
                  Activate
                </button>
              )}
            </li>
          ))}
          {node.children.map((c) => (
            <OUNode key={c.id} node={c} selected={selected} setSelected={setSelected} onActivate={onActivate} busy={busy} level={level + 1} />
          ))}
        </ul>
      )}
    </li>
  );
}

/** One activation's live progress: a bar, the counts, every account with its reason, and cancel. */
function ActivationPanel({ activationId, onFinished }: { activationId: string; onFinished: () => void }) {
  const { api, canWrite } = useApp();
  const [p, setP] = useState<Progress | null>(null);
  const [error, setError] = useState<unknown>(null);
  const cancel = useAction();
  useEffect(() => {
    const ctl = new AbortController();
    poll({
      read: () => ok(api.GET("/v1/activations/{activationId}", { params: { path: { activationId }, query: { limit: 100 } }, signal: ctl.signal })),
      done: (x) => x.status !== "running",
      onValue: (x) => {
        setP(x);
        setError(null);
      },
      onError: setError,
      delays: backoffDelays({ start: 700, max: 4000 }),
      signal: ctl.signal,
    }).then(onFinished, () => undefined);
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [activationId]);
  const doCancel = async () => {
    const x = await cancel.run(() => ok(api.DELETE("/v1/activations/{activationId}", { params: { path: { activationId } } })));
    if (x) setP(x);
  };
  if (!p) return error ? <ErrorBox error={error} /> : <Spinner label="Starting the activation…" />;
  const done = p.succeeded + p.failed + p.cancelled;
  return (
    <section className="card activation" aria-labelledby={`act-${activationId}`} data-testid="activation" data-status={p.status}>
      <div className="card-head">
        <h2 id={`act-${activationId}`}>
          Activation of {p.total} account{p.total === 1 ? "" : "s"}{" "}
          <Badge tone={p.status === "running" ? "info" : p.status === "failed" ? "bad" : p.failed > 0 ? "warn" : "ok"}>{p.status}</Badge>
        </h2>
        {canWrite && p.status === "running" && (
          <button type="button" className="btn btn-danger btn-small" onClick={doCancel} disabled={cancel.busy}>
            Cancel activation
          </button>
        )}
      </div>
      <Progress value={done} max={p.total} label={`Activation ${activationId}`} />
      <p className="hint" role="status" aria-live="polite">
        {p.succeeded} succeeded · {p.failed} failed · {p.inProgress} in progress · {p.pending} waiting · {p.cancelled} cancelled · {p.stacksInFlight} stacks at a time · started {dateTime(p.createdAt)}
      </p>
      {p.status === "failed" && p.reason && (
        <p className="alert alert-bad" role="alert">
          The activation stopped: {p.reason}
        </p>
      )}
      <ErrorBox error={cancel.error} />
      <ul className="activation-items">
        {p.items.map((it) => (
          <li key={it.accountId} data-item={it.accountId} data-status={it.status}>
            <span className="mono">{it.accountId}</span>{" "}
            <Badge tone={it.status === "succeeded" ? "ok" : it.status === "failed" ? "bad" : it.status === "cancelled" ? "muted" : "info"}>{it.status.replace("_", " ")}</Badge>
            {it.reason && <span className="reason">{it.reason}</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}
