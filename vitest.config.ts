import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Tests that start the provider as a process run the build `npm start` runs.
    globalSetup: ["packages/provider/test/build-setup.ts"],
  },
});
