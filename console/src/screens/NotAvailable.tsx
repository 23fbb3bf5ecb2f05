import type { Account } from "../api/client";

/**
 * A capability whose API has not landed in this Gangplank yet: the console says so plainly rather than showing
 * something that does not work.
 */
export function NotAvailable({ what, issue, account }: { what: string; issue: string; account: Account }) {
  return (
    <section className="card not-available" aria-labelledby="na-title" data-testid="not-available">
      <h2 id="na-title">{what}: not available yet</h2>
      <p>
        This Gangplank's API has no {what.toLowerCase()} endpoints yet (the {issue} work is still to land), so the console cannot show them for{" "}
        {account.name}. When the API offers them, this page will list them here.
      </p>
    </section>
  );
}
