/**
 * The two HTTP senders `#http-send` chooses between — Node's http module, and `fetch` as a browser
 * bundle has it — give the same reply for the same exchange (status, body, headers by lower-case
 * name), send a GET without a body, and follow no redirect. Both run here against a real server:
 * Node has a `fetch` too.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send as fetchSend } from "../src/http-send-fetch.js";
import { send as nodeSend } from "../src/http-send-node.js";

let server: http.Server;
let base: string;
const bodies: number[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let length = 0;
    req.on("data", (c: Buffer) => {
      length += c.length;
    });
    req.on("end", () => {
      bodies.push(length);
      if (req.url === "/moved") {
        res.writeHead(302, { location: "/elsewhere" });
        res.end();
        return;
      }
      res.writeHead(req.url === "/refused" ? 409 : 200, {
        "content-type": "application/json",
        "Keyshard-Trial": "yes",
      });
      res.end(JSON.stringify({ method: req.method, signature: req.headers.signature ?? null }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

describe.each([
  // Node's answers the redirect as a reply, which `signedFetch` then refuses as any non-2xx one.
  ["Node's http", nodeSend, { redirect: "a reply" }],
  // fetch's cannot see the reply (`redirect: "error"` gives a network error): the call fails.
  ["fetch", fetchSend, { redirect: "a failure" }],
] as const)("the %s sender", (_, send, { redirect }) => {
  it("answers status, text and headers by lower-case name, a refusal as a reply", async () => {
    const body = new TextEncoder().encode("{}");
    const ok = await send(new URL(`${base}/things`), "POST", { signature: "sig=:AA==:" }, body);
    expect(ok).toMatchObject({ status: 200, retried: false });
    expect(JSON.parse(ok.text)).toEqual({ method: "POST", signature: "sig=:AA==:" });
    expect(ok.headers["keyshard-trial"]).toBe("yes");
    const refused = await send(new URL(`${base}/refused`), "POST", {}, body);
    expect(refused.status).toBe(409);
  });

  it("sends a GET without a body", async () => {
    bodies.length = 0;
    expect((await send(new URL(`${base}/things`), "GET", {}, new Uint8Array())).status).toBe(200);
    expect(bodies).toEqual([0]);
  });

  it("follows no redirect", async () => {
    bodies.length = 0;
    const outcome = send(new URL(`${base}/moved`), "GET", {}, new Uint8Array());
    if (redirect === "a reply")
      expect(await outcome).toMatchObject({ status: 302, headers: { location: "/elsewhere" } });
    else
      await expect(outcome).rejects.toThrow(
        /^GET \/moved: the provider at http:\/\/127\.0\.0\.1:\d+ could not be reached, or redirected$/,
      );
    expect(bodies).toHaveLength(1);
  });

  it("refuses a scheme other than http and https", async () => {
    await expect(send(new URL("file:///etc/passwd"), "GET", {}, new Uint8Array())).rejects.toThrow(
      "unsupported URL scheme file:",
    );
  });
});
