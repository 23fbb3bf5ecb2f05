// The console's runtime configuration, served beside it as /config.json: by the CDK app in the cloud (its values
// come from the stack), by `make local` on this machine. Nothing here is secret.
export interface ConsoleConfig {
  /** Where the API is: "" for the console's own origin (CloudFront routes /v1 to API Gateway; make local proxies it). */
  apiBase: string;
  auth: OIDCConfig;
}

export interface OIDCConfig {
  /** The token issuer (Cognito user pool, external provider, or make local's stand-in). */
  issuer: string;
  clientId: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** Where the provider signs the user out (Cognito's /logout); empty when it has none. */
  logoutEndpoint?: string;
  scope: string;
  /** Which token the API takes: Cognito's ID token carries the tenant and role; other providers' access tokens. */
  tokenUse: "id" | "access";
  /** The claims naming the tenant and the role, as the API reads them. */
  tenantClaim: string;
  roleClaim: string;
}

export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<ConsoleConfig> {
  const res = await fetchImpl("/config.json", { cache: "no-store" });
  if (!res.ok) throw new Error(`the console's configuration (/config.json) answered ${res.status}`);
  const cfg = (await res.json()) as ConsoleConfig;
  for (const k of ["issuer", "clientId", "authorizationEndpoint", "tokenEndpoint"] as const) {
    if (!cfg.auth?.[k]) throw new Error(`the console's configuration lacks auth.${k}`);
  }
  return cfg;
}
