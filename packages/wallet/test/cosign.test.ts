/**
 * An app's side of a t-of-n wallet (`Wallet.waitingWallets`, `joinWallet`,
 * `cosignInvitations`, `cosign`): a device sees the key generations that wait for it with their
 * members before it joins one, sees what other devices ask it to co-sign, and signs only after
 * its person said yes to this device's own reading of the bytes. A real provider (PGlite, in this
 * process) relays.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSolTransfer, type SigningRequest, type TransactionDescription } from "@keyshard/chains";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mailedCode, startTestProvider, type TestProvider } from "../../provider/test/harness.js";
import { deviceOf } from "../src/device/device.js";
import { answerProposal, type CosignInvitation, RequestVerdicts } from "../src/flows/cosign.js";
import { messagesToSign } from "../src/requests.js";
import type { RelaySession } from "../src/types.js";
import { Wallet } from "../src/wallet.js";
import { walletFailure } from "./thrown.js";

const PASSPHRASE = "correct horse battery staple";
const EMAIL = "cosign@example.com";
const PAYEE = "Vote111111111111111111111111111111111111111";

/** Asks `look` until it gives something, while `until` is unsettled. */
async function eventually<T>(look: () => Promise<T | undefined>, until: Promise<unknown>): Promise<T> {
  let settled = false;
  void until.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (;;) {
    const found = await look();
    if (found !== undefined) return found;
    if (settled) throw new Error("the other side finished before anything was found");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("a t-of-n wallet in an app: joining its key generation and co-signing", () => {
  let provider: TestProvider;
  const homes: string[] = [];
  let phone: Wallet;
  let laptop: Wallet;

  beforeAll(async () => {
    provider = await startTestProvider("pglite", { accountChangeDelayMs: 0 });
    const home = () => {
      const made = mkdtempSync(join(tmpdir(), "keyshard-cosign-"));
      homes.push(made);
      return made;
    };
    [phone, laptop] = await Promise.all([
      Wallet.init(home(), PASSPHRASE, { name: "phone" }),
      Wallet.init(home(), PASSPHRASE, { name: "laptop" }),
    ]);
    await phone.register(provider.url, EMAIL);
    await phone.verify(await mailedCode(provider.mails, EMAIL, 1));
    await laptop.register(provider.url, EMAIL);
    await laptop.verify(await mailedCode(provider.mails, EMAIL, 2));
    await phone.approveDevice(laptop.deviceId);
  });
  afterAll(async () => {
    await provider?.stop();
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  });

  const transfer = (name: string, lamports: bigint): SigningRequest => ({
    chain: "solana",
    payload: bytesToHex(
      buildSolTransfer({
        from: phone.address(name, "solana"),
        to: PAYEE,
        lamports,
        recentBlockhash: "11111111111111111111111111111111",
      }),
    ),
  });

  it("lists a waiting key generation with its members and threshold, and joins only the one named", async () => {
    expect(await laptop.waitingWallets()).toEqual([]);
    const none = { devices: [], provider: false, threshold: 2 };
    await expect(laptop.joinWallet(crypto.randomUUID(), none)).rejects.toMatchObject({ code: "unknown-wallet" });
    const made = phone.createWallet({ name: "pair", scheme: "frost-ed25519", devices: [laptop.deviceId], n: 2 });
    const [waiting] = await eventually(async () => {
      const listed = await laptop.waitingWallets();
      return listed.length > 0 ? listed : undefined;
    }, made);
    expect(waiting).toMatchObject({ name: "pair", scheme: "frost-ed25519", threshold: 2, createdBy: phone.deviceId });
    expect(waiting?.members.map((m) => [m.deviceId, m.provider])).toEqual([
      [phone.deviceId, false],
      [laptop.deviceId, false],
    ]);
    const walletId = waiting?.walletId as string;
    // The person agreed to these parties: the provider listing others by the time of joining joins nothing.
    const shown = { threshold: 2, devices: [phone.deviceId, laptop.deviceId], provider: false };
    await expect(laptop.joinWallet(walletId, { ...shown, provider: true })).rejects.toMatchObject({
      code: "provider-refused",
    });
    await expect(
      laptop.joinWallet(walletId, { ...shown, devices: [laptop.deviceId, phone.deviceId] }),
    ).rejects.toMatchObject({ code: "provider-refused" });
    await expect(laptop.joinWallet(walletId, { ...shown, threshold: 1 })).rejects.toMatchObject({
      code: "provider-refused",
    });
    const joined = await laptop.joinWallet(walletId, shown);
    const [mine] = await Promise.all([made]);
    expect(joined.publicKey).toBe(mine.publicKey);
    expect(laptop.address("pair", "solana")).toBe(phone.address("pair", "solana"));
    expect(await laptop.waitingWallets()).toEqual([]);
  });

  it("asks the person with this device's own reading of the bytes; a no is the proposer's refusal, and nothing is signed", async () => {
    const asked: TransactionDescription[] = [];
    const signing = phone.sign("pair", transfer("pair", 1500n), { waitMs: 30_000 });
    const invitation = await eventually<CosignInvitation>(async () => (await laptop.cosignInvitations())[0], signing);
    expect(invitation).toMatchObject({ kind: "proposal", wallet: "pair", proposer: phone.deviceId });
    const outcome = await laptop.cosign(invitation.id, async (description) => {
      asked.push(description);
      return false;
    });
    expect(outcome).toMatchObject({ decision: "refused", reason: "declined by the person at this device" });
    expect(asked).toHaveLength(1);
    expect(asked[0]?.transfers).toMatchObject([{ to: PAYEE, value: 1500n }]);
    const refused = await walletFailure(signing);
    expect(refused.code).toBe("refused-by-device");
    expect(refused.message).toMatch(/declined by the person at this device/);
    // The sid of a session answered no is spent too: the provider listing it again asks nobody.
    const [run] = await provider.context.db.query<{ sid: Uint8Array }>("SELECT sid FROM relay_sessions WHERE id = $1", [
      invitation.id,
    ]);
    expect(laptop.find("pair").sids).toContain(bytesToHex(new Uint8Array(run?.sid ?? [])));
  });

  it("does not ask about a proposal withdrawn before it was read, and answers it no", async () => {
    const signing = phone.sign("pair", transfer("pair", 1700n), { waitMs: 1_000 });
    await walletFailure(signing);
    // Listed by the provider still, but withdrawn: not offered, and opened directly, nobody is asked.
    const open = (await laptop.relaySessions()).sessions.filter(
      (s) => s.purpose.startsWith("sign ") && !laptop.find("pair").sids?.includes(s.sid),
    );
    expect(open).toHaveLength(1);
    expect(await laptop.cosignInvitations()).toEqual([]);
    let asked = false;
    const outcome = await answerProposal(
      deviceOf(laptop),
      laptop.find("pair").id,
      open[0] as RelaySession,
      async () => {
        asked = true;
        return { accept: true, reason: "asked" };
      },
    );
    expect(asked).toBe(false);
    expect(outcome).toMatchObject({ decision: "refused", reason: expect.stringMatching(/stopped waiting/) });
  });

  it("signs once the person agrees; the same invitation cannot be answered twice", async () => {
    const body = transfer("pair", 2500n);
    const signing = phone.sign("pair", body, { waitMs: 30_000 });
    const invitation = await eventually<CosignInvitation>(async () => (await laptop.cosignInvitations())[0], signing);
    const outcome = await laptop.cosign(invitation.id, async () => true);
    expect(outcome.decision).toBe("signed");
    const { signatures } = await signing;
    const device = deviceOf(phone);
    const [message] = messagesToSign(body, device.keyOf(device.find("pair"), undefined));
    const publicKey = hexToBytes(phone.find("pair").publicKey);
    expect(ed25519.verify(signatures[0] as Uint8Array, message as Uint8Array, publicKey)).toBe(true);
    expect(outcome.signature).toBe(bytesToHex(signatures[0] as Uint8Array));
    // The session stays listed at the provider until it expires: the share's record hides it here.
    expect((await laptop.relaySessions()).sessions.map((s) => s.relayId)).toContain(invitation.id);
    expect(await laptop.cosignInvitations()).toEqual([]);
    let asked = false;
    const again = await walletFailure(
      laptop.cosign(invitation.id, async () => {
        asked = true;
        return true;
      }),
    );
    expect(again.message).toMatch(/this co-signing is over/);
    expect(asked).toBe(false);
  });

  it("does not list a proposal of a run this device signed, replayed under a new relay id, nor open it", async () => {
    const { db } = provider.context;
    const [signed] = await db.query<{
      id: string;
      sid: Uint8Array;
      account_id: string;
      participants: string;
      purpose: string;
    }>(
      "SELECT id, sid, account_id, participants, purpose FROM relay_sessions WHERE purpose LIKE 'sign %' ORDER BY created_ms DESC",
    );
    if (signed === undefined) throw new Error("no signing session");
    expect(laptop.find("pair").sids).toContain(bytesToHex(new Uint8Array(signed.sid)));
    // Only the proposal is copied over: no go, no withdrawal, so nothing but the share's record tells it apart.
    const replayed = crypto.randomUUID();
    await db.transaction(async (tx) => {
      // The provider keeps sids unique: the run's own session gives its sid up to the replay.
      await tx.query("UPDATE relay_sessions SET sid = $2, expires_ms = 0 WHERE id = $1", [
        signed.id,
        crypto.getRandomValues(new Uint8Array(32)),
      ]);
      await tx.query(
        "INSERT INTO relay_sessions (id, account_id, sid, purpose, participants, created_by, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        [
          replayed,
          signed.account_id,
          signed.sid,
          signed.purpose,
          signed.participants,
          phone.deviceId,
          Date.now(),
          Date.now() + 3_600_000,
        ],
      );
      const envelopes = await tx.query<{ envelope: string; to_device: string }>(
        "SELECT envelope, to_device FROM relay_envelopes WHERE relay_id = $1 AND from_device = $2 ORDER BY id",
        [signed.id, phone.deviceId],
      );
      const proposal = envelopes.find((e) => (JSON.parse(e.envelope) as { round: number }).round === 0);
      if (proposal === undefined) throw new Error("no proposal envelope");
      await tx.query(
        "INSERT INTO relay_envelopes (relay_id, from_device, to_device, envelope, created_ms) VALUES ($1, $2, $3, $4, $5)",
        [replayed, phone.deviceId, proposal.to_device, proposal.envelope, Date.now()],
      );
    });
    expect((await laptop.relaySessions()).sessions.map((s) => s.relayId)).toContain(replayed);
    expect(await laptop.cosignInvitations()).toEqual([]);
    let asked = false;
    const refused = await walletFailure(
      laptop.cosign(replayed, async () => {
        asked = true;
        return true;
      }),
    );
    expect(refused.message).toMatch(/this co-signing is over/);
    expect(asked).toBe(false);
  });

  it("lists a proposal to the other devices, never to the device that made it", async () => {
    const signing = phone.sign("pair", transfer("pair", 3500n), { waitMs: 2_000 });
    await eventually(async () => ((await laptop.cosignInvitations()).length > 0 ? true : undefined), signing);
    expect(await phone.cosignInvitations()).toEqual([]);
    await walletFailure(signing);
  });
});

describe("one verdict per request", () => {
  it("judges a request once, and refuses its other signatures when the provider gives other bytes for them", async () => {
    let judged = 0;
    const verdicts = new RequestVerdicts(async () => {
      judged++;
      return { accept: true, reason: "yes" };
    });
    const described = {} as TransactionDescription;
    const first: SigningRequest = { chain: "ethereum", payload: "02aa" };
    const id = crypto.randomUUID();
    expect(await verdicts.of(id, described, first)).toEqual({ accept: true, reason: "yes" });
    expect(await verdicts.of(id, described, { ...first })).toEqual({ accept: true, reason: "yes" });
    const other = await verdicts.of(id, described, { chain: "ethereum", payload: "02bb" });
    expect(other).toMatchObject({ accept: false, reason: expect.stringMatching(/other bytes for this request/) });
    expect(judged).toBe(1);
    await verdicts.of(crypto.randomUUID(), described, { chain: "ethereum", payload: "02bb" });
    expect(judged).toBe(2);
  });
});
