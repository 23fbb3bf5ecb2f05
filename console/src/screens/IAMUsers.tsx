import { useState, type FormEvent } from "react";
import { ok, type Account, type Schemas } from "../api/client";
import { ApiError } from "../api/problem";
import { useAction, useApp, useLoad } from "../app";
import { Badge, CopyButton, Dialog, ErrorBox, Field, FormErrors, Notice, Spinner, fieldError } from "../components/ui";
import { identityAccessOptions } from "../lib/accounts";
import { splitList } from "../lib/lists";
import { dateTime } from "../lib/format";
import { Link } from "../lib/router";
import { Pager } from "./Accounts";

type Integration = Schemas["IAMIntegration"];
type IAMUser = Schemas["IAMUser"];
type Onboarded = Schemas["OnboardedUser"];
type Offboarding = Schemas["Offboarding"];

const integrationTone = { initializing: "info", active: "ok", error: "bad" } as const;
const accessLabel = (v: string) => identityAccessOptions.find((o) => o.value === v)?.label ?? v;

/** The account's IAM users: the integration (how Gangplank enters, what it may do), the users, onboard and offboard. */
export function AccountIAM({ account }: { account: Account }) {
  const { api, canWrite } = useApp();
  const integration = useLoad(
    (a) =>
      ok(a.GET("/v1/accounts/{accountId}/iam", { params: { path: { accountId: account.accountId } } })).catch((err) => {
        // No integration yet: the screen says how to get one.
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }),
    [account.accountId],
  );
  const verify = useAction();
  const setUp = async () => {
    const r = await verify.run(() => ok(api.POST("/v1/accounts/{accountId}/iam/verify", { params: { path: { accountId: account.accountId } } })));
    if (r) integration.set(r);
  };
  if (integration.error) return <ErrorBox error={integration.error} />;
  if (integration.data === undefined) return <Spinner label="Reading the IAM integration…" />;
  const i = integration.data;
  if (i === null) {
    return (
      <section className="card" aria-labelledby="iam-none-title" data-testid="iam-none">
        <h2 id="iam-none-title">IAM users</h2>
        {account.identityAccess === "none" ? (
          <p>
            Gangplank has no access to this account's IAM users. Choose “Read IAM users” or “Manage IAM users” in{" "}
            <Link to={`/accounts/${account.accountId}`}>Change Access</Link>, then update the stack.
          </p>
        ) : (
          <>
            <p>
              The account's option is “{accessLabel(account.identityAccess)}”. Once the role grants it, Gangplank checks what it allows and syncs the users.
            </p>
            {canWrite && account.status === "active" && (
              <button type="button" className="btn btn-primary" onClick={setUp} disabled={verify.busy}>
                {verify.busy ? "Checking the role…" : "Check the role and sync"}
              </button>
            )}
            <ErrorBox error={verify.error} />
          </>
        )}
      </section>
    );
  }
  return (
    <>
      <IntegrationStatus integration={i} onChanged={integration.set} />
      <UserList account={account} integration={i} />
    </>
  );
}

function IntegrationStatus({ integration: i, onChanged }: { integration: Integration; onChanged: (i: Integration) => void }) {
  const { api, canWrite } = useApp();
  const sync = useAction();
  const syncNow = async () => {
    const r = await sync.run(() => ok(api.POST("/v1/accounts/{accountId}/iam/sync", { params: { path: { accountId: i.accountId } } })));
    if (r) onChanged(r);
  };
  return (
    <section className="card" aria-labelledby="iam-title" data-testid="iam-integration" data-status={i.status}>
      <div className="card-head">
        <h2 id="iam-title">IAM integration</h2>
        {canWrite && (
          <button type="button" className="btn" onClick={syncNow} disabled={sync.busy}>
            {sync.busy ? "Syncing…" : "Sync users now"}
          </button>
        )}
      </div>
      <ErrorBox error={sync.error} />
      <p>
        <Badge tone={integrationTone[i.status]}>{i.status}</Badge> {i.statusReason}
      </p>
      <dl className="facts facts-inline">
        <dt>Enters through</dt>
        <dd>{i.via === "role" ? "The account's role" : "An IAM user's access key"}</dd>
        <dt>May</dt>
        <dd data-testid="iam-access">{accessLabel(i.access)}</dd>
        <dt>Users under</dt>
        <dd className="mono">{i.pathPrefix}</dd>
        <dt>Last sync</dt>
        <dd>
          {i.lastSync ? (
            <>
              {dateTime(i.lastSync.at)} <Badge tone={i.lastSync.status === "ok" ? "ok" : "bad"}>{i.lastSync.status}</Badge> {i.lastSync.users} users
            </>
          ) : (
            "—"
          )}
        </dd>
      </dl>
      {i.accessReason && <p className="hint">{i.accessReason}</p>}
    </section>
  );
}

function UserList({ account, integration }: { account: Account; integration: Integration }) {
  const { canWrite } = useApp();
  const [cursors, setCursors] = useState<string[]>([""]);
  const [fresh, setFresh] = useState(0);
  const [dialog, setDialog] = useState<{ kind: "onboard" } | { kind: "offboard"; user: IAMUser } | null>(null);
  const cursor = cursors[cursors.length - 1] ?? "";
  const page = useLoad(
    (api) => ok(api.GET("/v1/accounts/{accountId}/iam/users", { params: { path: { accountId: account.accountId }, query: { limit: 25, cursor: cursor || undefined } } })),
    [account.accountId, cursor, fresh],
  );
  const manage = canWrite && integration.access === "readwrite";
  const refresh = () => setFresh((n) => n + 1);
  return (
    <section className="card" aria-labelledby="users-title">
      <div className="card-head">
        <h2 id="users-title">Users</h2>
        {manage && (
          <button type="button" className="btn btn-primary" onClick={() => setDialog({ kind: "onboard" })}>
            Onboard a user
          </button>
        )}
      </div>
      {canWrite && integration.access !== "readwrite" && (
        <p className="hint">Onboarding and offboarding need “Manage IAM users”: change the account's access and update the stack.</p>
      )}
      {page.error ? <ErrorBox error={page.error} /> : null}
      {!page.data && !page.error && <Spinner label="Loading users…" />}
      {page.data && (
        <>
          <div className="table-wrap">
            <table className="table stack" data-testid="iam-users">
              <caption className="sr-only">IAM users, by name</caption>
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Path</th>
                  <th scope="col">Groups</th>
                  <th scope="col">Console password</th>
                  <th scope="col">Access keys</th>
                  <th scope="col">MFA</th>
                  <th scope="col">Created</th>
                  {manage && (
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {page.data.items.length === 0 && (
                  <tr>
                    <td colSpan={8} className="empty">
                      No users under {integration.pathPrefix}.
                    </td>
                  </tr>
                )}
                {page.data.items.map((u) => (
                  <tr key={u.userName} data-user={u.userName}>
                    <td data-label="User">
                      <strong>{u.userName}</strong>
                      {u.person && <span className="reason">{u.person}</span>}
                    </td>
                    <td data-label="Path" className="mono">
                      {u.path}
                    </td>
                    <td data-label="Groups">{u.groups.join(", ") || "—"}</td>
                    <td data-label="Console password">{u.credentials.passwordEnabled ? "Yes" : "No"}</td>
                    <td data-label="Access keys">{u.credentials.accessKeys.filter((k) => k.active).length}</td>
                    <td data-label="MFA">{u.credentials.mfaActive ? "Yes" : "No"}</td>
                    <td data-label="Created">{dateTime(u.createdAt)}</td>
                    {manage && (
                      <td data-label="Actions">
                        <button type="button" className="btn btn-small btn-danger" onClick={() => setDialog({ kind: "offboard", user: u })} aria-label={`Offboard ${u.userName}`}>
                          Offboard
                        </button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            label="Users"
            pageNumber={cursors.length}
            next={page.data.nextCursor ? () => setCursors((c) => [...c, page.data!.nextCursor]) : undefined}
            previous={cursors.length > 1 ? () => setCursors((c) => c.slice(0, -1)) : undefined}
          />
        </>
      )}
      {dialog?.kind === "onboard" && <OnboardDialog account={account} prefix={integration.pathPrefix} onClose={() => (setDialog(null), refresh())} />}
      {dialog?.kind === "offboard" && <OffboardDialog account={account} user={dialog.user} onClose={() => (setDialog(null), refresh())} />}
    </section>
  );
}

/**
 * Onboards a person as an IAM user. A generated password is shown once, in this dialog: it lives in this
 * component's state only, and is gone when the dialog closes (the API never returns it again).
 */
function OnboardDialog({ account, prefix, onClose }: { account: Account; prefix: string; onClose: () => void }) {
  const { api } = useApp();
  const [form, setForm] = useState({ userName: "", groups: "", managedPolicyArns: "" });
  const [done, setDone] = useState<Onboarded | null>(null);
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await act.run(() =>
      ok(
        api.POST("/v1/accounts/{accountId}/iam/users", {
          params: { path: { accountId: account.accountId } },
          body: { userName: form.userName.trim(), groups: splitList(form.groups), managedPolicyArns: splitList(form.managedPolicyArns) },
        }),
      ),
    );
    if (r) setDone(r);
  };
  if (done) {
    return (
      <Dialog title={`${done.user.userName} is onboarded`} onClose={onClose}>
        <div data-testid="onboarded">
          {done.password ? (
            <>
              <Notice tone="warn">
                <strong>Copy the password now.</strong> Gangplank does not keep it: once this dialog closes, nobody can show it again.
              </Notice>
              <p>
                Console password for <strong>{done.user.userName}</strong>
                {done.passwordResetRequired ? " (to be changed at first sign-in)" : ""}:
              </p>
              <p>
                <code className="secret" data-testid="one-time-password">
                  {done.password}
                </code>{" "}
                <CopyButton text={done.password} label="Copy password" />
              </p>
            </>
          ) : (
            <p>The user signs in with the password that was chosen.</p>
          )}
          <p>
            Sign-in URL: <span className="mono wrap-anywhere">{done.signInUrl}</span>
          </p>
          <p className="hint">Made in AWS: {done.onboarding.made.join(", ")}</p>
        </div>
        <div className="dialog-foot">
          <button type="button" className="btn btn-primary" onClick={onClose}>
            Done
          </button>
        </div>
      </Dialog>
    );
  }
  const err = (f: string) => fieldError(act.error, f);
  return (
    <Dialog title={`Onboard a user in ${account.name}`} onClose={onClose}>
      <form onSubmit={submit} noValidate className="form">
        <FormErrors error={act.error} fields={["userName", "groups", "managedPolicyArns"]} />
        <Field label="User name" error={err("userName")} hint={`Created under ${prefix}; IAM's rule: 1-64 letters, digits and +=,.@_-`}>
          {(p) => <input {...p} value={form.userName} onChange={(e) => setForm({ ...form, userName: e.target.value })} autoComplete="off" />}
        </Field>
        <Field label="Groups" error={err("groups")} hint="Comma-separated group names (optional).">
          {(p) => <input {...p} value={form.groups} onChange={(e) => setForm({ ...form, groups: e.target.value })} autoComplete="off" />}
        </Field>
        <Field label="Managed policies" error={err("managedPolicyArns")} hint="Comma-separated policy ARNs (optional).">
          {(p) => <input {...p} value={form.managedPolicyArns} onChange={(e) => setForm({ ...form, managedPolicyArns: e.target.value })} autoComplete="off" />}
        </Field>
        <p className="hint">Gangplank generates a console password that must be changed at first sign-in, and shows it once.</p>
        <div className="dialog-foot">
          <button type="submit" className="btn btn-primary" disabled={act.busy}>
            {act.busy ? "Onboarding…" : "Onboard"}
          </button>
          <button type="button" className="btn btn-quiet" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

const offboardLabel: Record<Offboarding["status"], string> = {
  in_progress: "In progress",
  incomplete: "Incomplete",
  deletion_scheduled: "Access removed; deletion scheduled",
  deleted: "Deleted",
};

/** Offboards a user: every way in goes first, then memberships, policies and the user (now, or after the clean-up days). */
function OffboardDialog({ account, user, onClose }: { account: Account; user: IAMUser; onClose: () => void }) {
  const { api } = useApp();
  const [typed, setTyped] = useState("");
  const [result, setResult] = useState<Offboarding | null>(null);
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (typed !== user.userName) return;
    const r = await act.run(() => ok(api.DELETE("/v1/accounts/{accountId}/iam/users/{userName}", { params: { path: { accountId: account.accountId, userName: user.userName } } })));
    if (r) setResult(r);
  };
  // A step that failed answers 502 with the progress: show it, and the same request continues.
  const partial = act.error instanceof ApiError && act.error.status === 502 ? (act.error.problem as unknown as { offboarding?: Offboarding }).offboarding : undefined;
  const shown = result ?? partial;
  return (
    <Dialog title={`Offboard ${user.userName}`} onClose={onClose}>
      {shown ? (
        <div data-testid="offboarding" data-status={shown.status}>
          <p>
            <Badge tone={shown.status === "deleted" || shown.status === "deletion_scheduled" ? "ok" : "warn"}>{offboardLabel[shown.status]}</Badge>
            {shown.deleteAt && ` The user is deleted ${dateTime(shown.deleteAt)}.`}
          </p>
          <ol className="steps">
            {shown.steps.map((s) => (
              <li key={s.name} data-done={s.done}>
                {s.name.replace(/_/g, " ")}: {s.done ? `done${s.removed ? ` (${s.removed} removed)` : ""}` : "not yet"}
                {s.detail && <span className="reason">{s.detail}</span>}
              </li>
            ))}
          </ol>
          {shown.error && <p className="reason">{shown.error}</p>}
          <div className="dialog-foot">
            <button type="button" className="btn btn-primary" onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      ) : (
        <form onSubmit={submit} noValidate className="form">
          <p>
            Gangplank removes every way in first (console password, access keys, SSH keys, signing certificates, service credentials, MFA devices), then group
            memberships, policies and the user.
          </p>
          <ErrorBox error={act.error} />
          <Field label={`Type the user's name, ${user.userName}, to confirm`}>
            {(p) => <input {...p} value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />}
          </Field>
          <div className="dialog-foot">
            <button type="submit" className="btn btn-danger" disabled={typed !== user.userName || act.busy}>
              {act.busy ? "Offboarding…" : "Offboard user"}
            </button>
            <button type="button" className="btn btn-quiet" onClick={onClose}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
