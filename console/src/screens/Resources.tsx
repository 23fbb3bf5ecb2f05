import { useEffect, useState, type FormEvent } from "react";
import { ok, withETag, type Account, type Schemas } from "../api/client";
import { ApiError } from "../api/problem";
import { useAction, useApp, useLoad } from "../app";
import { PageHead } from "../components/layout";
import { Badge, Dialog, ErrorBox, FormErrors, Notice, Spinner } from "../components/ui";
import { backoffDelays, poll } from "../lib/backoff";
import { dateTime } from "../lib/format";
import { Link, navigate, query, useLocation } from "../lib/router";
import { parseTagFilter, rowsOf, tagPatch, writeSettled, writeStateLabel, writeStateTone, type TagRow } from "../lib/tags";
import { Pager } from "./Accounts";

type Resource = Schemas["Resource"];
type Inventory = Schemas["InventoryStatus"];

const inventoryTone = { initializing: "info", active: "ok", error: "bad" } as const;

/** The account's inventory: its status (with the reason to act on), counts, the last sync, and "Sync now". */
export function InventoryCard({ account, onSynced }: { account: Account; onSynced: () => void }) {
  const { api, canWrite } = useApp();
  const status = useLoad((a) => ok(a.GET("/v1/accounts/{accountId}/resources/sync", { params: { path: { accountId: account.accountId } } })), [account.accountId]);
  const act = useAction();
  // What ends the wait: the first sync (initializing), or the sync asked for (a later run than the one before).
  const [requestedAfter, setRequestedAfter] = useState<Inventory | null>(null);
  const s = status.data;
  const running = s?.running !== undefined;
  const initializing = s?.status === "initializing";
  const following = requestedAfter !== null || initializing || running;
  useEffect(() => {
    if (!following) return;
    const ctl = new AbortController();
    const before = requestedAfter;
    const finished = (x: Inventory) => {
      if (x.running !== undefined || x.status === "initializing") return false;
      if (!before) return true;
      return (x.lastSync?.seq ?? 0) > (before.lastSync?.seq ?? 0) || (x.status === "error" && x.updatedAt !== before.updatedAt);
    };
    poll({
      read: () => ok(api.GET("/v1/accounts/{accountId}/resources/sync", { params: { path: { accountId: account.accountId } }, signal: ctl.signal })),
      done: finished,
      onValue: status.set,
      delays: backoffDelays({ start: 700, max: 5000 }),
      signal: ctl.signal,
    }).then(
      () => {
        setRequestedAfter(null);
        onSynced();
      },
      () => undefined,
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [following, requestedAfter, account.accountId]);
  const syncNow = async () => {
    const before = s;
    const x = await act.run(() => ok(api.POST("/v1/accounts/{accountId}/resources/sync", { params: { path: { accountId: account.accountId } } })));
    if (x && before) {
      status.set(x);
      setRequestedAfter(before);
    }
  };
  return (
    <section className="card" aria-labelledby="inventory-title" data-testid="inventory-status" data-status={s?.status} data-seq={s?.lastSync?.seq ?? 0}>
      <div className="card-head">
        <h2 id="inventory-title">Inventory</h2>
        {canWrite && s && (
          <button type="button" className="btn" onClick={syncNow} disabled={act.busy || following}>
            {following ? "Syncing…" : "Sync now"}
          </button>
        )}
      </div>
      {status.error ? <ErrorBox error={status.error} /> : null}
      <ErrorBox error={act.error} />
      {!s && !status.error && <Spinner label="Reading the inventory's status…" />}
      {s && (
        <div role="status" aria-live="polite">
          <p>
            <Badge tone={inventoryTone[s.status]}>{s.status}</Badge> {s.reason}
            {running && (
              <>
                {" "}
                <span className="spinner" aria-hidden="true" /> A sync is running ({s.running!.trigger}, {s.running!.pending ?? 0} region scans to go).
              </>
            )}
          </p>
          <dl className="facts facts-inline">
            <dt>Resources</dt>
            <dd data-testid="inventory-count">{s.resources}</dd>
            <dt>Last synced</dt>
            <dd>{dateTime(s.lastSyncedAt)}</dd>
            <dt>Source</dt>
            <dd>{s.source === "resource-explorer" ? "Resource Explorer" : s.source === "tagging-api" ? "Tagging API" : "—"}</dd>
            <dt>Next sync</dt>
            <dd>{dateTime(s.nextSyncDueAt)}</dd>
            {s.lastSync && (
              <>
                <dt>AWS calls</dt>
                <dd>
                  {s.lastSync.calls} ({s.lastSync.listingCalls} listing, bound {s.lastSync.bound})
                </dd>
              </>
            )}
          </dl>
          {Object.values(s.regionResources).some((n) => n > 0) && (
            <p className="hint">
              By region:{" "}
              {Object.entries(s.regionResources)
                .filter(([, n]) => n > 0)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([r, n]) => `${r} ${n}`)
                .join(" · ")}
            </p>
          )}
        </div>
      )}
    </section>
  );
}

interface Filters {
  region: string;
  type: string;
  tag: string;
}

function useResourceFilters(base: string): [Filters, (f: Partial<Filters>) => void] {
  const { search } = useLocation();
  const f = { region: search.get("region") ?? "", type: search.get("type") ?? "", tag: search.get("tag") ?? "" };
  return [f, (change) => navigate(base + query({ ...f, ...change }), { replace: true })];
}

/** The resources of one account (accountId) or of the tenant, with filters, tag summaries and tag editing. */
function ResourceBrowser({ accountId, base, editable }: { accountId?: string; base: string; editable: boolean }) {
  const [filters, setFilters] = useResourceFilters(base);
  const [draft, setDraft] = useState(filters);
  const [cursors, setCursors] = useState<string[]>([""]);
  const [editing, setEditing] = useState<string | null>(null);
  const [fresh, setFresh] = useState(0);
  useEffect(() => {
    setDraft(filters);
    setCursors([""]);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [filters.region, filters.type, filters.tag]);
  const cursor = cursors[cursors.length - 1] ?? "";
  const q = { region: filters.region || undefined, type: filters.type || undefined, tag: filters.tag || undefined, limit: 25, cursor: cursor || undefined };
  const page = useLoad(
    (api) =>
      accountId
        ? ok(api.GET("/v1/accounts/{accountId}/resources", { params: { path: { accountId }, query: q } }))
        : ok(api.GET("/v1/resources", { params: { query: q } })),
    [accountId, filters.region, filters.type, filters.tag, cursor, fresh],
  );
  const onFilter = (e: FormEvent) => {
    e.preventDefault();
    setFilters({ region: draft.region.trim(), type: draft.type.trim(), tag: parseTagFilter(draft.tag) });
  };
  return (
    <>
      <TagSummary accountId={accountId} onPick={(tag) => setFilters({ tag })} fresh={fresh} />
      <section className="card" aria-labelledby="resources-title">
        <h2 id="resources-title">Resources</h2>
        <form className="filters" role="search" aria-label="Filter resources" onSubmit={onFilter}>
          <div className="field">
            <label htmlFor="res-tag">Tag</label>
            <input id="res-tag" value={draft.tag} placeholder="env=prod" onChange={(e) => setDraft({ ...draft, tag: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor="res-type">Type</label>
            <input id="res-type" value={draft.type} placeholder="sqs:queue" onChange={(e) => setDraft({ ...draft, type: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor="res-region">Region</label>
            <input id="res-region" value={draft.region} placeholder="eu-west-1" onChange={(e) => setDraft({ ...draft, region: e.target.value })} />
          </div>
          <button type="submit" className="btn">
            Filter
          </button>
          {(filters.tag || filters.type || filters.region) && (
            <button type="button" className="btn btn-quiet" onClick={() => setFilters({ region: "", type: "", tag: "" })}>
              Clear filters
            </button>
          )}
        </form>
        {page.error ? <ErrorBox error={page.error} /> : null}
        {!page.data && !page.error && <Spinner label="Loading resources…" />}
        {page.data && (
          <>
            <ResourceTable items={page.data.items} showAccount={!accountId} editable={editable} onEdit={setEditing} />
            <Pager
              label="Resources"
              pageNumber={cursors.length}
              next={page.data.nextCursor ? () => setCursors((c) => [...c, page.data!.nextCursor!]) : undefined}
              previous={cursors.length > 1 ? () => setCursors((c) => c.slice(0, -1)) : undefined}
            />
          </>
        )}
      </section>
      {editing && (
        <TagEditor
          arn={editing}
          onClose={() => {
            setEditing(null);
            setFresh((n) => n + 1);
          }}
        />
      )}
    </>
  );
}

function WriteBadge({ r }: { r: Resource }) {
  const e = r.tagEdits;
  if (!e) return <span className="hint">—</span>;
  return (
    <span data-testid="write-state" data-state={e.state}>
      <Badge tone={writeStateTone[e.state]}>{writeStateLabel[e.state]}</Badge>
      {e.reason ? <span className="reason"> {e.reason}</span> : null}
    </span>
  );
}

function ResourceTable({ items, showAccount, editable, onEdit }: { items: Resource[]; showAccount: boolean; editable: boolean; onEdit: (arn: string) => void }) {
  const { canWrite } = useApp();
  return (
    <div className="table-wrap">
      <table className="table stack" data-testid="resources-table">
        <caption className="sr-only">Resources</caption>
        <thead>
          <tr>
            <th scope="col">Resource</th>
            {showAccount && <th scope="col">Account</th>}
            <th scope="col">Type</th>
            <th scope="col">Region</th>
            <th scope="col">Tags</th>
            <th scope="col">Tag edits</th>
            {canWrite && editable && (
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {items.length === 0 && (
            <tr>
              <td colSpan={7} className="empty">
                No resources match.
              </td>
            </tr>
          )}
          {items.map((r) => (
            <tr key={r.arn} data-arn={r.arn}>
              <td data-label="Resource" className="wrap-anywhere">
                <span className="mono">{r.id}</span>
              </td>
              {showAccount && (
                <td data-label="Account">
                  <Link to={`/accounts/${r.accountId}/resources`} className="mono">
                    {r.accountId}
                  </Link>
                </td>
              )}
              <td data-label="Type">{r.type}</td>
              <td data-label="Region">{r.region}</td>
              <td data-label="Tags">
                {r.tags === undefined ? (
                  <span className="hint">Not read at this access level</span>
                ) : (
                  <ul className="chips" aria-label={`Tags of ${r.id}`}>
                    {Object.entries(r.tags)
                      .sort(([a], [b]) => a.localeCompare(b))
                      .map(([k, v]) => (
                        <li key={k} className="chip">
                          {k}={v}
                        </li>
                      ))}
                  </ul>
                )}
              </td>
              <td data-label="Tag edits">
                <WriteBadge r={r} />
              </td>
              {canWrite && editable && (
                <td data-label="Actions">
                  {r.tags !== undefined && (
                    <button type="button" className="btn btn-small" onClick={() => onEdit(r.arn)} aria-label={`Edit tags of ${r.id}`}>
                      Edit tags
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The tenant's (or one account's) tag keys with counts; a key opens its values, a value filters the list. */
function TagSummary({ accountId, onPick, fresh }: { accountId?: string; onPick: (tag: string) => void; fresh: number }) {
  const keys = useLoad((api) => ok(api.GET("/v1/tags", { params: { query: { accountId } } })), [accountId, fresh]);
  const [open, setOpen] = useState<string | null>(null);
  const values = useLoad(
    (api) => (open ? ok(api.GET("/v1/tags/{key}", { params: { path: { key: open }, query: { accountId } } })) : Promise.resolve(null)),
    [open, accountId, fresh],
  );
  return (
    <section className="card" aria-labelledby="tags-title" data-testid="tag-summary">
      <h2 id="tags-title">Tags</h2>
      {keys.error ? <ErrorBox error={keys.error} /> : null}
      {!keys.data && !keys.error && <Spinner label="Loading tag keys…" />}
      {keys.data && keys.data.items.length === 0 && <p className="hint">No tags yet.</p>}
      {keys.data && keys.data.items.length > 0 && (
        <ul className="chips">
          {keys.data.items.map((k) => (
            <li key={k.key}>
              <button type="button" className="chip chip-button" aria-expanded={open === k.key} onClick={() => setOpen(open === k.key ? null : k.key)}>
                {k.key} <span className="hint">{k.resources} resources, {k.values} values</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {open && values.data && (
        <div data-testid="tag-values">
          <h3>Values of {open}</h3>
          <ul className="chips">
            {values.data.values.map((v) => (
              <li key={v.value}>
                <button type="button" className="chip chip-button" onClick={() => onPick(parseTagFilter(`${open}=${v.value}`))} title={`Show the resources tagged ${open}=${v.value}`}>
                  {v.value || "(empty)"} <span className="hint">{v.resources} resources</span>
                </button>
              </li>
            ))}
          </ul>
          {values.data.truncated && <p className="hint">More values than shown.</p>}
        </div>
      )}
    </section>
  );
}

/**
 * Edits one resource's tags: reads it with its ETag, sends a merge patch with If-Match, shows each tag's error next
 * to it, then follows the write-back (tags_write) until AWS has it, refused it, or it conflicts.
 */
function TagEditor({ arn, onClose }: { arn: string; onClose: () => void }) {
  const { api } = useApp();
  const [loaded, setLoaded] = useState<{ data: Resource; etag: string } | null>(null);
  const [rows, setRows] = useState<TagRow[]>([]);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const save = useAction();
  const read = async (signal?: AbortSignal) => {
    const r = await withETag(api.GET("/v1/resources/{resourceArn}", { params: { path: { resourceArn: arn } }, signal }));
    setLoaded(r);
    return r;
  };
  useEffect(() => {
    const ctl = new AbortController();
    read(ctl.signal).then(
      (r) => setRows(rowsOf(r.data.tags)),
      (err) => !ctl.signal.aborted && setLoadError(err),
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [arn]);
  const state = loaded?.data.tagEdits?.state;
  useEffect(() => {
    if (!saved || writeSettled(state)) return;
    const ctl = new AbortController();
    poll({
      read: () => read(ctl.signal),
      done: (r) => writeSettled(r.data.tagEdits?.state),
      delays: backoffDelays({ start: 500, max: 4000 }),
      signal: ctl.signal,
    }).catch(() => undefined);
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [saved, state === "pending"]);

  const errors = save.error instanceof ApiError ? save.error.fieldErrors() : {};
  const rowError = (key: string) => errors[`tags.${key.trim()}`];
  const onSave = async (e: FormEvent) => {
    e.preventDefault();
    if (!loaded) return;
    const patch = tagPatch(loaded.data.tags, rows);
    const r = await save.run(() =>
      withETag(api.PATCH("/v1/resources/{resourceArn}", { params: { path: { resourceArn: arn }, header: { "If-Match": loaded.etag } }, body: { tags: patch } })),
    );
    if (r) {
      setLoaded(r);
      setRows(rowsOf(r.data.tags));
      setSaved(true);
    }
  };
  const reloadAfterConflict = async () => {
    const r = await read();
    setRows(rowsOf(r.data.tags));
    save.setError(null);
  };
  const set = (i: number, change: Partial<TagRow>) => setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...change } : r)));
  const res = loaded?.data;
  const edits = res?.tagEdits;
  const stale = save.error instanceof ApiError && save.error.status === 412;
  return (
    <Dialog title={`Tags of ${res?.id ?? "the resource"}`} onClose={onClose} wide>
      {loadError ? <ErrorBox error={loadError} /> : null}
      {!res && !loadError && <Spinner label="Reading the resource…" />}
      {res && (
        <form onSubmit={onSave} noValidate>
          <p className="hint wrap-anywhere">
            <span className="mono">{res.arn}</span>
          </p>
          {edits && (
            <div className="alert alert-info" role="status" aria-live="polite" data-testid="editor-write-state" data-state={edits.state}>
              <Badge tone={writeStateTone[edits.state]}>{writeStateLabel[edits.state]}</Badge>
              {edits.state === "pending" && " Gangplank is writing your edits to AWS…"}
              {edits.state === "local" && " This account's access level keeps edits in Gangplank; AWS is not changed."}
              {edits.reason ? <p className="reason">AWS refused: {edits.reason}</p> : null}
              {edits.attempts > 0 && <span className="hint"> · {edits.attempts} attempts</span>}
            </div>
          )}
          {edits?.conflicts && edits.conflicts.length > 0 && (
            <div className="alert alert-warn" role="alert" data-testid="tag-conflicts">
              <strong>AWS changed these tags while you edited them.</strong> Neither value wins until you set the key again.
              <ul>
                {edits.conflicts.map((c) => (
                  <li key={c.key} data-key={c.key}>
                    <code>{c.key}</code>: in AWS <strong>{c.awsDeleted ? "(removed)" : c.awsValue}</strong>, in Gangplank{" "}
                    <strong>{c.gangplankDeleted ? "(removed)" : c.gangplankValue}</strong>
                  </li>
                ))}
              </ul>
            </div>
          )}
          {edits?.overwrittenByAws && edits.overwrittenByAws.length > 0 && (
            <Notice tone="warn">
              AWS overwrote:{" "}
              {edits.overwrittenByAws.map((o) => `${o.key} (yours ${o.gangplankValue}, AWS ${o.awsValue})`).join("; ")}
            </Notice>
          )}
          {stale ? (
            <div className="alert alert-bad" role="alert">
              Someone changed these tags since you opened them.{" "}
              <button type="button" className="btn btn-small" onClick={reloadAfterConflict}>
                Load the latest tags
              </button>
            </div>
          ) : (
            <FormErrors error={save.error} fields={rows.map((r) => `tags.${r.key.trim()}`)} />
          )}
          <fieldset className="tag-rows">
            <legend>Tags</legend>
            {rows.map((r, i) => {
              const err = r.key.trim() ? rowError(r.key) : undefined;
              const errId = `tag-err-${i}`;
              return (
                <div key={i} className={`tag-row${err ? " field-invalid" : ""}`} data-testid="tag-row" data-key={r.key}>
                  <div className="field">
                    <label htmlFor={`tag-k-${i}`}>Key {i + 1}</label>
                    <input id={`tag-k-${i}`} value={r.key} onChange={(e) => set(i, { key: e.target.value })} aria-invalid={err ? true : undefined} aria-describedby={err ? errId : undefined} />
                  </div>
                  <div className="field">
                    <label htmlFor={`tag-v-${i}`}>Value {i + 1}</label>
                    <input id={`tag-v-${i}`} value={r.value} onChange={(e) => set(i, { value: e.target.value })} aria-invalid={err ? true : undefined} aria-describedby={err ? errId : undefined} />
                  </div>
                  <button type="button" className="btn btn-small btn-quiet" aria-label={`Remove tag ${r.key || i + 1}`} onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}>
                    Remove
                  </button>
                  {err && (
                    <p className="field-error" id={errId}>
                      {err}
                    </p>
                  )}
                </div>
              );
            })}
            <button type="button" className="btn btn-small" onClick={() => setRows((rs) => [...rs, { key: "", value: "" }])}>
              Add a tag
            </button>
          </fieldset>
          <div className="dialog-foot">
            <button type="submit" className="btn btn-primary" disabled={save.busy}>
              {save.busy ? "Saving…" : "Save tags"}
            </button>
            <button type="button" className="btn" onClick={onClose}>
              Close
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

/** The account's Resources and tags section. */
export function AccountResources({ account }: { account: Account }) {
  const [fresh, setFresh] = useState(0);
  if (account.status !== "active") {
    return <Notice>Connect this account first: Gangplank reads its resources through its role.</Notice>;
  }
  return (
    <div key={fresh}>
      <InventoryCard account={account} onSynced={() => setFresh((n) => n + 1)} />
      {account.accessLevel === "resources" && (
        <Notice>
          At access level <strong>Resources</strong> Gangplank neither reads nor keeps tags: change the access to see and edit them.
        </Notice>
      )}
      <ResourceBrowser accountId={account.accountId} base={`/accounts/${account.accountId}/resources`} editable={account.accessLevel !== "resources"} />
    </div>
  );
}

/** Every resource of the tenant, across accounts. */
export function TenantResources() {
  return (
    <>
      <PageHead title="Resources" />
      <p className="lead">Every resource of your connected accounts, with its tags: filter by tag, type and region, and edit tags where the access level allows.</p>
      <ResourceBrowser base="/resources" editable />
    </>
  );
}
