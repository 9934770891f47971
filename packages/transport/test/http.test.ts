import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProviderError, signedFetch } from "../src/http.js";
import { newDeviceIdentity } from "../src/identity.js";
import { readRequestSignature, verifyRequestSignature } from "../src/request-signature.js";

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  socket: object;
}

/** A server whose handler each test sets; it records what arrived and on which connection. */
let handler: (seen: Seen, res: http.ServerResponse) => void;
const seen: Seen[] = [];
let server: http.Server;
let url: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const request = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks),
        socket: req.socket,
      };
      seen.push(request);
      handler(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

describe("signedFetch", () => {
  const identity = newDeviceIdentity();

  it("sends the body as JSON with headers that verify, and returns the parsed reply", async () => {
    handler = (_, res) => json(res, 200, { ok: true, n: 7 });
    seen.length = 0;
    expect(await signedFetch(url, identity, "POST", "/v1/things?x=1", { a: [1, "b"] })).toEqual({ ok: true, n: 7 });
    const [request] = seen as [Seen];
    expect(request).toMatchObject({ method: "POST", url: "/v1/things?x=1" });
    expect(request.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(request.body.toString())).toEqual({ a: [1, "b"] });
    const received = readRequestSignature({
      method: request.method,
      target: request.url,
      headers: request.headers,
      body: new Uint8Array(request.body),
    });
    expect(verifyRequestSignature(identity.publicKey, received)).toBe(true);
  });

  it("sends a GET without a body", async () => {
    handler = (_, res) => json(res, 200, {});
    seen.length = 0;
    expect(await signedFetch(url, identity, "GET", "/v1/things")).toEqual({});
    expect(seen[0]?.body.length).toBe(0);
    expect(seen[0]?.headers["content-type"]).toBeUndefined();
  });

  it("turns a refusal into a ProviderError with the provider's code and message", async () => {
    handler = (_, res) => json(res, 409, { error: "conflict", message: "round 3 is stale" });
    const error = await signedFetch(url, identity, "POST", "/v1/x", {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 409, code: "conflict", message: "POST /v1/x: 409 round 3 is stale" });
  });

  it("refuses a successful reply that is not JSON", async () => {
    handler = (_, res) => {
      res.writeHead(200);
      res.end("<html>");
    };
    await expect(signedFetch(url, identity, "GET", "/v1/x")).rejects.toMatchObject({ code: "bad-reply" });
  });

  it("reuses its connection, and sends again once when the server closed it on reuse", async () => {
    handler = (_, res) => json(res, 200, { ok: true });
    seen.length = 0;
    await signedFetch(url, identity, "GET", "/v1/a");
    await signedFetch(url, identity, "GET", "/v1/b");
    expect(seen[1]?.socket).toBe(seen[0]?.socket);
    // The next request arrives on the kept connection; the server drops it without a reply.
    let dropped = false;
    handler = (request, res) => {
      if (!dropped) {
        dropped = true;
        (request.socket as import("node:net").Socket).destroy();
        return;
      }
      json(res, 200, { again: true });
    };
    expect(await signedFetch(url, identity, "POST", "/v1/c", { k: 1 })).toEqual({ again: true });
    expect(seen.slice(2).map((s) => s.url)).toEqual(["/v1/c", "/v1/c"]);
    expect(seen[3]?.socket).not.toBe(seen[2]?.socket);
  });

  it("says the outcome is unknown when the dropped request had reached the provider (its retry is a replay)", async () => {
    handler = (_, res) => json(res, 200, {});
    await signedFetch(url, identity, "GET", "/v1/warm");
    let first = true;
    handler = (request, res) => {
      if (first) {
        first = false; // acted on, then the connection drops before the reply
        (request.socket as import("node:net").Socket).destroy();
        return;
      }
      json(res, 401, { error: "unauthorized", message: "request was replayed" });
    };
    await expect(signedFetch(url, identity, "POST", "/v1/act", { x: 1 })).rejects.toMatchObject({
      status: 401,
      code: "outcome-unknown",
    });
  });

  it("does not resend a request whose new connection fails, nor follow redirects", async () => {
    const fresh = http.createServer((req) => req.socket.destroy());
    await new Promise<void>((resolve) => fresh.listen(0, "127.0.0.1", resolve));
    const freshUrl = `http://127.0.0.1:${(fresh.address() as AddressInfo).port}`;
    let arrived = 0;
    fresh.on("request", () => arrived++);
    await expect(signedFetch(freshUrl, identity, "POST", "/v1/x", {})).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(arrived).toBe(1);
    await new Promise((resolve) => fresh.close(resolve));
    handler = (_, res) => {
      res.writeHead(302, { location: "/elsewhere" });
      res.end();
    };
    seen.length = 0;
    await expect(signedFetch(url, identity, "GET", "/v1/moved")).rejects.toMatchObject({ status: 302 });
    expect(seen.map((s) => s.url)).toEqual(["/v1/moved"]);
  });

  it("fails with the network's error when nothing listens, and refuses other URL schemes", async () => {
    await expect(signedFetch("http://127.0.0.1:1", identity, "GET", "/v1/x")).rejects.toThrow(/ECONNREFUSED/);
    await expect(signedFetch("ftp://127.0.0.1", identity, "GET", "/v1/x")).rejects.toThrow(/unsupported URL scheme/);
  });
});
