/**
 * The web wallet's build: the page at /app/ and its engine worker (ES module), and the provider's
 * operator console (`console.html`, which the provider serves at /console/). The console is built
 * as an environment of its own into the same folder, its files under `assets/console/`: sharing
 * no chunk with the wallet, it adds nothing to the wallet's first screen (two entries of one
 * build would move React into a chunk both load, which costs the wallet's page a request and
 * bytes). The workspace's packages are compiled from their TypeScript sources (`keyshard-source`
 * export condition), so nothing needs building first; the browser conditions pick their browser
 * code. The face models' files and TensorFlow.js's WebAssembly are the engine's `?url` imports
 * (`engine/handlers/face.ts`): emitted under content-hashed names, fetched only when a face is read.
 */
import { readFile } from "node:fs/promises";
import react from "@vitejs/plugin-react";
import { defaultClientConditions, defineConfig, type Plugin } from "vite";

/** The wallet's page and its worker (Vite builds a worker in its page's environment): not the console's, which needs neither. */
const wallet = (environment: { name: string }) => environment.name === "client";

/**
 * WebAssembly's ES module integration, which the engine needs: tiny-secp256k1 (@keyshard/mpc's
 * constant-time scalar multiplication) imports its engine with `import * as wasm from
 * "./secp256k1.wasm"` in its browser build, which Vite does not support. Each such import becomes
 * a module that fetches the file (emitted as an asset), instantiates it with the modules it names
 * as imports, and exports its exports, as the proposal specifies — with a top-level await, since
 * compiling 1.2 MB synchronously would hold the thread up.
 */
function wasmModules(): Plugin {
  return {
    name: "keyshard-wasm-modules",
    enforce: "pre",
    applyToEnvironment: wallet,
    async load(id) {
      if (!id.endsWith(".wasm")) return null;
      const module = await WebAssembly.compile(await readFile(id));
      const sources = [...new Set(WebAssembly.Module.imports(module).map((i) => i.module))];
      const names = WebAssembly.Module.exports(module).map((e) => e.name);
      return [
        `import url from ${JSON.stringify(`${id}?url`)};`,
        ...sources.map((source, i) => `import * as import${i} from ${JSON.stringify(source)};`),
        "const response = await fetch(url);",
        `if (!response.ok) throw new Error("the WebAssembly module " + url + " did not load: HTTP " + response.status);`,
        "const { instance } = await WebAssembly.instantiate(await response.arrayBuffer(), {",
        ...sources.map((source, i) => `  ${JSON.stringify(source)}: import${i},`),
        "});",
        ...names.map((name, i) => `const export${i} = instance.exports[${JSON.stringify(name)}];`),
        `export { ${names.map((name, i) => `export${i} as ${JSON.stringify(name)}`).join(", ")} };`,
      ].join("\n");
    },
  };
}

export default defineConfig(({ command, mode }) => {
  // A production build ships React's production code and JSX even when run under another NODE_ENV
  // (a test runner's "test"), which would select their development builds, twice the size.
  if (command === "build" && mode === "production") process.env.NODE_ENV = "production";
  return {
    base: "/app/",
    plugins: [react(), wasmModules()],
    resolve: { conditions: ["keyshard-source", ...defaultClientConditions] },
    worker: { format: "es", plugins: () => [wasmModules()] },
    build: { outDir: "dist", emptyOutDir: true },
    environments: {
      // Into the same folder, after the wallet's build, which empties it first.
      console: {
        consumer: "client",
        // public/ is the wallet's, copied by its build already.
        build: {
          emptyOutDir: false,
          copyPublicDir: false,
          assetsDir: "assets/console",
          rolldownOptions: { input: "console.html" },
        },
      },
    },
    builder: {
      async buildApp(builder) {
        await builder.build(builder.environments.client);
        await builder.build(builder.environments.console);
      },
    },
  };
});
