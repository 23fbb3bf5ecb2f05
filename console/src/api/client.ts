import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema.gen";
import { ApiError, toApiError } from "./problem";

export type { paths, components } from "./schema.gen";
export type Schemas = import("./schema.gen").components["schemas"];
export type Account = Schemas["Account"];
export type AccountWithOnboarding = Schemas["AccountWithOnboarding"];
export type Onboarding = Schemas["Onboarding"];
export type Tenant = Schemas["Tenant"];
export type AccessLevel = Schemas["AccessLevel"];
export type AccountStatus = Schemas["AccountStatus"];
export type AccountType = Schemas["AccountType"];

export type Api = ReturnType<typeof createApi>;

/**
 * The API client, typed from pkg/httpapi/openapi.yaml. `token` returns the bearer token to send (or null), and
 * `onUnauthenticated` is told when the API answers 401 (the session has ended).
 */
export function createApi(baseUrl: string, token: () => Promise<string | null>, onUnauthenticated: () => void, fetchImpl?: typeof fetch) {
  const client = createClient<paths>({ baseUrl, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
  const auth: Middleware = {
    async onRequest({ request }) {
      const t = await token();
      if (t) request.headers.set("Authorization", `Bearer ${t}`);
      return request;
    },
    onResponse({ response }) {
      if (response.status === 401) onUnauthenticated();
      return response;
    },
  };
  client.use(auth);
  return client;
}

/** The data of a successful answer, or the API's problem thrown as an ApiError. */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw await toApiError(response, error);
  return data as T;
}

/** Like ok, with the answer's ETag (for If-Match on the next write). */
export async function withETag<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<{ data: T; etag: string }> {
  const { data, error, response } = await call;
  if (!response.ok) throw await toApiError(response, error);
  return { data: data as T, etag: response.headers.get("ETag") ?? "" };
}

export { ApiError };
