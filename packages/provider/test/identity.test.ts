/**
 * The provider's identity, authentication, authorization and audit, against PGlite and against
 * the machine's PostgreSQL: registration with a mailed code, approval and revocation of devices, signed
 * requests (replays, stale, altered and unsigned ones refused), another account's reach, the
 * audit chain and its tamper check, and the API's answers to bad input.
 */

import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSolTransfer, solanaAddress } from "@keyshard/chains";
import { newDeviceIdentity, readRequestSignature, signApproval, signRequest } from "@keyshard/transport";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAudit } from "../src/audit/log.js";
import { buildServer, MasterKeyError, startProvider } from "../src/index.js";
import {
  activeDevice,
  addDevice,
  createWallet,
  type DatabaseKind,
  freshPostgres,
  mailed,
  mailedCode,
  send,
  startTestProvider,
  TestDevice,
  type TestProvider,
} from "./harness.js";

async function register(provider: TestProvider, email: string, name = "phone"): Promise<TestDevice> {
  const device = new TestDevice(provider.url);
  const registered = await device.request("POST", "/v1/devices", { identityKey: device.identityKey, email, name });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  return device;
}

async function registerAndVerify(provider: TestProvider, email: string): Promise<TestDevice> {
  const device = await register(provider, email);
  const verified = await device.request("POST", "/v1/devices/verify", {
    code: await mailedCode(provider.mails, email),
  });
  expect(verified.status, JSON.stringify(verified.body)).toBe(200);
  return device;
}

describe.each<DatabaseKind>(["pglite", "postgres"])("provider identity on %s", (kind) => {
  let provider: TestProvider;
  beforeAll(async () => {
    provider = await startTestProvider(kind);
  });
  afterAll(async () => {
    await provider?.stop();
  });

  it("registers a device, mails a code (also kept in the outbox), and activates the first device", async () => {
    const device = await register(provider, "Alice@Example.com");
    expect((await device.request("GET", "/v1/account")).status).toBe(403);
    const code = await mailedCode(provider.mails, "alice@example.com");
    const outbox = await provider.context.db.query<{ body: string }>("SELECT body FROM outbox WHERE recipient = $1", [
      "alice@example.com",
    ]);
    expect(outbox.at(-1)?.body).toContain(code);
    const verified = await device.request("POST", "/v1/devices/verify", { code });
    expect(verified.body.state).toBe("active");
    const account = await device.request("GET", "/v1/account");
    expect(account.status).toBe(200);
    expect(account.body).toMatchObject({ email: "alice@example.com", devices: [{ name: "phone", state: "active" }] });
  });

  it("a later device of the account waits for an active device's approval", async () => {
    const first = await registerAndVerify(provider, "bob@example.com");
    const second = await register(provider, "bob@example.com", "laptop");
    const verified = await second.request("POST", "/v1/devices/verify", {
      code: await mailedCode(provider.mails, "bob@example.com", 2),
    });
    expect(verified.body.state).toBe("awaiting-approval");
    expect((await second.request("GET", "/v1/account")).status).toBe(403);
    const secondId = verified.body.deviceId as string;
    // Someone else's device cannot approve it.
    const stranger = await registerAndVerify(provider, "mallory@example.com");
    expect((await stranger.request("POST", `/v1/devices/${secondId}/approve`)).status).toBe(404);
    expect((await second.request("POST", `/v1/devices/${secondId}/approve`)).status).toBe(403);
    expect((await first.request("POST", `/v1/devices/${secondId}/approve`)).status).toBe(200);
    // Approved, it becomes active once the approval has waited out its delay, cancellable.
    expect((await second.request("GET", "/v1/account")).status).toBe(403);
    const delay = provider.context.accountChangeDelayMs;
    provider.advance(delay);
    expect((await second.request("GET", "/v1/account", undefined, { now: provider.now() })).status).toBe(200);
    provider.advance(-delay); // this file's devices sign at the real time
    const strangerView = await stranger.request("GET", "/v1/account");
    expect(JSON.stringify(strangerView.body)).not.toContain("bob@");
  });

  it("lists each of the account's devices with the time it registered, in ms since the epoch", async () => {
    const before = provider.now();
    const first = await registerAndVerify(provider, "ivan@example.com");
    const after = provider.now();
    const second = await register(provider, "ivan@example.com", "laptop");
    const verified = await second.request("POST", "/v1/devices/verify", {
      code: await mailedCode(provider.mails, "ivan@example.com", 2),
    });
    expect(verified.body.state).toBe("awaiting-approval");
    // A registration of long ago, as the provider keeps it: the reply gives it back to the millisecond.
    await provider.context.db.query("UPDATE devices SET created_ms = $1 WHERE id = $2", [1_700_000_000_123, second.id]);
    const devices = (await first.request("GET", "/v1/account")).body.devices as Record<string, unknown>[];
    const own = devices.find((d) => d.id === first.id);
    expect(typeof own?.createdMs).toBe("number");
    expect(own?.createdMs).toBeGreaterThanOrEqual(before);
    expect(own?.createdMs).toBeLessThanOrEqual(after);
    expect(devices.find((d) => d.id === second.id)).toEqual({
      id: second.id,
      name: "laptop",
      state: "awaiting-approval",
      createdMs: 1_700_000_000_123,
    });
  });

  it("refuses replayed, stale, altered, unsigned and foreign-key requests", async () => {
    const device = await registerAndVerify(provider, "carol@example.com");
    const path = "/v1/account";
    const headers = signRequest(device.identity, { method: "GET", path, body: new Uint8Array() });
    expect((await send(provider.url, "GET", path, new Uint8Array(), headers)).status).toBe(200);
    const replay = await send(provider.url, "GET", path, new Uint8Array(), headers);
    expect(replay).toMatchObject({ status: 401, body: { message: "request was replayed" } });
    expect((await device.request("GET", path, undefined, { now: Date.now() - 10 * 60_000 })).status).toBe(401);
    expect((await send(provider.url, "GET", path, new Uint8Array(), {})).status).toBe(401);
    const signedForOther = signRequest(device.identity, { method: "GET", path: "/v1/audit", body: new Uint8Array() });
    expect((await send(provider.url, "GET", path, new Uint8Array(), signedForOther)).status).toBe(401);
    const body = new TextEncoder().encode(JSON.stringify({ code: "123456" }));
    const altered = signRequest(device.identity, { method: "POST", path: "/v1/devices/verify", body });
    const tampered = new TextEncoder().encode(JSON.stringify({ code: "654321" }));
    expect((await send(provider.url, "POST", "/v1/devices/verify", tampered, altered)).status).toBe(401);
    const other = new TestDevice(provider.url);
    // Another key signs a request that names this device as its signer.
    const forged = signRequest(other.identity, { method: "GET", path, body: new Uint8Array() });
    forged["signature-input"] = (forged["signature-input"] as string).replace(other.id, device.id);
    const claimed = readRequestSignature({ method: "GET", target: path, headers: forged, body: new Uint8Array() });
    expect(claimed.params.keyid).toBe(device.id);
    forged.signature = `sig1=:${Buffer.from(ed25519.sign(claimed.base, other.identity.secretKey)).toString("base64")}:`;
    expect(await send(provider.url, "GET", path, new Uint8Array(), forged)).toMatchObject({
      status: 401,
      body: { message: "request signature does not verify" },
    });
  });

  it("refuses a request from beyond the window in the future, as one from beyond it in the past", async () => {
    const device = await registerAndVerify(provider, "grace@example.com");
    expect(await device.request("GET", "/v1/account", undefined, { now: Date.now() + 10 * 60_000 })).toMatchObject({
      status: 401,
      body: { error: "unauthorized", message: "request is stale or from the future" },
    });
    expect((await device.request("GET", "/v1/account")).status).toBe(200);
  });

  it("tells a client that still signs the old way to upgrade, and lets it in no more", async () => {
    const device = await registerAndVerify(provider, "heidi@example.com");
    const oldWay = {
      "x-keyshard-device": device.id,
      "x-keyshard-timestamp": String(Date.now()),
      "x-keyshard-nonce": "0".repeat(32),
      "x-keyshard-signature": "0".repeat(128),
    };
    expect(await send(provider.url, "GET", "/v1/account", new Uint8Array(), oldWay)).toEqual({
      status: 401,
      body: { error: "outdated-client", message: expect.stringMatching(/signs its requests the old way.*upgrade it$/) },
    });
  });

  it("refuses to register a key that is not an Ed25519 public key, before looking at the signature", async () => {
    const device = new TestDevice(provider.url);
    const notAKey = "ff".repeat(32);
    expect(
      await device.request("POST", "/v1/devices", { identityKey: notAKey, email: "judy@example.com", name: "x" }),
    ).toMatchObject({
      status: 400,
      body: { error: "invalid-request", message: "identityKey is not an Ed25519 public key" },
    });
  });

  it("checks every self-signed route's signature against the key its request brings", async () => {
    const app = await buildServer(provider.context);
    const path = "/test/self-signed";
    app.get(
      path,
      { config: { selfSigned: { keyOf: (request) => hexToBytes(String(request.headers["x-test-key"])) } } },
      async () => ({ ok: true }),
    );
    try {
      const own = newDeviceIdentity();
      const get = (headers: Record<string, string>) =>
        app.inject({ method: "GET", url: path, headers: { "x-test-key": bytesToHex(own.publicKey), ...headers } });
      const signedBy = (identity: typeof own) => signRequest(identity, { method: "GET", path, body: new Uint8Array() });
      expect((await get({})).json()).toEqual({
        error: "unauthorized",
        message: "missing or malformed signature-input header",
      });
      expect((await get(signedBy(newDeviceIdentity()))).json()).toEqual({
        error: "unauthorized",
        message: "the signature's keyid is not the device id of the key the request brings",
      });
      const signed = signedBy(own);
      expect((await get(signed)).json()).toEqual({ ok: true });
      expect((await get(signed)).json()).toEqual({ error: "unauthorized", message: "request was replayed" });
    } finally {
      await app.close();
    }
  });

  it("wrong codes count; after five even the right one is refused", async () => {
    const device = await register(provider, "dave@example.com");
    const code = await mailedCode(provider.mails, "dave@example.com");
    const wrong = code === "000000" ? "000001" : "000000";
    for (let i = 0; i < 5; i++)
      expect((await device.request("POST", "/v1/devices/verify", { code: wrong })).status).toBe(400);
    expect((await device.request("POST", "/v1/devices/verify", { code })).status).toBe(403);
  });

  it("code routes are rate limited per client address, whatever device the requests name", async () => {
    const limited = await startTestProvider(kind, { authRateLimit: 3 });
    try {
      const device = new TestDevice(limited.url);
      await device.request("POST", "/v1/devices", {
        identityKey: device.identityKey,
        email: "rate@example.com",
        name: "x",
      });
      const statuses = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await device.request("POST", "/v1/devices/verify", { code: "000000" })).status);
      expect(statuses.slice(0, 2)).toEqual([400, 400]);
      expect(statuses.at(-1)).toBe(429);
      // A fresh identity key is no fresh allowance: the device header is the caller's choice.
      const other = new TestDevice(limited.url);
      await other.request("POST", "/v1/devices", {
        identityKey: other.identityKey,
        email: "r2@example.com",
        name: "y",
      });
      expect((await other.request("POST", "/v1/devices/verify", { code: "000000" })).status).toBe(429);
    } finally {
      await limited.stop();
    }
  });

  it("the account's audit chain verifies, and an edited entry is found", async () => {
    const device = await registerAndVerify(provider, "erin@example.com");
    const audit = await device.request("GET", "/v1/audit");
    const entries = audit.body.entries as { seq: number; action: string }[];
    expect(entries.map((e) => e.action)).toEqual(["device.registered", "device.verified"]);
    expect((await device.request("GET", "/v1/audit/verify")).body).toMatchObject({ ok: true, length: 2 });
    const account = (await device.request("GET", "/v1/account")).body.id as string;
    await provider.context.db.query("UPDATE audit_log SET details = $1 WHERE chain = $2 AND seq = 1", [
      '{"device":"x"}',
      account,
    ]);
    expect((await device.request("GET", "/v1/audit/verify")).body).toMatchObject({ ok: false, firstBroken: 1 });
  });

  it("an audit chain cut short is found, though every remaining link holds", async () => {
    const device = await registerAndVerify(provider, "frank@example.com");
    const account = (await device.request("GET", "/v1/account")).body.id as string;
    const append = () =>
      provider.context.db.transaction((tx) =>
        appendAudit(tx, { chain: account, atMs: Date.now(), actor: "test", action: "test.event", details: {} }),
      );
    await append();
    expect((await device.request("GET", "/v1/audit/verify")).body).toMatchObject({ ok: true, length: 3 });
    await provider.context.db.query("DELETE FROM audit_log WHERE chain = $1 AND seq = 3", [account]);
    expect((await device.request("GET", "/v1/audit/verify")).body).toMatchObject({
      ok: false,
      length: 2,
      firstBroken: 3,
    });
    // A later entry links to the missing one, so the cut stays visible.
    await append();
    expect((await device.request("GET", "/v1/audit/verify")).body).toMatchObject({ ok: false, firstBroken: 3 });
  });

  it("a provider restarted on the same data refuses another master key", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "keyshard-key-"));
    const postgres = kind === "postgres" ? await freshPostgres() : undefined;
    const config = { dataDir, ...(postgres && { databaseUrl: postgres.url }) };
    try {
      const first = await startProvider(config);
      expect(first.createdKeyFile).toBe(join(dataDir, "master.key"));
      expect(statSync(join(dataDir, "master.key")).mode & 0o777).toBe(0o600);
      const key = readFileSync(join(dataDir, "master.key"), "utf8").trim();
      await first.close();
      const wrongKey = (key[0] === "0" ? "1" : "0") + key.slice(1);
      await expect(startProvider({ ...config, masterKeyHex: wrongKey })).rejects.toBeInstanceOf(MasterKeyError);
      const again = await startProvider({ ...config, masterKeyHex: key });
      expect(again.createdKeyFile).toBeUndefined();
      await again.close();
    } finally {
      await postgres?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe.each<DatabaseKind>(["pglite", "postgres"])("device revocation on %s", (kind) => {
  let provider: TestProvider;
  beforeAll(async () => {
    provider = await startTestProvider(kind);
  });
  afterAll(async () => {
    await provider?.stop();
  });

  it("a device revokes another: shut out, its held request cancelled, its approval marked and no longer counted", async () => {
    const email = "revoke@example.com";
    const phone = await activeDevice(provider, email);
    const laptop = await addDevice(provider, phone, email);
    const tablet = await addDevice(provider, phone, email);
    const wallet = await createWallet(phone, "two-eyes", "frost-ed25519", [
      { name: "two-eyes", when: {}, decision: "require-approvals", approvals: 1 },
    ]);
    provider.advance(48 * 3600_000); // approvals come only from established devices
    const transfer = () =>
      buildSolTransfer({
        from: solanaAddress(hexToBytes(wallet.publicKey)),
        to: solanaAddress(ed25519.getPublicKey(ed25519.utils.randomSecretKey())),
        lamports: 5n,
        recentBlockhash: solanaAddress(ed25519.getPublicKey(ed25519.utils.randomSecretKey())),
      });
    const ask = async (device: TestDevice, message: Uint8Array) =>
      (
        await device.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
          chain: "solana",
          payload: bytesToHex(message),
        })
      ).body.requestId as string;
    const waiting = async (id: string) => (await phone.request("GET", `/v1/sign-requests/${id}`)).body;

    const message = transfer();
    const phoneAsked = await ask(phone, message);
    const approval = bytesToHex(signApproval(laptop.identity, phoneAsked, message));
    expect(
      (await laptop.request("POST", `/v1/sign-requests/${phoneAsked}/approve`, { signature: approval })).status,
    ).toBe(200);
    expect((await waiting(phoneAsked)).waitingFor).toEqual({});
    expect((await waiting(phoneAsked)).approvals).toEqual([{ deviceId: laptop.id, atMs: expect.any(Number) }]);
    const tabletAsked = await ask(tablet, transfer());

    const revoked = await phone.request("POST", `/v1/devices/${laptop.id}/revoke`);
    expect(revoked.body).toMatchObject({ deviceId: laptop.id, state: "revoked" });
    expect(await laptop.request("GET", "/v1/account")).toMatchObject({
      status: 403,
      body: { message: "device is revoked" },
    });
    expect(await waiting(phoneAsked)).toMatchObject({
      status: "held",
      waitingFor: { approvals: { needed: 1, have: 0 } },
      approvals: [{ deviceId: laptop.id, atMs: expect.any(Number), revoked: true }],
    });
    expect((await phone.request("POST", `/v1/sign-requests/${phoneAsked}/sign`)).status).toBe(409);

    expect((await tablet.request("POST", `/v1/devices/${tablet.id}/revoke`)).status).toBe(200);
    expect((await waiting(tabletAsked)).status).toBe("cancelled");

    const stranger = await activeDevice(provider, "stranger-revoke@example.com");
    expect((await stranger.request("POST", `/v1/devices/${phone.id}/revoke`)).status).toBe(404);
    expect((await phone.request("POST", `/v1/devices/${laptop.id}/revoke`)).status).toBe(409);
    // The last active device stays: with none, the next device to prove the email would be let in.
    expect(await phone.request("POST", `/v1/devices/${phone.id}/revoke`)).toMatchObject({
      status: 409,
      body: { message: expect.stringContaining("last active device") },
    });
    expect((await phone.request("GET", "/v1/account")).status).toBe(200);

    const audit = await phone.request("GET", "/v1/audit");
    const revocations = (audit.body.entries as { action: string; details: { device: string } }[]).filter(
      (e) => e.action === "device.revoked",
    );
    expect(revocations.map((e) => e.details.device)).toEqual([laptop.id, tablet.id]);
    expect((await phone.request("GET", "/v1/audit/verify")).body).toMatchObject({ ok: true });
    expect(await mailed(provider.mails, email, `revoked device ${laptop.id}`)).toBe(true);
  });

  it("a revocation and an approval recorded at the same moment both go through", async () => {
    // On PostgreSQL the two used to deadlock: revoke locked the account's devices, then waited for
    // the held request that the approval had locked; the approval's reference to its device then
    // waited for revoke's lock on that device.
    const email = "revoke-race@example.com";
    const phone = await activeDevice(provider, email);
    const laptop = await addDevice(provider, phone, email);
    const tablet = await addDevice(provider, phone, email);
    const wallet = await createWallet(phone, "race", "frost-ed25519", [
      { name: "two-eyes", when: {}, decision: "require-approvals", approvals: 1 },
    ]);
    const asked = await tablet.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "solana",
      payload: bytesToHex(
        buildSolTransfer({
          from: solanaAddress(hexToBytes(wallet.publicKey)),
          to: solanaAddress(ed25519.getPublicKey(ed25519.utils.randomSecretKey())),
          lamports: 5n,
          recentBlockhash: solanaAddress(ed25519.getPublicKey(ed25519.utils.randomSecretKey())),
        }),
      ),
    });
    const requestId = asked.body.requestId as string;
    expect(asked.body.status).toBe("held");

    // The approval's two steps, as the approve route takes them, with the revocation between.
    let locked = () => {};
    const requestLocked = new Promise<void>((r) => (locked = r));
    let proceed = () => {};
    const revocationWaiting = new Promise<void>((r) => (proceed = r));
    const approval = provider.context.db.transaction(async (tx) => {
      await tx.query("SELECT id FROM sign_requests WHERE id = $1 FOR UPDATE", [requestId]);
      locked();
      await revocationWaiting;
      await tx.query("INSERT INTO approvals (request_id, device_id, signature, at_ms) VALUES ($1, $2, $3, $4)", [
        requestId,
        laptop.id,
        new Uint8Array(64),
        provider.context.now(),
      ]);
    });
    await requestLocked;
    const revocation = phone.request("POST", `/v1/devices/${tablet.id}/revoke`);
    await new Promise((r) => setTimeout(r, 300));
    proceed();
    await approval;
    expect((await revocation).status).toBe(200);
    expect((await phone.request("GET", `/v1/sign-requests/${requestId}`)).body).toMatchObject({
      status: "cancelled",
      approvals: [{ deviceId: laptop.id }],
    });
  });
});
