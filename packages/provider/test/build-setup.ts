/** Vitest global setup: builds the provider once per run, for the tests that start it as `npm start` does. */
import { execFileSync } from "node:child_process";

export default function setup(): void {
  execFileSync(process.execPath, ["packages/provider/build.mjs"], { stdio: "inherit" });
}
