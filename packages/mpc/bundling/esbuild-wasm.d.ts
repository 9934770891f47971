/** The types of `esbuild-wasm.js`: an esbuild plugin for WebAssembly's ES module integration. */
import type { Plugin } from "esbuild";

/** The plugin, for `plugins` in esbuild's build options. */
export declare function wasmModules(): Plugin;
