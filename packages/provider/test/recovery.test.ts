/**
 * Face recovery and heirs through the real HTTP API on PGlite, with three real recovery operators
 * (two answer together) and the provider's clock, which theirs follow, moved by the test. The
 * face secret here is the extractor's 18-bit output as the device would have it (the pictures
 * themselves are tested in the wallet's CLI test): what is checked is what the provider keeps,
 * what it releases and to whom, the tickets it signs for the operators, its own rate limit and its
 * mails, the proof of recovery, the transfer hold after a recovery, the heirs' inactivity rule,
 * reminders and veto, the retirement of enrollments whose OPRF key the provider held, and that
 * the provider alone, with its database and master key, cannot test a face guess.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSolTransfer, solanaAddress } from "@keyshard/chains";
import { scheme } from "@keyshard/mpc";
import {
  blindFaceSecret,
  faceBoxContext,
  faceWrapKey,
  newRecoveryKey,
  openRecoveryBox,
  RecoveryBoxError,
  type RecoveryKeyPair,
  readTicket,
  sealToRecoveryKey,
  signRecoveryClaim,
  TICKET_LIFETIME_MS,
  unwrapRecoveryKey,
} from "@keyshard/recovery";
import { ed25519, ristretto255, ristretto255_oprf } from "@noble/curves/ed25519.js";
import { bytesToNumberLE, numberToBytesLE } from "@noble/curves/utils.js";
import { bytesToHex, hexToBytes, randomBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MasterKey, parseRecoveryOperators, providerTicketKeys, RecoveryOperatorsError } from "../src/index.js";
import { sweepHeirNotices } from "../src/recovery/heirs.js";
import { resolveRecoveryOperators } from "../src/recovery/operators.js";
import { openDatabase } from "../src/store/database.js";
import {
  type DealtFace,
  dealFace,
  guessFace,
  helperAndSecret,
  type ProviderWithOperators,
  startProviderWithOperators,
} from "./face-device.js";
import {
  activeDevice,
  createWallet,
  mailed,
  mailedCode,
  START_ARGUMENTS,
  startTestProvider,
  TestDevice,
  type TestProvider,
  type TestWallet,
} from "./harness.js";

const DAY = 24 * 3600_000;
const address = () => solanaAddress(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
const ALLOW_SOL = [{ name: "any SOL", when: { asset: ["SOL"] }, decision: "allow" }];

interface Enrolled {
  id: string;
  secret: Uint8Array;
  recovery: RecoveryKeyPair;
  oprfKey: Uint8Array;
}

const sealShare = (wallet: TestWallet<"frost-ed25519">, recovery: RecoveryKeyPair) =>
  bytesToHex(
    sealToRecoveryKey(
      recovery.publicKey,
      faceBoxContext(wallet.walletId),
      new TextEncoder().encode(
        JSON.stringify({ share: bytesToHex(scheme("frost-ed25519").encodeShare(wallet.share)) }),
      ),
    ),
  );

/** The wallet CLI's enrollment, by hand: the key dealt to the operators, the wrapped recovery key, sealed shares. */
async function enrollFace(
  device: TestDevice,
  email: string,
  wallets: TestWallet<"frost-ed25519">[],
  heir?: { email: string; inactivityDays?: number },
): Promise<Enrolled> {
  const id = randomUUID();
  const { helper, secret } = helperAndSecret();
  const bound = heir?.email ?? email;
  const { started, face } = await dealFace(
    device,
    {
      id,
      kind: heir ? "heir" : "owner",
      ...(heir && { heirEmail: heir.email }),
      ...(heir?.inactivityDays && { inactivityDays: heir.inactivityDays }),
      helper,
    },
    secret,
  );
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  expect(started.body.email).toBe(bound);
  const dealt = face as DealtFace;
  const finish = (boxes: unknown[]) =>
    device.request("PUT", `/v1/recovery/enrollments/${id}`, { ...dealt.completion, boxes });
  const boxes = wallets.map((w) => ({ walletId: w.walletId, epoch: 0, box: sealShare(w, dealt.recovery) }));
  if (wallets.length > 0) {
    // Every hybrid wallet's share must be sealed, at the wallet's epoch.
    expect((await finish(boxes.slice(1))).status).toBe(400);
    expect((await finish(boxes.map((b) => ({ ...b, epoch: 1 })))).status).toBe(409);
  }
  const done = await finish(boxes);
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  expect(done.body).toMatchObject({ id, status: "waiting", kind: heir ? "heir" : "owner" });
  // Its change is due at once here: the device's next request applies it.
  const keys = await device.request("GET", "/v1/recovery/keys");
  expect(keys.body.enrollments).toContainEqual(expect.objectContaining({ id, status: "active" }));
  return { id, secret, recovery: dealt.recovery, oprfKey: dealt.oprfKey };
}

/** A new device's guess with face `secret`: the recovery key, or null when the face is another. */
async function tryFace(device: TestDevice, email: string, id: string, secret: Uint8Array) {
  const { status, recovery } = await guessFace(device, email, id, secret);
  return { status, recovery };
}

const claim = (device: TestDevice, id: string, recovery: RecoveryKeyPair) =>
  device.request("POST", `/v1/recovery/enrollments/${id}/claim`, {
    signature: bytesToHex(signRecoveryClaim(recovery, id, device.id)),
  });

/** A device registered under `email` and verified by the mailed code (the `nth` code to it). */
async function verifiedDevice(provider: TestProvider, email: string, nth: number): Promise<TestDevice> {
  const device = new TestDevice(provider.url, provider.now);
  await device.request("POST", "/v1/devices", { identityKey: device.identityKey, email, name: "new phone" });
  const verified = await device.request("POST", "/v1/devices/verify", {
    code: await mailedCode(provider.mails, email, nth),
  });
  expect(verified.status, JSON.stringify(verified.body)).toBe(200);
  return device;
}

describe("face recovery", () => {
  let provider: ProviderWithOperators;
  beforeAll(async () => {
    // No account-change delay: an enrollment's wait and its cancellation are tested in account-changes.test.ts.
    provider = await startProviderWithOperators("pglite", {
      faceAttemptsPerDay: 3,
      recoveryHoldMs: 72 * 3600_000,
      accountChangeDelayMs: 0,
    });
  });
  afterAll(async () => {
    await provider?.stop();
  });

  const solana = (wallet: TestWallet) =>
    bytesToHex(
      buildSolTransfer({
        from: solanaAddress(hexToBytes(wallet.publicKey)),
        to: address(),
        lamports: 1000n,
        recentBlockhash: address(),
      }),
    );

  it("enrolls, keeps nothing biometric, and recovers the wallet on a new device with the same face only", async () => {
    const email = "face@example.com";
    const phone = await activeDevice(provider, email);
    const wallet = await createWallet(phone, "savings", "frost-ed25519", ALLOW_SOL);
    // Altered helper data is refused before anything is kept.
    const { helper } = helperAndSecret();
    for (const bad of [
      { ...helper, extra: 1 },
      { ...helper, indices: helper.indices.slice(1) },
      { ...helper, version: 2 },
    ])
      expect(
        (
          await phone.request("POST", "/v1/recovery/enrollments", {
            id: randomUUID(),
            kind: "owner",
            helper: bad,
          })
        ).status,
      ).toBe(400);
    const enrolled = await enrollFace(phone, email, [wallet]);
    expect(await mailed(provider.mails, email, "asked for a face enrollment")).toBe(true);

    // The rows: helper data (seed, indices, offset), a wrapped key, public keys — no embedding, no image.
    const rows = await provider.context.db.query<Record<string, unknown>>("SELECT * FROM face_enrollments");
    expect(rows).toHaveLength(1);
    const row = rows[0] as Record<string, unknown>;
    expect(Object.keys(JSON.parse(row.helper as string)).sort()).toEqual(["indices", "offset", "seed", "version"]);
    expect(new Uint8Array(row.wrapped_key as Uint8Array)).toHaveLength(60);
    expect(new Uint8Array(row.oprf_key as Uint8Array)).toEqual(enrolled.oprfKey);
    // No threshold per enrollment: a reshare changes it for all of them, the configured one is in force.
    expect(row).not.toHaveProperty("oprf_threshold");
    for (const table of ["face_enrollments", "recovery_boxes", "face_attempts"]) {
      const dump = JSON.stringify(await provider.context.db.query(`SELECT * FROM ${table}`));
      // 128 floats would show as a long run of decimals; nothing like an embedding is there.
      expect(dump).not.toMatch(/(-?0\.\d+,){16}/);
    }

    // A refresh seals the share again to the enrollment, as before.
    const resealed = await phone.request("PUT", `/v1/wallets/${wallet.walletId}/recovery-boxes`, {
      epoch: 0,
      boxes: [{ enrollmentId: enrolled.id, box: sealShare(wallet, enrolled.recovery) }],
    });
    expect(resealed.status, JSON.stringify(resealed.body)).toBe(200);
    expect(resealed.body).toEqual({ sealed: 1 });

    // The phone is lost. A new device proves the email by code first; unverified, it gets nothing.
    const stranger = new TestDevice(provider.url, provider.now);
    await stranger.request("POST", "/v1/devices", { identityKey: stranger.identityKey, email, name: "stranger" });
    expect((await stranger.request("GET", "/v1/recovery/enrollments")).status).toBe(403);
    // The stranger's code mail holds the address's one code per window: the owner asks after it.
    provider.advance(10 * 60_000 + 1000);
    const fresh = await verifiedDevice(provider, email, 3);
    const listed = await fresh.request("GET", "/v1/recovery/enrollments");
    expect(listed.status).toBe(200);
    expect(listed.body.enrollments).toEqual([{ id: enrolled.id, kind: "owner", email, helper: expect.any(Object) }]);
    expect(listed.body.challenge).toEqual(
      expect.objectContaining({ kind: expect.stringMatching(/^(expression|turn)$/) }),
    );

    // Another face: the operators' answer unwraps nothing, and a made-up proof is refused.
    const wrong = await tryFace(fresh, email, enrolled.id, Uint8Array.of(0, 0, 1));
    expect(wrong).toEqual({ status: 200, recovery: null });
    expect((await claim(fresh, enrolled.id, newRecoveryKey())).status).toBe(403);
    expect(
      await mailed(provider.mails, email, "tried to recover your keyshard account with a face (attempt 1 of 3"),
    ).toBe(true);

    // The same face: the recovery key comes back, the proof opens the boxes, the device is in.
    const right = await tryFace(fresh, email, enrolled.id, enrolled.secret);
    expect(right.recovery?.secretKey).toEqual(enrolled.recovery.secretKey);
    // A proof made for another device does not carry over.
    const other = await verifiedDevice(provider, email, 4);
    expect(
      (
        await other.request("POST", `/v1/recovery/enrollments/${enrolled.id}/claim`, {
          signature: bytesToHex(signRecoveryClaim(enrolled.recovery, enrolled.id, fresh.id)),
        })
      ).status,
    ).toBe(403);
    const claimed = await claim(fresh, enrolled.id, right.recovery as RecoveryKeyPair);
    expect(claimed.status, JSON.stringify(claimed.body)).toBe(200);
    const [box] = claimed.body.boxes as { walletId: string; box: string }[];
    const opened = JSON.parse(
      new TextDecoder().decode(
        openRecoveryBox(
          right.recovery as RecoveryKeyPair,
          faceBoxContext(wallet.walletId),
          hexToBytes(box?.box as string),
        ),
      ),
    );
    expect(opened.share).toBe(bytesToHex(scheme("frost-ed25519").encodeShare(wallet.share)));
    expect(await mailed(provider.mails, email, "recovered your wallets with your face")).toBe(true);

    // The recovered device is active; its transfers wait out the cooling-off…
    const held = await fresh.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "solana",
      payload: solana(wallet),
    });
    expect(held.body).toMatchObject({ status: "held", rule: "any SOL" });
    expect((held.body.waitingFor as { releaseMs: number }).releaseMs).toBe(
      Date.parse(claimed.body.holdUntil as string),
    );
    // …unless a device older than the recovery confirms it; the recovered device cannot.
    const recoveryId = claimed.body.recoveryId as string;
    expect((await fresh.request("POST", `/v1/recovery/recoveries/${recoveryId}/confirm`)).status).toBe(403);
    const confirmed = await phone.request("POST", `/v1/recovery/recoveries/${recoveryId}/confirm`);
    expect(confirmed.body).toMatchObject({ status: "confirmed", device: fresh.id });
    // The refused proofs are in the account's audit log: a refusal is kept, not rolled back with it.
    const audit = await phone.request("GET", "/v1/audit");
    const refusals = (audit.body.entries as { action: string }[]).filter((e) => e.action === "face.claim-refused");
    expect(refusals).toHaveLength(2);
    const after = await fresh.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "solana",
      payload: solana(wallet),
    });
    expect(after.body).toMatchObject({ status: "signing" });
    const waiting = await fresh.request("GET", `/v1/sign-requests/${held.body.requestId}`);
    expect(waiting.body.waitingFor).toEqual({});
  });

  it("limits and mails face guesses per enrollment, and an older device can reject a recovery", async () => {
    const email = "guess@example.com";
    const phone = await activeDevice(provider, email);
    const wallet = await createWallet(phone, "main", "frost-ed25519", ALLOW_SOL);
    const enrolled = await enrollFace(phone, email, [wallet]);
    const thief = await verifiedDevice(provider, email, 2);
    for (let i = 1; i <= 3; i++)
      expect(await tryFace(thief, email, enrolled.id, Uint8Array.of(1, 1, i))).toEqual({ status: 200, recovery: null });
    // The fourth guess in 24 hours is refused, even with the right face, and the owner is told.
    expect((await tryFace(thief, email, enrolled.id, enrolled.secret)).status).toBe(429);
    expect(await mailed(provider.mails, email, "more than 3 times in 24 hours")).toBe(true);
    const audit = await provider.context.db.query<{ action: string }>(
      "SELECT action FROM audit_log WHERE action LIKE 'face.attempt%' ORDER BY seq",
    );
    expect(audit.map((a) => a.action).filter((a) => a === "face.attempt").length).toBeGreaterThanOrEqual(3);
    expect(audit.some((a) => a.action === "face.attempt-refused")).toBe(true);

    // A day later the thief may guess again (and here has the face): the old phone rejects it.
    provider.advance(DAY + 1000);
    const got = await tryFace(thief, email, enrolled.id, enrolled.secret);
    const claimed = await claim(thief, enrolled.id, got.recovery as RecoveryKeyPair);
    expect(claimed.status).toBe(200);
    const rejected = await phone.request("POST", `/v1/recovery/recoveries/${claimed.body.recoveryId}/reject`);
    expect(rejected.body).toMatchObject({ status: "rejected" });
    expect((await thief.request("GET", "/v1/wallets")).status).toBe(403);
    expect((await phone.request("POST", `/v1/recovery/recoveries/${claimed.body.recoveryId}/confirm`)).status).toBe(
      409,
    );
  });

  it("opens an heir's enrollment only after the owner's inactivity and three reminders, never after a veto", async () => {
    const email = "owner@example.com";
    const heirEmail = "heir@example.com";
    const owner = await activeDevice(provider, email);
    const wallet = await createWallet(owner, "legacy", "frost-ed25519", ALLOW_SOL);
    // An heir has an email of their own, and waits at least 30 days.
    expect(
      (
        await owner.request("POST", "/v1/recovery/enrollments", {
          id: randomUUID(),
          kind: "heir",
          heirEmail: email,
          helper: helperAndSecret().helper,
        })
      ).status,
    ).toBe(400);
    const heir = await enrollFace(owner, email, [wallet], { email: heirEmail, inactivityDays: 60 });
    const vetoed = await enrollFace(owner, email, [wallet], { email: "second@example.com", inactivityDays: 60 });
    expect((await owner.request("POST", `/v1/recovery/enrollments/${vetoed.id}/veto`)).body).toMatchObject({
      status: "vetoed",
    });
    const heirDevice = await activeDevice(provider, heirEmail);
    const visible = async () =>
      ((await heirDevice.request("GET", "/v1/recovery/enrollments")).body.enrollments as { id: string }[]).map(
        (e) => e.id,
      );
    /** The reminders mailed so far, waiting up to 5 s for `expected` of them to arrive. */
    const reminders = async (expected: number) => {
      const count = () =>
        provider.mails.filter(
          (m) => m.to === email && m.text.replace(/=\r?\n/g, "").includes("Unless you use keyshard"),
        ).length;
      for (let i = 0; i < 100 && count() < expected; i++) await new Promise((r) => setTimeout(r, 50));
      return count();
    };

    // 29 days before the threshold: nothing yet. Then 30, 7 and 1 day before: one reminder each.
    provider.advance(29 * DAY);
    await sweepHeirNotices(provider.context);
    expect(await visible()).toEqual([]);
    provider.advance(1 * DAY + 1000);
    await sweepHeirNotices(provider.context);
    await sweepHeirNotices(provider.context);
    expect(await mailed(provider.mails, email, "your heir (heir@example.com) will be able to recover")).toBe(true);
    expect(await reminders(1)).toBe(1);

    // The owner uses a device: the count starts again, and so do the reminders.
    expect((await owner.request("GET", "/v1/wallets")).status).toBe(200);
    provider.advance(30 * DAY + 1000);
    await sweepHeirNotices(provider.context);
    expect(await reminders(2)).toBe(2);
    provider.advance(23 * DAY);
    await sweepHeirNotices(provider.context);
    expect(await reminders(3)).toBe(3);
    provider.advance(6 * DAY);
    await sweepHeirNotices(provider.context);
    expect(await reminders(4)).toBe(4);
    expect(await visible()).toEqual([]);
    provider.advance(1 * DAY + 1000);
    await sweepHeirNotices(provider.context);
    // Open now, and the heir is told; the vetoed enrollment stays shut.
    expect(await visible()).toEqual([heir.id]);
    expect(await mailed(provider.mails, heirEmail, "you can now recover")).toBe(true);
    expect(await mailed(provider.mails, "second@example.com", "you can now recover", 5000)).toBe(false);

    // The heir's face opens it; the wallet moves to the heir's account.
    const got = await tryFace(heirDevice, heirEmail, heir.id, heir.secret);
    // The operators mail the heir's guess to the owner, who may still reject it, not to the heir.
    expect(await mailed(provider.operators.mails, email, "at recovery operator")).toBe(true);
    expect(await mailed(provider.operators.mails, heirEmail, "at recovery operator", 1000)).toBe(false);
    const claimed = await claim(heirDevice, heir.id, got.recovery as RecoveryKeyPair);
    expect(claimed.status, JSON.stringify(claimed.body)).toBe(200);
    expect(claimed.body.recoveryId).toBeNull();
    const theirs = (await heirDevice.request("GET", "/v1/wallets")).body.wallets as { id: string }[];
    expect(theirs.map((w) => w.id)).toContain(wallet.walletId);
    expect((await owner.request("GET", `/v1/wallets/${wallet.walletId}`)).status).toBe(404);
    expect(await visible()).toEqual([]);
  });
  it("lists its operators, and signs tickets naming the enrollment, its email, the account, the device and the operators or the blinded guess, for ten minutes", async () => {
    const ticketKey = providerTicketKeys(provider.context.masterKey).publicKey;
    const listed = await fetch(`${provider.url}/v1/recovery/operators`).then((r) => r.json());
    expect(listed).toEqual({
      threshold: 2,
      operators: provider.operators.operators.map((o) => ({ index: o.index, url: o.url, key: o.key })),
      ticketKey: bytesToHex(ticketKey),
    });
    // The operators trust that same key.
    for (const operator of provider.operators.operators)
      expect((await fetch(`${operator.url}/v1/operator`).then((r) => r.json())).ticketKey).toBe(bytesToHex(ticketKey));

    const email = "ticket@example.com";
    const phone = await activeDevice(provider, email);
    const accountId = (await phone.request("GET", "/v1/devices/self")).body.accountId as string;
    const id = randomUUID();
    const before = provider.now();
    const started = await phone.request("POST", "/v1/recovery/enrollments", {
      id,
      kind: "owner",
      helper: helperAndSecret().helper,
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect(started.body).not.toHaveProperty("evaluated");
    const enrollTicket = readTicket(started.body.ticket, ticketKey, provider.now());
    expect(enrollTicket).toEqual({
      purpose: "enroll",
      enrollment: id,
      email,
      account: accountId,
      device: phone.id,
      expiresMs: expect.any(Number),
      // The set and threshold configured now: an operator refuses a share dealt to another.
      threshold: 2,
      operators: provider.operators.operators.map((o) => o.key),
    });
    expect(enrollTicket.expiresMs).toBeGreaterThanOrEqual(before + TICKET_LIFETIME_MS);
    expect(enrollTicket.expiresMs).toBeLessThanOrEqual(provider.now() + TICKET_LIFETIME_MS);
    // Another key's signature is not the provider's.
    expect(() =>
      readTicket(started.body.ticket, ed25519.getPublicKey(ed25519.utils.randomSecretKey()), provider.now()),
    ).toThrow();

    const enrolled = await enrollFace(phone, email, []);
    const fresh = await verifiedDevice(provider, email, 2);
    const guess = await guessFace(fresh, email, enrolled.id, enrolled.secret);
    expect(guess.recovery?.secretKey).toEqual(enrolled.recovery.secretKey);
    expect(guess.ticket.body).toMatchObject({
      oprfKey: bytesToHex(enrolled.oprfKey),
      threshold: 2,
      operators: listed.operators,
      recoveryKey: bytesToHex(enrolled.recovery.publicKey),
      attemptsLeft: 2,
    });
    expect(guess.ticket.body).not.toHaveProperty("evaluated");
    expect(readTicket(guess.ticket.body.ticket, ticketKey, provider.now())).toEqual({
      purpose: "recover",
      enrollment: enrolled.id,
      email,
      account: accountId,
      device: fresh.id,
      expiresMs: expect.any(Number),
      // The one input this guess pays for.
      blinded: guess.blinded,
    });

    // A blinded "element" that is none, or the identity (every operator would answer the
    // identity), is refused before the guess is counted.
    const askTicket = (body: unknown) => fresh.request("POST", `/v1/recovery/enrollments/${enrolled.id}/tickets`, body);
    for (const [blinded, message] of [
      ["ff".repeat(32), /not a ristretto255 element/],
      [bytesToHex(ristretto255.Point.ZERO.toBytes()), /identity/],
    ] as const) {
      const refused = await askTicket({ blinded });
      expect(refused.status, JSON.stringify(refused.body)).toBe(400);
      expect(refused.body.message).toMatch(message);
    }
    for (const body of [{}, { blinded: "ab".repeat(31) }, { blinded: guess.blinded.toUpperCase() }])
      expect((await askTicket(body)).status).toBe(400);
    const next = await askTicket({ blinded: bytesToHex(blindFaceSecret(enrolled.id, email, enrolled.secret).blinded) });
    expect(next.status).toBe(200);
    expect(next.body.attemptsLeft).toBe(1);
  });

  it("finishes an enrollment only with an OPRF key that is a ristretto255 element other than the identity, at the provider's threshold", async () => {
    const email = "oprf-key@example.com";
    const phone = await activeDevice(provider, email);
    const { secret, helper } = helperAndSecret();
    const id = randomUUID();
    const { face } = await dealFace(phone, { id, kind: "owner", helper }, secret);
    const completion = (face as DealtFace).completion;
    const finish = (change: object) =>
      phone.request("PUT", `/v1/recovery/enrollments/${id}`, { ...completion, boxes: [], ...change });
    const identity = await finish({ oprfKey: bytesToHex(ristretto255.Point.ZERO.toBytes()) });
    expect(identity.status).toBe(400);
    expect(identity.body.message).toMatch(/identity/);
    const notAnElement = await finish({ oprfKey: "ff".repeat(32) });
    expect(notAnElement.status).toBe(400);
    expect(notAnElement.body.message).toMatch(/not a ristretto255 element/);
    const threshold = await finish({ threshold: 3 });
    expect(threshold.status).toBe(409);
    expect(threshold.body.message).toMatch(/answer 2 together/);
    expect((await finish({})).status).toBe(200);
  });

  it("the provider alone cannot test a face guess offline: nothing it holds or derives opens the recovery key, t operators' answers do", async () => {
    const email = "offline@example.com";
    const phone = await activeDevice(provider, email);
    const wallet = await createWallet(phone, "offline", "frost-ed25519", ALLOW_SOL);
    const enrolled = await enrollFace(phone, email, [wallet]);
    // Everything the provider keeps for the enrollment, and its master key.
    const [row] = await provider.context.db.query<Record<string, unknown>>(
      "SELECT * FROM face_enrollments WHERE id = $1",
      [enrolled.id],
    );
    const boxes = await provider.context.db.query<{ box: Uint8Array }>(
      "SELECT box FROM recovery_boxes WHERE enrollment_id = $1",
      [enrolled.id],
    );
    expect(boxes).toHaveLength(1);
    const bytes = (column: string) => new Uint8Array((row as Record<string, unknown>)[column] as Uint8Array);
    const oprfKey = bytes("oprf_key");
    const masterKey = provider.context.masterKey;
    const ticketSecret = providerTicketKeys(masterKey).secretKey;
    const asScalar = (b: Uint8Array) => numberToBytesLE(bytesToNumberLE(b) % ristretto255.Point.Fn.ORDER, 32);

    // Not one 32-byte value in its rows or derived from its master key is the OPRF key k (k·G = K).
    const candidates = [
      ticketSecret,
      masterKey.mac("face-oprf-seed", utf8ToBytes("v1")),
      masterKey.mac("operator-ticket-key", utf8ToBytes("v1")),
      // The per-enrollment key the provider used to derive, and evaluate with.
      ristretto255_oprf.oprf.deriveKeyPair(
        masterKey.mac("face-oprf-seed", utf8ToBytes("v1")),
        utf8ToBytes(`keyshard face enrollment ${enrolled.id}`),
      ).secretKey,
      ...["oprf_key", "recovery_key", "auth_key"].map(bytes),
      ...boxes.flatMap((b) => {
        const box = new Uint8Array(b.box);
        return Array.from({ length: box.length - 31 }, (_, i) => box.slice(i, i + 32));
      }),
    ].map(asScalar);
    const K = ristretto255.Point.fromBytes(oprfKey);
    for (const k of candidates) {
      const n = bytesToNumberLE(k);
      if (n !== 0n) expect(ristretto255.Point.BASE.multiply(n).equals(K)).toBe(false);
    }

    // With the TRUE face secret, no evaluation the provider can compute opens the wrapped key.
    const blind = blindFaceSecret(enrolled.id, email, enrolled.secret);
    const B = ristretto255.Point.fromBytes(blind.blinded);
    const evaluations = [
      ...candidates.filter((k) => bytesToNumberLE(k) !== 0n).map((k) => B.multiply(bytesToNumberLE(k)).toBytes()),
      // The public key itself, and the blinded element unevaluated.
      oprfKey,
      blind.blinded,
    ];
    for (const evaluated of evaluations)
      expect(() =>
        unwrapRecoveryKey(
          faceWrapKey(blind, evaluated),
          enrolled.id,
          bytes("recovery_key"),
          bytes("wrapped_key"),
          oprfKey,
        ),
      ).toThrow(RecoveryBoxError);

    // The device with two operators' answers does: each such answer is an online, counted, mailed guess.
    const fresh = await verifiedDevice(provider, email, 2);
    const guess = await guessFace(fresh, email, enrolled.id, enrolled.secret);
    expect(guess.recovery?.secretKey).toEqual(enrolled.recovery.secretKey);
  });
});

describe("face recovery without operators, and the operator settings", () => {
  it("a provider that lists no recovery operators refuses face enrollment", async () => {
    const provider = await startTestProvider("pglite");
    try {
      const listed = await fetch(`${provider.url}/v1/recovery/operators`).then((r) => r.json());
      expect(listed).toMatchObject({ threshold: 2, operators: [] });
      const phone = await activeDevice(provider, "alone@example.com");
      const started = await phone.request("POST", "/v1/recovery/enrollments", {
        id: randomUUID(),
        kind: "owner",
        helper: helperAndSecret().helper,
      });
      expect(started.status).toBe(409);
      expect(started.body.error).toBe("no-recovery-operators");
      expect(await provider.context.db.query("SELECT 1 FROM face_enrollments")).toEqual([]);
      // Nor does it count, or mail, a guess no operator could answer.
      const ticket = await phone.request("POST", `/v1/recovery/enrollments/${randomUUID()}/tickets`, {
        blinded: bytesToHex(ristretto255.Point.BASE.toBytes()),
      });
      expect(ticket.status).toBe(409);
      expect(ticket.body.error).toBe("no-recovery-operators");
    } finally {
      await provider.stop();
    }
  });

  it("refuses operator settings that cannot work before anything starts", async () => {
    const key = (n: number) => n.toString(16).padStart(64, "0");
    const good = [
      { url: "http://127.0.0.1:7001/", key: key(0xabc).toUpperCase() },
      { url: "https://operator.example", key: key(2) },
    ];
    expect(resolveRecoveryOperators(good, undefined)).toEqual({
      recoveryOperators: [
        { index: 1, url: "http://127.0.0.1:7001", key: key(0xabc) },
        { index: 2, url: "https://operator.example", key: key(2) },
      ],
      recoveryThreshold: 2,
    });
    expect(resolveRecoveryOperators(undefined, undefined)).toEqual({ recoveryOperators: [], recoveryThreshold: 2 });
    const refused: [Parameters<typeof resolveRecoveryOperators>, RegExp][] = [
      [[[{ url: "ftp://x.example", key: key(1) }, good[1] as never], 2], /not an http\(s\) URL/],
      [[[{ url: "not a url", key: key(1) }, good[1] as never], 2], /not a URL/],
      [[[{ url: "https://u:p@x.example", key: key(1) }, good[1] as never], 2], /credentials/],
      [[[{ url: "https://x.example", key: key(1).slice(2) }, good[1] as never], 2], /not 32 bytes of hex/],
      [[[good[0] as never, { url: "https://other.example", key: key(0xabc) }], 2], /same key/],
      [[[good[0] as never, { url: "http://127.0.0.1:7001", key: key(3) }], 2], /same url/],
      [[good, 3], /needs at least 3/],
      [[good, 1], /from 2 to 16/],
      [[good, 2.5], /from 2 to 16/],
      [[Array.from({ length: 17 }, (_, i) => ({ url: `https://o${i}.example`, key: key(i + 1) })), 2], /at most 16/],
      // Plain http only on loopback: elsewhere tickets and guesses would cross the network in the clear.
      ...["http://operator.example", "http://10.0.0.7:7001", "http://127.0.0.1.example", "http://[::2]"].map(
        (url): [Parameters<typeof resolveRecoveryOperators>, RegExp] => [
          [[{ url, key: key(1) }, good[1] as never], 2],
          /plain http on a host that is not loopback/,
        ],
      ),
    ];
    for (const [[operators, threshold], message] of refused)
      expect(() => resolveRecoveryOperators(operators, threshold)).toThrow(message);

    for (const url of ["http://127.5.6.7:7001", "http://[::1]:7001", "http://localhost:7001"])
      expect(resolveRecoveryOperators([{ url, key: key(1) }, good[1] as never], 2).recoveryOperators[0]?.url).toBe(url);

    expect(parseRecoveryOperators(` https://a.example#${key(1)}, https://b.example/x#${key(2)} `)).toEqual([
      { url: "https://a.example", key: key(1) },
      { url: "https://b.example/x", key: key(2) },
    ]);
    expect(parseRecoveryOperators("")).toEqual([]);
    expect(() => parseRecoveryOperators("http://a.example")).toThrow(RecoveryOperatorsError);
    // The start refuses them before it opens anything.
    await expect(startTestProvider("pglite", { recoveryOperators: good, recoveryThreshold: 3 })).rejects.toThrow(
      RecoveryOperatorsError,
    );
  });
});

describe("npm start with operator settings", () => {
  /** `npm start` with `env` until it exits or prints the ticket key; its exit code (null: it ran) and output. */
  async function start(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
    const dataDir = mkdtempSync(join(tmpdir(), "keyshard-operators-setting-"));
    const child = spawn(process.execPath, START_ARGUMENTS, {
      env: { ...process.env, KEYSHARD_DATA_DIR: dataDir, PORT: "0", KEYSHARD_LOG: "off", DATABASE_URL: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let ran = false;
    const read = (d: Buffer) => {
      output += d.toString();
      if (!ran && output.includes("must trust ticket key")) {
        ran = true;
        child.kill("SIGTERM");
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    const [code] = await once(child, "exit");
    rmSync(dataDir, { recursive: true, force: true });
    return { code: ran ? null : code, output };
  }
  const key = (n: number) => n.toString(16).padStart(64, "0");

  it("exits 2 naming a setting it cannot use, and prints the ticket key operators must trust", async () => {
    for (const [env, message] of [
      [{ KEYSHARD_RECOVERY_OPERATORS: "http://a.example" }, /KEYSHARD_RECOVERY_OPERATORS lists url#key items/],
      [{ KEYSHARD_RECOVERY_THRESHOLD: "two" }, /KEYSHARD_RECOVERY_THRESHOLD must be a whole number/],
      [
        {
          KEYSHARD_RECOVERY_OPERATORS: `https://a.example#${key(1)},https://b.example#${key(2)}`,
          KEYSHARD_RECOVERY_THRESHOLD: "3",
        },
        /refuses to start: the recovery threshold 3 needs at least 3 recovery operators/,
      ],
    ] as const) {
      const refused = await start(env);
      expect(refused.code, refused.output).toBe(2);
      expect(refused.output).toMatch(message);
    }
    const masterKey = key(7);
    const ran = await start({
      KEYSHARD_MASTER_KEY: masterKey,
      KEYSHARD_RECOVERY_OPERATORS: `https://a.example#${key(1)},https://b.example#${key(2)},https://c.example#${key(3)}`,
    });
    expect(ran.code, ran.output).toBeNull();
    expect(ran.output).toContain(
      `recovery operators must trust ticket key ${bytesToHex(providerTicketKeys(new MasterKey(hexToBytes(masterKey))).publicKey)} (2 of 3 answer together)`,
    );
  }, 180_000);
});

describe("enrollments made when the provider held the OPRF key", () => {
  it("are retired by the migration, and their boxes deleted", async () => {
    const provider = await startTestProvider("postgres");
    try {
      const phone = await activeDevice(provider, "old@example.com");
      const wallet = await createWallet(phone, "old", "frost-ed25519", ALLOW_SOL);
      const accountId = (await phone.request("GET", "/v1/devices/self")).body.accountId as string;
      const db = provider.context.db;
      // The database as it was before migration 020…
      await db.query("ALTER TABLE face_enrollments DROP CONSTRAINT IF EXISTS face_enrollments_oprf_key_check");
      await db.query("ALTER TABLE face_enrollments DROP COLUMN oprf_key");
      await db.query("DELETE FROM schema_migrations WHERE name = '020_face_operators.sql'");
      // …with an active enrollment, a replaced one and a started one, made the old way.
      const ids = { active: randomUUID(), replaced: randomUUID(), pending: randomUUID(), waiting: randomUUID() };
      for (const [status, id] of Object.entries(ids))
        await db.query(
          `INSERT INTO face_enrollments (id, account_id, kind, email, helper, wrapped_key, recovery_key, auth_key, status, created_by, created_ms)
             VALUES ($1, $2, 'owner', 'old@example.com', '{}', $3, $4, $5, $6, $7, 1)`,
          [id, accountId, new Uint8Array(60), new Uint8Array(32), new Uint8Array(32), status, phone.id],
        );
      await db.query(
        "INSERT INTO recovery_boxes (enrollment_id, wallet_id, epoch, box, updated_ms) VALUES ($1, $2, 0, $3, 1)",
        [ids.active, wallet.walletId, Uint8Array.of(1, 2, 3)],
      );
      // The waiting one's guarded change is still running.
      const change = randomUUID();
      await db.query(
        `INSERT INTO account_changes (id, account_id, kind, subject, summary, requested_by, requested_ms, effective_ms, status, cancel_mac)
           VALUES ($1, $2, 'owner-enrollment', $3, 'a face enrollment', $4, 1, 2, 'pending', $5)`,
        [change, accountId, ids.waiting, phone.id, randomBytes(32)],
      );
      const mailsBefore = (await db.query("SELECT 1 FROM outbox WHERE recipient = 'old@example.com'")).length;

      const migrated = await openDatabase({ postgresUrl: provider.databaseUrl as string });
      try {
        const rows = await migrated.query<{
          id: string;
          status: string;
          helper: string;
          wrapped_key: Uint8Array | null;
          auth_key: Uint8Array | null;
        }>("SELECT id, status, helper, wrapped_key, auth_key FROM face_enrollments");
        expect(Object.fromEntries(rows.map((r) => [r.id, r.status]))).toEqual({
          [ids.active]: "retired",
          [ids.replaced]: "replaced",
          [ids.pending]: "retired",
          [ids.waiting]: "retired",
        });
        // Its change ends cancelled rather than "taking effect", and the owner is told, once.
        expect(await migrated.query("SELECT status, finished_by FROM account_changes WHERE id = $1", [change])).toEqual(
          [{ status: "cancelled", finished_by: "provider" }],
        );
        const mails = await migrated.query<{ subject: string; body: string }>(
          "SELECT subject, body FROM outbox WHERE recipient = 'old@example.com' ORDER BY id",
        );
        expect(mails.length).toBe(mailsBefore + 1);
        expect(mails.at(-1)?.body).toMatch(/Enroll your face again/);
        // The provider could test face guesses against any of them with its old key: what it would
        // test them with is gone from every one, live or not.
        for (const row of rows) expect(row).toMatchObject({ helper: "", wrapped_key: null, auth_key: null });
        expect(await migrated.query("SELECT 1 FROM recovery_boxes")).toEqual([]);
        // Nothing can make an enrollment recoverable without its OPRF key again.
        await expect(
          migrated.query("UPDATE face_enrollments SET status = 'active' WHERE id = $1", [ids.active]),
        ).rejects.toThrow();
      } finally {
        await migrated.close();
      }
      // The account sees no enrollment that recovers.
      expect((await phone.request("GET", "/v1/recovery/keys")).body).toEqual({ enrollments: [] });
    } finally {
      await provider.stop();
    }
  });
});
