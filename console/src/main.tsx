import { StrictMode, useEffect, useMemo, useState } from "react";
import { createRoot } from "react-dom/client";
import "./styles.css";
import { createApi } from "./api/client";
import { App, type AppContext } from "./app";
import { CALLBACK_PATH, SIGNED_OUT_PATH, Session } from "./auth/session";
import { loadConfig, type ConsoleConfig } from "./config";
import { Layout } from "./components/layout";
import { match, navigate, Router, useLocation } from "./lib/router";
import { AccountsScreen } from "./screens/Accounts";
import { AccountScreen } from "./screens/AccountDetail";
import { TenantRecommendations } from "./screens/Recommendations";
import { TenantScreen } from "./screens/Tenant";
import { AuditScreen } from "./screens/Audit";
import { TenantResources } from "./screens/Resources";

function Screens() {
  const { path } = useLocation();
  useEffect(() => {
    // A new screen: put the keyboard and screen readers at its start.
    document.getElementById("main")?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [path]);
  let params: Record<string, string> | null;
  if (path === "/" || path === "/accounts" || path === "/accounts/new") return <AccountsScreen />;
  if ((params = match("/accounts/:accountId", path))) return <AccountScreen accountId={params.accountId!} section="" />;
  if ((params = match("/accounts/:accountId/:section", path))) return <AccountScreen accountId={params.accountId!} section={params.section!} />;
  if (path === "/recommendations") return <TenantRecommendations />;
  if (path === "/resources") return <TenantResources />;
  if (path === "/tenant") return <TenantScreen />;
  if (path === "/audit") return <AuditScreen />;
  return (
    <div className="card">
      <h1>Not found</h1>
      <p>No screen answers {path}.</p>
    </div>
  );
}

function Console({ cfg, session }: { cfg: ConsoleConfig; session: Session }) {
  const [, setSignedIn] = useState(0);
  const ctx = useMemo<AppContext>(
    () => ({
      api: createApi(
        cfg.apiBase,
        () => session.bearer(),
        () => {
          session.forget();
          setSignedIn((n) => n + 1);
          void session.signIn(window.location.pathname + window.location.search);
        },
      ),
      session,
      canWrite: session.isAdmin,
    }),
    [cfg, session],
  );
  return (
    <App.Provider value={ctx}>
      <Router>
        <Layout>
          <Screens />
        </Layout>
      </Router>
    </App.Provider>
  );
}

function Message({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <main id="main" className="message">
      <h1>{title}</h1>
      {children}
    </main>
  );
}

async function boot() {
  const root = createRoot(document.getElementById("root")!);
  let cfg: ConsoleConfig;
  try {
    cfg = await loadConfig();
  } catch (err) {
    root.render(
      <Message title="Gangplank cannot start">
        <p role="alert">{String(err instanceof Error ? err.message : err)}</p>
      </Message>,
    );
    return;
  }
  const session = new Session(cfg.auth, {
    origin: window.location.origin,
    assign: (url) => window.location.assign(url),
    storage: window.sessionStorage,
    fetch: window.fetch.bind(window),
  });
  const path = window.location.pathname;
  if (path === SIGNED_OUT_PATH) {
    root.render(
      <Message title="You are signed out">
        <p>Your session in this tab has ended.</p>
        <button type="button" className="btn btn-primary" onClick={() => void session.signIn("/accounts", "login")}>
          Sign in
        </button>
      </Message>,
    );
    return;
  }
  if (path === CALLBACK_PATH) {
    try {
      const to = await session.complete(window.location.search);
      window.history.replaceState(null, "", to === "/" ? "/accounts" : to);
    } catch (err) {
      root.render(
        <Message title="Sign-in failed">
          <p role="alert">{err instanceof Error ? err.message : String(err)}</p>
          <button type="button" className="btn btn-primary" onClick={() => void session.signIn("/accounts")}>
            Sign in again
          </button>
        </Message>,
      );
      return;
    }
  }
  if (!session.user) {
    await session.signIn(path === "/" ? "/accounts" : path + window.location.search);
    return;
  }
  if (window.location.pathname === "/") navigate("/accounts", { replace: true });
  root.render(
    <StrictMode>
      <Console cfg={cfg} session={session} />
    </StrictMode>,
  );
}

void boot();
