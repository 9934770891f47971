/**
 * Vitest global setup: builds what `npm start` runs — the provider and the web wallet it serves at
 * /app/ — and the `keyshard` command line, once per run, for the tests that start them as
 * `npm start` and `npx keyshard` do and for the web wallet's test in Chromium.
 */
import { execFileSync } from "node:child_process";
import { renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const WEB = "packages/web";

/**
 * The web wallet built beside its `dist/` and swapped in whole, as `build.mjs` does the provider's
 * bundle: a provider serving it while another test run builds never finds it half made or gone.
 */
function buildWebApp(): void {
  const vite = join(
    dirname(createRequire(join(process.cwd(), WEB, "package.json")).resolve("vite/package.json")),
    "bin/vite.js",
  );
  const building = `dist.building.${process.pid}`;
  execFileSync(process.execPath, [vite, "build", "--outDir", building, "--emptyOutDir", "--logLevel", "warn"], {
    cwd: WEB,
    stdio: "inherit",
  });
  const dist = join(WEB, "dist");
  const old = join(WEB, `dist.old.${process.pid}`);
  // Another build may swap its own in between the two renames: then move that one aside too.
  for (;;) {
    rmSync(old, { recursive: true, force: true });
    try {
      renameSync(dist, old);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    try {
      renameSync(join(WEB, building), dist);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw e;
    }
  }
  rmSync(old, { recursive: true, force: true });
}

export default function setup(): void {
  for (const script of ["packages/provider/build.mjs", "packages/wallet/build.mjs"])
    execFileSync(process.execPath, [script], { stdio: "inherit" });
  buildWebApp();
}
