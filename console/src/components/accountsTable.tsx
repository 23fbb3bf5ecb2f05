import type { ReactNode } from "react";
import type { Account } from "../api/client";
import { useApp } from "../app";
import { accessLabel, activatable, healthTone, needsStackUpdate, statusLabels, statusTone, typeLabels } from "../lib/accounts";
import { Link } from "../lib/router";
import { Badge } from "./ui";

const columns = ["Name", "Account ID", "Type", "Status", "Health", "Access level", "Region", "Actions"];

export function AccountsTable({ caption, children, testId }: { caption: string; children: ReactNode; testId?: string }) {
  return (
    <div className="table-wrap">
      <table className="table stack" data-testid={testId}>
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

export function StatusCell({ account }: { account: Pick<Account, "status" | "statusReason"> }) {
  return (
    <>
      <Badge tone={statusTone[account.status]}>{statusLabels[account.status]}</Badge>
      {account.statusReason && <span className="reason">{account.statusReason}</span>}
    </>
  );
}

export function AccountRow({ account: a, nested, expander, id }: { account: Account; nested?: boolean; expander?: ReactNode; id?: string }) {
  const { canWrite } = useApp();
  const connectable = a.type !== "linked" ? ["pending", "failed", "disconnected"].includes(a.status) : a.status !== "active" && a.status !== "activating";
  return (
    <tr className={nested ? "nested" : a.type === "management" ? "mgmt-row" : undefined} id={id} data-account={a.accountId}>
      <td data-label="Name">
        <span className="name-cell">
          {expander}
          <Link to={`/accounts/${a.accountId}`}>{a.name}</Link>
        </span>
      </td>
      <td data-label="Account ID" className="mono">
        {a.accountId}
      </td>
      <td data-label="Type">{typeLabels[a.type]}</td>
      <td data-label="Status">
        <StatusCell account={a} />
      </td>
      <td data-label="Health">
        <Badge tone={healthTone[a.health.status] ?? "muted"}>{a.health.status}</Badge>
        {a.health.reason && <span className="reason">{a.health.reason}</span>}
        {needsStackUpdate(a) && <span className="reason">The role grants less than chosen: update the stack.</span>}
      </td>
      <td data-label="Access level">{accessLabel(a.accessLevel)}</td>
      <td data-label="Region">{a.region}</td>
      <td data-label="Actions" className="actions">
        {canWrite && a.type === "linked" && a.managementAccountId && activatable(a.status) ? (
          <Link className="btn btn-small" to={`/accounts/${a.managementAccountId}/organization`} aria-label={`Activate ${a.name} from its organization`}>
            Activate
          </Link>
        ) : canWrite && connectable ? (
          <Link className="btn btn-small" to={`/accounts/${a.accountId}/connect`} aria-label={`Connect ${a.name}`}>
            Connect
          </Link>
        ) : (
          <Link className="btn btn-small btn-quiet" to={`/accounts/${a.accountId}`} aria-label={`Open ${a.name}`}>
            Open
          </Link>
        )}
      </td>
    </tr>
  );
}
