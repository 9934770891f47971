/**
 * The development mail viewer: without SMTP, the unsent mail (codes included) is listed under a
 * secret path printed only in the provider's start warning, for this machine only; without that
 * path (as a same-machine forwarder passes on a remote request), from another address, through a
 * proxy, under a foreign Host name (DNS rebinding), or with SMTP configured, there is nothing to read.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildServer } from "../src/http/server.js";
import { type RunningProvider, startProvider } from "../src/index.js";
import { type ProviderProcess, spawnProvider, startTestProvider, TestDevice } from "./harness.js";

interface Listed {
  messages: { to: string; subject: string; body: string; createdMs: number }[];
}

describe("the mail viewer of a provider without SMTP", () => {
  let provider: ProviderProcess;
  /** The viewer's address, as the start warning gives it. */
  let viewer: string;
  beforeAll(async () => {
    provider = await spawnProvider({ KEYSHARD_LOG: "info", KEYSHARD_SMTP_URL: "" });
    // The logger writes on its own schedule: the warning may follow the start's last line.
    viewer = await vi.waitFor(
      () => {
        const announced = provider.output().match(/listed at (http:\/\/\S+\/dev\/mail\/[\w-]{22}) /)?.[1];
        if (announced === undefined) throw new Error("the start warning has not named the mail viewer");
        return announced;
      },
      { timeout: 10_000 },
    );
  });
  afterAll(async () => {
    await provider?.stop();
  });

  it("is announced at start, lists the codes newest first, and a listed code verifies the device", async () => {
    expect(provider.output()).toMatch(/no SMTP server configured .* listed at http\S+ \(from this machine only/);
    expect(viewer.startsWith(`${provider.url}/dev/mail/`)).toBe(true);
    const first = new TestDevice(provider.url);
    const second = new TestDevice(provider.url);
    for (const [device, email] of [
      [first, "first@example.com"],
      [second, "second@example.com"],
    ] as const)
      expect(
        (await device.request("POST", "/v1/devices", { identityKey: device.identityKey, email, name: "laptop" }))
          .status,
      ).toBe(201);
    const reply = await fetch(`${viewer}.json`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get("cache-control")).toBe("no-store");
    const { messages } = (await reply.json()) as Listed;
    expect(messages.map((m) => m.to)).toEqual(["second@example.com", "first@example.com"]);
    const code = messages[1]?.body.match(/code is (\d{6})/)?.[1] as string;
    expect((await first.request("POST", "/v1/devices/verify", { code })).body.state).toBe("active");
    const page = await fetch(viewer);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain(`code is ${code}`);
  });

  it("without its token, or with another, is a route like any missing one, even from this machine", async () => {
    const token = viewer.split("/").at(-1) as string;
    const wrong = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    for (const path of ["/dev/mail", "/dev/mail.json", "/dev/mail/", `/dev/mail/${wrong}`, `/dev/mail/${wrong}.json`]) {
      const reply = await fetch(`${provider.url}${path}`);
      expect(reply.status, path).toBe(404);
      expect(await reply.json()).toEqual({ error: "not-found", message: `no route GET ${path}` });
    }
  });

  it("shows nothing to a request naming another host (DNS rebinding) or forwarded by a proxy", async () => {
    const { request } = await import("node:http");
    const get = (headers: Record<string, string>) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const r = request(`${viewer}.json`, { headers }, (res) => {
          let text = "";
          res.on("data", (d: Buffer) => (text += d.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        });
        r.on("error", reject);
        r.end();
      });
    const port = new URL(provider.url).port;
    expect((await get({ host: `localhost:${port}` })).status).toBe(200);
    for (const headers of <Record<string, string>[]>[
      { host: `attacker.example:${port}` },
      { host: `127.0.0.1.attacker.example:${port}` },
      { host: `127.0.0.1:${port}`, "x-forwarded-for": "203.0.113.7" },
      { host: `127.0.0.1:${port}`, forwarded: "for=203.0.113.7" },
    ]) {
      const refused = await get(headers);
      expect(refused.status, JSON.stringify(headers)).toBe(403);
      expect(refused.text).not.toMatch(/code is/);
    }
  });
});

describe("the mail viewer's address check", () => {
  let dataDir: string;
  let provider: RunningProvider;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "keyshard-dev-mail-"));
    provider = await startProvider({ dataDir, precomputeThreads: 0 });
    await provider.context.db.transaction((tx) =>
      provider.context.notifier.queue(
        tx,
        { accountId: null, to: "x@example.com", subject: "<script>alert(1)</script>", body: "code is 123456" },
        Date.now(),
      ),
    );
  });
  afterAll(async () => {
    await provider?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const viewerPath = () => `/dev/mail/${provider.context.devMailToken}`;

  it("has a token of 128 random bits, new at each start", async () => {
    expect(provider.context.devMailToken).toMatch(/^[\w-]{22}$/);
    const other = await startProvider({
      dataDir: join(dataDir, "other"),
      precomputeThreads: 0,
    });
    try {
      expect(other.context.devMailToken).toMatch(/^[\w-]{22}$/);
      expect(other.context.devMailToken).not.toBe(provider.context.devMailToken);
    } finally {
      await other.close();
    }
  });

  it("without its token answers 404 to a loopback socket, a loopback Host and no proxy header", async () => {
    const app = await buildServer(provider.context);
    for (const url of ["/dev/mail", "/dev/mail.json", "/dev/mail/", `/dev/mail/${"A".repeat(22)}.json`]) {
      const reply = await app.inject({ url, remoteAddress: "127.0.0.1", headers: { host: "127.0.0.1" } });
      expect(reply.statusCode, url).toBe(404);
      expect(reply.body).not.toContain("123456");
    }
    // Not 403 to another address either: without the token, nothing says the viewer is there.
    const remote = await app.inject({
      url: "/dev/mail/x.json",
      remoteAddress: "203.0.113.7",
      headers: { host: "a.example" },
    });
    expect(remote.statusCode).toBe(404);
    await app.close();
  });

  it("refuses every address but loopback, whatever the route", async () => {
    const app = await buildServer(provider.context);
    for (const remoteAddress of ["203.0.113.7", "10.0.0.1", "::ffff:192.168.1.2", "fe80::1", "2001:db8::1"])
      for (const url of [viewerPath(), `${viewerPath()}.json`]) {
        const reply = await app.inject({ url, remoteAddress, headers: { host: "127.0.0.1" } });
        expect(reply.statusCode, `${remoteAddress} ${url}`).toBe(403);
        expect(reply.body).not.toContain("123456");
      }
    for (const remoteAddress of ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"]) {
      const reply = await app.inject({ url: `${viewerPath()}.json`, remoteAddress, headers: { host: "localhost" } });
      expect(reply.statusCode, remoteAddress).toBe(200);
    }
    await app.close();
  });

  it("shows a message's text as text: markup in a subject is not run", async () => {
    const app = await buildServer(provider.context);
    const page = await app.inject({ url: viewerPath(), remoteAddress: "127.0.0.1", headers: { host: "localhost" } });
    expect(page.body).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
    expect(page.body).not.toContain("<script>");
    expect(page.headers["content-security-policy"]).toMatch(/default-src 'none'/);
    await app.close();
  });
});

describe("a provider with SMTP", () => {
  it("has no mail viewer at all", async () => {
    const provider = await startTestProvider("pglite");
    try {
      const app = await buildServer(provider.context);
      const reply = await app.inject({
        url: `/dev/mail/${provider.context.devMailToken}.json`,
        remoteAddress: "127.0.0.1",
        headers: { host: "localhost" },
      });
      expect(reply.statusCode).toBe(404);
      await app.close();
      expect((await fetch(`${provider.url}/dev/mail/${provider.context.devMailToken}`)).status).toBe(404);
    } finally {
      await provider.stop();
    }
  });
});
