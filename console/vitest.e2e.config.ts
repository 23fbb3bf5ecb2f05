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
    sequence: { concurrent: false },
    reporters: ["verbose"],
  },
});
