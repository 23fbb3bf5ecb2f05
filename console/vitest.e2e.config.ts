import { defineConfig } from "vitest/config";

// End-to-end: every flow in one headless Chromium against make local's platform (started once, on free ports, by
// e2e/platform.ts). Files run one after another in one process; every wait is bounded by what the page shows.
export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    globalSetup: ["e2e/platform.ts"],
    environment: "node",
    fileParallelism: false,
    pool: "forks",
    testTimeout: 180_000,
    hookTimeout: 300_000,
    // The platform stops its local AWS on SIGTERM, which takes a while on a loaded machine (e2e/platform.ts waits
    // up to a minute before it kills it).
    teardownTimeout: 90_000,
    sequence: { concurrent: false },
    reporters: ["verbose"],
  },
});
