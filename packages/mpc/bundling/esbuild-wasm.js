/**
 * An esbuild plugin for WebAssembly's ES module integration, which @keyshard/mpc needs in a
 * browser bundle: tiny-secp256k1 (its constant-time scalar multiplication) loads its engine with
 * `import * as wasm from "./secp256k1.wasm"` in its browser build and reads `wasm.memory` as soon
 * as it is evaluated. esbuild has no loader that gives a module's exports for a .wasm file (the
 * `binary` loader gives its bytes, and a bundle built with it fails when it starts), so without
 * this plugin the build stops at "No loader is configured for \".wasm\" files".
 *
 * Each imported .wasm file becomes a module that embeds the bytes, imports the modules the
 * WebAssembly module names as its imports, instantiates it with them and exports what it
 * exports, as the proposal specifies. It instantiates asynchronously, with a top-level await, as
 * the proposal's loading does: compiling 1.2 MB synchronously would hold up the page, and Chrome
 * before version 114 refuses to on the main thread. So the bundle must be built with
 * `format: "esm"` and a target that has top-level await (es2022; Chrome 89, Firefox 89, Safari 15).
 *
 * Plain JavaScript, shipped as `@keyshard/mpc/bundling/esbuild-wasm`, so that a build script
 * imports it as it is, without compiling it first; it needs only esbuild.
 */
// @ts-check
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";

const BYTES = "wasm-bytes";

/**
 * The plugin, for `plugins` in esbuild's build options.
 * @returns {import("esbuild").Plugin}
 */
export function wasmModules() {
  return {
    name: "wasm-esm-integration",
    setup(build) {
      // The instantiating module below imports the file's bytes through this namespace.
      build.onResolve({ filter: /\.wasm$/, namespace: "file" }, (args) =>
        args.with.type === BYTES ? { path: args.path, namespace: BYTES } : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: BYTES }, async (args) => ({
        contents: await readFile(args.path),
        loader: "binary",
      }));
      build.onLoad({ filter: /\.wasm$/, namespace: "file" }, async (args) => {
        const module = await WebAssembly.compile(await readFile(args.path));
        const sources = [...new Set(WebAssembly.Module.imports(module).map((i) => i.module))];
        const names = WebAssembly.Module.exports(module).map((e) => e.name);
        const lines = [
          `import bytes from ${JSON.stringify(args.path)} with { type: ${JSON.stringify(BYTES)} };`,
          ...sources.map((source, i) => `import * as import${i} from ${JSON.stringify(source)};`),
          `const { instance } = await WebAssembly.instantiate(bytes, {`,
          ...sources.map((source, i) => `  ${JSON.stringify(source)}: import${i},`),
          `});`,
          ...names.map((name, i) => `const export${i} = instance.exports[${JSON.stringify(name)}];`),
          `export { ${names.map((name, i) => `export${i} as ${JSON.stringify(name)}`).join(", ")} };`,
        ];
        return { contents: lines.join("\n"), loader: "js", resolveDir: dirname(args.path) };
      });
    },
  };
}
