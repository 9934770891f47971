import { defineConfig } from "vitest/config";

export default defineConfig({
  // The workspace packages' exports name their sources under "keyshard-source", a condition no
  // other project sets (their built JavaScript otherwise): the tests run on the sources, unbuilt.
  ssr: { resolve: { conditions: ["keyshard-source"] } },
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // One file per core. Vitest's default, cores − 1, runs one file at a time on a two-core
    // machine, and one file keeps about one core busy: the protocol suites compute in a single
    // thread, and the command-line and provider suites mostly wait for one child process or
    // another (the bin, the provider, anvil, PostgreSQL), so the other core idled. More files
    // than cores would only slow each other down.
    maxWorkers: "100%",
    // Tests that start the provider as a process run the build `npm start` runs.
    globalSetup: ["packages/provider/test/build-setup.ts"],
  },
});
