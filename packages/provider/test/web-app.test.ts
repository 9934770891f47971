/**
 * The web wallet's files at /app/: types, caching, the page's security headers, the app's own
 * routes answered by its index.html, and requests that try to reach files outside the build.
 * Requests go over a socket exactly as written (fetch would tidy `..` away before sending).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, newApp } from "../src/http/app.js";
import { errorsPlugin } from "../src/http/plugins/errors.js";
import { checkConnectSources, defaultWebAppFolder, webAppCsp, webAppPlugin } from "../src/http/plugins/web-app.js";
import { spawnProvider } from "./harness.js";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** `method path` sent as is to `port`. */
function send(port: number, path: string, method = "GET"): Promise<Answer> {
  return new Promise((done, fail) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      res.on("end", () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", fail);
    req.end();
  });
}

/** A request line node:http refuses to write (a raw NUL byte), sent over a bare socket: the status code answered. */
function sendRaw(port: number, path: string): Promise<number> {
  return new Promise((done, fail) => {
    const socket = connect(port, "127.0.0.1", () =>
      socket.write(`GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`),
    );
    let text = "";
    socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
    socket.on("end", () => done(Number(text.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0)));
    socket.on("error", fail);
  });
}

const INDEX = "<!doctype html><title>wallet</title><script type=module src=/app/assets/index-AbC_d-12.js></script>";
const SCRIPT = "console.log('wallet')";
const SECRET = "not for the web";

let top: string;
let built: { app: App; port: number };
let unbuilt: { app: App; port: number };

async function serve(folder: string): Promise<{ app: App; port: number }> {
  const app = newApp();
  errorsPlugin(app);
  webAppPlugin(app, folder);
  await app.listen({ host: "127.0.0.1", port: 0 });
  return { app, port: (app.server.address() as { port: number }).port };
}

beforeAll(async () => {
  // top/dist is the build; top/secret.txt and top/package.json sit beside it, where no request may reach.
  top = mkdtempSync(join(tmpdir(), "keyshard-web-app-"));
  const dist = join(top, "dist");
  mkdirSync(join(dist, "assets"), { recursive: true });
  writeFileSync(join(dist, "index.html"), INDEX);
  writeFileSync(join(dist, "assets", "index-AbC_d-12.js"), SCRIPT);
  writeFileSync(join(dist, "assets", "index-Zz9_x-Q1.css"), "body{color:#000}");
  writeFileSync(join(dist, "assets", "secp256k1-0123abcd.wasm"), new Uint8Array([0, 97, 115, 109]));
  writeFileSync(join(dist, "assets", "unhashed.js"), SCRIPT);
  writeFileSync(join(dist, "manifest.webmanifest"), "{}");
  writeFileSync(join(dist, "icon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
  writeFileSync(join(dist, "sw.js"), SCRIPT);
  writeFileSync(join(dist, "odd.xyz"), "bytes");
  writeFileSync(join(top, "secret.txt"), SECRET);
  writeFileSync(join(top, "package.json"), SECRET);
  symlinkSync(join(top, "secret.txt"), join(dist, "leak.txt"));
  built = await serve(dist);
  unbuilt = await serve(join(top, "absent"));
});

afterAll(async () => {
  await built?.app.close();
  await unbuilt?.app.close();
  rmSync(top, { recursive: true, force: true });
});

function expectPageHeaders(answer: Answer): void {
  expect(answer.headers["content-security-policy"]).toBe(webAppCsp());
  expect(answer.headers["x-content-type-options"]).toBe("nosniff");
}

describe("the web wallet at /app/", () => {
  it("sends /app to /app/", async () => {
    const answer = await send(built.port, "/app");
    expect(answer.status).toBe(301);
    expect(answer.headers.location).toBe("/app/");
  });

  it("sends a person opening the provider's own address to the wallet", async () => {
    const answer = await send(built.port, "/");
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toBe("/app/");
  });

  it("answers /app/ with its index.html, never cached unchecked", async () => {
    const answer = await send(built.port, "/app/");
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(answer.headers["cache-control"]).toBe("no-cache");
    expect(answer.body).toBe(INDEX);
    expectPageHeaders(answer);
  });

  it("serves each kind of file with its type", async () => {
    const types: Record<string, string> = {
      "/app/assets/index-AbC_d-12.js": "text/javascript; charset=utf-8",
      "/app/assets/index-Zz9_x-Q1.css": "text/css; charset=utf-8",
      "/app/assets/secp256k1-0123abcd.wasm": "application/wasm",
      "/app/manifest.webmanifest": "application/manifest+json; charset=utf-8",
      "/app/icon.svg": "image/svg+xml",
      "/app/sw.js": "text/javascript; charset=utf-8",
      "/app/odd.xyz": "application/octet-stream",
      "/app/index.html": "text/html; charset=utf-8",
    };
    for (const [path, type] of Object.entries(types)) {
      const answer = await send(built.port, `${path}?v=1`);
      expect([path, answer.status, answer.headers["content-type"]]).toEqual([path, 200, type]);
      expectPageHeaders(answer);
    }
  });

  it("lets browsers keep hashed assets for good, and check everything else", async () => {
    const hashed = await send(built.port, "/app/assets/index-AbC_d-12.js");
    expect(hashed.body).toBe(SCRIPT);
    expect(hashed.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    for (const path of ["/app/assets/unhashed.js", "/app/sw.js", "/app/manifest.webmanifest", "/app/index.html"])
      expect([path, (await send(built.port, path)).headers["cache-control"]]).toEqual([path, "no-cache"]);
  });

  it("answers the app's own routes with its index.html, and a missing file with 404", async () => {
    for (const path of ["/app/wallets", "/app/wallets/abc/", "/app/assets", "/app/w?x=1"]) {
      const answer = await send(built.port, path);
      expect([path, answer.status, answer.body]).toEqual([path, 200, INDEX]);
    }
    for (const path of ["/app/assets/index-00000000.js", "/app/missing.css", "/app/sw.js/x.js"]) {
      const answer = await send(built.port, path);
      expect([path, answer.status]).toEqual([path, 404]);
      expect(answer.headers["content-type"]).toMatch(/^application\/json/);
      expectPageHeaders(answer);
    }
  });

  it("answers HEAD with the headers and no body", async () => {
    const head = await send(built.port, "/app/assets/index-AbC_d-12.js", "HEAD");
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
    expect(head.headers["content-length"]).toBe(String(SCRIPT.length));
    expect(head.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expectPageHeaders(head);
  });

  it("never serves a file outside the build, and never fails with 500", async () => {
    const attempts = [
      "/app/../package.json",
      "/app/../secret.txt",
      "/app/%2e%2e/secret.txt",
      "/app/%2E%2E/%2e%2e/package.json",
      "/app/..%2fsecret.txt",
      "/app/..%2Fpackage.json",
      "/app/assets/..%2f..%2fsecret.txt",
      "/app/.%2e/secret.txt",
      "/app/..%5csecret.txt",
      "/app/%00",
      "/app/index.html%00.js",
      "/app/secret.txt%00",
      "/app//etc/passwd",
      `/app/${resolve(top, "secret.txt")}`,
      "/app/%2fetc%2fpasswd",
      "/app/leak.txt",
      "/app/%zz",
      "/app/%",
      `/app/${"a".repeat(5000)}.js`,
    ];
    for (const path of attempts) {
      const answer = await send(built.port, path);
      // Refused, or, for a name inside the build that is no file there, the app's own page.
      const refused = answer.status === 400 || answer.status === 404;
      expect([path, refused || (answer.status === 200 && answer.body === INDEX)]).toEqual([path, true]);
      expect(answer.body).not.toContain(SECRET);
    }
    for (const path of ["/app/\0", "/app/../\0secret.txt"])
      expect([400, 404]).toContain(await sendRaw(built.port, path));
  });

  it("says the app is not built when its build is absent", async () => {
    for (const path of ["/app/", "/app/wallets", "/app/assets/index-AbC_d-12.js"]) {
      const answer = await send(unbuilt.port, path);
      expect([path, answer.status]).toEqual([path, 404]);
      expect(JSON.parse(answer.body).message).toMatch(/web wallet is not built.*npm run build/);
      expectPageHeaders(answer);
    }
  });

  it("looks for the build in packages/web/dist by default", () => {
    expect(defaultWebAppFolder()).toBe(resolve("packages/web/dist"));
  });

  it("is served by the provider as `npm start` runs it, which says where", async () => {
    const provider = await spawnProvider();
    try {
      expect(provider.output()).toContain(`${provider.url.replace("//127.0.0.1:", "//localhost:")}/app`);
      const answer = await fetch(`${provider.url}/app/`);
      // The bundle sits at another depth than this module: it must find the same folder.
      const built = existsSync(resolve("packages/web/dist/index.html"));
      expect(answer.status).toBe(built ? 200 : 404);
      expect(answer.headers.get("content-security-policy")).toBe(webAppCsp());
    } finally {
      await provider.stop();
    }
  });

  it("lets the page reach the chain nodes a person sets: https ones, and the origins configured", async () => {
    const node = "http://127.0.0.1:8545";
    expect(webAppCsp()).toContain("connect-src 'self' https:;");
    expect(webAppCsp([node])).toContain(`connect-src 'self' https: ${node};`);
    const local = newApp();
    errorsPlugin(local);
    webAppPlugin(local, join(top, "dist"), [node]);
    const answer = await local.inject({ method: "GET", url: "/app/" });
    expect(answer.headers["content-security-policy"]).toBe(webAppCsp([node]));
    await local.close();
  });

  it("refuses a connect source that is not an origin, before anything is served", () => {
    for (const bad of [
      "*",
      "http:",
      "'unsafe-eval'",
      "http://127.0.0.1:8545/path",
      "http://127.0.0.1:8545/",
      "http://node.example; script-src *",
      "javascript:alert(1)",
      "ws://127.0.0.1:8545",
      "https://user:pass@node.example",
      "",
    ])
      expect(() => checkConnectSources([bad]), bad).toThrow(/is not an origin/);
    expect(() => checkConnectSources(["http://127.0.0.1:8545", "https://node.example"])).not.toThrow();
    expect(() => webAppPlugin(newApp(), join(top, "dist"), ["http://x/y"])).toThrow(/is not an origin/);
  });
});
