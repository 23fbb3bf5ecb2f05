import { useState } from "react";
import { ok, type Schemas } from "../api/client";
import { useLoad } from "../app";
import { PageHead } from "../components/layout";
import { ErrorBox, Spinner } from "../components/ui";
import { dateTime } from "../lib/format";
import { Pager } from "./Accounts";

const show = (v: unknown) => (v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));

export function AuditScreen() {
  const [cursors, setCursors] = useState<string[]>([""]);
  const cursor = cursors[cursors.length - 1] ?? "";
  const page = useLoad((api) => ok(api.GET("/v1/audit", { params: { query: { limit: 25, cursor: cursor || undefined } } })), [cursor]);
  return (
    <>
      <PageHead title="Audit trail" />
      <p className="lead">Every change in your tenant, newest first: who, what, and each field's value before and after.</p>
      {page.error ? <ErrorBox error={page.error} /> : null}
      {!page.data && !page.error && <Spinner />}
      {page.data && (
        <>
          <div className="table-wrap">
            <table className="table stack" data-testid="audit-table">
              <caption className="sr-only">Audit entries</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Changes</th>
                </tr>
              </thead>
              <tbody>
                {page.data.items.length === 0 && (
                  <tr>
                    <td colSpan={5} className="empty">
                      Nothing has changed yet.
                    </td>
                  </tr>
                )}
                {page.data.items.map((e: Schemas["AuditEntry"]) => (
                  <tr key={e.id}>
                    <td data-label="When">{dateTime(e.at)}</td>
                    <td data-label="Who">
                      {e.actor.id} <span className="hint">{e.actor.role ?? e.actor.type}</span>
                    </td>
                    <td data-label="Action">
                      <code>{e.action}</code>
                    </td>
                    <td data-label="Target" className="mono">
                      {e.target}
                    </td>
                    <td data-label="Changes">
                      <ul className="changes">
                        {e.changes.map((c) => (
                          <li key={c.field}>
                            <code>{c.field}</code> {show(c.from)} → {show(c.to)}
                          </li>
                        ))}
                      </ul>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            label="Audit"
            pageNumber={cursors.length}
            next={page.data.nextCursor ? () => setCursors((c) => [...c, page.data!.nextCursor]) : undefined}
            previous={cursors.length > 1 ? () => setCursors((c) => c.slice(0, -1)) : undefined}
          />
        </>
      )}
    </>
  );
}
