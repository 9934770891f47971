/**
 * Vitest global setup: builds the provider and the `keyshard` command line once per run, for the
 * tests that start them as `npm start` and `npx keyshard` do.
 */
import { execFileSync } from "node:child_process";

export default function setup(): void {
  for (const script of ["packages/provider/build.mjs", "packages/wallet/build.mjs"])
    execFileSync(process.execPath, [script], { stdio: "inherit" });
}
