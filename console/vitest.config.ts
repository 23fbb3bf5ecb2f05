import { defineConfig } from "vitest/config";

// Unit tests: the console's logic (no browser).
export default defineConfig({
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
