import { useState } from "react";
import { ok, type Account, type Schemas } from "../api/client";
import { useAction, useApp, useLoad } from "../app";
import { PageHead } from "../components/layout";
import { Badge, ErrorBox, Spinner } from "../components/ui";
import { dateTime, money } from "../lib/format";
import { Link, navigate, query, useLocation } from "../lib/router";
import { Pager } from "./Accounts";

type Rec = Schemas["Recommendation"];
type Totals = Schemas["RecommendationTotals"];
type Sync = Schemas["SyncStatus"];
type Term = "ONE_YEAR" | "THREE_YEARS";
type Payment = "NO_UPFRONT" | "PARTIAL_UPFRONT" | "ALL_UPFRONT";

export const services = [
  ["ec2-standard", "EC2 (standard RIs)"],
  ["ec2-convertible", "EC2 (convertible RIs)"],
  ["rds", "RDS"],
  ["elasticache", "ElastiCache"],
  ["opensearch", "OpenSearch"],
  ["redshift", "Redshift"],
  ["memorydb", "MemoryDB"],
  ["dynamodb", "DynamoDB"],
  ["COMPUTE_SP", "Compute Savings Plans"],
  ["EC2_INSTANCE_SP", "EC2 Instance Savings Plans"],
  ["SAGEMAKER_SP", "SageMaker Savings Plans"],
  ["DATABASE_SP", "Database Savings Plans"],
] as const;

const terms: [Term, string][] = [
  ["ONE_YEAR", "1 year"],
  ["THREE_YEARS", "3 years"],
];
const payments: [Payment, string][] = [
  ["NO_UPFRONT", "No upfront"],
  ["PARTIAL_UPFRONT", "Partial upfront"],
  ["ALL_UPFRONT", "All upfront"],
];

interface Filters {
  service: string;
  term: string;
  paymentOption: string;
}

function useFilters(base: string): [Filters, (f: Partial<Filters>) => void] {
  const { search } = useLocation();
  const f = { service: search.get("service") ?? "", term: search.get("term") ?? "", paymentOption: search.get("paymentOption") ?? "" };
  return [f, (change) => navigate(base + query({ ...f, ...change }), { replace: true })];
}

function FilterBar({ filters, set }: { filters: Filters; set: (f: Partial<Filters>) => void }) {
  return (
    <div className="filters" role="group" aria-label="Filter recommendations">
      <FilterSelect id="rec-service" label="Service" any="Every service" options={services} value={filters.service} onChange={(service) => set({ service })} />
      <FilterSelect id="rec-term" label="Term" any="Any term" options={terms} value={filters.term} onChange={(term) => set({ term })} />
      <FilterSelect
        id="rec-payment"
        label="Payment"
        any="Any payment"
        options={payments}
        value={filters.paymentOption}
        onChange={(paymentOption) => set({ paymentOption })}
      />
    </div>
  );
}

// FilterSelect is one filter: a labelled select whose empty choice means "any".
function FilterSelect(props: {
  id: string;
  label: string;
  any: string;
  options: readonly (readonly [string, string])[];
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        <option value="">{props.any}</option>
        {props.options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </div>
  );
}

function TotalsCard({ totals }: { totals: Totals }) {
  return (
    <dl className="totals" data-testid="rec-totals">
      <div>
        <dt>Estimated monthly savings</dt>
        <dd>{money(totals.estimatedMonthlySavings)}</dd>
      </div>
      <div>
        <dt>Upfront cost</dt>
        <dd>{money(totals.upfrontCost)}</dd>
      </div>
      <div>
        <dt>Recommendations</dt>
        <dd>{totals.count}</dd>
      </div>
    </dl>
  );
}

function RecTable({ items, showAccount }: { items: Rec[]; showAccount?: boolean }) {
  return (
    <div className="table-wrap">
      <table className="table stack" data-testid="rec-table">
        <caption className="sr-only">Recommendations, highest savings first</caption>
        <thead>
          <tr>
            <th scope="col">Service</th>
            {showAccount && <th scope="col">Account</th>}
            <th scope="col">What</th>
            <th scope="col">Term</th>
            <th scope="col">Payment</th>
            <th scope="col">Upfront</th>
            <th scope="col">Monthly</th>
            <th scope="col">Saves a month</th>
            <th scope="col">Break-even</th>
          </tr>
        </thead>
        <tbody>
          {items.length === 0 && (
            <tr>
              <td colSpan={showAccount ? 9 : 8} className="empty">
                No recommendations match.
              </td>
            </tr>
          )}
          {items.map((r) => (
            <tr key={r.id}>
              <td data-label="Service">
                {r.service} <span className="hint">{r.kind === "savings_plan" ? "Savings Plan" : "Reservation"}</span>
              </td>
              {showAccount && (
                <td data-label="Account">
                  <Link to={`/accounts/${r.accountId}/recommendations`} className="mono">
                    {r.accountId}
                  </Link>
                </td>
              )}
              <td data-label="What">
                {r.kind === "savings_plan" ? `${money(r.quantity, r.currency)}/hour commitment` : `${r.quantity} × ${r.instanceType ?? ""}`} {r.region && <span className="hint">{r.region}</span>}
              </td>
              <td data-label="Term">{r.term === "ONE_YEAR" ? "1 year" : r.term === "THREE_YEARS" ? "3 years" : r.term}</td>
              <td data-label="Payment">{r.paymentOption.replace(/_/g, " ").toLowerCase()}</td>
              <td data-label="Upfront">{money(r.upfrontCost, r.currency)}</td>
              <td data-label="Monthly">{money(r.recurringMonthlyCost, r.currency)}</td>
              <td data-label="Saves a month">
                <strong>{money(r.estimatedMonthlySavings, r.currency)}</strong>
              </td>
              <td data-label="Break-even">{r.breakEvenMonths.toFixed(1)} months</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const syncTone = { ok: "ok", never_synced: "muted", waiting_for_data: "info", failed: "bad" } as const;

function SyncCard({ sync, account, onSynced }: { sync: Sync; account: Account; onSynced: (s: Sync) => void }) {
  const { api, canWrite } = useApp();
  const act = useAction();
  const payer = sync.payerAccountId || account.accountId;
  const syncNow = async () => {
    const r = await act.run(() => ok(api.POST("/v1/accounts/{accountId}/recommendations/sync", { params: { path: { accountId: payer } } })));
    if (r) onSynced(r.sync);
  };
  return (
    <section className="card" aria-labelledby="sync-title">
      <div className="card-head">
        <h2 id="sync-title">Cost Explorer sync</h2>
        {canWrite && (
          <button type="button" className="btn" onClick={syncNow} disabled={act.busy}>
            {act.busy ? "Syncing…" : "Sync now"}
          </button>
        )}
      </div>
      <p role="status" aria-live="polite" data-testid="sync-status">
        <Badge tone={syncTone[sync.status]}>{sync.status.replace(/_/g, " ")}</Badge> Payer <span className="mono">{payer}</span>
        {payer !== account.accountId && " (this account's recommendations come from its payer's sync)"} · last sync {dateTime(sync.lastSyncAt)} · last success{" "}
        {dateTime(sync.lastSuccessAt)} · {sync.calls} Cost Explorer requests
      </p>
      {sync.lastError && <p className="reason">{sync.lastError}</p>}
      {act.error ? (
        <ErrorBox error={act.error} />
      ) : null}
      {!account.costSync && <p className="hint">Cost Explorer sync is off for this account (Change Access turns it on).</p>}
    </section>
  );
}

export function AccountRecommendations({ account }: { account: Account }) {
  const base = `/accounts/${account.accountId}/recommendations`;
  const [filters, setFilters] = useFilters(base);
  const recs = useLoad(
    (api) =>
      ok(
        api.GET("/v1/accounts/{accountId}/recommendations", {
          params: {
            path: { accountId: account.accountId },
            query: { service: filters.service || undefined, term: (filters.term || undefined) as Term | undefined, paymentOption: (filters.paymentOption || undefined) as Payment | undefined },
          },
        }),
      ),
    [account.accountId, filters.service, filters.term, filters.paymentOption],
  );
  return (
    <>
      {recs.error ? <ErrorBox error={recs.error} /> : null}
      {!recs.data && !recs.error && <Spinner label="Loading recommendations…" />}
      {recs.data && (
        <>
          <SyncCard sync={recs.data.sync} account={account} onSynced={() => recs.reload()} />
          <section aria-labelledby="recs-title" className="card">
            <h2 id="recs-title">Recommendations</h2>
            <FilterBar filters={filters} set={setFilters} />
            <TotalsCard totals={recs.data.totals} />
            <RecTable items={recs.data.items} />
          </section>
        </>
      )}
    </>
  );
}

export function TenantRecommendations() {
  const [filters, setFilters] = useFilters("/recommendations");
  const [cursors, setCursors] = useState<string[]>([""]);
  const key = `${filters.service}|${filters.term}|${filters.paymentOption}`;
  const [lastKey, setLastKey] = useState(key);
  if (key !== lastKey) {
    setLastKey(key);
    setCursors([""]);
  }
  const cursor = cursors[cursors.length - 1] ?? "";
  const recs = useLoad(
    (api) =>
      ok(
        api.GET("/v1/recommendations", {
          params: {
            query: {
              service: filters.service || undefined,
              term: (filters.term || undefined) as Term | undefined,
              paymentOption: (filters.paymentOption || undefined) as Payment | undefined,
              limit: 25,
              cursor: cursor || undefined,
            },
          },
        }),
      ),
    [key, cursor],
  );
  return (
    <>
      <PageHead title="Recommendations" />
      <p className="lead">Reservations and Savings Plans Cost Explorer recommends across every payer you sync, highest savings first.</p>
      <FilterBar filters={filters} set={setFilters} />
      {recs.error ? <ErrorBox error={recs.error} /> : null}
      {!recs.data && !recs.error && <Spinner label="Loading recommendations…" />}
      {recs.data && (
        <>
          <TotalsCard totals={recs.data.totals} />
          <RecTable items={recs.data.items} showAccount />
          <Pager
            label="Recommendations"
            pageNumber={cursors.length}
            next={recs.data.nextCursor ? () => setCursors((c) => [...c, recs.data!.nextCursor!]) : undefined}
            previous={cursors.length > 1 ? () => setCursors((c) => c.slice(0, -1)) : undefined}
          />
          <p className="hint">To sync a payer now, open its account's Recommendations.</p>
        </>
      )}
    </>
  );
}
