/**
 * `@keyshard/wallet/browser` in a browser bundle: esbuild bundles `src/browser.ts` for the browser
 * (the "browser" condition, the sources' condition) and nothing in it is a Node module — no
 * `node:` import, no bare Node built-in, not `ws`'s Node code, not the face code's file reading
 * (its browser side is there instead) —
 * while its keystore is IndexedDB's and its calls go through `fetch`. Nor does it use a Node
 * global (`Buffer`, `process`, `require`…), which no build refuses: the bundled SDK runs in a
 * realm that has a browser worker's globals only, makes a device, opens it again, signs calls
 * that Node's verifier accepts, and exchanges envelopes with another device over the relay's
 * WebSocket of a real provider (authenticated in its first frame, as a browser's socket must be).
 */
import http from "node:http";
import { builtinModules } from "node:module";
import type { AddressInfo } from "node:net";
import vm from "node:vm";
import { wasmModules } from "@keyshard/mpc/bundling/esbuild-wasm";
import { readRequestSignature, sealEnvelope, verifyRequestSignature } from "@keyshard/transport";
import { hexToBytes } from "@noble/hashes/utils.js";
import { type BuildFailure, build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deviceGroup, startTestProvider, type TestDevice } from "../../provider/test/harness.js";
import type { BrowserSdk } from "./fixtures/browser-sdk.js";
import { memoryStorage } from "./memory-storage.js";

const ENTRY = new URL("../src/browser.ts", import.meta.url).pathname;
const SDK_ENTRY = new URL("./fixtures/browser-sdk.ts", import.meta.url).pathname;
const BUILTINS = new Set(builtinModules);

/** Why an input of the bundle is Node's, or undefined when it is not. */
function nodeOnly(input: string): string | undefined {
  const path = input.replace(/^\(disabled\):/, "");
  if (path.startsWith("node:") || BUILTINS.has(path) || BUILTINS.has(path.split("/")[0] as string))
    return "a Node built-in";
  if (/(^|\/)node_modules\/ws\/(?!browser\.js$)/.test(path)) return "ws's Node code";
  if (/(^|\/)packages\/biometric\/src\/(face-api-node|image-files)\.ts$/.test(path))
    return "the face code's Node side, which reads files";
  if (/(^|\/)packages\/transport\/src\/http-send-node\.ts$/.test(path)) return "the Node HTTP sender";
  if (/(^|\/)packages\/transport\/src\/websocket-node\.ts$/.test(path)) return "the Node WebSocket";
  if (/(^|\/)packages\/wallet\/src\/keystore-file\.ts$/.test(path)) return "the keystore in a folder";
  return undefined;
}

/** `entry` bundled as a browser build would bundle it; a Node built-in reached fails the build. */
async function bundle(entry: string) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "browser",
    format: "esm",
    // What the mpc package's WebAssembly plugin asks for (top-level await), and no later: esbuild's
    // default, esnext, decodes embedded bytes with `Uint8Array.fromBase64`, which few browsers have.
    target: "es2022",
    conditions: ["keyshard-source", "browser"],
    write: false,
    metafile: true,
    logLevel: "silent",
    // tiny-secp256k1's WebAssembly, as the mpc package ships the plugin for.
    plugins: [wasmModules()],
    // The face models' code, which the face code imports only when a face is first read: its
    // browser bundle is checked by @keyshard/biometric's own test.
    external: ["@vladmandic/face-api/*", "@tensorflow/*"],
  }).catch((e: BuildFailure) => {
    // Say which, and where.
    const reasons = e.errors.map((m) => `${m.location?.file}:${m.location?.line}: ${m.text}`);
    expect(reasons).toEqual([]);
    throw e;
  });
  return { inputs: Object.keys(result.metafile.inputs), code: result.outputFiles[0]?.text as string };
}

/**
 * A realm with what a dedicated worker's global scope has that the SDK may use, taken from Node's
 * implementations of the same web APIs, and none of Node's own globals.
 */
function workerRealm(): vm.Context {
  const web = {
    AbortController,
    AbortSignal,
    atob,
    Blob,
    btoa,
    clearInterval,
    clearTimeout,
    console,
    crypto,
    DOMException,
    Event,
    EventTarget,
    fetch,
    Headers,
    navigator: { hardwareConcurrency: navigator.hardwareConcurrency, userAgent: "Mozilla/5.0" },
    performance,
    queueMicrotask,
    Request,
    Response,
    setInterval,
    setTimeout,
    structuredClone,
    TextDecoder,
    TextEncoder,
    URL,
    URLSearchParams,
    WebSocket,
  };
  const realm = vm.createContext({ ...web });
  vm.runInContext("globalThis.self = globalThis;", realm);
  return realm;
}

/** The SDK's bundle, evaluated in `realm`. */
async function loadSdk(realm: vm.Context): Promise<BrowserSdk> {
  const { code } = await bundle(SDK_ENTRY);
  // A module's top-level await is an async function's await; strict, as a module is.
  await new vm.Script(`(async () => {"use strict";\n${code}\n})()`, { filename: "browser-sdk.js" }).runInContext(realm);
  return realm.keyshardSdk as BrowserSdk;
}

describe("@keyshard/wallet/browser", () => {
  it("bundles for a browser with nothing of Node's in it", async () => {
    const { inputs, code } = await bundle(ENTRY);
    const fromNode = inputs.flatMap((input) => {
      const why = nodeOnly(input);
      return why === undefined ? [] : [`${input}: ${why}`];
    });
    expect(fromNode).toEqual([]);
    expect(inputs).toContain("packages/wallet/src/keystore-indexeddb.ts");
    expect(inputs).toContain("packages/biometric/src/face-api-browser.ts");
    expect(inputs).toContain("packages/transport/src/http-send-fetch.ts");
    expect(inputs).toContain("packages/transport/src/websocket-browser.ts");
    expect(code).toContain("indexedDB");
    expect(code).toContain("navigator.locks");
  });

  describe("run where a browser worker's globals are all there is", () => {
    let realm: vm.Context;
    let sdk: BrowserSdk;
    let server: http.Server;
    let base: string;
    /** The requests the server received, each with whether its signature verified in Node. */
    const received: { path: string; verified: boolean; body: unknown }[] = [];
    let publicKey: Uint8Array | undefined;

    beforeAll(async () => {
      realm = workerRealm();
      sdk = await loadSdk(realm);
      server = http.createServer((req, res) => {
        const chunks: Uint8Array[] = [];
        req.on("data", (c: Uint8Array) => chunks.push(c));
        req.on("end", () => {
          const body = new Uint8Array(Buffer.concat(chunks));
          let verified = false;
          try {
            const signature = readRequestSignature({
              method: req.method as string,
              target: req.url as string,
              headers: req.headers,
              body,
            });
            verified = publicKey !== undefined && verifyRequestSignature(publicKey, signature);
          } catch {
            // An unreadable signature is an unverified request.
          }
          received.push({ path: req.url as string, verified, body: JSON.parse(new TextDecoder().decode(body)) });
          res.writeHead(verified ? 200 : 401, { "content-type": "application/json" });
          res.end(JSON.stringify(verified ? { verified } : { error: "unauthorized", message: "bad signature" }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      if (server !== undefined) await new Promise((resolve) => server.close(resolve));
    });

    it("has none of Node's globals", () => {
      const kinds = vm.runInContext(
        "[typeof Buffer, typeof process, typeof require, typeof module, typeof global, typeof __dirname, typeof setImmediate]",
        realm,
      );
      expect([...kinds]).toEqual(Array(7).fill("undefined"));
    });

    it("makes a device with a passphrase and opens it again", async () => {
      const storage = memoryStorage();
      const wallet = await sdk.Wallet.init(storage, "correct horse battery staple", { name: "browser" });
      expect(storage.text).toContain('"scrypt"');
      expect({ ...(await sdk.Wallet.unlockMethod(storage)) }).toEqual({ passphrase: true });
      const again = await sdk.Wallet.open(storage, "correct horse battery staple");
      expect(again.deviceId).toBe(wallet.deviceId);
      expect(again.deviceId).toMatch(/^[0-9a-f]{32}$/);
    });

    it("makes a device with a passkey's PRF output and opens it again", async () => {
      const storage = memoryStorage();
      // As the page posts them to the worker: bytes of the worker's own realm.
      const bytes = (fill: number) => vm.runInContext(`new Uint8Array(32).fill(${fill})`, realm) as Uint8Array;
      const passkey = { credentialId: "Y3JlZGVudGlhbC1pZA", salt: bytes(1), output: bytes(2) };
      const wallet = await sdk.Wallet.init(storage, { passkey }, { name: "browser" });
      expect(storage.text).toContain('"webauthn-prf"');
      const again = await sdk.Wallet.open(storage, { passkey });
      expect(again.deviceId).toBe(wallet.deviceId);
    });

    it("signs requests that Node's verifier accepts, and sends them with fetch", async () => {
      const identity = sdk.newDeviceIdentity();
      publicKey = identity.publicKey;
      const body = new TextEncoder().encode('{"amount":"1.5"}');
      const headers = sdk.signRequest(identity, { method: "POST", path: "/v1/things?x=1", body });
      const signature = readRequestSignature({ method: "POST", target: "/v1/things?x=1", headers, body });
      expect(verifyRequestSignature(identity.publicKey, signature)).toBe(true);
      expect(headers["content-digest"]).toMatch(/^sha-256=:[A-Za-z0-9+/]{43}=:$/);

      const reply = await sdk.signedFetch(base, identity, "POST", "/v1/things", { amount: "1.5" });
      expect({ ...reply }).toEqual({ verified: true });
      expect(received).toEqual([{ path: "/v1/things", verified: true, body: { amount: "1.5" } }]);
    });

    it("sends and receives envelopes over a real provider's relay WebSocket", async () => {
      const provider = await startTestProvider("pglite", { accountChangeDelayMs: 0 });
      try {
        const [browser, other] = (await deviceGroup(provider, "browser-relay@example.com", 2)) as [
          TestDevice,
          TestDevice,
        ];
        const opened = await other.request("POST", "/v1/relay", {
          participants: [other.id, browser.id],
          purpose: "browser relay",
        });
        const relayId = opened.body.relayId as string;
        const sid = hexToBytes(opened.body.sid as string);
        // The browser device's key as the worker holds it: bytes of its own realm.
        const inRealm = (bytes: Uint8Array) => {
          const copy = vm.runInContext(`new Uint8Array(${bytes.length})`, realm) as Uint8Array;
          copy.set(bytes);
          return copy;
        };
        const identity = {
          publicKey: inRealm(browser.identity.publicKey),
          secretKey: inRealm(browser.identity.secretKey),
        };
        const channel = await sdk.wsRelayChannel(provider.url, identity, relayId);
        try {
          const toOther = sealEnvelope(
            browser.identity,
            other.identity.publicKey,
            { sid, round: 0 },
            new Uint8Array([1]),
          );
          await channel.send([toOther]);
          const stored = await other.request("GET", `/v1/relay/${relayId}/envelopes?after=0`);
          expect(stored.body.envelopes).toEqual([{ id: expect.any(Number), envelope: toOther }]);
          const toBrowser = sealEnvelope(
            other.identity,
            browser.identity.publicKey,
            { sid, round: 0 },
            new Uint8Array([2]),
          );
          expect(
            (await other.request("POST", `/v1/relay/${relayId}/envelopes`, { envelopes: [toBrowser] })).status,
          ).toBe(200);
          const pushed: unknown[] = [];
          while (pushed.length === 0) pushed.push(...(await channel.receive()));
          expect(JSON.parse(JSON.stringify(pushed))).toEqual([toBrowser]);
        } finally {
          channel.close();
        }
      } finally {
        await provider.stop();
      }
    });
  });
});
