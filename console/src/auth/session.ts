import type { OIDCConfig } from "../config";
import { challenge, claims, randomString } from "./pkce";

export const CALLBACK_PATH = "/auth/callback";
export const SIGNED_OUT_PATH = "/signed-out";

export interface User {
  subject: string;
  tenant: string;
  role: string;
  email?: string;
  /** When the token expires (ms since the epoch). */
  expiresAt: number;
}

interface Pending {
  verifier: string;
  returnTo: string;
}

interface TokenAnswer {
  id_token?: string;
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  error?: string;
  error_description?: string;
}

/** The parts of the browser a session uses, so tests can hand in their own. */
export interface Browser {
  origin: string;
  /** Where the browser goes next (a full-page navigation). */
  assign(url: string): void;
  /** The pending sign-ins by state: the verifier must survive the provider's redirect, the tokens never leave memory. */
  storage: Pick<Storage, "getItem" | "setItem" | "removeItem">;
  fetch: typeof fetch;
}

const pendingKey = (state: string) => `gangplank.signin.${state}`;

/**
 * A signed-in user's session: OIDC authorization code with PKCE. Tokens live in this object only: never in
 * localStorage, sessionStorage or cookies, so a reload signs in again (silently while the provider's own session
 * lasts).
 */
export class Session {
  private token: string | null = null;
  private refreshToken: string | null = null;
  user: User | null = null;

  constructor(
    private readonly cfg: OIDCConfig,
    private readonly browser: Browser,
  ) {}

  get redirectUri(): string {
    return this.browser.origin + CALLBACK_PATH;
  }

  /** Sends the browser to the provider's sign-in. prompt "login" asks it to let the user choose again. */
  async signIn(returnTo: string, prompt?: "login"): Promise<void> {
    const state = randomString(43);
    const verifier = randomString(64);
    this.browser.storage.setItem(pendingKey(state), JSON.stringify({ verifier, returnTo } satisfies Pending));
    const q = new URLSearchParams({
      response_type: "code",
      client_id: this.cfg.clientId,
      redirect_uri: this.redirectUri,
      scope: this.cfg.scope,
      state,
      code_challenge: await challenge(verifier),
      code_challenge_method: "S256",
    });
    if (prompt) q.set("prompt", prompt);
    this.browser.assign(`${this.cfg.authorizationEndpoint}?${q}`);
  }

  /** Finishes a sign-in from the provider's redirect (the callback URL's query); returns where to go next. */
  async complete(search: string): Promise<string> {
    const q = new URLSearchParams(search);
    const state = q.get("state") ?? "";
    const raw = state ? this.browser.storage.getItem(pendingKey(state)) : null;
    if (state) this.browser.storage.removeItem(pendingKey(state));
    if (q.get("error")) throw new Error(`Sign-in failed: ${q.get("error_description") || q.get("error")}`);
    if (!raw) throw new Error("This sign-in link is not one this tab started (or it was used already). Sign in again.");
    const code = q.get("code");
    if (!code) throw new Error("The sign-in answer has no code. Sign in again.");
    const pending = JSON.parse(raw) as Pending;
    await this.exchange(
      new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: this.redirectUri,
        client_id: this.cfg.clientId,
        code_verifier: pending.verifier,
      }),
    );
    return pending.returnTo.startsWith("/") && !pending.returnTo.startsWith("//") ? pending.returnTo : "/";
  }

  private async exchange(form: URLSearchParams): Promise<void> {
    const res = await this.browser.fetch(this.cfg.tokenEndpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    const body = (await res.json().catch(() => ({}))) as TokenAnswer;
    if (!res.ok) throw new Error(`Sign-in failed: ${body.error_description || body.error || res.status}`);
    const token = this.cfg.tokenUse === "id" ? body.id_token : body.access_token;
    if (!token) throw new Error(`Sign-in failed: the provider returned no ${this.cfg.tokenUse} token`);
    this.accept(token, body.refresh_token ?? this.refreshToken);
  }

  private accept(token: string, refresh: string | null): void {
    const c = claims(token);
    const str = (k: string) => (typeof c[k] === "string" ? (c[k] as string) : "");
    this.token = token;
    this.refreshToken = refresh;
    this.user = {
      subject: str("sub"),
      tenant: str(this.cfg.tenantClaim),
      role: str(this.cfg.roleClaim),
      email: str("email") || undefined,
      expiresAt: typeof c.exp === "number" ? c.exp * 1000 : Date.now() + 3600_000,
    };
  }

  get isAdmin(): boolean {
    return this.user?.role === "admin";
  }

  /** The bearer token, refreshed when it is about to expire; null when signed out. */
  async bearer(now = Date.now()): Promise<string | null> {
    if (!this.token || !this.user) return null;
    if (this.user.expiresAt - now < 30_000 && this.refreshToken) {
      try {
        await this.exchange(new URLSearchParams({ grant_type: "refresh_token", refresh_token: this.refreshToken, client_id: this.cfg.clientId }));
      } catch {
        this.forget();
        return null;
      }
    }
    return this.token;
  }

  forget(): void {
    this.token = null;
    this.refreshToken = null;
    this.user = null;
  }

  /** Forgets the tokens and ends the provider's session where it has a logout endpoint. */
  signOut(): void {
    this.forget();
    const back = this.browser.origin + SIGNED_OUT_PATH;
    if (this.cfg.logoutEndpoint) {
      const q = new URLSearchParams({ client_id: this.cfg.clientId, logout_uri: back });
      this.browser.assign(`${this.cfg.logoutEndpoint}?${q}`);
    } else {
      this.browser.assign(back);
    }
  }
}
