/**
 * A device takes part in a run only under a sid its share has not used, whoever proposes it, and
 * remembers across restarts. A real provider (in this process, PGlite) sits behind a relay that
 * lies: it hands the device, the proposer and the cosigner sids of runs they already took part in.
 * Each is refused with `sid-reused` before anything is sent; so is the cosigner's, after a
 * restart on the same home.
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SigningRequest } from "@keyshard/chains";
import { buildSolTransfer } from "@keyshard/chains";
import { bytesToHex } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mailedCode, startTestProvider, type TestProvider } from "../../provider/test/harness.js";
import { Cosigner, type CosignerLogEntry } from "../src/cosigner.js";
import { deviceOf } from "../src/device/device.js";
import type { WalletError } from "../src/errors.js";
import { claimIn, MAX_RUNS_PER_SHARE } from "../src/session-ids.js";
import type { StoredWallet } from "../src/state.js";
import { Wallet } from "../src/wallet.js";
import { type LyingRelay, startLyingRelay } from "./lying-relay.js";
import { walletFailure } from "./thrown.js";

const PASSPHRASE = "correct horse battery staple";
const EMAIL = "sids@example.com";
const PAYEE = "Vote111111111111111111111111111111111111111";

describe("session ids are used once per share, on the device", () => {
  let provider: TestProvider;
  let relay: LyingRelay;
  const homes: string[] = [];
  const newHome = () => {
    const home = mkdtempSync(join(tmpdir(), "keyshard-sids-"));
    homes.push(home);
    return home;
  };
  let phoneHome: string;
  let watchHome: string;
  let phone: Wallet;
  let watch: Wallet;

  beforeAll(async () => {
    // Approvals and face enrollments take effect at once here; their delay is tested in the provider.
    provider = await startTestProvider("pglite", { accountChangeDelayMs: 0 });
    relay = await startLyingRelay(provider.url);
    phoneHome = newHome();
    watchHome = newHome();
    [phone, watch] = await Promise.all([
      Wallet.init(phoneHome, PASSPHRASE, { name: "phone" }),
      Wallet.init(watchHome, PASSPHRASE, { name: "watch" }),
    ]);
    await phone.register(relay.url, EMAIL);
    await phone.verify(await mailedCode(provider.mails, EMAIL, 1));
    await watch.register(relay.url, EMAIL);
    await watch.verify(await mailedCode(provider.mails, EMAIL, 2));
    await phone.approveDevice(watch.deviceId);
  });
  afterAll(async () => {
    await relay?.close();
    await provider?.stop();
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  });

  /** A Solana transfer of `lamports` from `wallet`'s address. */
  const transfer = (wallet: Wallet, name: string, lamports: bigint): SigningRequest => ({
    chain: "solana",
    payload: bytesToHex(
      buildSolTransfer({
        from: wallet.address(name, "solana"),
        to: PAYEE,
        lamports,
        recentBlockhash: "11111111111111111111111111111111",
      }),
    ),
  });

  it("a hybrid wallet's device refuses a session under a sid it used, also once reopened from disk; a refresh starts a new record", async () => {
    await phone.createWallet({ name: "hot", scheme: "frost-ed25519" });
    await phone.sign("hot", transfer(phone, "hot", 1000n));
    // The record holds the keygen's sid and the signature's, which this device drew itself.
    const [keygenSid, usedSid] = phone.find("hot").sids as [string, string];
    expect(phone.find("hot").sids).toHaveLength(2);

    // The provider names the signature's session again, for other bytes.
    const replay = (sid: string) =>
      relay.lie(
        (method, path) => method === "POST" && path.endsWith("/sign-requests"),
        (reply) => {
          for (const session of reply.sessions as { sid: string }[]) session.sid = sid;
        },
      );
    const rounds = () => relay.requests.filter((r) => r.path.startsWith("/v1/sessions/")).length;
    const before = rounds();
    replay(usedSid);
    const refused = await walletFailure(phone.sign("hot", transfer(phone, "hot", 2000n)));
    expect(refused.code).toBe("sid-reused");
    expect(refused.message).toMatch(/has taken part in a run under that id before: refused before anything was sent/);
    expect(rounds()).toBe(before);

    // A new process on the same home: the record came from the keystore, in any spelling of the sid.
    const reopened = await Wallet.open(phoneHome, PASSPHRASE);
    expect(reopened.find("hot").sids?.slice(0, 2)).toEqual([keygenSid, usedSid]);
    for (const sid of [usedSid.toUpperCase(), keygenSid]) {
      replay(sid);
      expect((await walletFailure(reopened.sign("hot", transfer(reopened, "hot", 3000n)))).code).toBe("sid-reused");
    }
    expect(rounds()).toBe(before);
    // Told the truth, it signs again; each request's own sid joined the record as it was drawn.
    await reopened.sign("hot", transfer(reopened, "hot", 4000n));
    expect(reopened.find("hot").sids).toHaveLength(6);

    // A refresh is a run of the share too: the provider names a used sid for it.
    const signed = rounds();
    relay.lie(
      (method, path) => method === "POST" && path.endsWith("/key-changes"),
      (reply) => void ((reply.session as { sid: string }).sid = usedSid),
    );
    expect((await walletFailure(reopened.refresh("hot"))).code).toBe("sid-reused");
    expect(rounds()).toBe(signed);
    // Nothing was recorded or kept for the refused run.
    expect(deviceOf(reopened).find("hot").next).toBeUndefined();
    expect(reopened.find("hot").sids).toHaveLength(6);

    // A refresh replaces the share, and the old share's record goes with it: the new share's
    // starts from the refresh's sid, and a process still holding the old share runs nothing more.
    const stale = await Wallet.open(phoneHome, PASSPHRASE);
    const refreshed = await reopened.refresh("hot");
    expect(deviceOf(reopened).find("hot").share).not.toBe(deviceOf(stale).find("hot").share);
    expect(refreshed.sids).toHaveLength(1);
    const late = deviceOf(stale)
      .runContext(deviceOf(stale).find("hot"))
      .claim([crypto.getRandomValues(new Uint8Array(32))]);
    expect((await walletFailure(late)).code).toBe("stale-share");
    expect((await Wallet.open(phoneHome, PASSPHRASE)).find("hot").sids).toEqual(refreshed.sids);
    phone = reopened;
  });

  it("the record is bounded: a full one refuses to sign until a refresh, and keeps what it has", () => {
    const wallet = { name: "w", sids: [] as string[] } as unknown as StoredWallet;
    const sid = (i: number) => i.toString(16).padStart(64, "0");
    claimIn(
      wallet,
      Array.from({ length: MAX_RUNS_PER_SHARE }, (_, i) => sid(i)),
      "sign",
    );
    const full = (() => {
      try {
        claimIn(wallet, [sid(MAX_RUNS_PER_SHARE)], "sign");
      } catch (e) {
        return e as WalletError;
      }
    })();
    expect(full?.code).toBe("refresh-needed");
    expect(wallet.sids).toHaveLength(MAX_RUNS_PER_SHARE);
    // The refresh that starts the next share's record still runs.
    claimIn(wallet, [sid(MAX_RUNS_PER_SHARE)], "key-change");
    expect(() => claimIn(wallet, [sid(0)], "key-change")).toThrow(/taken part in a run under that id before/);
    expect(() => claimIn(wallet, [sid(7).replace(/^0/, "")], "sign")).toThrow(/not 32 bytes/);
  });

  it("the proposer and the cosigner of a device-only wallet refuse runs under a sid they used, also after a restart", async () => {
    const joined = (async () => {
      for (let i = 0; i < 100; i++) {
        if ((await watch.joinPendingWallets()).length > 0) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error("the watch never joined the key generation");
    })();
    await phone.createWallet({ name: "pair", scheme: "frost-ed25519", devices: [watch.deviceId], n: 2 });
    await joined;
    const rules = [{ chain: "solana" as const, maxAmount: "1" }];
    let cosigner = new Cosigner(watch, watchHome, { rules });
    const log = (): CosignerLogEntry[] =>
      readFileSync(join(watchHome, "cosigner.log"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));

    // One honest run, the cosigner polling until the proposer has its signature.
    const signing = phone.sign("pair", transfer(phone, "pair", 1000n));
    let done = false;
    void signing.finally(() => (done = true)).catch(() => {});
    while (!done) {
      await cosigner.poll();
      await new Promise((r) => setTimeout(r, 50));
    }
    await signing;
    expect(log().at(-1)).toMatchObject({ decision: "signed", wallet: "pair" });
    const relayId = log().at(-1)?.relayId as string;
    const { db } = provider.context;
    const [run] = await db.query<{ sid: Uint8Array; account_id: string; participants: string; purpose: string }>(
      "SELECT sid, account_id, participants, purpose FROM relay_sessions WHERE id = $1",
      [relayId],
    );
    if (run === undefined) throw new Error("no relay session");
    const sid = bytesToHex(new Uint8Array(run.sid));
    expect(phone.find("pair").sids).toContain(sid);
    expect(watch.find("pair").sids).toContain(sid);

    // The relay hands the proposer that sid for its next run: refused before any proposal.
    let lied: string | undefined;
    relay.lie(
      (method, path) => method === "POST" && path === "/v1/relay",
      (reply) => {
        lied = reply.relayId as string;
        reply.sid = sid;
      },
    );
    const proposer = await walletFailure(phone.sign("pair", transfer(phone, "pair", 2000n)));
    expect(proposer.code).toBe("sid-reused");
    const posted = await db.query("SELECT id FROM relay_envelopes WHERE relay_id = $1", [lied]);
    expect(lied).toBeDefined();
    expect(posted).toEqual([]);
    // The session the refused run left open would only keep the cosigner waiting for a proposal.
    await db.query("UPDATE relay_sessions SET expires_ms = 0 WHERE id = $1", [lied]);

    // The relay lists the honest run again under a new relay id, with the proposer's envelopes
    // (its proposal and its go) copied over: they are sealed to the sid, so they open there.
    const replayed = crypto.randomUUID();
    await db.transaction(async (tx) => {
      await tx.query("UPDATE relay_sessions SET sid = $2, expires_ms = 0 WHERE id = $1", [
        relayId,
        crypto.getRandomValues(new Uint8Array(32)),
      ]);
      await tx.query(
        "INSERT INTO relay_sessions (id, account_id, sid, purpose, participants, created_by, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        [
          replayed,
          run.account_id,
          run.sid,
          run.purpose,
          run.participants,
          phone.deviceId,
          Date.now(),
          Date.now() + 3_600_000,
        ],
      );
      await tx.query(
        "INSERT INTO relay_envelopes (relay_id, from_device, to_device, envelope, created_ms) SELECT $2, from_device, to_device, envelope, created_ms FROM relay_envelopes WHERE relay_id = $1 AND from_device = $3 ORDER BY id",
        [relayId, replayed, phone.deviceId],
      );
    });
    /** What the watch sent in the replayed session, by envelope round. */
    const watchRounds = async () =>
      (
        await db.query<{ envelope: string }>(
          "SELECT envelope FROM relay_envelopes WHERE relay_id = $1 AND from_device = $2 ORDER BY id",
          [replayed, watch.deviceId],
        )
      ).map((r) => (JSON.parse(r.envelope) as { round: number }).round);

    await cosigner.poll();
    expect(log().at(-1)).toMatchObject({
      relayId: replayed,
      decision: "refused",
      reason: expect.stringMatching(/taken part in a run under this session id before/),
    });
    expect(await watchRounds()).toEqual([0]);

    // Restarted on the same home, with nothing in memory: the keystore's record refuses it again.
    watch = await Wallet.open(watchHome, PASSPHRASE);
    cosigner = new Cosigner(watch, watchHome, { rules });
    await cosigner.poll();
    expect(
      log()
        .filter((e) => e.relayId === replayed)
        .map((e) => e.decision),
    ).toEqual(["refused", "refused"]);
    expect(await watchRounds()).toEqual([0, 0]);
  });
});
