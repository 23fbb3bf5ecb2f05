import type { ReactNode } from "react";
import { useApp } from "../app";
import { Link, useLocation } from "../lib/router";

const nav = [
  { to: "/accounts", label: "Accounts" },
  { to: "/resources", label: "Resources" },
  { to: "/recommendations", label: "Recommendations" },
  { to: "/tenant", label: "Tenant" },
  { to: "/audit", label: "Audit trail" },
];

export function Layout({ children }: { children: ReactNode }) {
  const { session, canWrite } = useApp();
  const { path } = useLocation();
  const user = session.user;
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/accounts" className="brand">
          Gangplank
        </Link>
        <nav aria-label="Main">
          <ul>
            {nav.map((n) => (
              <li key={n.to}>
                <Link to={n.to} aria-current={path === n.to || path.startsWith(n.to + "/") ? "page" : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span className="who-name" title={user?.subject}>
            {user?.email || user?.subject}
          </span>
          <span className="who-role">
            {user?.tenant} · {canWrite ? "admin" : user?.role || "no role"}
          </span>
          <button type="button" className="btn btn-small btn-quiet" onClick={() => session.signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

export function PageHead({ title, children, crumbs }: { title: ReactNode; children?: ReactNode; crumbs?: { to: string; label: string }[] }) {
  return (
    <div className="page-head">
      {crumbs && crumbs.length > 0 && (
        <nav aria-label="Breadcrumb" className="crumbs">
          <ol>
            {crumbs.map((c) => (
              <li key={c.to}>
                <Link to={c.to}>{c.label}</Link>
              </li>
            ))}
          </ol>
        </nav>
      )}
      <div className="page-title">
        <h1>{title}</h1>
        {children && <div className="page-actions">{children}</div>}
      </div>
    </div>
  );
}
