/**
 * The keystore storage in a browser's IndexedDB, in Chromium: a record stored and replaced, a
 * second create refused as "exists" (not as a failing storage), and a lock held elsewhere waited
 * for a bounded time, then refused as "locked". The page is served from 127.0.0.1, a secure
 * context, as Web Locks require.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { build } from "esbuild";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as IndexedDbStorage from "../src/keystore-indexeddb.js";

const STORAGE = new URL("../src/keystore-indexeddb.ts", import.meta.url).pathname;

let server: http.Server;
let browser: Browser;
/** One browser profile: its pages are tabs sharing the origin's IndexedDB and locks. */
let context: BrowserContext;
let page: Page;

/** `indexedDbKeystore` on the page's global object, as `keystoreIndexedDb.indexedDbKeystore`. */
async function storageScript(): Promise<string> {
  const result = await build({
    entryPoints: [STORAGE],
    bundle: true,
    platform: "browser",
    format: "iife",
    globalName: "keystoreIndexedDb",
    target: "es2022",
    conditions: ["keyshard-source", "browser"],
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]?.text as string;
}

/** What a storage call on the page settled to: its value, or its error's name, code and message. */
type Outcome = { value: unknown } | { error: { name: string; code?: string; message: string } };

/** What the page's global object holds for these tests. */
interface PageGlobals {
  keystoreIndexedDb: typeof IndexedDbStorage;
  outcome: (work: Promise<unknown>) => Promise<Outcome>;
  release: () => void;
}

beforeAll(async () => {
  const script = await storageScript();
  server = http.createServer((req, res) => {
    if (req.url === "/storage.js") {
      res.writeHead(200, { "content-type": "text/javascript" });
      res.end(script);
      return;
    }
    res.writeHead(200, { "content-type": "text/html" });
    res.end('<!doctype html><title>keystore</title><script src="/storage.js"></script>');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    // Chromium's sandbox cannot start as root, which CI containers often are.
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
  context = await browser.newContext();
  page = await context.newPage();
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await page.evaluate(() => {
    // The page's helper for the tests below: a call's outcome as plain data.
    Object.assign(globalThis, {
      outcome: (work: Promise<unknown>) =>
        work.then(
          (value) => ({ value }),
          (e: Error & { code?: string }) => ({ error: { name: e.name, code: e.code, message: e.message } }),
        ),
    });
  });
});

afterAll(async () => {
  await browser?.close();
  if (server !== undefined) await new Promise((resolve) => server.close(resolve));
});

describe("the keystore in IndexedDB", () => {
  it("stores a record, replaces it, and refuses a second create as exists", async () => {
    const outcomes = await page.evaluate(async () => {
      const { keystoreIndexedDb, outcome } = globalThis as unknown as PageGlobals;
      const { indexedDbKeystore } = keystoreIndexedDb;
      const storage = indexedDbKeystore("create");
      return {
        before: await outcome(storage.read()),
        created: await outcome(storage.create("first")),
        again: await outcome(storage.create("second")),
        afterAgain: await outcome(storage.read()),
        written: await outcome(storage.write("third")),
        after: await outcome(storage.read()),
        otherSlot: await outcome(indexedDbKeystore("other").read()),
      };
    });
    expect(outcomes.before).toEqual({ value: undefined });
    expect(outcomes.created).toEqual({ value: undefined });
    expect(outcomes.again).toEqual({
      error: {
        name: "KeystoreError",
        code: "exists",
        message: "a keystore exists in this browser already: nothing was changed",
      },
    });
    expect(outcomes.afterAgain).toEqual({ value: "first" });
    expect(outcomes.after).toEqual({ value: "third" });
    expect(outcomes.otherSlot).toEqual({ value: undefined });
  });

  it("waits a bounded time for a lock another tab holds, then says it is locked", async () => {
    const other = await context.newPage();
    await other.goto(page.url());
    try {
      // The other tab takes the slot's lock and keeps it.
      await other.evaluate(async () => {
        const { keystoreIndexedDb } = globalThis as unknown as PageGlobals;
        Object.assign(globalThis, { release: await keystoreIndexedDb.indexedDbKeystore("locked").lock() });
      });
      const started = Date.now();
      const waited = await page.evaluate(async () => {
        const { keystoreIndexedDb, outcome } = globalThis as unknown as PageGlobals;
        return outcome(keystoreIndexedDb.indexedDbKeystore("locked").lock());
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(14_000);
      expect(waited).toMatchObject({ error: { name: "KeystoreError", code: "locked" } });
      // Released there, the lock is free here at once.
      await other.evaluate(() => (globalThis as unknown as PageGlobals).release());
      const taken = await page.evaluate(async () => {
        const { keystoreIndexedDb } = globalThis as unknown as PageGlobals;
        const release = await keystoreIndexedDb.indexedDbKeystore("locked").lock();
        release();
        return "taken";
      });
      expect(taken).toBe("taken");
    } finally {
      await other.close();
    }
  });
});
