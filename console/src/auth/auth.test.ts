import { describe, expect, test } from "vitest";
import { base64url, challenge, claims, randomString } from "./pkce";
import { Session, type Browser } from "./session";
import type { OIDCConfig } from "../config";

const cfg: OIDCConfig = {
  issuer: "https://idp.example",
  clientId: "client-1",
  authorizationEndpoint: "https://idp.example/authorize",
  tokenEndpoint: "https://idp.example/token",
  scope: "openid email",
  tokenUse: "id",
  tenantClaim: "custom:tenant_id",
  roleClaim: "custom:role",
};

const jwt = (c: object) => `h.${base64url(new TextEncoder().encode(JSON.stringify(c)))}.s`;

function browser(token: (form: URLSearchParams) => { status: number; body: object }) {
  const store = new Map<string, string>();
  const visited: string[] = [];
  const forms: URLSearchParams[] = [];
  const b: Browser = {
    origin: "https://console.example",
    assign: (u) => void visited.push(u),
    storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v), removeItem: (k) => void store.delete(k) },
    fetch: (async (_url: string, init: RequestInit) => {
      const form = new URLSearchParams(String(init.body));
      forms.push(form);
      const r = token(form);
      return new Response(JSON.stringify(r.body), { status: r.status });
    }) as typeof fetch,
  };
  return { b, store, visited, forms };
}

describe("PKCE", () => {
  test("verifiers are 43 to 128 unreserved characters", () => {
    expect(randomString(43)).toMatch(/^[A-Za-z0-9._~-]{43}$/);
    expect(randomString(128)).toHaveLength(128);
    expect(() => randomString(42)).toThrow();
    expect(randomString(64)).not.toBe(randomString(64));
  });
  test("S256 challenge of RFC 7636's example", async () => {
    expect(await challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });
  test("claims decodes a JWT's payload (UTF-8, base64url)", () => {
    expect(claims(jwt({ sub: "ü", n: 1 }))).toEqual({ sub: "ü", n: 1 });
    expect(() => claims("nope")).toThrow();
  });
});

describe("session", () => {
  test("sign-in sends the browser to the provider with an S256 challenge, and the code comes back for tokens kept in memory", async () => {
    const token = jwt({ sub: "u1", "custom:tenant_id": "acme", "custom:role": "admin", exp: 4102444800 });
    const { b, store, visited, forms } = browser(() => ({ status: 200, body: { id_token: token, access_token: "other", refresh_token: "r" } }));
    const s = new Session(cfg, b);
    await s.signIn("/accounts?x=1", "login");
    const url = new URL(visited[0]!);
    expect(url.origin + url.pathname).toBe(cfg.authorizationEndpoint);
    const q = url.searchParams;
    expect(q.get("response_type")).toBe("code");
    expect(q.get("code_challenge_method")).toBe("S256");
    expect(q.get("redirect_uri")).toBe("https://console.example/auth/callback");
    expect(q.get("prompt")).toBe("login");
    const pending = JSON.parse([...store.values()][0]!);
    expect(await challenge(pending.verifier)).toBe(q.get("code_challenge"));

    const to = await s.complete(`?code=abc&state=${q.get("state")}`);
    expect(to).toBe("/accounts?x=1");
    expect(forms[0]!.get("code_verifier")).toBe(pending.verifier);
    expect(forms[0]!.get("grant_type")).toBe("authorization_code");
    expect(await s.bearer()).toBe(token);
    expect(s.user).toMatchObject({ subject: "u1", tenant: "acme", role: "admin" });
    expect(s.isAdmin).toBe(true);
    // Nothing but the pending sign-in was ever stored, and it is gone.
    expect(store.size).toBe(0);
  });

  test("a callback this tab did not start, a reused state, or a provider error is refused", async () => {
    const { b } = browser(() => ({ status: 200, body: {} }));
    const s = new Session(cfg, b);
    await expect(s.complete("?code=abc&state=forged")).rejects.toThrow(/not one this tab started/);
    await expect(s.complete("?error=access_denied&error_description=nope&state=x")).rejects.toThrow(/nope/);
  });

  test("a return path to another site is not followed", async () => {
    const { b, visited } = browser(() => ({ status: 200, body: { id_token: jwt({ sub: "u" }) } }));
    const s = new Session(cfg, b);
    await s.signIn("//evil.example/x");
    const state = new URL(visited[0]!).searchParams.get("state");
    expect(await s.complete(`?code=c&state=${state}`)).toBe("/");
  });

  test("an expiring token is refreshed; sign-out forgets it and ends the provider's session", async () => {
    let n = 0;
    const { b, visited, forms } = browser(() => ({ status: 200, body: { id_token: jwt({ sub: "u", exp: Math.floor(Date.now() / 1000) + (n++ === 0 ? 10 : 3600) }), refresh_token: "r1" } }));
    const s = new Session({ ...cfg, logoutEndpoint: "https://idp.example/logout" }, b);
    await s.signIn("/");
    await s.complete(`?code=c&state=${new URL(visited[0]!).searchParams.get("state")}`);
    const second = await s.bearer();
    expect(forms[1]!.get("grant_type")).toBe("refresh_token");
    expect(forms[1]!.get("refresh_token")).toBe("r1");
    expect(second).toBeTruthy();
    s.signOut();
    expect(await s.bearer()).toBeNull();
    expect(visited[1]).toBe("https://idp.example/logout?client_id=client-1&logout_uri=https%3A%2F%2Fconsole.example%2Fsigned-out");
  });
});
