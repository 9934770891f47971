// `node packages/wallet/build.mjs`: the `keyshard` command line as JavaScript in
// `packages/wallet/dist/`, which `bin/keyshard.js` runs in the repository (the published package
// runs its compiled modules instead, and ships neither this bundle nor its chunks). Through a TypeScript loader every command
// spent seconds compiling before it began. Bundled, `keyshard.mjs` holds only the command line
// itself; the SDK, the protocol engines, the chains and the face code sit in chunks that Node
// reads only when a command needs them, so `--help` answers at once.
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL(".", import.meta.url));
const dist = `${root}dist`;

// Left to Node's resolver, because each reads files that sit beside its own code (the face
// models and TensorFlow's WebAssembly are found the same way, at run time, by the biometric package).
const external = [
  "tiny-secp256k1", // its WebAssembly module
  "bufferutil", // ws's optional native helpers, asked for only when installed
  "utf-8-validate",
];

const { version } = JSON.parse(await readFile(`${root}package.json`, "utf8"));
// Built aside and moved in, chunks first and the entry last: a command started during a build
// (tests start many at once) runs the old build or the new one, never half of one. Chunks are
// named by their content, so moving one over an equal one changes nothing.
const partial = `${dist}/.build-${process.pid}`;
try {
  await build({
    entryPoints: { keyshard: `${root}src/cli/main.ts` },
    outdir: partial,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunks/[name]-[hash]",
    splitting: true,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22.12",
    external,
    // The workspace packages' sources, as their exports name them for the repository's own tools.
    conditions: ["keyshard-source"],
    define: { KEYSHARD_VERSION: JSON.stringify(version) },
    // Bundled CommonJS libraries call require(); an ES module has none unless given one.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    logLevel: "warning",
  });
  mkdirSync(`${dist}/chunks`, { recursive: true });
  const built = new Set(readdirSync(`${partial}/chunks`));
  for (const chunk of built) renameSync(`${partial}/chunks/${chunk}`, `${dist}/chunks/${chunk}`);
  renameSync(`${partial}/keyshard.mjs`, `${dist}/keyshard.mjs`);
  // Earlier builds' chunks, once no command that started with them can still be reading them.
  const old = Date.now() - 10 * 60_000;
  for (const chunk of readdirSync(`${dist}/chunks`))
    if (!built.has(chunk) && statSync(`${dist}/chunks/${chunk}`).mtimeMs < old) rmSync(`${dist}/chunks/${chunk}`);
} finally {
  rmSync(partial, { recursive: true, force: true });
}
