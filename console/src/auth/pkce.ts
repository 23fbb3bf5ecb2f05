// OAuth 2.0 authorization code with PKCE (RFC 7636): the verifier stays in this tab, its S256 challenge goes to the
// provider, and the code is worthless without the verifier.

const unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

/** A random string of `length` unreserved characters (RFC 7636: 43 to 128). */
export function randomString(length = 64, random: (n: number) => Uint8Array = randomBytes): string {
  if (length < 43 || length > 128) throw new RangeError("a PKCE verifier has 43 to 128 characters");
  // Bytes of 198 (3 × 66) and above are dropped, so that every character is equally likely.
  let out = "";
  while (out.length < length) {
    for (const b of random(length)) {
      if (b < 198 && out.length < length) out += unreserved[b % 66];
    }
  }
  return out;
}

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

export function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The S256 code challenge of a verifier. */
export async function challenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** The claims of a JWT (not verified: the API verifies tokens; the console only reads who the user is). */
export function claims(jwt: string): Record<string, unknown> {
  const part = jwt.split(".")[1];
  if (!part) throw new Error("not a JWT");
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bin = atob(b64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}
