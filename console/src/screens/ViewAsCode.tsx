import { ok, type Account } from "../api/client";
import { useLoad } from "../app";
import { Code, CopyButton, ErrorBox, Spinner } from "../components/ui";

/** View as Code: the account as one Terraform configuration (Gangplank's provider), to copy into a repository. */
export function ViewAsCode({ account }: { account: Account }) {
  const tf = useLoad((a) => ok(a.GET("/v1/accounts/{accountId}/terraform", { params: { path: { accountId: account.accountId } } })), [account.accountId]);
  return (
    <section className="card" aria-labelledby="code-title" data-testid="view-as-code">
      <div className="card-head">
        <h2 id="code-title">View as Code</h2>
        {tf.data && <CopyButton text={tf.data.configuration} label="Copy main.tf" />}
      </div>
      <p className="lead">
        {account.name} as Terraform: the connection, its settings and the role in the account. Put it in a repository and manage the account as code from there
        on.
      </p>
      {tf.error ? <ErrorBox error={tf.error} /> : null}
      {!tf.data && !tf.error && <Spinner label="Writing the configuration…" />}
      {tf.data && (
        <>
          <dl className="facts">
            <dt>Role</dt>
            <dd className="mono">{tf.data.roleName}</dd>
            <dt>Trusts</dt>
            <dd className="mono wrap-anywhere">{tf.data.trustedPrincipal}</dd>
            <dt>Template</dt>
            <dd className="mono wrap-anywhere">{tf.data.templateUrl}</dd>
          </dl>
          <Code label="Terraform configuration (main.tf)">{tf.data.configuration}</Code>
        </>
      )}
    </section>
  );
}
