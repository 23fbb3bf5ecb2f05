import { lazy, Suspense, useMemo, useState, type FormEvent } from "react";
import { ok, type Account } from "../api/client";
import { ApiError } from "../api/problem";
import { useAction, useApp, useLoad } from "../app";
import { Badge, ErrorBox, Field, FormErrors, Notice, Spinner, fieldError } from "../components/ui";
import { commitmentSeries } from "../lib/commitment";
import { date, money } from "../lib/format";

const SpendChart = lazy(() => import("../components/SpendChart"));

export function CommitmentSection({ account }: { account: Account }) {
  const { api, canWrite } = useApp();
  const report = useLoad(
    (a) =>
      ok(a.GET("/v1/accounts/{accountId}/commitment", { params: { path: { accountId: account.accountId } } })).then(
        // Without spend=false the API answers the whole report; the commitment alone is for callers that ask.
        (r) => {
          if (!("spendToDate" in r)) throw new Error("the API answered the commitment without its spend report");
          return r;
        },
        (err) => {
          if (err instanceof ApiError && err.status === 404) return null;
          throw err;
        },
      ),
    [account.accountId],
  );
  const c = report.data?.commitment;
  const [form, setForm] = useState({ amount: "", currency: "USD", start: "", end: "" });
  const [editing, setEditing] = useState(false);
  const [removing, setRemoving] = useState(false);
  const act = useAction();
  const remove = useAction();
  const doRemove = async () => {
    const done = await remove.run(async () => {
      await ok(api.DELETE("/v1/accounts/{accountId}/commitment", { params: { path: { accountId: account.accountId } } }));
      return true;
    });
    if (done) {
      setRemoving(false);
      report.reload();
    }
  };
  const series = useMemo(
    () => (report.data ? commitmentSeries(report.data.commitment.amount, report.data.commitment.start, report.data.commitment.end, report.data.months) : null),
    [report.data],
  );
  const startEdit = () => {
    setForm(c ? { amount: String(c.amount), currency: c.currency, start: c.start.slice(0, 10), end: c.end.slice(0, 10) } : { amount: "", currency: "USD", start: "", end: "" });
    setEditing(true);
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await act.run(() =>
      ok(
        api.PUT("/v1/accounts/{accountId}/commitment", {
          params: { path: { accountId: account.accountId } },
          body: { amount: form.amount === "" ? Number.NaN : Number(form.amount), currency: form.currency || undefined, start: form.start, end: form.end },
        }),
      ),
    );
    if (r) {
      setEditing(false);
      report.reload();
    }
  };
  const err = (f: string) => fieldError(act.error, f);
  return (
    <>
      {report.error ? <ErrorBox error={report.error} /> : null}
      {report.loading && report.data === undefined && <Spinner label="Reading spend from Cost Explorer…" />}
      {report.data === null && !editing && (
        <Notice>
          No EDP commitment recorded for this payer yet.{" "}
          {canWrite && (
            <button type="button" className="btn btn-small" onClick={startEdit}>
              Set the commitment
            </button>
          )}
        </Notice>
      )}
      {editing && (
        <section className="card" aria-labelledby="commit-form-title">
          <h2 id="commit-form-title">EDP commitment</h2>
          <form onSubmit={submit} noValidate className="form form-grid">
            <FormErrors error={act.error} fields={["amount", "currency", "start", "end"]} />
            <Field label="Committed spend over the term" error={err("amount")}>
              {(p) => <input {...p} inputMode="decimal" value={form.amount} onChange={(e) => setForm({ ...form, amount: e.target.value })} />}
            </Field>
            <Field label="Currency" error={err("currency")} hint="ISO 4217, such as USD">
              {(p) => <input {...p} value={form.currency} onChange={(e) => setForm({ ...form, currency: e.target.value.toUpperCase() })} maxLength={3} />}
            </Field>
            <Field label="Start" error={err("start")}>
              {(p) => <input {...p} type="date" value={form.start} onChange={(e) => setForm({ ...form, start: e.target.value })} />}
            </Field>
            <Field label="End" error={err("end")}>
              {(p) => <input {...p} type="date" value={form.end} onChange={(e) => setForm({ ...form, end: e.target.value })} />}
            </Field>
            <div className="button-row">
              <button type="submit" className="btn btn-primary" disabled={act.busy}>
                Save commitment
              </button>
              <button type="button" className="btn btn-quiet" onClick={() => setEditing(false)}>
                Cancel
              </button>
            </div>
          </form>
        </section>
      )}
      {report.data && c && series && (
        <section className="card" aria-labelledby="commit-title">
          <div className="card-head">
            <h2 id="commit-title">EDP commitment</h2>
            {canWrite && !editing && (
              <div className="button-row">
                <button type="button" className="btn btn-small" onClick={startEdit}>
                  Change commitment
                </button>
                <button type="button" className="btn btn-small btn-danger" onClick={() => setRemoving(true)}>
                  Remove commitment
                </button>
              </div>
            )}
          </div>
          {removing && (
            <div className="alert alert-warn" role="alertdialog" aria-labelledby="remove-commit-q" data-testid="remove-commitment">
              <p id="remove-commit-q">
                Remove the {money(c.amount, c.currency)} commitment? The spend report and chart go with it; the spend itself stays in Cost Explorer.
              </p>
              <ErrorBox error={remove.error} />
              <div className="button-row">
                <button type="button" className="btn btn-danger" onClick={doRemove} disabled={remove.busy}>
                  Yes, remove it
                </button>
                <button type="button" className="btn btn-quiet" onClick={() => setRemoving(false)}>
                  Keep it
                </button>
              </div>
            </div>
          )}
          <dl className="totals" data-testid="commitment-totals">
            <div>
              <dt>Commitment</dt>
              <dd>{money(c.amount, c.currency)}</dd>
            </div>
            <div>
              <dt>Spend to date</dt>
              <dd>{money(report.data.spendToDate, c.currency)}</dd>
            </div>
            <div>
              <dt>Target to date</dt>
              <dd>{money(report.data.targetToDate, c.currency)}</dd>
            </div>
            <div>
              <dt>Pace</dt>
              <dd>
                <Badge tone={report.data.onTrack ? "ok" : "warn"}>{report.data.onTrack ? "On track" : "Behind target"}</Badge>
              </dd>
            </div>
          </dl>
          <p className="hint">
            {date(c.start)} to {date(c.end)} · {Math.round(report.data.elapsedFraction * 100)}% of the term elapsed · {report.data.calls} Cost Explorer requests
          </p>
          <Suspense fallback={<Spinner label="Drawing the chart…" />}>
            <SpendChart
              series={series}
              currency={c.currency}
              summary={`Spend to date ${money(report.data.spendToDate, c.currency)} against a target to date of ${money(report.data.targetToDate, c.currency)}; ${report.data.onTrack ? "on track" : "behind target"}.`}
            />
          </Suspense>
          <details>
            <summary>The chart's data as a table</summary>
            <div className="table-wrap">
              <table className="table">
                <caption className="sr-only">Cumulative spend and target by month</caption>
                <thead>
                  <tr>
                    <th scope="col">Month</th>
                    <th scope="col">Spend to date</th>
                    <th scope="col">Target</th>
                  </tr>
                </thead>
                <tbody>
                  {series.labels.map((m, i) => (
                    <tr key={m}>
                      <th scope="row">{m}</th>
                      <td>{series.spend[i] === undefined ? "—" : money(series.spend[i], c.currency)}</td>
                      <td>{money(series.target[i], c.currency)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </section>
      )}
    </>
  );
}
