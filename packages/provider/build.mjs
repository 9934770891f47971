// `node packages/provider/build.mjs`: the provider as plain JavaScript in `packages/provider/dist/bundle/`,
// which `npm start` runs (the rest of `dist/` is the package's compiled modules). One bundle for the server and one for its precomputation thread, each
// holding the workspace packages and libraries it imports. Run from TypeScript through a loader,
// the server and every worker thread each carried the loader's own thread and a compiler, about
// 100 MB of memory between them; bundled, the libraries also lose the code the provider never calls.
import { cpSync, renameSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL(".", import.meta.url));
// Two folders below the package, as `src/store/` and `dist/store/` are: the migrations are found
// from either at `../../migrations/`.
const dist = `${root}dist/bundle`;
// Built beside it and swapped in whole: a provider started from `dist` while another build runs
// (parallel test runs each build first) never finds it half made or gone.
const out = `${dist}.building.${process.pid}`;

// Left to Node's resolver, because each reads files that sit beside its own code.
const external = [
  "@electric-sql/pglite", // its WebAssembly module and data files
  "@fastify/swagger-ui", // the static pages it serves at /docs
  "pg-native", // pg's optional native client, asked for only when installed
  "tiny-secp256k1", // its WebAssembly module
];

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: {
    main: `${root}src/main.ts`,
    // The name `precompute-threads.ts` starts its workers by, beside the code that starts them.
    "precompute-worker": `${root}src/sessions/precompute-worker.ts`,
  },
  outdir: out,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22.12",
  external,
  // The workspace packages' sources, as their exports name them for the repository's own tools.
  conditions: ["keyshard-source"],
  // Bundled CommonJS libraries call require(); an ES module has none unless given one.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: "warning",
});
// Beside the bundle, where `pglite.ts` looks for it.
cpSync(`${root}src/store/pglite-create.mjs`, `${out}/pglite-create.mjs`);
const old = `${dist}.old.${process.pid}`;
// Another build may swap its own in between the two renames: then move that one aside too.
for (;;) {
  rmSync(old, { recursive: true, force: true });
  try {
    renameSync(dist, old);
  } catch (e) {
    if (e.code !== "ENOENT") throw e;
  }
  try {
    renameSync(out, dist);
    break;
  } catch (e) {
    if (e.code !== "ENOTEMPTY" && e.code !== "EEXIST") throw e;
  }
}
rmSync(old, { recursive: true, force: true });
