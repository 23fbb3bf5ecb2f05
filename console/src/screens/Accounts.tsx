import { useEffect, useState, type FormEvent } from "react";
import { ok, type Account, type AccountStatus, type AccountType } from "../api/client";
import { useApp, useLoad } from "../app";
import { ErrorBox, Spinner } from "../components/ui";
import { PageHead } from "../components/layout";
import { AccountRow, AccountsTable } from "../components/accountsTable";
import { asAccountId, matchesSearch, statusLabels, typeLabels } from "../lib/accounts";
import { Link, navigate, query, useLocation } from "../lib/router";
import { AddAccountDialog } from "./AddAccount";

const PAGE = 20;

type Page = { items: Account[]; nextCursor: string };

/** A listing paged with the API's cursors: the cursors of the pages before are kept for "Previous". */
function usePaged(key: string, load: (cursor: string) => Promise<Page>, enabled = true) {
  const [cursors, setCursors] = useState<string[]>([""]);
  useEffect(() => setCursors([""]), [key]);
  const cursor = cursors[cursors.length - 1] ?? "";
  const page = useLoad(() => (enabled ? load(cursor) : Promise.resolve({ items: [], nextCursor: "" })), [key, cursor, enabled]);
  return {
    ...page,
    pageNumber: cursors.length,
    next: page.data?.nextCursor ? () => setCursors((c) => [...c, page.data!.nextCursor]) : undefined,
    previous: cursors.length > 1 ? () => setCursors((c) => c.slice(0, -1)) : undefined,
  };
}

export function Pager({ label, pageNumber, next, previous }: { label: string; pageNumber: number; next?: () => void; previous?: () => void }) {
  if (!next && !previous) return null;
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" className="btn btn-small" onClick={previous} disabled={!previous}>
        Previous page
      </button>
      <span>Page {pageNumber}</span>
      <button type="button" className="btn btn-small" onClick={next} disabled={!next}>
        Next page
      </button>
    </nav>
  );
}

export function AccountsScreen() {
  const { api, canWrite } = useApp();
  const { path, search } = useLocation();
  const status = (search.get("status") ?? "") as AccountStatus | "";
  const type = (search.get("type") ?? "") as AccountType | "";
  const q = search.get("q") ?? "";
  const limit = Math.min(100, Math.max(1, Number(search.get("limit")) || PAGE));
  const [draft, setDraft] = useState(q);
  // Bumped when the Add Cloud Account dialog closes: the listings read again to show what it added.
  const [fresh, setFresh] = useState(0);
  useEffect(() => setDraft(q), [q]);
  const filtered = status !== "" || type !== "";

  const setFilter = (values: Record<string, string>) => navigate("/accounts" + query({ q, status, type, limit: search.get("limit"), ...values }), { replace: true });
  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    setFilter({ q: draft.trim() });
  };

  const list = (t: AccountType | "", cursor: string) =>
    ok(api.GET("/v1/accounts", { params: { query: { limit, cursor: cursor || undefined, type: t || undefined, status: status || undefined } } }));
  const mgmt = usePaged(`m|${status}|${limit}|${fresh}`, (c) => list("management", c), !filtered);
  const standalone = usePaged(`s|${status}|${limit}|${fresh}`, (c) => list("standalone", c), !filtered);
  const flat = usePaged(`f|${status}|${type}|${limit}|${fresh}`, (c) => list(type, c), filtered);

  // A 12-digit account ID finds that account wherever it is in the listing.
  const idSearch = asAccountId(q);
  const found = useLoad(
    () => (idSearch ? ok(api.GET("/v1/accounts/{accountId}", { params: { path: { accountId: idSearch } } })).catch(() => null) : Promise.resolve(null)),
    [idSearch],
  );

  return (
    <>
      <PageHead title="Cloud tenant setup">
        {canWrite && (
          <Link to="/accounts/new" className="btn btn-primary">
            Add Cloud Account
          </Link>
        )}
      </PageHead>
      <p className="lead">Your AWS accounts, grouped by the management account whose organization they belong to.</p>

      <div className="toolbar">
        <form role="search" onSubmit={onSearch} className="search">
          <label htmlFor="account-search">Search accounts</label>
          <div className="search-row">
            <input
              id="account-search"
              type="search"
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              placeholder="Name or account ID"
              aria-describedby="account-search-hint"
            />
            <button type="submit" className="btn">
              Search
            </button>
          </div>
          <p className="hint" id="account-search-hint">
            Names match among the accounts shown; a full 12-digit account ID finds the account anywhere.
          </p>
        </form>
        <div className="filters">
          <div className="field">
            <label htmlFor="filter-status">Status</label>
            <select id="filter-status" value={status} onChange={(e) => setFilter({ status: e.target.value })}>
              <option value="">Any status</option>
              {Object.entries(statusLabels).map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="filter-type">Type</label>
            <select id="filter-type" value={type} onChange={(e) => setFilter({ type: e.target.value })}>
              <option value="">Any type</option>
              {Object.entries(typeLabels).map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          </div>
          {(filtered || q) && (
            <button type="button" className="btn btn-quiet" onClick={() => navigate("/accounts", { replace: true })}>
              Clear filters
            </button>
          )}
        </div>
      </div>

      {idSearch && found.data && (
        <section aria-labelledby="found-title" className="card">
          <h2 id="found-title">Account {idSearch}</h2>
          <AccountsTable caption={`Account ${idSearch}`}>
            <AccountRow account={found.data} />
          </AccountsTable>
        </section>
      )}
      {idSearch && found.data === null && !found.loading && <p className="empty">No account {idSearch} in your tenant.</p>}

      {filtered ? (
        <section aria-labelledby="flat-title">
          <h2 id="flat-title" className="section-title">
            {type ? typeLabels[type] : "All"} accounts{status ? ` · ${statusLabels[status]}` : ""}
          </h2>
          <Grouped page={flat} search={q} />
          <Pager label="Accounts" {...flat} />
        </section>
      ) : (
        <>
          <section aria-labelledby="orgs-title">
            <h2 id="orgs-title" className="section-title">
              Organizations
            </h2>
            {mgmt.error ? <ErrorBox error={mgmt.error} /> : null}
            {mgmt.loading && !mgmt.data ? <Spinner label="Loading accounts…" /> : null}
            {mgmt.data && (
              <AccountsTable caption="Management accounts and their linked accounts" testId="accounts-table">
                {mgmt.data.items.length === 0 && (
                  <tr>
                    <td colSpan={8} className="empty">
                      No management accounts yet. {canWrite ? "Add one to bring in its whole organization." : ""}
                    </td>
                  </tr>
                )}
                {mgmt.data.items.map((a) => (
                  <ManagementGroup key={a.accountId} account={a} search={q} status={status} />
                ))}
              </AccountsTable>
            )}
            <Pager label="Management accounts" {...mgmt} />
          </section>
          <section aria-labelledby="standalone-title">
            <h2 id="standalone-title" className="section-title">
              Standalone accounts
            </h2>
            {standalone.error ? <ErrorBox error={standalone.error} /> : null}
            {standalone.data && (
              <AccountsTable caption="Standalone accounts">
                {standalone.data.items.filter((a) => matchesSearch(a, q)).length === 0 && (
                  <tr>
                    <td colSpan={8} className="empty">
                      {q ? "No standalone account matches." : "No standalone accounts yet."}
                    </td>
                  </tr>
                )}
                {standalone.data.items
                  .filter((a) => matchesSearch(a, q))
                  .map((a) => (
                    <AccountRow key={a.accountId} account={a} />
                  ))}
              </AccountsTable>
            )}
            <Pager label="Standalone accounts" {...standalone} />
          </section>
        </>
      )}
      {path === "/accounts/new" && (
        <AddAccountDialog
          onClose={() => {
            navigate("/accounts");
            setFresh((n) => n + 1);
          }}
        />
      )}
    </>
  );
}

/** A flat page of accounts, grouped on the page by their management account. */
function Grouped({ page, search }: { page: { data?: Page; error: unknown; loading: boolean }; search: string }) {
  if (page.error) return <ErrorBox error={page.error} />;
  if (!page.data) return <Spinner />;
  const rows = page.data.items.filter((a) => matchesSearch(a, search));
  const groups = new Map<string, Account[]>();
  for (const a of rows) {
    const key = a.type === "management" ? a.accountId : (a.managementAccountId ?? "");
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  return (
    <AccountsTable caption="Accounts matching the filters" testId="accounts-table">
      {rows.length === 0 && (
        <tr>
          <td colSpan={8} className="empty">
            No accounts match.
          </td>
        </tr>
      )}
      {[...groups.entries()].map(([key, accounts]) => (
        <GroupRows key={key || "standalone"} title={key ? `Organization of ${key}` : "Standalone"} accounts={accounts} />
      ))}
    </AccountsTable>
  );
}

function GroupRows({ title, accounts }: { title: string; accounts: Account[] }) {
  return (
    <>
      <tr className="group-row">
        <th colSpan={8} scope="colgroup">
          {title}
        </th>
      </tr>
      {accounts.map((a) => (
        <AccountRow key={a.accountId} account={a} nested={a.type === "linked"} />
      ))}
    </>
  );
}

/** A management account's row, expandable to its linked accounts (loaded page by page when opened). */
function ManagementGroup({ account, search, status }: { account: Account; search: string; status: AccountStatus | "" }) {
  const { api } = useApp();
  const [open, setOpen] = useState(false);
  const [pages, setPages] = useState<Page[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const linked = pages.flatMap((p) => p.items);
  const more = pages.length > 0 ? pages[pages.length - 1]!.nextCursor : "";
  const load = async (cursor: string) => {
    setLoading(true);
    setError(null);
    try {
      const page = await ok(
        api.GET("/v1/accounts", {
          params: { query: { managementAccountId: account.accountId, limit: 50, cursor: cursor || undefined, status: status || undefined } },
        }),
      );
      setPages((p) => (cursor ? [...p, page] : [page]));
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    if (open && pages.length === 0) void load("");
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open]);
  const matches = linked.filter((a) => matchesSearch(a, search));
  if (search && !matchesSearch(account, search) && (!open || matches.length === 0)) return null;
  const shown = matchesSearch(account, search) ? linked.filter((a) => matchesSearch(a, search)) : matches;
  const regionId = `linked-of-${account.accountId}`;
  return (
    <>
      <AccountRow
        account={account}
        expander={
          <button
            type="button"
            className="expander"
            aria-expanded={open}
            aria-controls={regionId}
            onClick={() => setOpen((o) => !o)}
            aria-label={`${open ? "Hide" : "Show"} the linked accounts of ${account.name}`}
          >
            <span aria-hidden="true">{open ? "▾" : "▸"}</span>
          </button>
        }
      />
      {open && (
        <>
          {loading && pages.length === 0 && (
            <tr id={regionId}>
              <td colSpan={8}>
                <Spinner label="Loading linked accounts…" />
              </td>
            </tr>
          )}
          {error ? (
            <tr>
              <td colSpan={8}>
                <ErrorBox error={error} />
              </td>
            </tr>
          ) : null}
          {pages.length > 0 && shown.length === 0 && (
            <tr id={regionId} className="nested">
              <td colSpan={8} className="empty">
                No linked accounts{status ? ` with status ${statusLabels[status]}` : ""} yet. Discover the organization from{" "}
                <Link to={`/accounts/${account.accountId}/organization`}>its organization page</Link>.
              </td>
            </tr>
          )}
          {shown.map((a, i) => (
            <AccountRow key={a.accountId} account={a} nested id={i === 0 ? regionId : undefined} />
          ))}
          {more && (
            <tr className="nested">
              <td colSpan={8}>
                <button type="button" className="btn btn-small" onClick={() => load(more)} disabled={loading}>
                  Show more linked accounts
                </button>
              </td>
            </tr>
          )}
        </>
      )}
    </>
  );
}
