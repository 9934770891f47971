/**
 * The operator console's API at /console/api/*: every route refuses a request without the
 * console's bearer token (401, nothing of the data), answers the right one with the figures,
 * accounts, held requests, audit chains and their verification, recoveries and policies, and does
 * not exist on a provider started without a token; the token and the accounts' emails never reach
 * the log. Long texts come cut, an account's devices capped, and a policy change waiting out its
 * delay is shown as in force once due without being applied. The console's page is served at
 * /console/ under the web wallet's headers with a policy of its own.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { base32 } from "@scure/base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONSOLE_DEVICES_PER_ACCOUNT, CONSOLE_TEXT_LIMIT } from "../src/console/schemas.js";
import type { App } from "../src/http/app.js";
import { consoleCsp } from "../src/http/plugins/web-app.js";
import type { ServerOptions } from "../src/http/server.js";
import { buildServer, startProvider } from "../src/index.js";
import { STANDARD_TEMPLATE } from "../src/policy/templates.js";
import { totp } from "../src/policy/totp.js";
import {
  accountWithHeldRequest,
  CONSOLE_TOKEN,
  type HeldRequest,
  HOLDING_RULE,
  randomSolanaAddress,
  tamperWithAudit,
} from "./console-fixture.js";
import {
  activeDevice,
  createWallet,
  METRICS_TOKEN,
  spawnProvider,
  startTestProvider,
  type TestProvider,
} from "./harness.js";
import { SMALL_ETH, TEMPLATES_FILE } from "./policy-templates-fixture.js";

const EMAIL = "console-owner@example.com";
const ROUTES = [
  "overview",
  "accounts",
  "held-requests",
  "recovery",
  "policies",
  "accounts/00000000-0000-4000-8000-000000000000/audit",
  "accounts/00000000-0000-4000-8000-000000000000/audit/verify",
];

const consoleGet = (url: string, path: string, authorization?: string) =>
  fetch(`${url}/console/api/${path}`, { ...(authorization !== undefined && { headers: { authorization } }) });

async function consoleJson(url: string, path: string): Promise<Record<string, unknown>> {
  const response = await consoleGet(url, path, `Bearer ${CONSOLE_TOKEN}`);
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

/** A log to read back: what a server built with `{ logger: { level, stream } }` writes. */
function logStream(): { stream: Writable; text(): string } {
  let log = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      log += chunk.toString("utf8");
      done();
    },
  });
  return { stream, text: () => log };
}

/** A second server on `provider`'s context, built with `options`, for the length of `use`. */
async function withServer(
  provider: TestProvider,
  options: ServerOptions,
  use: (url: string, app: App) => Promise<void>,
): Promise<void> {
  const app = await buildServer(provider.context, options);
  try {
    await use(await app.listen({ host: "127.0.0.1", port: 0 }), app);
  } finally {
    await app.close();
  }
}

const WALLET_PAGE = "<!doctype html><title>keyshard</title>";
const CONSOLE_PAGE = "<!doctype html><title>keyshard console</title>";

/** A build of the web package's two pages, in a folder of its own: the tests never depend on (or race) a real build. */
let webAppFolder: string;

beforeAll(() => {
  webAppFolder = mkdtempSync(join(tmpdir(), "keyshard-console-pages-"));
  writeFileSync(join(webAppFolder, "index.html"), WALLET_PAGE);
  writeFileSync(join(webAppFolder, "console.html"), CONSOLE_PAGE);
});

afterAll(() => {
  rmSync(webAppFolder, { recursive: true, force: true });
});

describe("the console behind its bearer token", () => {
  let provider: TestProvider;
  let held: HeldRequest;

  beforeAll(async () => {
    provider = await startTestProvider("pglite", { consoleToken: CONSOLE_TOKEN, policyTemplatesFile: TEMPLATES_FILE });
    held = await accountWithHeldRequest(provider, EMAIL, "vault");
  });

  afterAll(async () => {
    await provider?.stop();
  });

  it.each([
    ["no Authorization header", undefined],
    ["a wrong token of the same length", `Bearer ${CONSOLE_TOKEN.slice(0, -1)}x`],
    ["the token with more after it", `Bearer ${CONSOLE_TOKEN}x`],
    ["the token without the Bearer scheme", CONSOLE_TOKEN],
  ])("refuses %s on every route with 401 and nothing of the data", async (_case, authorization) => {
    for (const path of [...ROUTES, "accounts/not-an-id/audit"]) {
      const response = await consoleGet(provider.url, path, authorization);
      expect(response.status, path).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="console"');
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({
        error: "unauthorized",
        message: expect.stringContaining("KEYSHARD_CONSOLE_TOKEN"),
      });
      expect(text).not.toContain(EMAIL);
    }
  });

  it("gives an overview: the database, the version, counts by state", async () => {
    const overview = await consoleJson(provider.url, "overview");
    expect(overview).toEqual({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      trial: true,
      startedAtMs: expect.any(Number),
      uptimeSeconds: expect.any(Number),
      database: { kind: "pglite", reachable: true },
      counts: {
        accounts: 1,
        devices: { active: 1 },
        wallets: { active: 1 },
        requests: { held: 1 },
      },
      signRuns: { precomputedAhead: expect.any(Number), precomputedInRun: expect.any(Number) },
    });
  });

  it("lists the accounts with their devices", async () => {
    expect(await consoleJson(provider.url, "accounts")).toEqual({
      limit: 200,
      total: 1,
      devicesLimit: CONSOLE_DEVICES_PER_ACCOUNT,
      accounts: [
        {
          id: held.accountId,
          email: EMAIL,
          verified: true,
          createdMs: expect.any(Number),
          lastActiveMs: expect.any(Number),
          devicesTotal: 1,
          devices: [{ id: held.owner.id, name: "phone", state: "active", createdMs: expect.any(Number) }],
        },
      ],
    });
  });

  it("lists the held requests with the rule that held each and what it waits for", async () => {
    expect(await consoleJson(provider.url, "held-requests")).toEqual({
      limit: 200,
      total: 1,
      requests: [
        {
          id: held.requestId,
          accountId: held.accountId,
          email: EMAIL,
          walletId: held.walletId,
          walletName: "vault",
          chain: "solana",
          kind: "transaction",
          requestedBy: { deviceId: held.owner.id, name: "phone" },
          createdMs: expect.any(Number),
          rule: HOLDING_RULE,
          ruleNumber: 1,
          decision: "require-approvals",
          waitingFor: { approvals: { needed: 1, have: 0 } },
          approvals: [],
        },
      ],
    });
  });

  it("lists recoveries and enrollments, none here", async () => {
    expect(await consoleJson(provider.url, "recovery")).toEqual({
      limit: 200,
      recoveriesTotal: 0,
      recoveries: [],
      enrollmentsTotal: 0,
      enrollments: [],
    });
  });

  it("shows each wallet's policy in force, and the policy templates offered to new wallets", async () => {
    const policies = await consoleJson(provider.url, "policies");
    expect(policies).toMatchObject({ limit: 200, total: 1, templates: [STANDARD_TEMPLATE, SMALL_ETH] });
    const [wallet] = policies.wallets as Record<string, unknown>[];
    expect(wallet).toMatchObject({ id: held.walletId, accountId: held.accountId, name: "vault", nextChangeMs: null });
    expect(JSON.parse(wallet?.policy as string)).toEqual([
      { name: HOLDING_RULE, when: {}, decision: "require-approvals", approvals: 1 },
    ]);
  });

  it("shows an account's audit chain and verifies it, then names the first entry edited in the database", async () => {
    const audit = await consoleJson(provider.url, `accounts/${held.accountId}/audit`);
    const entries = audit.entries as { seq: number; action: string; details: string; detailsLength: number }[];
    expect(audit).toMatchObject({ accountId: held.accountId, limit: 200, total: entries.length });
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries.map((e) => e.action)).toContain("request.held");
    for (const entry of entries) {
      expect(() => JSON.parse(entry.details)).not.toThrow();
      expect(entry.detailsLength).toBe(entry.details.length);
    }
    const verify = () => consoleJson(provider.url, `accounts/${held.accountId}/audit/verify`);
    expect(await verify()).toEqual({
      accountId: held.accountId,
      ok: true,
      length: entries.length,
      head: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    await tamperWithAudit(provider, held.accountId, 2);
    expect(await verify()).toEqual({ accountId: held.accountId, ok: false, length: entries.length, firstBroken: 2 });
  });

  it("answers 404 for an account that does not exist and 400 for an id that is none", async () => {
    const missing = await consoleGet(provider.url, ROUTES[5] as string, `Bearer ${CONSOLE_TOKEN}`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "not-found", message: "no such account" });
    const malformed = await consoleGet(provider.url, "accounts/not-an-id/audit/verify", `Bearer ${CONSOLE_TOKEN}`);
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: "invalid-request" });
  });

  it("refuses a urn:uuid: id, which the format of a uuid allows and the database does not, as invalid (400, not 500)", async () => {
    const urn = await consoleGet(provider.url, `accounts/urn:uuid:${held.accountId}/audit`, `Bearer ${CONSOLE_TOKEN}`);
    expect(urn.status).toBe(400);
    expect(await urn.json()).toMatchObject({ error: "invalid-request" });
    // A device's route with the same parameter: the API's own id.
    const device = await held.owner.request("POST", `/v1/wallets/urn:uuid:${held.walletId}/confirm`, {
      publicKey: "00".repeat(32),
    });
    expect(device).toMatchObject({ status: 400, body: { error: "invalid-request" } });
    // And a route whose parameters are a uuid and more.
    const keyChange = await held.owner.request("POST", `/v1/wallets/urn:uuid:${held.walletId}/key-changes/1/confirm`, {
      publicKey: "00".repeat(32),
    });
    expect(keyChange).toMatchObject({ status: 400, body: { error: "invalid-request" } });
  });

  it("says the database is unreachable when it does not answer, and logs why", async () => {
    const log = logStream();
    const unreachable = new Error("connect ECONNREFUSED 127.0.0.1:5432");
    const broken = {
      ...provider.context,
      db: Object.create(provider.context.db, { query: { value: () => Promise.reject(unreachable) } }),
    };
    const app = await buildServer(broken, {
      consoleToken: CONSOLE_TOKEN,
      logger: { level: "info", stream: log.stream },
    });
    try {
      const url = await app.listen({ host: "127.0.0.1", port: 0 });
      expect(await consoleJson(url, "overview")).toMatchObject({
        database: { kind: "pglite", reachable: false },
        counts: null,
      });
    } finally {
      await app.close();
    }
    expect(log.text()).toContain("the console's overview could not read the database");
    expect(log.text()).toContain("ECONNREFUSED");
  });

  it("serves its page at /console/ under the web wallet's headers, with a policy that reaches nothing but the provider", async () => {
    await withServer(provider, { consoleToken: CONSOLE_TOKEN, webAppFolder }, async (url) => {
      const bare = await fetch(`${url}/console`, { redirect: "manual" });
      expect(bare.status).toBe(302);
      expect(bare.headers.get("location")).toBe("/console/");
      expect(bare.headers.get("content-security-policy")).toBe(consoleCsp());
      const page = await fetch(`${url}/console/`);
      expect(page.status).toBe(200);
      const csp = page.headers.get("content-security-policy");
      expect(csp).toBe(consoleCsp());
      expect(csp).toContain("connect-src 'self';");
      expect(csp).toContain("script-src 'self';");
      expect(csp).not.toContain("wasm");
      expect(csp).not.toContain("https:");
      expect(page.headers.get("x-content-type-options")).toBe("nosniff");
      expect(page.headers.get("cache-control")).toBe("no-cache");
      expect(await page.text()).toBe(CONSOLE_PAGE);
      // Nowhere else: not as a file of the wallet's, where it would be served with or without a token.
      const wallet = await fetch(`${url}/app/`);
      expect(await wallet.text()).toBe(WALLET_PAGE);
      expect(wallet.headers.get("content-security-policy")).toContain("wasm-unsafe-eval");
      const asFile = await fetch(`${url}/app/console.html`);
      expect(asFile.status).toBe(404);
      expect(await asFile.text()).not.toContain("keyshard console");
    });
  });

  it("logs its requests without the token or the accounts' emails", async () => {
    const log = logStream();
    await withServer(
      provider,
      { logger: { level: "debug", stream: log.stream }, consoleToken: CONSOLE_TOKEN },
      async (url) => {
        for (const path of ROUTES.slice(0, 5)) await consoleJson(url, path);
        await consoleJson(url, `accounts/${held.accountId}/audit`);
        expect((await consoleGet(url, "accounts", `Bearer ${CONSOLE_TOKEN.slice(0, -1)}x`)).status).toBe(401);
      },
    );
    expect(log.text()).toContain('"path":"/console/api/accounts"');
    expect(log.text()).toContain('"status":401');
    expect(log.text()).not.toContain(CONSOLE_TOKEN);
    expect(log.text()).not.toContain(CONSOLE_TOKEN.slice(0, -1));
    expect(log.text()).not.toContain(EMAIL);
  });
});

describe("a provider without a console token", () => {
  let provider: TestProvider;

  beforeAll(async () => {
    provider = await startTestProvider("pglite");
  });

  afterAll(async () => {
    await provider?.stop();
  });

  it("has no console: the same 404 as a route that does not exist, token or not", async () => {
    await withServer(provider, { webAppFolder }, async (url) => {
      for (const authorization of [undefined, `Bearer ${CONSOLE_TOKEN}`]) {
        for (const path of ROUTES) {
          const response = await consoleGet(url, path, authorization);
          expect(response.status).toBe(404);
          expect(await response.json()).toEqual({ error: "not-found", message: `no route GET /console/api/${path}` });
        }
        // The build holds the console's page: it is the missing token that keeps it unserved.
        expect(await (await fetch(`${url}/app/`)).text()).toBe(WALLET_PAGE);
        for (const page of ["/console", "/console/", "/app/console.html"]) {
          const response = await fetch(`${url}${page}`, { redirect: "manual" });
          expect(response.status, page).toBe(404);
          expect(await response.text()).not.toContain("keyshard console");
        }
      }
    });
  });
});

describe("npm start with KEYSHARD_CONSOLE_TOKEN", () => {
  it("serves the console to that token and names it on the start line", async () => {
    const started = await spawnProvider({ KEYSHARD_CONSOLE_TOKEN: CONSOLE_TOKEN });
    try {
      expect(started.output()).toContain(`operator console at ${started.url}/console`);
      expect((await consoleGet(started.url, "overview")).status).toBe(401);
      expect(await consoleJson(started.url, "overview")).toMatchObject({ database: { reachable: true } });
    } finally {
      await started.stop();
    }
  });
});

describe("a console token that keeps no one out", () => {
  it.each([
    ["short", "too-short-0123456789"],
    ["with a space", "a token with spaces 0123456789abcdef"],
  ])("refuses the start (%s) before anything is created, without the token in the message", async (_case, token) => {
    const dataDir = join(tmpdir(), `keyshard-console-${crypto.randomUUID()}`);
    const started = startProvider({ dataDir, consoleToken: token, trial: true });
    await expect(started).rejects.toThrow(/^KEYSHARD_CONSOLE_TOKEN must be at least 32 characters/);
    await expect(started).rejects.not.toThrow(token);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("refuses the start with the metrics token, which every scraper holds", async () => {
    const dataDir = join(tmpdir(), `keyshard-console-${crypto.randomUUID()}`);
    const started = startProvider({ dataDir, consoleToken: METRICS_TOKEN, metricsToken: METRICS_TOKEN, trial: true });
    await expect(started).rejects.toThrow(/^KEYSHARD_CONSOLE_TOKEN must not be KEYSHARD_METRICS_TOKEN/);
    await expect(started).rejects.not.toThrow(METRICS_TOKEN);
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe("a wallet's policy change waiting out its delay, and long texts", () => {
  const email = "console-changes@example.com";
  let provider: TestProvider;

  beforeAll(async () => {
    provider = await startTestProvider("pglite", { consoleToken: CONSOLE_TOKEN });
  });

  afterAll(async () => {
    await provider?.stop();
  });

  const walletIn = async (id: string) =>
    ((await consoleJson(provider.url, "policies")).wallets as Record<string, unknown>[]).find((w) => w.id === id);

  it("shows the old policy until the change is due and the new one after, never applying it", async () => {
    const owner = await activeDevice(provider, email);
    const accountId = (await owner.request("GET", "/v1/account")).body.id as string;
    const enrolled = await owner.request("POST", "/v1/totp", {});
    const secret = base32.decode(enrolled.body.secret as string);
    expect((await owner.request("POST", "/v1/totp/confirm", { code: totp(secret, provider.now()) })).status).toBe(200);
    provider.advance(provider.context.accountChangeDelayMs); // a new TOTP counts once its delay has passed
    const old = [{ name: "nothing", when: {}, decision: "deny" }];
    const wallet = await createWallet(owner, "slow", "frost-ed25519", old);
    // Longer than a reply holds: a rule naming many destinations.
    const long = [{ name: "far", when: { to: Array.from({ length: 120 }, randomSolanaAddress) }, decision: "allow" }];
    provider.advance(30_000); // each TOTP step is good once
    const asked = await owner.request("POST", `/v1/wallets/${wallet.walletId}/policy`, {
      policy: long,
      totp: totp(secret, provider.now()),
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    const effectiveMs = asked.body.effectiveMs as number;

    provider.advance(provider.context.policyDelayMs / 2);
    const before = await walletIn(wallet.walletId);
    expect(before).toMatchObject({ nextChangeMs: effectiveMs });
    expect(JSON.parse(before?.policy as string)).toEqual(old);

    provider.advance(provider.context.policyDelayMs);
    const after = await walletIn(wallet.walletId);
    const wholeLength = after?.policyLength as number;
    expect(wholeLength).toBeGreaterThan(CONSOLE_TEXT_LIMIT);
    expect(after).toMatchObject({ nextChangeMs: null });
    expect(after?.policy).toHaveLength(CONSOLE_TEXT_LIMIT);
    expect(after?.policy).toMatch(/^\[\{"decision":"allow","name":"far","when":\{"to":\["/);

    const [change] = await provider.context.db.query<{ status: string }>(
      "SELECT status FROM policy_changes WHERE id = $1",
      [asked.body.changeId],
    );
    expect(change?.status).toBe("pending");
    const audit = await consoleJson(provider.url, `accounts/${accountId}/audit`);
    const entries = audit.entries as { action: string; details: string; detailsLength: number }[];
    expect(entries.map((e) => e.action)).not.toContain("policy.applied");
    // The request's entry holds the whole policy: the reply holds its beginning and says how long it is.
    const requested = entries.find((e) => e.action === "policy.change-requested");
    expect(requested?.details).toHaveLength(CONSOLE_TEXT_LIMIT);
    expect(requested?.detailsLength).toBeGreaterThan(CONSOLE_TEXT_LIMIT);
  });

  it("lists at most its cap of an account's devices, registrations anyone can start last, and counts them all", async () => {
    const owner = await activeDevice(provider, "console-devices@example.com");
    const accountId = (await owner.request("GET", "/v1/account")).body.id as string;
    const spare = CONSOLE_DEVICES_PER_ACCOUNT + 5;
    await provider.context.db.query(
      `INSERT INTO devices (id, account_id, identity_key, name, state, created_ms)
       SELECT 'spare-' || n, $1, decode(lpad(to_hex(n), 64, '0'), 'hex'), 'spare', 'unverified', $2::bigint + n
       FROM generate_series(1, $3::int) n`,
      [accountId, provider.now(), spare],
    );
    const accounts = (await consoleJson(provider.url, "accounts")).accounts as {
      id: string;
      devicesTotal: number;
      devices: { id: string; state: string }[];
    }[];
    const account = accounts.find((a) => a.id === accountId);
    expect(account?.devicesTotal).toBe(spare + 1);
    expect(account?.devices).toHaveLength(CONSOLE_DEVICES_PER_ACCOUNT);
    expect(account?.devices.map((d) => d.id)).toEqual([
      owner.id,
      ...Array.from({ length: CONSOLE_DEVICES_PER_ACCOUNT - 1 }, (_, i) => `spare-${spare - i}`),
    ]);
  });
});
