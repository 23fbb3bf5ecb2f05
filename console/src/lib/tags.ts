import type { Tone } from "./accounts";

/** One row of the tag editor: what the person typed. */
export interface TagRow {
  key: string;
  value: string;
}

export type Tags = Record<string, string>;

/** The editor's rows for a resource's tags, by key. */
export function rowsOf(tags: Tags | undefined): TagRow[] {
  return Object.keys(tags ?? {})
    .sort((a, b) => a.localeCompare(b))
    .map((key) => ({ key, value: tags![key]! }));
}

/**
 * The merge patch that turns `before` into the rows (PATCH /v1/resources/{arn}): keys set or changed carry their
 * value, keys no longer present are null, unchanged keys are left out. Rows with an empty key are ignored (a blank
 * row the person added and left); a key typed twice keeps its last value.
 */
export function tagPatch(before: Tags | undefined, rows: TagRow[]): Record<string, string | null> {
  const after: Tags = {};
  for (const r of rows) {
    const key = r.key.trim();
    if (key !== "") after[key] = r.value;
  }
  const patch: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(after)) if (before?.[k] !== v) patch[k] = v;
  for (const k of Object.keys(before ?? {})) if (!(k in after)) patch[k] = null;
  return patch;
}

/** The API's tag filter (key:value, or key alone); a key holding a colon is quoted. */
export function tagFilter(key: string, value: string): string {
  const k = key.includes(":") ? JSON.stringify(key) : key;
  return value === "" ? k : `${k}:${value}`;
}

/** Splits a tag filter typed as key=value or key:value (the first separator wins) into the API's form. */
export function parseTagFilter(text: string): string {
  const t = text.trim();
  if (t === "") return "";
  const i = t.search(/[=:]/);
  if (i < 0) return tagFilter(t, "");
  return tagFilter(t.slice(0, i).trim(), t.slice(i + 1).trim());
}

export type WriteState = "local" | "pending" | "synced" | "failed" | "conflict";

export const writeStateLabel: Record<WriteState, string> = {
  local: "Kept in Gangplank",
  pending: "Writing to AWS",
  synced: "Written to AWS",
  failed: "Write failed",
  conflict: "Conflict",
};

export const writeStateTone: Record<WriteState, Tone> = { local: "muted", pending: "info", synced: "ok", failed: "bad", conflict: "warn" };

/** Whether a resource's edits still wait for AWS (the console keeps checking). */
export const writeSettled = (s: WriteState | undefined) => s !== "pending";
