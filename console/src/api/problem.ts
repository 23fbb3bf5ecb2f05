import type { components } from "./schema.gen";

export type Problem = components["schemas"]["Problem"];

/** Problem types whose meaning belongs to one field of the form that caused them. */
const fieldOfType: Record<string, string> = {
  "name-taken": "name",
  "account-taken": "accountId",
  "confirmation-required": "confirm",
};

/** An API answer that was not a success, with its RFC 9457 problem document. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  /** Seconds to wait before retrying (Retry-After), when the API said. */
  readonly retryAfter?: number;

  constructor(status: number, problem: Problem, retryAfter?: number) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  /** The problem's short name: the last segment of its type URI ("validation-failed"). */
  get kind(): string {
    return problemKind(this.problem.type);
  }

  /** Field errors by field name (first message wins; nested fields keep their dotted names). */
  fieldErrors(): Record<string, string> {
    return fieldErrors(this.problem);
  }
}

export function problemKind(type: string | undefined): string {
  if (!type) return "";
  const i = type.lastIndexOf("/");
  return i >= 0 ? type.slice(i + 1) : type;
}

export function fieldErrors(p: Problem): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of p.errors ?? []) {
    if (!(e.field in out)) out[e.field] = e.message;
  }
  const field = fieldOfType[problemKind(p.type)];
  if (field && !(field in out)) out[field] = p.detail || p.title;
  return out;
}

/** Reads a failed response into an ApiError, whatever its body (a proxy's HTML page becomes a plain problem). */
export async function toApiError(res: Response, body?: unknown): Promise<ApiError> {
  let problem: Problem | undefined;
  if (body && typeof body === "object" && "status" in body && "title" in body) {
    problem = body as Problem;
  } else {
    try {
      const parsed = (await res.clone().json()) as Problem;
      if (parsed && typeof parsed === "object" && parsed.title) problem = parsed;
    } catch {
      /* not JSON */
    }
  }
  problem ??= { type: "about:blank", title: res.statusText || `HTTP ${res.status}`, status: res.status };
  const ra = Number(res.headers.get("Retry-After"));
  return new ApiError(res.status, problem, Number.isFinite(ra) && ra > 0 ? ra : undefined);
}

/** One sentence for a person: what went wrong and, where the API said, what to do. */
export function describe(err: unknown): string {
  if (err instanceof ApiError) {
    const p = err.problem;
    if (err.status === 403) return `Not allowed: ${p.detail || p.title}`;
    const base = p.detail ? `${p.title}: ${p.detail}` : p.title;
    return p.requestId && err.status >= 500 ? `${base} (request ${p.requestId})` : base;
  }
  if (err instanceof TypeError) return `The API could not be reached (${err.message}). Check your connection and try again.`;
  return err instanceof Error ? err.message : String(err);
}
