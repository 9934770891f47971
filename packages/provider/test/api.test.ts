/**
 * The API as a client sees it: a real provider process started as `npm start` starts it, answers
 * to malformed, oversized and unknown requests, and a fuzz of every route that must never get a
 * 5xx or stop the server.
 */
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { endpoints } from "@keyshard/api";
import { signRequest } from "@keyshard/transport";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BODY_LIMIT } from "../src/http/plugins/json-body.js";
import {
  activeDevice,
  createWallet,
  type ProviderProcess,
  START_ARGUMENTS,
  scrapeMetrics,
  send,
  spawnProvider,
  startTestProvider,
  TestDevice,
  type TestProvider,
} from "./harness.js";

describe("a real provider process (npm start)", () => {
  let provider: ProviderProcess;
  let url: string;

  beforeAll(async () => {
    provider = await spawnProvider();
    url = provider.url;
  });

  afterAll(async () => {
    await provider?.stop();
  });

  it("creates its PGlite database and a 0600 key file on first start, and says so", async () => {
    expect(provider.output()).toContain(
      `created the master key file ${join(provider.dataDir, "master.key")} (mode 0600)`,
    );
    expect(statSync(join(provider.dataDir, "master.key")).mode & 0o777).toBe(0o600);
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ ok: true, database: "pglite" });
  });

  it("serves OpenAPI at /docs, and Prometheus metrics at /metrics to the token in KEYSHARD_METRICS_TOKEN only", async () => {
    const spec = (await (await fetch(`${url}/docs/json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(["/v1/devices", "/v1/devices/verify", "/v1/audit/verify"]),
    );
    expect(await scrapeMetrics(url)).toContain("keyshard_http_request_seconds");
    const unauthenticated = await fetch(`${url}/metrics`);
    expect(unauthenticated.status).toBe(401);
    expect(await unauthenticated.json()).toEqual({ error: "unauthorized", message: expect.any(String) });
  });

  it("names every operation of the OpenAPI document by its endpoint's name in the API contract", async () => {
    const spec = (await (await fetch(`${url}/docs/json`)).json()) as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    const operations = Object.entries(spec.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ key: `${method.toUpperCase()} ${path}`, operation })),
    );
    const ids = operations.map((o) => o.operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    // The document writes a path parameter `{id}` where the table, in Fastify's form, has `:id`.
    const nameOf = new Map(
      Object.entries(endpoints).map(([name, e]) => [`${e.method} ${e.path.replace(/:(\w+)/g, "{$1}")}`, name]),
    );
    // The relay's WebSocket speaks frames, not the table's contract, and is named in the document alone.
    expect(Object.fromEntries(operations.map((o) => [o.key, o.operation.operationId]))).toEqual({
      ...Object.fromEntries(nameOf),
      "GET /v1/relay/ws": "relaySocket",
    });
  });

  it("registers a device over HTTP (the code is in the outbox: no SMTP configured)", async () => {
    const device = new TestDevice(url);
    const reply = await device.request("POST", "/v1/devices", {
      identityKey: device.identityKey,
      email: "p@example.com",
      name: "p",
    });
    expect(reply.status).toBe(201);
    expect(reply.body.state).toBe("unverified");
  });
});

describe("one provider per data folder", () => {
  /** A provider started on `dataDir` that exits; fails the test (after stopping it) if it starts. */
  async function refusedStart(dataDir: string): Promise<{ code: number | null; output: string }> {
    const child = spawn(process.execPath, START_ARGUMENTS, {
      env: { ...process.env, KEYSHARD_DATA_DIR: dataDir, PORT: "0", KEYSHARD_LOG: "off", DATABASE_URL: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const read = (d: Buffer) => {
      output += d.toString();
      if (output.includes("listening on")) child.kill("SIGTERM");
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    const [code] = await once(child, "exit");
    expect(output).not.toContain("listening on");
    return { code, output };
  }
  const lockOf = (dataDir: string) => readFileSync(join(dataDir, "provider.lock"), "utf8");

  it("a second provider on a running provider's folder exits with a message; the next start after a stop or a kill -9 runs", async () => {
    const first = await spawnProvider();
    const dataDir = first.dataDir;
    try {
      const refused = await refusedStart(dataDir);
      expect(refused.code).not.toBe(0);
      expect(refused.output).toContain(
        `keyshard provider could not start: the data folder ${realpathSync(dataDir)} is in use by another provider (process ${first.child.pid};`,
      );
      expect(refused.output).not.toMatch(/\n\s+at /);
      // Still the first one's lock, and it still serves.
      expect(lockOf(dataDir).split("\n")[0]).toBe(String(first.child.pid));
      expect((await fetch(`${first.url}/health`)).status).toBe(200);

      first.child.kill("SIGTERM");
      await once(first.child, "exit");
      expect(() => lockOf(dataDir)).toThrow(/ENOENT/);

      const second = await spawnProvider({ KEYSHARD_DATA_DIR: dataDir });
      expect(second.output()).not.toContain("created the master key file");
      second.child.kill("SIGKILL");
      await once(second.child, "exit");
      await second.stop();
      // Left behind by the killed provider, whose pid runs no more.
      expect(lockOf(dataDir).split("\n")[0]).toBe(String(second.child.pid));
      const third = await spawnProvider({ KEYSHARD_DATA_DIR: dataDir });
      third.child.kill("SIGTERM");
      await once(third.child, "exit");
      await third.stop();

      // A lock naming a process that has exited.
      const gone = spawnSync(process.execPath, ["-e", ""]).pid;
      writeFileSync(join(dataDir, "provider.lock"), `${gone}\n${"ab".repeat(16)}\n`);
      const fourth = await spawnProvider({ KEYSHARD_DATA_DIR: dataDir });
      expect(lockOf(dataDir).split("\n")[0]).toBe(String(fourth.child.pid));
      await fourth.stop();
    } finally {
      await first.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("bad input gets a 4xx and the server keeps serving", () => {
  let provider: TestProvider;
  let device: TestDevice;
  let walletId: string;
  let requestId: string;
  beforeAll(async () => {
    provider = await startTestProvider("pglite");
    device = await activeDevice(provider, "f@example.com");
    walletId = (await createWallet(device, "fuzzed", "frost-ed25519")).walletId;
    const denied = await device.request("POST", `/v1/wallets/${walletId}/sign-requests`, {
      kind: "raw-hash",
      chain: "solana",
      payload: "00",
    });
    requestId = denied.body.requestId as string;
  });
  afterAll(async () => {
    await provider?.stop();
  });

  it("413 for an oversized body, 400 for broken JSON and unknown fields, 404 for unknown routes, 415 for other types", async () => {
    const big = new TextEncoder().encode(JSON.stringify({ code: "1".repeat(BODY_LIMIT) }));
    expect((await send(provider.url, "POST", "/v1/devices/verify", big, {})).status).toBe(413);
    const broken = new TextEncoder().encode("{not json");
    expect((await send(provider.url, "POST", "/v1/devices", broken, {})).status).toBe(400);
    const extra = await device.request("POST", "/v1/devices", {
      identityKey: device.identityKey,
      email: "f@example.com",
      name: "f",
      admin: true,
    });
    expect(extra.status).toBe(400);
    expect((await device.request("GET", "/v1/nothing")).status).toBe(404);
    const text = await fetch(`${provider.url}/v1/devices`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "x",
    });
    expect(text.status).toBe(415);
  });

  it("a policy the schema refuses is refused in the policy's words, naming the rule and the field", async () => {
    const bad = [{ name: "big", when: { maxAmount: 5 }, decision: "allow" }];
    for (const [path, body] of [
      [`/v1/wallets/${walletId}/policy`, { policy: bad, totp: "123456" }],
      ["/v1/wallets", { name: "badly-ruled", scheme: "ecdsa2p", policy: bad }],
    ] as const) {
      const reply = await device.request("POST", path, body);
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({
        error: "invalid-request",
        message: 'rule 1 ("big"): maxAmount is a whole number of base units, as a string',
      });
    }
    const spec = await (await fetch(`${provider.url}/docs/json`)).json();
    const change = spec.paths["/v1/wallets/{id}/policy"].post.requestBody.content["application/json"].schema;
    expect(change.properties.policy.items.properties.decision.enum).toContain("require-approvals");
  });

  it("fuzz: random bodies, signed and unsigned, on every route never get a 5xx", async () => {
    let seed = 0x9e3779b9;
    const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
    const values: unknown[] = [
      null,
      true,
      0,
      -1,
      1e308,
      "",
      "x".repeat(300),
      [],
      {},
      { code: 123456 },
      { code: "12345a" },
      { identityKey: "00".repeat(32), email: "a@b.c", name: "n" },
      { identityKey: "ff".repeat(32), email: "a@b.c", name: "n" },
      { identityKey: device.identityKey, email: "not-an-email", name: "" },
      { __proto__: { polluted: true } },
      { constructor: { prototype: { x: 1 } } },
      [[[[[[[[[[[]]]]]]]]]]],
      { chain: "ethereum", payload: "02c0", chainId: 1 },
      { chain: "solana", payload: "00" },
      { chain: "solana", payload: "ff".repeat(200), signers: ["a".repeat(32)] },
      { chain: "bitcoin", network: "regtest", payload: "70736274ff" },
      { kind: "typed-data", chain: "ethereum", typedData: { domain: { chainId: "x" } }, chainId: 1 },
      { kind: "raw-hash", chain: "ethereum", payload: "ab" },
      { kind: "message", chain: "solana", payload: "00", path: "m/0" },
      { policy: [{ name: "x", when: { window: { seconds: 1 } }, decision: "allow" }], totp: "123456" },
      { policy: [{ name: "x", when: {}, decision: "delay", delaySeconds: 1e20 }], totp: "000000" },
      { envelopes: [{ v: 1 }] },
      { envelopes: [{ v: 1, sid: "00", from: "11", to: "22", round: 0, epk: "", ct: "", sig: "" }] },
      { participants: ["a".repeat(32), "b".repeat(32)], purpose: "x" },
      { signature: "00".repeat(64) },
      { chain: "solana", address: "Vote111111111111111111111111111111111111111" },
      { chain: "ethereum", address: "0xZZ" },
      { publicKey: "00".repeat(32) },
      { round: 0, messages: [{ from: 0, to: 1, payload: "!!" }] },
      { name: "w", scheme: "dkls23", members: ["a".repeat(32)], threshold: 16 },
    ];
    const routes: [string, string][] = [
      ["POST", "/v1/devices"],
      ["POST", "/v1/devices/code"],
      ["POST", "/v1/devices/verify"],
      ["POST", `/v1/devices/${"a".repeat(32)}/approve`],
      ["POST", "/v1/devices/..%2f..%2fetc/approve"],
      ["GET", "/v1/account"],
      ["GET", "/v1/audit"],
      ["GET", "/v1/audit/verify?x=%00"],
      ["POST", "/v1/wallets"],
      ["POST", `/v1/wallets/${walletId}/sign-requests`],
      ["GET", "/v1/sign-requests?status=held"],
      ["GET", "/v1/sign-requests?status=%27%3B"],
      ["GET", `/v1/sign-requests/${requestId}`],
      ["POST", `/v1/sign-requests/${requestId}/approve`],
      ["POST", `/v1/sign-requests/${requestId}/cancel`],
      ["POST", `/v1/sign-requests/${requestId}/totp`],
      ["POST", `/v1/sign-requests/${requestId}/sign`],
      ["POST", "/v1/totp"],
      ["POST", "/v1/totp/confirm"],
      ["GET", `/v1/wallets/${walletId}/policy`],
      ["POST", `/v1/wallets/${walletId}/policy`],
      ["POST", `/v1/policy-changes/${requestId}/cancel`],
      ["POST", `/v1/wallets/${walletId}/allow-list`],
      ["POST", `/v1/wallets/${walletId}/allow-list/remove`],
      ["POST", `/v1/wallets/${walletId}/confirm`],
      ["POST", `/v1/sessions/${requestId}/round`],
      ["POST", "/v1/relay"],
      ["GET", "/v1/relay"],
      ["GET", `/v1/relay/${requestId}/envelopes?after=-1`],
      ["POST", `/v1/relay/${requestId}/envelopes`],
    ];
    const statuses = new Set<number>();
    for (let i = 0; i < 900; i++) {
      const [method, path] = routes[next() % routes.length] as [string, string];
      const value = values[next() % values.length];
      const raw =
        next() % 5 === 0
          ? crypto.getRandomValues(new Uint8Array(next() % 64))
          : new TextEncoder().encode(JSON.stringify(value) ?? "");
      const body = method === "GET" ? new Uint8Array() : raw;
      const signed = next() % 2 === 0 ? signRequest(device.identity, { method, path, body }) : {};
      const reply = await fetch(provider.url + path, {
        method,
        headers: { ...signed, ...(body.length > 0 && { "content-type": "application/json" }) },
        ...(body.length > 0 && { body: Buffer.from(body) }),
      });
      statuses.add(reply.status);
      expect(reply.status, `${method} ${path}`).toBeLessThan(500);
    }
    expect([...statuses].every((s) => s >= 200 && s < 500)).toBe(true);
    expect((await fetch(`${provider.url}/health`)).status).toBe(200);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });
});
