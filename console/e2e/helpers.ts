import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { expect } from "vitest";

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const here = path.dirname(new URL(import.meta.url).pathname);
export const results = path.resolve(here, "..", "test-results");
export const shots = path.join(results, "screenshots");

/** Debian's Chromium, headless, with the flags CI needs (no sandbox as root, nothing fetched in the background). */
export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** Bounded waits: what the page shows, within this many ms. */
export const WAIT = 30_000;
export const LONG = 90_000;

/** Waits until the locator shows (bounded), failing with what was awaited. */
export const see = (l: Locator, timeout = WAIT) => l.first().waitFor({ state: "visible", timeout });
/** Waits until the locator is gone (bounded). */
export const gone = (l: Locator, timeout = WAIT) => l.first().waitFor({ state: "hidden", timeout });

export const widths = [1280, 390] as const;
export const screens = new Set<string>();

/**
 * Checks a screen as a person and a screen reader meet it, at 1280 and 390 px wide: axe-core finds no serious or
 * critical violation, nothing overflows sideways, and a screenshot of each width is saved.
 */
export async function checkScreen(page: Page, name: string, ready?: Locator) {
  fs.mkdirSync(shots, { recursive: true });
  const original = page.viewportSize() ?? { width: 1280, height: 900 };
  for (const width of widths) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    if (ready) await see(ready);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${name} at ${width} px overflows sideways by ${overflow} px`).toBeLessThanOrEqual(1);
    if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource);
    const violations = await page.evaluate(async () => {
      const w = window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } };
      const r = await w.axe.run(document, { resultTypes: ["violations"] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
    });
    const grave = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    expect(grave, `${name} at ${width} px: ${JSON.stringify(grave, null, 1)}`).toEqual([]);
    await page.screenshot({ path: path.join(shots, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(original);
  screens.add(name);
}

export function figure(name: string, value: number | string) {
  const file = path.join(results, "figures.json");
  const all = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>) : {};
  all[name] = value;
  fs.mkdirSync(results, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(all, null, 2));
}

/**
 * What a person does in their own AWS account with the AWS CLI (aws iam create-role, put-role-policy), against the
 * local AWS: the query API through Gangplank's edge, acting in `account`.
 */
export async function iam(awsEndpoint: string, account: string, action: string, params: Record<string, string>) {
  const res = await fetch(awsEndpoint + "/", {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
      Authorization: "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
      "x-moto-account-id": account,
    },
    body: new URLSearchParams({ Action: action, Version: "2010-05-08", ...params }).toString(),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`iam ${action} in ${account}: ${res.status} ${text}`);
  return text;
}

/**
 * What a person does in their own AWS account with the AWS CLI, for a query-protocol service (sns, iam...): the
 * call goes through Gangplank's edge as the account's root user (an access key id that is the account's id).
 */
export async function awsQuery(awsEndpoint: string, account: string, service: string, region: string, params: Record<string, string>) {
  const res = await fetch(awsEndpoint + "/", {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
      Authorization: `AWS4-HMAC-SHA256 Credential=${account}/20260101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams(params).toString(),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${service} ${params.Action} in ${account}/${region}: ${res.status} ${text}`);
  return text;
}
