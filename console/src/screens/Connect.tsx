import { useEffect, useRef, useState, type FormEvent } from "react";
import { ok, type Account, type Onboarding } from "../api/client";
import { useAction, useApp } from "../app";
import { Badge, Code, CopyButton, Field, FormErrors, Tabs, fieldError } from "../components/ui";
import { StatusCell } from "../components/accountsTable";
import { backoffDelays, poll } from "../lib/backoff";
import { dateTime, seconds } from "../lib/format";

const json = (v: unknown) => JSON.stringify(v, null, 2);

/** Whether waiting is over: the account reached what the person is waiting for, or failed. */
export type Goal = (a: Account) => boolean;

export const becameActive: Goal = (a) => a.status === "active";

/**
 * Every way to connect (or update) an account, and the wait for the stack's callback: the console polls the
 * account with backoff until it reaches the goal (Active), and says when it checked and when it checks next.
 */
export function ConnectPanel({
  account,
  onboarding,
  goal = becameActive,
  onDone,
  onNewLink,
}: {
  account: Account;
  onboarding: Onboarding;
  goal?: Goal;
  onDone?: (a: Account) => void;
  onNewLink?: () => void;
}) {
  const { api } = useApp();
  const [current, setCurrent] = useState(account);
  const [checkedAt, setCheckedAt] = useState<Date | null>(null);
  const [nextIn, setNextIn] = useState(0);
  const [pollError, setPollError] = useState<unknown>(null);
  const [blocked, setBlocked] = useState(false);
  const finished = goal(current) || current.status === "failed";
  const doneRef = useRef(onDone);
  doneRef.current = onDone;

  useEffect(() => {
    if (goal(account)) return;
    const ctl = new AbortController();
    poll({
      read: () => ok(api.GET("/v1/accounts/{accountId}", { params: { path: { accountId: account.accountId } }, signal: ctl.signal })),
      done: (a) => goal(a) || (a.status === "failed" && a.version !== account.version),
      onValue: (a) => {
        setCurrent(a);
        setCheckedAt(new Date());
        setPollError(null);
      },
      onError: setPollError,
      onWait: setNextIn,
      delays: backoffDelays({ start: 1000, max: 10000 }),
      signal: ctl.signal,
    }).then(
      (a) => doneRef.current?.(a),
      () => undefined,
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [account.accountId, onboarding.parameters]);

  const update = onboarding.action === "update";
  const openConsole = () => {
    const w = window.open(onboarding.consoleUrl, "_blank");
    if (w) {
      w.opener = null;
      setBlocked(false);
    } else {
      setBlocked(true);
    }
  };

  const launch = (
    <div className="stack-gap">
      <ol className="steps">
        <li>
          {update ? "Open the stack's update page" : "Open the quick-create page"} in the AWS CloudFormation console, signed in to account{" "}
          <strong className="mono">{onboarding.accountId}</strong>, region <strong>{onboarding.region}</strong>.
        </li>
        <li>Tick “I acknowledge that AWS CloudFormation might create IAM resources with custom names”.</li>
        <li>Press {update ? "Update stack" : "Create stack"}. This window turns Active when the stack calls Gangplank back.</li>
      </ol>
      <p>
        <button type="button" className="btn btn-primary" onClick={openConsole}>
          {update ? "Open the update link in a new tab" : "Open the AWS console in a new tab"}
        </button>
      </p>
      <p className={blocked ? "alert alert-warn" : "hint"} role={blocked ? "alert" : undefined}>
        {blocked ? "The new tab did not open: your browser blocked the pop-up. " : "Nothing opened? "}
        Your browser may block pop-ups from this site: allow them for this site in the address bar, or open{" "}
        <a href={onboarding.consoleUrl} target="_blank" rel="noopener noreferrer">
          the {update ? "update" : "quick-create"} link
        </a>{" "}
        yourself.
      </p>
      <dl className="facts">
        <dt>Stack name</dt>
        <dd className="mono">{onboarding.stackName}</dd>
        <dt>Template</dt>
        <dd className="mono break">{onboarding.templateUrl}</dd>
        <dt>Link expires</dt>
        <dd>{dateTime(onboarding.expiresAt)}</dd>
      </dl>
    </div>
  );

  const cli = (
    <div className="stack-gap">
      <p>Run this with credentials of account {onboarding.accountId} (it {update ? "updates the stack" : "creates the stack"} in {onboarding.region}):</p>
      <Code label="AWS CLI command">{onboarding.cliCommand}</Code>
      <CopyButton text={onboarding.cliCommand} label="Copy command" />
    </div>
  );

  const manual = (
    <div className="stack-gap">
      <ol className="steps">
        {onboarding.manual.steps.map((s) => (
          <li key={s}>{s}</li>
        ))}
      </ol>
      <p>
        Role name: <code>{onboarding.manual.roleName}</code> (it must start with Gangplank)
      </p>
      <h3>Trust policy</h3>
      <Code label="Trust policy">{json(onboarding.manual.trustPolicy)}</Code>
      <CopyButton text={json(onboarding.manual.trustPolicy)} label="Copy trust policy" />
      {onboarding.manual.managedPolicyArns.length > 0 && (
        <>
          <h3>AWS managed policies to attach</h3>
          <ul>
            {onboarding.manual.managedPolicyArns.map((p) => (
              <li key={p} className="mono">
                {p}
              </li>
            ))}
          </ul>
        </>
      )}
      {onboarding.manual.permissionPolicies.map((p) => (
        <div key={p.name}>
          <h3>Permission policy {p.name}</h3>
          <Code label={`Permission policy ${p.name}`}>{json(p.document)}</Code>
          <CopyButton text={json(p.document)} label={`Copy ${p.name}`} />
        </div>
      ))}
      <PasteArn account={current} onConnected={setCurrent} />
    </div>
  );

  const terraform = (
    <div className="stack-gap">
      <p>The same role as Terraform. Apply it with credentials of account {onboarding.accountId}, then paste the role's ARN below.</p>
      <Code label="Terraform configuration">{onboarding.terraform}</Code>
      <CopyButton text={onboarding.terraform} label="Copy Terraform" />
      <PasteArn account={current} onConnected={setCurrent} />
    </div>
  );

  return (
    <div className="connect">
      <WaitStatus account={current} goal={goal} checkedAt={checkedAt} nextIn={nextIn} pollError={pollError} update={update} />
      {current.status === "failed" && onNewLink && (
        <p>
          <button type="button" className="btn" onClick={onNewLink}>
            Get a new link
          </button>
        </p>
      )}
      {!finished && (
        <Tabs
          label="Ways to connect"
          tabs={[
            { id: "console", title: update ? "Update the stack" : "Launch stack", content: launch },
            { id: "cli", title: "AWS CLI", content: cli },
            ...(update ? [] : [{ id: "manual", title: "Manual", content: manual }, { id: "terraform", title: "Terraform", content: terraform }]),
          ]}
        />
      )}
    </div>
  );
}

function WaitStatus({
  account,
  goal,
  checkedAt,
  nextIn,
  pollError,
  update,
}: {
  account: Account;
  goal: Goal;
  checkedAt: Date | null;
  nextIn: number;
  pollError: unknown;
  update: boolean;
}) {
  if (goal(account)) {
    return (
      <div className="alert alert-ok wait" role="status" aria-live="polite" data-testid="connect-status">
        <Badge tone="ok">Active</Badge> {update ? "The stack grants the access level chosen." : `${account.name} is connected.`}
      </div>
    );
  }
  return (
    <div className={`alert ${account.status === "failed" ? "alert-bad" : "alert-info"} wait`} role="status" aria-live="polite" data-testid="connect-status">
      <div>
        <StatusCell account={account} />
      </div>
      {account.status !== "failed" && (
        <p className="hint">
          <span className="spinner" aria-hidden="true" /> Waiting for {update ? "the stack update" : "the stack"} to call back
          {checkedAt ? ` · checked ${checkedAt.toLocaleTimeString("en-GB")}, next check in ${seconds(nextIn)}` : ""}.
        </p>
      )}
      {pollError ? <p className="hint">The last check failed; retrying.</p> : null}
    </div>
  );
}

/** Connect a role made by hand: Gangplank assumes it with the tenant's External ID and checks who it is. */
export function PasteArn({ account, onConnected }: { account: Account; onConnected: (a: Account) => void }) {
  const { api } = useApp();
  const [arn, setArn] = useState("");
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const a = await act.run(() =>
      ok(api.POST("/v1/accounts/{accountId}/connect", { params: { path: { accountId: account.accountId } }, body: { roleArn: arn.trim() } })),
    );
    if (a) onConnected(a);
  };
  const err = fieldError(act.error, "roleArn");
  return (
    <form onSubmit={submit} className="paste-arn card" aria-labelledby={`paste-${account.accountId}`} noValidate>
      <h3 id={`paste-${account.accountId}`}>Paste the role's ARN</h3>
      <FormErrors error={act.error} fields={["roleArn"]} />
      <Field label="Role ARN" error={err} hint="Such as arn:aws:iam::123456789012:role/GangplankAccess">
        {(p) => <input {...p} value={arn} onChange={(e) => setArn(e.target.value)} autoComplete="off" spellCheck={false} required />}
      </Field>
      <button type="submit" className="btn btn-primary" disabled={act.busy}>
        {act.busy ? "Verifying the role…" : "Connect role"}
      </button>
    </form>
  );
}
