// Starts make local's platform (cmd/local) on free ports with the sample organization, once for every end-to-end
// test, and stops it afterwards. Tests learn where it is from inject("platform").
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { TestProject } from "vitest/node";

export interface Platform {
  apiUrl: string;
  consoleUrl: string;
  awsEndpoint: string;
  demo: {
    managementAccountId: string;
    ous: Record<string, string>;
    members: Record<string, string>;
    memberOus: Record<string, string>;
    accounts: string[];
    resources: number;
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    platform: Platform;
  }
}

const here = path.dirname(new URL(import.meta.url).pathname);
const consoleDir = path.resolve(here, "..");
const repo = path.resolve(consoleDir, "..");
export const results = path.join(consoleDir, "test-results");

let child: ChildProcess | undefined;

export default async function setup(project: TestProject) {
  if (!fs.existsSync(path.join(consoleDir, "dist", "index.html"))) throw new Error("build the console first (npm run build)");
  fs.mkdirSync(results, { recursive: true });
  const state = fs.mkdtempSync(path.join(results, "platform-"));
  const bin = path.join(state, "gangplank-local");
  execFileSync("go", ["build", "-o", bin, "./cmd/local"], { cwd: repo, stdio: "inherit" });
  const ready = path.join(state, "ready.json");
  const log = fs.openSync(path.join(state, "platform.log"), "w");
  child = spawn(bin, ["-addr", "127.0.0.1:0", "-console-addr", "127.0.0.1:0", "-console-dir", path.join(consoleDir, "dist"), "-state", state, "-ready-file", ready, "-demo"], {
    cwd: repo,
    stdio: ["ignore", log, log],
  });
  const exited = new Promise<number | null>((resolve) => child!.once("exit", resolve));
  // moto's Python imports alone take a minute on two busy cores: wait up to four, watching for an early exit.
  const deadline = Date.now() + 240_000;
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  while (!fs.existsSync(ready)) {
    if (exitCode !== undefined) throw new Error(`the platform exited (${exitCode}) before serving: see ${path.join(state, "platform.log")}`);
    if (Date.now() > deadline) throw new Error(`the platform did not serve within 240 s: see ${path.join(state, "platform.log")}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  project.provide("platform", JSON.parse(fs.readFileSync(ready, "utf8")) as Platform);
  return async () => {
    if (!child || child.exitCode !== null) return;
    child.kill("SIGTERM");
    const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 60_000))]);
    if (!stopped) child.kill("SIGKILL");
  };
}
