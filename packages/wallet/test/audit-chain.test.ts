/**
 * The account's audit chain checked on the device (`wallet.auditCheck()`), against a real provider
 * whose database the tests edit as a dishonest provider would: an edited entry breaks the chain at
 * it; history rewritten with every later link recomputed, or cut short, passes every link and the
 * provider's own check, and only the head the device pinned catches it. Replies pass through a
 * relay that rewrites them where the database cannot say it (another account's id, bad shapes).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AUDIT_GENESIS, auditEntryHash } from "@keyshard/api";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAudit } from "../../provider/src/audit/log.js";
import { mailedCode, startTestProvider, type TestProvider } from "../../provider/test/harness.js";
import { deviceOf } from "../src/device/device.js";
import { WalletError } from "../src/errors.js";
import { AUDIT_DETAILS_MAX, AUDIT_TEXT_MAX, readAuditChain } from "../src/flows/audit-chain.js";
import { Wallet } from "../src/wallet.js";
import { type LyingRelay, startLyingRelay } from "./lying-relay.js";

const PASSPHRASE = "correct horse battery staple";

let provider: TestProvider;
let relay: LyingRelay;
const homes: string[] = [];
let accounts = 0;

beforeAll(async () => {
  provider = await startTestProvider("pglite");
  relay = await startLyingRelay(provider.url);
});

afterAll(async () => {
  await relay?.close();
  await provider?.stop();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

/**
 * Appends an entry to `chain` as the provider does, in a transaction of its own. It names a delay's
 * end, as many entries do: the provider, in trial mode, then adds its notice to the chain's reply.
 */
const append = (chain: string) =>
  provider.context.db.transaction((tx) =>
    appendAudit(tx, {
      chain,
      atMs: provider.now(),
      actor: "provider",
      action: "test.event",
      details: { effectiveMs: provider.now() },
    }),
  );

/** A new account of one device, registered through the relay, its audit chain 4 entries long. */
async function newAccount(): Promise<{ wallet: Wallet; home: string; chain: string }> {
  const home = mkdtempSync(join(tmpdir(), "keyshard-audit-"));
  homes.push(home);
  const email = `audit${++accounts}@example.com`;
  const wallet = await Wallet.init(home, PASSPHRASE, { name: "laptop" });
  await wallet.register(relay.url, email);
  await wallet.verify(await mailedCode(provider.mails, email));
  const chain = (await wallet.account()).id;
  await append(chain);
  await append(chain);
  return { wallet, home, chain };
}

/** What the keystore on disk pins, read through a fresh opening of it. */
const pinned = async (home: string) => deviceOf(await Wallet.open(home, PASSPHRASE)).state.provider?.auditHead;

interface Row {
  seq: string;
  at_ms: string;
  actor: string;
  action: string;
  details: string;
}

/**
 * What a dishonest provider can do in its database without breaking a link: replace entry `seq`'s
 * details, then recompute every link from there on and move the head to the last.
 */
async function rewriteHistory(chain: string, seq: number, details: string): Promise<void> {
  const db = provider.context.db;
  const rows = await db.query<Row>(
    "SELECT seq, at_ms, actor, action, details FROM audit_log WHERE chain = $1 ORDER BY seq",
    [chain],
  );
  let prev: Uint8Array = hexToBytes(AUDIT_GENESIS);
  let before = prev;
  for (const row of rows) {
    const entry = {
      chain,
      seq: Number(row.seq),
      atMs: Number(row.at_ms),
      actor: row.actor,
      action: row.action,
      details: Number(row.seq) === seq ? details : row.details,
    };
    const hash = await auditEntryHash(prev, entry);
    await db.query("UPDATE audit_log SET details = $1, prev_hash = $2, hash = $3 WHERE chain = $4 AND seq = $5", [
      entry.details,
      prev,
      hash,
      chain,
      entry.seq,
    ]);
    [before, prev] = [prev, hash];
  }
  await db.query("UPDATE audit_heads SET prev_hash = $1, hash = $2 WHERE chain = $3", [before, prev, chain]);
}

/** Cuts the chain to its first `keep` entries, the head moved back to the last kept: every link still holds. */
async function cutChain(chain: string, keep: number): Promise<void> {
  const db = provider.context.db;
  await db.query("DELETE FROM audit_log WHERE chain = $1 AND seq > $2", [chain, keep]);
  await db.query(
    `UPDATE audit_heads SET seq = $2, (prev_hash, hash) =
       (SELECT prev_hash, hash FROM audit_log WHERE chain = $1 AND seq = $2) WHERE chain = $1`,
    [chain, keep],
  );
}

/** Forgets the head this device pinned, as a device that never checked the chain. */
const forgetPin = (wallet: Wallet) =>
  deviceOf(wallet).save((state) => {
    if (state.provider !== null) delete state.provider.auditHead;
  });

describe("the audit chain checked on the device", () => {
  it("holds, and its head is pinned in a keystore that had none (as one saved before pins were)", async () => {
    const { wallet, home } = await newAccount();
    expect(deviceOf(wallet).state.provider).not.toHaveProperty("auditHead");
    const { entries } = await wallet.audit();
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    const head = { seq: 4, hash: entries[3]?.hash };
    expect(await wallet.auditCheck()).toEqual({ status: "intact", entries: 4, head, extendsSeen: null });
    expect(await pinned(home)).toEqual(head);

    // The chain grows: the next check holds it against the pin, and moves the pin on.
    await append((await wallet.account()).id);
    // The new entry names a delay's end: the provider in trial mode marks the reply, which is still read.
    expect(await wallet.audit()).toHaveProperty("trial");
    const grown = await wallet.auditCheck();
    expect(grown).toMatchObject({ status: "intact", entries: 5, extendsSeen: 4, head: { seq: 5 } });
    expect(await pinned(home)).toEqual(grown.status === "intact" && grown.head);
    // The provider agrees, for what its word is worth.
    expect(await wallet.auditVerify()).toMatchObject({ ok: true, length: 5 });
  });

  it("is broken at an entry edited in the database", async () => {
    const { wallet, home, chain } = await newAccount();
    await provider.context.db.query(`UPDATE audit_log SET details = '{"edited":true}' WHERE chain = $1 AND seq = 2`, [
      chain,
    ]);
    expect(await wallet.auditCheck()).toEqual({ status: "broken", entries: 4, at: 2 });
    // Nothing is pinned from a broken chain.
    expect(await pinned(home)).toBeUndefined();
  });

  it("is broken where an entry is missing from the middle", async () => {
    const { wallet, chain } = await newAccount();
    await provider.context.db.query("DELETE FROM audit_log WHERE chain = $1 AND seq = 3", [chain]);
    expect(await wallet.auditCheck()).toEqual({ status: "broken", entries: 3, at: 3 });
  });

  it("is broken where the numbering skips, though every link is recomputed", async () => {
    const { wallet, chain } = await newAccount();
    await provider.context.db.query("DELETE FROM audit_log WHERE chain = $1 AND seq = 3", [chain]);
    await rewriteHistory(chain, 1, '{"device":"x"}');
    expect(await wallet.auditCheck()).toEqual({ status: "broken", entries: 3, at: 3 });
  });

  it("holds where only the provider's own record of a predecessor is wrong, which the provider's check finds", async () => {
    const { wallet, chain } = await newAccount();
    await provider.context.db.query("UPDATE audit_log SET prev_hash = $1 WHERE chain = $2 AND seq = 3", [
      new Uint8Array(32).fill(1),
      chain,
    ]);
    // The reply has no predecessors: the links this device recomputes are all there is to it.
    expect(await wallet.auditCheck()).toMatchObject({ status: "intact", entries: 4 });
    expect(await wallet.auditVerify()).toMatchObject({ ok: false, firstBroken: 3 });
  });

  it("is broken at an entry of another chain, however well linked", async () => {
    const { wallet } = await newAccount();
    // The provider names another account as this device's: its chain is not the one it hands out.
    relay.lie(
      (method, path) => method === "GET" && path === "/v1/account",
      (reply) => void (reply.id = "00000000-0000-4000-8000-000000000000"),
    );
    expect(await wallet.auditCheck()).toEqual({ status: "broken", entries: 4, at: 1 });
  });

  it("does not extend the pinned head once history is rewritten with every link recomputed", async () => {
    const { wallet, home, chain } = await newAccount();
    const seen = await wallet.auditCheck();
    expect(seen).toMatchObject({ status: "intact", head: { seq: 4 } });
    await rewriteHistory(chain, 2, '{"device":"someone else"}');
    // Every link holds: the provider's own check finds nothing.
    expect(await wallet.auditVerify()).toMatchObject({ ok: true, length: 4 });
    expect(await wallet.auditCheck()).toEqual({ status: "diverged", entries: 4, at: 4 });
    // The pin stays what this device saw, so the rewrite keeps showing.
    expect(await pinned(home)).toEqual(seen.status === "intact" && seen.head);
    expect(await wallet.auditCheck()).toEqual({ status: "diverged", entries: 4, at: 4 });

    // Without the pin, the same chain passes: only what this device saw catches it.
    await forgetPin(wallet);
    expect(await wallet.auditCheck()).toMatchObject({ status: "intact", entries: 4, extendsSeen: null });
  });

  it("does not extend the pinned head once the chain is cut below it", async () => {
    const { wallet, chain } = await newAccount();
    expect(await wallet.auditCheck()).toMatchObject({ status: "intact", head: { seq: 4 } });
    await cutChain(chain, 2);
    expect(await wallet.auditVerify()).toMatchObject({ ok: true, length: 2 });
    expect(await wallet.auditCheck()).toEqual({ status: "diverged", entries: 2, at: 4 });

    await forgetPin(wallet);
    expect(await wallet.auditCheck()).toMatchObject({ status: "intact", entries: 2, extendsSeen: null });
  });

  it("is held against the head the keystore pins now, not the one this object read", async () => {
    const { wallet, home, chain } = await newAccount();
    // Opened before the other pins: its own copy of the keystore has no pin.
    const other = await Wallet.open(home, PASSPHRASE);
    const seen = await wallet.auditCheck();
    await rewriteHistory(chain, 2, '{"device":"someone else"}');
    expect(await other.auditCheck()).toEqual({ status: "diverged", entries: 4, at: 4 });
    expect(await pinned(home)).toEqual(seen.status === "intact" && seen.head);
  });

  it("reads the chain again when another process pinned entries appended after it read it", async () => {
    const { wallet, home, chain } = await newAccount();
    await wallet.auditCheck();
    const before = (await wallet.audit()).entries;
    const other = await Wallet.open(home, PASSPHRASE);
    await append(chain);
    // This process checks the grown chain and pins its head…
    await wallet.auditCheck();
    expect(await pinned(home)).toMatchObject({ seq: 5 });
    // …after the other read the chain as it was before: its first reading falls short of the pin.
    relay.lie(
      (method, path) => method === "GET" && path === "/v1/audit",
      (reply) => void (reply.entries = before),
    );
    expect(await other.auditCheck()).toMatchObject({ status: "intact", entries: 5, extendsSeen: 5 });
  });

  it("refuses a reply that is no audit chain, as the provider's fault", async () => {
    const { wallet } = await newAccount();
    relay.lie(
      (method, path) => method === "GET" && path === "/v1/audit",
      (reply) => void (reply.entries = "none"),
    );
    const refused = await wallet.auditCheck().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WalletError);
    expect(refused).toMatchObject({ code: "provider-refused" });
  });

  // The rule the device recomputes is the provider's: the same bytes give the same link.
  it("recomputes the link the provider's database made", async () => {
    const { wallet, chain } = await newAccount();
    const [first] = (await wallet.audit()).entries;
    const rows = await provider.context.db.query<Row & { hash: Uint8Array }>(
      "SELECT seq, at_ms, actor, action, details, hash FROM audit_log WHERE chain = $1 AND seq = 1",
      [chain],
    );
    const row = rows[0] as Row & { hash: Uint8Array };
    const link = await auditEntryHash(hexToBytes(AUDIT_GENESIS), {
      chain,
      seq: 1,
      atMs: Number(row.at_ms),
      actor: row.actor,
      action: row.action,
      details: row.details,
    });
    expect(bytesToHex(link)).toBe(bytesToHex(new Uint8Array(row.hash)));
    expect(first?.hash).toBe(bytesToHex(link));
  });
});

describe("the provider's audit chain, read strictly", () => {
  const entry = {
    chain: "7f0c1a52-4cbb-4c36-9a4e-0b1f3b1d2e11",
    seq: 1,
    atMs: 1_700_000_000_000,
    actor: "0123456789abcdef0123456789abcdef",
    action: "device.registered",
    details: { name: "laptop", b: [1, "x"] },
    hash: "ab".repeat(32),
  };
  const refused = (reply: unknown) => () => readAuditChain(reply);

  it("takes entries in their exact shape, details as the canonical JSON the provider hashed", () => {
    expect(readAuditChain({ entries: [entry] })).toEqual([{ ...entry, details: '{"b":[1,"x"],"name":"laptop"}' }]);
    expect(readAuditChain({ entries: [] })).toEqual([]);
    // A provider in trial mode says so beside the entries.
    expect(readAuditChain({ entries: [entry], trial: "delays shortened" })).toHaveLength(1);
  });

  it("refuses another shape", () => {
    for (const reply of [
      null,
      [],
      "x",
      { entries: {} },
      { entries: [], more: 1 },
      { entries: [], trial: 1 },
      { entries: [[]] },
    ])
      expect(refused(reply)).toThrow(/no audit chain|not a list of entries|no audit entry/);
  });

  it("refuses a field missing, extra, of another type or out of bounds", () => {
    const { details: _, ...withoutDetails } = entry;
    const bad = [
      withoutDetails,
      { ...entry, extra: 1 },
      { ...entry, chain: "" },
      { ...entry, chain: "c".repeat(AUDIT_TEXT_MAX + 1) },
      { ...entry, seq: 1.5 },
      { ...entry, seq: -1 },
      { ...entry, seq: "1" },
      { ...entry, atMs: 2 ** 53 },
      { ...entry, actor: 7 },
      { ...entry, action: "a".repeat(AUDIT_TEXT_MAX + 1) },
      { ...entry, hash: "AB".repeat(32) },
      { ...entry, hash: "ab".repeat(31) },
      { ...entry, hash: `${"ab".repeat(32)}00` },
    ];
    for (const e of bad) expect(refused({ entries: [entry, e] })).toThrow("has an entry 2 that is no audit entry");
  });

  it("refuses details too long, or nested deeper than a value can be read", () => {
    expect(refused({ entries: [{ ...entry, details: "d".repeat(AUDIT_DETAILS_MAX) }] })).toThrow(
      "has details in entry 1 longer than this device takes",
    );
    let deep: unknown = 0;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const thrown = (() => {
      try {
        readAuditChain({ entries: [{ ...entry, details: deep }] });
      } catch (e) {
        return e;
      }
    })();
    expect(thrown).toBeInstanceOf(WalletError);
    expect((thrown as WalletError).message).toBe(
      "the provider's audit chain has details in entry 1 that are no JSON value",
    );
    expect((thrown as WalletError).cause).toBeInstanceOf(RangeError);
  });
});
