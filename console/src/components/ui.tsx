import { useEffect, useId, useRef, useState, type ReactNode, type KeyboardEvent } from "react";
import { ApiError, describe } from "../api/problem";
import type { Tone } from "../lib/accounts";

export function Badge({ tone, children, title }: { tone: Tone; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

/** An error from the API or the network, as a message a person can act on. 403s say the role does not allow it. */
export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const forbidden = error instanceof ApiError && error.status === 403;
  return (
    <div className="alert alert-bad" role="alert">
      {title && <strong>{title} </strong>}
      {forbidden ? <strong>403 Forbidden. </strong> : null}
      {describe(error)}
    </div>
  );
}

export function Notice({ tone = "info", children, live }: { tone?: Tone; children: ReactNode; live?: boolean }) {
  return (
    <div className={`alert alert-${tone}`} role={live ? "status" : undefined} aria-live={live ? "polite" : undefined}>
      {children}
    </div>
  );
}

export function Spinner({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

/** A form field with its label, hint and the API's error for it (aria-describedby ties them to the input). */
export function Field({
  label,
  hint,
  error,
  children,
}: {
  label: string;
  hint?: ReactNode;
  error?: string;
  children: (props: { id: string; "aria-describedby"?: string; "aria-invalid"?: boolean }) => ReactNode;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errId = `${id}-err`;
  const describedBy = [hint ? hintId : "", error ? errId : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div className={`field${error ? " field-invalid" : ""}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, "aria-describedby": describedBy, "aria-invalid": error ? true : undefined })}
      {hint && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={errId}>
          {error}
        </p>
      )}
    </div>
  );
}

/** Errors of the API that belong to no field of this form, shown above it. */
export function FormErrors({ error, fields }: { error: unknown; fields: string[] }) {
  if (!error) return null;
  if (error instanceof ApiError) {
    const byField = error.fieldErrors();
    const shown = Object.keys(byField).filter((f) => fields.includes(f));
    const others = Object.entries(byField).filter(([f]) => !fields.includes(f));
    if (shown.length > 0 && others.length === 0) {
      return (
        <div className="alert alert-bad" role="alert">
          {error.problem.title}: correct the fields marked below.
        </div>
      );
    }
    if (others.length > 0) {
      return (
        <div className="alert alert-bad" role="alert">
          {error.problem.title}:
          <ul>
            {others.map(([f, m]) => (
              <li key={f}>
                <code>{f}</code> {m}
              </li>
            ))}
          </ul>
        </div>
      );
    }
  }
  return <ErrorBox error={error} />;
}

export function fieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiError ? error.fieldErrors()[field] : undefined;
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [done, setDone] = useState<"" | "copied" | "failed">("");
  return (
    <span className="copy">
      <button
        type="button"
        className="btn btn-small"
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(text);
            setDone("copied");
          } catch {
            setDone("failed");
          }
        }}
      >
        {label}
      </button>
      <span role="status" className="copy-status">
        {done === "copied" ? "Copied" : done === "failed" ? "Copy failed: select the text and copy it" : ""}
      </span>
    </span>
  );
}

export function Code({ children, label }: { children: string; label: string }) {
  return (
    <pre className="code" tabIndex={0} aria-label={label}>
      <code>{children}</code>
    </pre>
  );
}

/**
 * A modal dialog: focus moves in and stays in (Tab cycles), Escape closes, focus returns to what opened it.
 * It is a native <dialog> shown with showModal, so the rest of the page is inert to mouse, keyboard and readers.
 */
export function Dialog({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    const opener = document.activeElement as HTMLElement | null;
    if (d && !d.open) d.showModal();
    const first = d?.querySelector<HTMLElement>("[autofocus], input, select, textarea, button:not(.dialog-close)");
    first?.focus();
    return () => opener?.focus?.();
  }, []);
  return (
    <dialog
      ref={ref}
      className={`dialog${wide ? " dialog-wide" : ""}`}
      aria-labelledby={titleId}
      onCancel={(e) => {
        // Escape, wherever the focus is: the app closes the dialog (its route or state), not the browser.
        e.preventDefault();
        onClose();
      }}
    >
      <div className="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="dialog-close" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      <div className="dialog-body">{children}</div>
    </dialog>
  );
}

/** Tabs (WAI-ARIA tabs pattern): arrow keys move between tabs, Tab moves into the panel. */
export function Tabs({ tabs, label }: { label: string; tabs: { id: string; title: string; content: ReactNode }[] }) {
  const [active, setActive] = useState(tabs[0]?.id ?? "");
  const base = useId();
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const onKey = (e: KeyboardEvent, i: number) => {
    const n = tabs.length;
    const to = e.key === "ArrowRight" ? (i + 1) % n : e.key === "ArrowLeft" ? (i - 1 + n) % n : e.key === "Home" ? 0 : e.key === "End" ? n - 1 : -1;
    if (to < 0) return;
    e.preventDefault();
    setActive(tabs[to]!.id);
    refs.current[to]?.focus();
  };
  return (
    <div className="tabs">
      <div role="tablist" aria-label={label} className="tablist">
        {tabs.map((t, i) => (
          <button
            key={t.id}
            ref={(el) => {
              refs.current[i] = el;
            }}
            role="tab"
            type="button"
            id={`${base}-tab-${t.id}`}
            aria-selected={active === t.id}
            aria-controls={`${base}-panel-${t.id}`}
            tabIndex={active === t.id ? 0 : -1}
            onClick={() => setActive(t.id)}
            onKeyDown={(e) => onKey(e, i)}
          >
            {t.title}
          </button>
        ))}
      </div>
      {tabs.map((t) => (
        <div
          key={t.id}
          role="tabpanel"
          id={`${base}-panel-${t.id}`}
          aria-labelledby={`${base}-tab-${t.id}`}
          hidden={active !== t.id}
          tabIndex={0}
          className="tabpanel"
        >
          {active === t.id ? t.content : null}
        </div>
      ))}
    </div>
  );
}

export function Progress({ value, max, label }: { value: number; max: number; label: string }) {
  const pct = max > 0 ? Math.round((value / max) * 100) : 0;
  return (
    <div className="progress-wrap">
      <progress value={value} max={Math.max(max, 1)} aria-label={label} />
      <span className="progress-text">
        {value} of {max} ({pct}%)
      </span>
    </div>
  );
}
