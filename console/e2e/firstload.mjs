// The JavaScript a browser fetches on first load: the scripts and module preloads index.html names (lazy chunks,
// such as the spend chart, are fetched only on the screens that need them), each gzipped as CloudFront serves it.
// Adds the figure to test-results/figures.json and fails above the budget, so a heavy dependency pulled into the
// first load shows up in `make test` rather than in a user's first visit.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const BUDGET_GZIP_BYTES = 120 * 1024;

const consoleDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const dist = path.join(consoleDir, "dist");
const html = fs.readFileSync(path.join(dist, "index.html"), "utf8");
const refs = [
  ...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g),
  ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g),
].map((m) => m[1]);
if (refs.length === 0) throw new Error("index.html names no script");
if (/<script(?![^>]*\bsrc=)[^>]*>/.test(html)) throw new Error("index.html has an inline script (the CSP forbids them)");

let gzip = 0;
let raw = 0;
for (const ref of new Set(refs)) {
  const body = fs.readFileSync(path.join(dist, ref.replace(/^\//, "")));
  raw += body.length;
  gzip += zlib.gzipSync(body, { level: 9 }).length;
}

const results = path.join(consoleDir, "test-results");
const file = path.join(results, "figures.json");
const figures = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {};
figures.firstLoadJavaScriptGzipBytes = gzip;
figures.firstLoadJavaScriptBytes = raw;
fs.mkdirSync(results, { recursive: true });
fs.writeFileSync(file, JSON.stringify(figures, null, 2));
console.log(`first-load JavaScript: ${(gzip / 1024).toFixed(1)} KiB gzip (${(raw / 1024).toFixed(1)} KiB), ${new Set(refs).size} file(s); budget ${BUDGET_GZIP_BYTES / 1024} KiB`);
console.log(JSON.stringify(figures, null, 2));
if (gzip > BUDGET_GZIP_BYTES) {
  console.error(`first-load JavaScript is ${gzip} bytes gzip, over the budget of ${BUDGET_GZIP_BYTES}`);
  process.exit(1);
}
