/**
 * The types of `esbuild-wasm.js`: an esbuild plugin for WebAssembly's ES module integration. The
 * plugin is typed by its shape rather than by esbuild's `Plugin`, so that importing it needs no
 * esbuild types where esbuild is not installed; esbuild's `plugins` option takes it as it is.
 */
export interface WasmModulesPlugin {
  name: string;
  setup(build: unknown): void;
}

/** The plugin, for `plugins` in esbuild's build options. */
export declare function wasmModules(): WasmModulesPlugin;
