import { createContext, useCallback, useContext, useEffect, useRef, useState } from "react";
import type { Api } from "./api/client";
import type { Session } from "./auth/session";
import { describe } from "./api/problem";

export interface AppContext {
  api: Api;
  session: Session;
  /** Whether the signed-in user may change things (admin); viewers see no write buttons. */
  canWrite: boolean;
}

export const App = createContext<AppContext | null>(null);

export function useApp(): AppContext {
  const ctx = useContext(App);
  if (!ctx) throw new Error("useApp outside the app");
  return ctx;
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  set: (v: T) => void;
}

/** Loads data for a screen, again whenever a dependency changes; the latest load wins. */
export function useLoad<T>(load: (api: Api, signal: AbortSignal) => Promise<T>, deps: unknown[]): Loaded<T> {
  const { api } = useApp();
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    loadRef.current(api, ctl.signal).then(
      (data) => !ctl.signal.aborted && setState({ data, loading: false }),
      (error) => !ctl.signal.aborted && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, tick, ...deps]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const set = useCallback((data: T) => setState({ data, loading: false }), []);
  return { data: state.data, error: state.error, loading: state.loading, reload, set };
}

/** Runs an action (a button's), keeping its error to show beside it and whether it runs. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async <T,>(f: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await f();
    } catch (err) {
      setError(err);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run, message: error ? describe(error) : "" };
}
