/**
 * @keyshard/mpc in a browser bundle: esbuild bundles a real key generation and signature for
 * the browser with the WebAssembly plugin the package ships (`@keyshard/mpc/bundling/esbuild-wasm`,
 * imported here as a user imports it, and without which it cannot), the bundle imports nothing
 * from Node, and it runs in a context that has only what a browser page has — no `process`, no
 * `require`, no Buffer — giving a signature @noble/curves verifies.
 */
import { builtinModules } from "node:module";
import { runInNewContext } from "node:vm";
import { wasmModules } from "@keyshard/mpc/bundling/esbuild-wasm";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const ENTRY = new URL("./browser-bundle-entry.ts", import.meta.url).pathname;

/** Module specifiers the bundle imports or requires, wherever esbuild left them. */
const importedSpecifiers = (code: string) =>
  [...code.matchAll(/(?:\bfrom|\bimport|\brequire)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1] as string);

const bundle = async (plugins = [wasmModules()]) => {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    write: false,
    logLevel: "silent",
    plugins,
  });
  return result.outputFiles[0]?.text as string;
};

/** What the entry leaves on its global object. */
interface Signed {
  publicKey: Uint8Array;
  messageHash: Uint8Array;
  signature: Uint8Array;
}

/** What a page's global scope offers that the bundle may use; nothing of Node's. */
function browserGlobals() {
  const { crypto, WebAssembly, TextEncoder, TextDecoder, URL, atob, btoa, console } = globalThis;
  return {
    crypto: { getRandomValues: crypto.getRandomValues.bind(crypto) },
    WebAssembly,
    TextEncoder,
    TextDecoder,
    URL,
    atob,
    btoa,
    console,
  };
}

describe("@keyshard/mpc in a browser bundle", () => {
  it("bundles for the browser with the WebAssembly plugin, and signs there", async () => {
    const code = await bundle();
    const fromNode = importedSpecifiers(code).filter((s) => s.startsWith("node:") || builtinModules.includes(s));
    expect(fromNode).toEqual([]);
    expect(code).not.toMatch(/^\s*(import|export)\b/m);
    const context: ReturnType<typeof browserGlobals> & { signed?: Signed } = browserGlobals();
    // The ES module bundle has no imports or exports left, so it runs as the body of an async
    // function: its top-level await (the WebAssembly instantiation) is then an ordinary await.
    await runInNewContext(`(async () => {\n"use strict";\n${code}\n})()`, context, { filename: "bundle.js" });
    const signed = context.signed;
    expect(signed).toBeDefined();
    const { publicKey, messageHash, signature } = signed as NonNullable<typeof signed>;
    expect(publicKey).toHaveLength(33);
    const verify = (hash: Uint8Array) =>
      secp256k1.verify(Uint8Array.from(signature), Uint8Array.from(hash), Uint8Array.from(publicKey), {
        prehash: false,
      });
    expect(verify(messageHash)).toBe(true);
    expect(verify(messageHash.map((b, i) => (i === 0 ? b ^ 1 : b)))).toBe(false);
  });

  it("does not bundle without it: esbuild has no loader for tiny-secp256k1's .wasm", async () => {
    await expect(bundle([])).rejects.toThrow(/No loader is configured for "\.wasm" files/);
  });
});
