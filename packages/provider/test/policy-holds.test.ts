/**
 * Every policy rule type through the real HTTP API, on PGlite and PostgreSQL, with the provider's
 * clock moved by the test: allow and deny, a rolling window, an allow-list with cooling-off,
 * a TOTP code, approvals signed by another device, a cancellable time lock, kinds other than
 * transactions, and policy changes that wait out their delay.
 */
import { buildSolTransfer, solanaAddress } from "@keyshard/chains";
import { scheme } from "@keyshard/mpc";
import { signApproval } from "@keyshard/transport";
import { ed25519 } from "@noble/curves/ed25519.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { base32 } from "@scure/base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totp } from "../src/policy/totp.js";
import {
  activeDevice,
  addDevice,
  createWallet,
  type DatabaseKind,
  drive,
  mailed,
  type SessionReply,
  startTestProvider,
  type TestDevice,
  type TestProvider,
  type TestWallet,
} from "./harness.js";

const HOUR = 3600_000;
const randomAddress = () => solanaAddress(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
const BOB = randomAddress();
const EVE = randomAddress();

describe.each<DatabaseKind>(["pglite", "postgres"])("policy holds on %s", (kind) => {
  let provider: TestProvider;
  let owner: TestDevice;
  let laptop: TestDevice;
  let totpSecret: Uint8Array;
  beforeAll(async () => {
    provider = await startTestProvider(kind);
    owner = await activeDevice(provider, "holds@example.com");
    laptop = await addDevice(provider, owner, "holds@example.com");
    const enrolled = await owner.request("POST", "/v1/totp", {});
    expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(200);
    totpSecret = base32.decode(enrolled.body.secret as string);
    expect(enrolled.body.uri).toMatch(/^otpauth:\/\/totp\/keyshard:holds%40example\.com\?secret=/);
    expect((await owner.request("POST", "/v1/totp/confirm", { code: totp(totpSecret, provider.now()) })).status).toBe(
      200,
    );
    provider.advance(provider.context.accountChangeDelayMs); // a new TOTP counts once its delay has passed
  });
  afterAll(async () => {
    await provider?.stop();
  });

  /** A fresh TOTP code: each 30-second step is good once, so the clock moves to the next step. */
  const code = () => {
    provider.advance(30_000);
    return totp(totpSecret, provider.now());
  };

  const solana = (wallet: TestWallet, to: string, lamports: bigint) =>
    buildSolTransfer({
      from: solanaAddress(hexToBytes(wallet.publicKey)),
      to,
      lamports,
      recentBlockhash: randomAddress(),
    });

  async function ask(device: TestDevice, wallet: TestWallet, message: Uint8Array) {
    const asked = await device.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "solana",
      payload: Buffer.from(message).toString("hex"),
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    return asked.body;
  }

  /** Runs the device's side of every session and checks the signature under the wallet's key. */
  async function sign(
    device: TestDevice,
    wallet: TestWallet<"frost-ed25519">,
    message: Uint8Array,
    sessions: SessionReply[],
  ) {
    expect(sessions).toHaveLength(1);
    const session = sessions[0] as SessionReply;
    const party = scheme("frost-ed25519").sign(wallet.share, { sid: hexToBytes(session.sid), message });
    const done = await drive(device, party, session);
    expect(ed25519.verify(hexToBytes(done.signature as string), message, hexToBytes(wallet.publicKey))).toBe(true);
  }

  const release = (device: TestDevice, requestId: string) =>
    device.request("POST", `/v1/sign-requests/${requestId}/sign`);

  it("a rolling window allows until the total is reached, then the next rule decides", async () => {
    const wallet = await createWallet(owner, "window", "frost-ed25519", [
      { name: "daily", when: { asset: ["SOL"], window: { seconds: 86_400, maxTotal: "1000000" } }, decision: "allow" },
    ]);
    const first = solana(wallet, BOB, 600_000n);
    const allowed = await ask(owner, wallet, first);
    expect(allowed).toMatchObject({ status: "signing", rule: "daily" });
    await sign(owner, wallet, first, allowed.sessions as SessionReply[]);
    // Each transfer also pays its 5 000-lamport fee: 605 000 are spent.
    expect(await ask(owner, wallet, solana(wallet, BOB, 390_001n))).toMatchObject({ status: "denied", rule: null });
    expect(await ask(owner, wallet, solana(wallet, BOB, 390_000n))).toMatchObject({ status: "signing" });
    // The two signings leave the window a day later.
    provider.advance(24 * HOUR + 1000);
    expect(await ask(owner, wallet, solana(wallet, BOB, 995_000n))).toMatchObject({ status: "signing" });
  });

  it("an allow-listed destination counts after its cooling-off; removal is immediate", async () => {
    const wallet = await createWallet(owner, "listed", "frost-ed25519", [
      { name: "listed", when: { allowListed: { coolingOffSeconds: 86_400 } }, decision: "allow" },
    ]);
    const add = await owner.request("POST", `/v1/wallets/${wallet.walletId}/allow-list`, {
      chain: "solana",
      address: BOB,
      label: "bob",
    });
    expect(add.status, JSON.stringify(add.body)).toBe(201);
    expect(await mailed(provider.mails, "holds@example.com", `address ${BOB}`)).toBe(true);
    expect(await ask(owner, wallet, solana(wallet, BOB, 5n))).toMatchObject({ status: "denied" });
    provider.advance(24 * HOUR);
    expect(await ask(owner, wallet, solana(wallet, BOB, 5n))).toMatchObject({ status: "signing", rule: "listed" });
    expect(await ask(owner, wallet, solana(wallet, EVE, 5n))).toMatchObject({ status: "denied" });
    const bad = await owner.request("POST", `/v1/wallets/${wallet.walletId}/allow-list`, {
      chain: "solana",
      address: "0xnot-base58",
    });
    expect(bad.status).toBe(400);
    const removed = await laptop.request("POST", `/v1/wallets/${wallet.walletId}/allow-list/remove`, {
      chain: "solana",
      address: BOB,
    });
    expect(removed.status).toBe(200);
    expect(await ask(owner, wallet, solana(wallet, BOB, 5n))).toMatchObject({ status: "denied" });
  });

  it("require-totp holds the request until a valid code, given once, arrives", async () => {
    const wallet = await createWallet(owner, "totp", "frost-ed25519", [
      { name: "small", when: { maxAmount: "1000" }, decision: "allow" },
      { name: "large", when: {}, decision: "require-totp" },
    ]);
    const message = solana(wallet, BOB, 5000n);
    const held = await ask(owner, wallet, message);
    expect(held).toMatchObject({ status: "held", rule: "large", waitingFor: { totp: true } });
    expect(held.sessions).toBeUndefined();
    expect(await release(owner, held.requestId as string)).toMatchObject({ status: 409, body: { error: "held" } });
    const wrong = await owner.request("POST", `/v1/sign-requests/${held.requestId}/totp`, { code: "000000" });
    expect(wrong).toMatchObject({ status: 403, body: { error: "totp-required" } });
    const good = code();
    expect((await owner.request("POST", `/v1/sign-requests/${held.requestId}/totp`, { code: good })).status).toBe(200);
    const released = await release(owner, held.requestId as string);
    expect(released.body).toMatchObject({ status: "signing" });
    await sign(owner, wallet, message, released.body.sessions as SessionReply[]);
    const read = await laptop.request("GET", `/v1/sign-requests/${held.requestId}`);
    expect(read.body).toMatchObject({ status: "signed", signatures: [{ index: 0 }] });

    // A code given with the request lets it through at once; the same code never works twice.
    const inline = code();
    const direct = await owner.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "solana",
      payload: Buffer.from(solana(wallet, BOB, 5000n)).toString("hex"),
      totp: inline,
    });
    expect(direct.body).toMatchObject({ status: "signing", rule: "large" });
    const reused = await owner.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "solana",
      payload: Buffer.from(solana(wallet, BOB, 5000n)).toString("hex"),
      totp: inline,
    });
    expect(reused).toMatchObject({ status: 403, body: { error: "totp-required" } });
  });

  it("five wrong codes lock TOTP and mail the account", async () => {
    const other = await activeDevice(provider, "locked@example.com");
    const enrolled = await other.request("POST", "/v1/totp", {});
    const secret = base32.decode(enrolled.body.secret as string);
    await other.request("POST", "/v1/totp/confirm", { code: totp(secret, provider.now()) });
    provider.advance(provider.context.accountChangeDelayMs);
    const wallet = await createWallet(other, "locked", "frost-ed25519", [
      { name: "always", when: {}, decision: "require-totp" },
    ]);
    const held = await ask(other, wallet, solana(wallet, BOB, 1n));
    const statuses = [];
    for (let i = 0; i < 6; i++)
      statuses.push(
        (await other.request("POST", `/v1/sign-requests/${held.requestId}/totp`, { code: "000000" })).status,
      );
    expect(statuses).toEqual([403, 403, 403, 403, 403, 429]);
    provider.advance(30_000);
    const right = await other.request("POST", `/v1/sign-requests/${held.requestId}/totp`, {
      code: totp(secret, provider.now()),
    });
    expect(right.status).toBe(429);
    expect(await mailed(provider.mails, "locked@example.com", "TOTP is locked")).toBe(true);
    provider.advance(15 * 60_000);
    const after = await other.request("POST", `/v1/sign-requests/${held.requestId}/totp`, {
      code: totp(secret, provider.now()),
    });
    expect(after.status).toBe(200);
  });

  it("require-approvals waits for signed approvals by other, established devices", async () => {
    const wallet = await createWallet(owner, "approvals", "frost-ed25519", [
      { name: "two-eyes", when: {}, decision: "require-approvals", approvals: 1 },
    ]);
    const message = solana(wallet, BOB, 7n);
    const held = await ask(owner, wallet, message);
    const id = held.requestId as string;
    expect(held).toMatchObject({ status: "held", waitingFor: { approvals: { needed: 1, have: 0 } } });
    const payload = hexToBytes((await laptop.request("GET", `/v1/sign-requests/${id}`)).body.payload as string);
    expect(payload).toEqual(message);
    const approve = (device: TestDevice, bytes: Uint8Array) =>
      device.request("POST", `/v1/sign-requests/${id}/approve`, {
        signature: Buffer.from(signApproval(device.identity, id, bytes)).toString("hex"),
      });
    // A device added just now cannot vouch for anything yet: a thief with the mailbox could add one.
    const tablet = await addDevice(provider, owner, "holds@example.com", code());
    expect(await approve(tablet, payload)).toMatchObject({ status: 403 });
    provider.advance(48 * HOUR);
    expect(await approve(owner, payload)).toMatchObject({ status: 403 });
    expect(await approve(tablet, solana(wallet, EVE, 7n))).toMatchObject({ status: 400 });
    expect(await release(owner, id)).toMatchObject({ status: 409 });
    expect(await approve(tablet, payload)).toMatchObject({ status: 200 });
    expect(await approve(tablet, payload)).toMatchObject({ status: 409 });
    expect(await release(tablet, id)).toMatchObject({ status: 403 });
    const released = await release(owner, id);
    expect(released.body).toMatchObject({ status: "signing" });
    await sign(owner, wallet, message, released.body.sessions as SessionReply[]);
    const audit = await owner.request("GET", "/v1/audit");
    expect((audit.body.entries as { action: string }[]).map((e) => e.action)).toEqual(
      expect.arrayContaining(["request.held", "request.approved", "request.released", "request.signed"]),
    );
  });

  it("a time lock holds the request until it passes, and any device may cancel it meanwhile", async () => {
    const wallet = await createWallet(owner, "delay", "frost-ed25519", [
      { name: "slow", when: {}, decision: "delay", delaySeconds: 3600 },
    ]);
    const cancelled = await ask(owner, wallet, solana(wallet, EVE, 9n));
    expect(cancelled).toMatchObject({ status: "held", waitingFor: { releaseMs: expect.any(Number) } });
    expect(await mailed(provider.mails, "holds@example.com", cancelled.requestId as string)).toBe(true);
    expect((await laptop.request("POST", `/v1/sign-requests/${cancelled.requestId}/cancel`)).body).toMatchObject({
      status: "cancelled",
    });
    provider.advance(HOUR + 1000);
    expect(await release(owner, cancelled.requestId as string)).toMatchObject({ status: 409 });

    const message = solana(wallet, BOB, 9n);
    const held = await ask(owner, wallet, message);
    expect(await release(owner, held.requestId as string)).toMatchObject({ status: 409 });
    provider.advance(HOUR - 1000);
    expect(await release(owner, held.requestId as string)).toMatchObject({ status: 409 });
    provider.advance(1000);
    const released = await release(owner, held.requestId as string);
    expect(released.body).toMatchObject({ status: "signing" });
    await sign(owner, wallet, message, released.body.sessions as SessionReply[]);
    expect((await laptop.request("POST", `/v1/sign-requests/${held.requestId}/cancel`)).status).toBe(409);
    const list = await laptop.request("GET", "/v1/sign-requests?status=cancelled");
    expect((list.body.requests as { requestId: string }[]).map((r) => r.requestId)).toContain(cancelled.requestId);
  });

  it("a policy change needs a TOTP code and waits 48 hours, cancellable by any device", async () => {
    const wallet = await createWallet(owner, "changes", "frost-ed25519", [
      { name: "small", when: { maxAmount: "10" }, decision: "allow" },
    ]);
    const looser = [{ name: "anything", when: {}, decision: "allow" }];
    const path = `/v1/wallets/${wallet.walletId}/policy`;
    expect((await owner.request("POST", path, { policy: looser })).status).toBe(400);
    expect(await owner.request("POST", path, { policy: looser, totp: "123456" })).toMatchObject({ status: 403 });
    const asked = await owner.request("POST", path, { policy: looser, totp: code() });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    expect(asked.body.effectiveMs as number).toBeGreaterThan(provider.now() + 48 * HOUR - 60_000);
    expect(asked.body.effectiveMs as number).toBeLessThanOrEqual(provider.now() + 48 * HOUR);
    expect(await mailed(provider.mails, "holds@example.com", asked.body.changeId as string)).toBe(true);
    const shown = await laptop.request("GET", path);
    expect(shown.body).toMatchObject({ policy: [{ name: "small" }], pending: [{ changeId: asked.body.changeId }] });

    provider.advance(47 * HOUR);
    expect(await ask(owner, wallet, solana(wallet, BOB, 11n))).toMatchObject({ status: "denied" });
    provider.advance(HOUR);
    expect(await ask(owner, wallet, solana(wallet, BOB, 11n))).toMatchObject({ status: "signing", rule: "anything" });

    // A change cancelled by another device never applies.
    const stricter = await owner.request("POST", path, { policy: [], totp: code() });
    const cancel = await laptop.request("POST", `/v1/policy-changes/${stricter.body.changeId}/cancel`);
    expect(cancel.status).toBe(200);
    provider.advance(49 * HOUR);
    expect(await ask(owner, wallet, solana(wallet, BOB, 11n))).toMatchObject({ status: "signing" });
    expect((await laptop.request("POST", `/v1/policy-changes/${stricter.body.changeId}/cancel`)).status).toBe(409);
    const stranger = await activeDevice(provider, "stranger-holds@example.com");
    expect((await stranger.request("GET", path)).status).toBe(404);
    expect((await stranger.request("POST", `/v1/policy-changes/${asked.body.changeId}/cancel`)).status).toBe(404);
  });

  it("typed data and raw hashes are denied unless a rule names them", async () => {
    const wallet = await createWallet(owner, "eth-kinds", "ecdsa2p");
    const typedData = {
      domain: { name: "Example", chainId: 1 },
      types: { Mail: [{ name: "contents", type: "string" }] },
      primaryType: "Mail",
      message: { contents: "hello" },
    };
    const path = `/v1/wallets/${wallet.walletId}/sign-requests`;
    const typed = await owner.request("POST", path, { kind: "typed-data", chain: "ethereum", typedData, chainId: 1 });
    expect(typed.body).toMatchObject({ status: "denied", kind: "typed-data", description: { primaryType: "Mail" } });
    const hash = await owner.request("POST", path, { kind: "raw-hash", chain: "ethereum", payload: "ab".repeat(32) });
    expect(hash.body).toMatchObject({ status: "denied", kind: "raw-hash" });
    const wrongChain = await owner.request("POST", path, {
      kind: "typed-data",
      chain: "ethereum",
      typedData: { ...typedData, domain: { chainId: 5 } },
      chainId: 1,
    });
    expect(wrongChain.status).toBe(400);
    expect((await owner.request("POST", path, { kind: "raw-hash", chain: "ethereum", payload: "abcd" })).status).toBe(
      400,
    );

    const named = await createWallet(owner, "eth-hashes", "ecdsa2p", [
      { name: "hashes", when: { kind: ["raw-hash"] }, decision: "allow" },
    ]);
    const allowed = await owner.request("POST", `/v1/wallets/${named.walletId}/sign-requests`, {
      kind: "raw-hash",
      chain: "ethereum",
      payload: "ab".repeat(32),
    });
    expect(allowed.body).toMatchObject({ status: "signing", rule: "hashes" });
  });
});
