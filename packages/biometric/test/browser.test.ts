/**
 * The face code in a browser: esbuild bundles the package for the browser (its "browser"
 * condition, as an app's build does) with nothing of Node's in it — no `node:` import, no Node
 * built-in but the ones TensorFlow.js's own packages replace with nothing in browsers, not the
 * Node side that reads files — and TensorFlow.js and face-api only behind a dynamic import, so
 * an app's first chunk does not carry them. Then the bundle runs in Chromium, in a module worker
 * as the web wallet's engine is, with the models and WebAssembly served over HTTP: a chip's
 * embedding, and a photo's face and expression from its RGBA pixels, are what Node computes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { builtinModules } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { build, type Metafile } from "esbuild";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { npmModelLocation } from "../src/face-api-node.js";
import { captureFace, distance, embedChip, readImage, topExpression } from "../src/index.js";
import { FACES, PEOPLE } from "./faces.js";

const ENTRY = new URL("../src/index.ts", import.meta.url).pathname;
const BUILTINS = new Set(builtinModules);

/** Why a bundle's input is Node's, or undefined when it is not. */
function nodeOnly(input: string): string | undefined {
  if (input.startsWith("node:")) return "a node: import";
  // A package's "browser" field maps these to nothing: esbuild names them "(disabled):".
  if (input.startsWith("(disabled):")) return undefined;
  if (BUILTINS.has(input) || BUILTINS.has(input.split("/")[0] as string)) return "a Node built-in";
  if (/packages\/biometric\/src\/(face-api-node|image-files)\.ts$/.test(input))
    return "the Node side, which reads files";
  if (/node_modules\/(pngjs|jpeg-js)\//.test(input)) return "an image decoder for files";
  return undefined;
}

const isModelCode = (input: string) => /node_modules\/(@tensorflow|@vladmandic)\//.test(input);

describe("@keyshard/biometric in a browser", () => {
  let out: string;
  let metafile: Metafile;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), "keyshard-biometric-browser-"));
    const result = await build({
      entryPoints: { index: ENTRY },
      bundle: true,
      splitting: true,
      platform: "browser",
      format: "esm",
      target: "es2022",
      conditions: ["keyshard-source", "browser"],
      outdir: out,
      metafile: true,
      logLevel: "silent",
    });
    metafile = result.metafile;
  });

  afterAll(() => {
    if (out !== undefined) rmSync(out, { recursive: true, force: true });
  });

  it("bundles with nothing of Node's, and the models' code behind a dynamic import", () => {
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.flatMap((i) => (nodeOnly(i) === undefined ? [] : [`${i}: ${nodeOnly(i)}`]))).toEqual([]);
    expect(inputs).toContain("packages/biometric/src/face-api-browser.ts");
    expect(inputs.some(isModelCode)).toBe(true);
    const [entryName, entry] = Object.entries(metafile.outputs).find(([, o]) => o.entryPoint !== undefined) ?? [];
    expect(entryName).toMatch(/index\.js$/);
    expect(Object.keys(entry?.inputs ?? {}).filter(isModelCode)).toEqual([]);
    // What the first chunk loads at once carries none of it either.
    const staticChunks = (entry?.imports ?? []).filter((i) => i.kind === "import-statement").map((i) => i.path);
    for (const chunk of staticChunks)
      expect(Object.keys(metafile.outputs[chunk]?.inputs ?? {}).filter(isModelCode)).toEqual([]);
    expect((entry?.imports ?? []).some((i) => i.kind === "dynamic-import")).toBe(true);
  });

  describe("run in Chromium's module worker", () => {
    let server: http.Server;
    let browser: Browser;
    let base: string;

    beforeAll(async () => {
      writeFileSync(
        join(out, "probe.js"),
        `import * as bio from "./index.js";
self.onmessage = async ({ data }) => {
  try {
    bio.setFaceModelLocation({ models: new URL("/models/", self.location.href).href, wasm: new URL("/wasm/", self.location.href).href });
    const chip = await bio.embedChip(bio.rgbFromRgba(data.chip.width, data.chip.height, data.chip.data));
    const photo = await bio.captureFace([bio.rgbFromRgba(data.photo.width, data.photo.height, data.photo.data)]);
    self.postMessage({ chip: [...chip], photo: [...photo.embedding], expression: bio.topExpression(photo.faces[0]) });
  } catch (e) {
    self.postMessage({ error: e.name + ": " + e.message });
  }
};`,
      );
      const npm = npmModelLocation();
      const roots: Record<string, string> = {
        "/models/": npm.models,
        "/wasm/": npm.wasm,
        "/": out,
      };
      const types: Record<string, string> = {
        ".js": "text/javascript",
        ".json": "application/json",
        ".wasm": "application/wasm",
      };
      server = http.createServer((req, res) => {
        const path = new URL(req.url ?? "/", "http://x").pathname;
        const [prefix, root] = Object.entries(roots).find(([p]) => path.startsWith(p)) as [string, string];
        const file = normalize(join(root, path.slice(prefix.length)));
        try {
          if (!file.startsWith(root)) throw new Error("outside");
          const body = path === "/" ? Buffer.from("<!doctype html><title>probe</title>") : readFileSync(file);
          res.writeHead(200, {
            "content-type": path === "/" ? "text/html" : (types[extname(file)] ?? "application/octet-stream"),
          });
          res.end(body);
        } catch {
          res.writeHead(404).end();
        }
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      browser = await chromium.launch({
        executablePath: "/usr/bin/chromium",
        // Chromium's sandbox cannot start as root, which CI containers often are.
        args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
      });
    });

    afterAll(async () => {
      await browser?.close();
      if (server !== undefined) await new Promise((resolve) => server.close(resolve));
    });

    it("reads a chip and a photo as Node does", async () => {
      const rgba = (path: string) => {
        const { width, height, data } = readImage(path);
        const pixels = new Uint8Array(width * height * 4).fill(255);
        for (let i = 0; i < width * height; i++) pixels.set(data.subarray(3 * i, 3 * i + 3), 4 * i);
        return { width, height, data: [...pixels] };
      };
      const chipPath = join(PEOPLE, "amy", "amy1.png");
      const photoPath = join(FACES, "expressions", "happy.jpg");
      const page = await browser.newPage();
      await page.goto(base);
      const answer = (await page.evaluate(
        ({ chip, photo }) =>
          new Promise((resolve) => {
            const worker = new Worker("/probe.js", { type: "module" });
            worker.onmessage = (event) => resolve(event.data);
            worker.onerror = (event) => resolve({ error: event.message });
            worker.postMessage({
              chip: { ...chip, data: new Uint8Array(chip.data) },
              photo: { ...photo, data: new Uint8Array(photo.data) },
            });
          }),
        { chip: rgba(chipPath), photo: rgba(photoPath) },
      )) as { chip: number[]; photo: number[]; expression: string } | { error: string };
      expect(answer).not.toHaveProperty("error");
      const { chip, photo, expression } = answer as { chip: number[]; photo: number[]; expression: string };
      const inNode = await embedChip(readImage(chipPath));
      const photoInNode = await captureFace([readImage(photoPath)]);
      // The same nets and weights on the same backend: equal but for floating-point order.
      expect(distance(Float32Array.from(chip), inNode)).toBeLessThan(0.01);
      expect(distance(Float32Array.from(photo), photoInNode.embedding)).toBeLessThan(0.01);
      expect(expression).toBe(topExpression(photoInNode.faces[0] as (typeof photoInNode.faces)[0]));
      expect(expression).toBe("happy");
    });
  });
});
