/**
 * Face recovery and heirs through the real HTTP API on PGlite, with the provider's clock moved by
 * the test. The face secret here is the extractor's 18-bit output as the device would have it
 * (the pictures themselves are tested in the wallet's CLI test): what is checked is what the
 * provider keeps, what it releases and to whom, the rate limit and its mails, the proof of
 * recovery, the transfer hold after a recovery, and the heirs' inactivity rule, reminders and veto.
 */
import { randomUUID } from "node:crypto";
import { enroll, POPULATION_MEAN } from "@keyshard/biometric";
import { buildSolTransfer, solanaAddress } from "@keyshard/chains";
import { scheme } from "@keyshard/mpc";
import {
  blindFaceSecret,
  faceBoxContext,
  faceWrapKey,
  newRecoveryKey,
  openRecoveryBox,
  type RecoveryKeyPair,
  recoveryAuthKey,
  sealToRecoveryKey,
  signRecoveryClaim,
  unwrapRecoveryKey,
  wrapRecoveryKey,
} from "@keyshard/recovery";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweepHeirNotices } from "../src/recovery/heirs.js";
import {
  activeDevice,
  createWallet,
  mailed,
  mailedCode,
  startTestProvider,
  TestDevice,
  type TestProvider,
  type TestWallet,
} from "./harness.js";

const DAY = 24 * 3600_000;
const address = () => solanaAddress(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
const ALLOW_SOL = [{ name: "any SOL", when: { asset: ["SOL"] }, decision: "allow" }];

/** What a device enrolls: helper data from some embedding, and the secret it yields. */
function helperAndSecret() {
  const embedding = Float32Array.from({ length: 128 }, () => Math.random() - 0.5);
  return enroll(embedding, POPULATION_MEAN);
}

interface Enrolled {
  id: string;
  secret: Uint8Array;
  recovery: RecoveryKeyPair;
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

/** The wallet CLI's enrollment, by hand: OPRF round, wrapped recovery key, sealed shares. */
async function enrollFace(
  device: TestDevice,
  email: string,
  wallets: TestWallet<"frost-ed25519">[],
  heir?: { email: string; inactivityDays?: number },
): Promise<Enrolled> {
  const id = randomUUID();
  const { helper, secret } = helperAndSecret();
  const bound = heir?.email ?? email;
  const blind = blindFaceSecret(id, bound, secret);
  const body = {
    id,
    kind: heir ? "heir" : "owner",
    ...(heir && { heirEmail: heir.email }),
    ...(heir?.inactivityDays && { inactivityDays: heir.inactivityDays }),
    helper,
  };
  // An all-zero string is no group element: refused, and nothing is kept.
  expect((await device.request("POST", "/v1/recovery/enrollments", { ...body, blinded: "00".repeat(32) })).status).toBe(
    400,
  );
  const started = await device.request("POST", "/v1/recovery/enrollments", {
    ...body,
    blinded: bytesToHex(blind.blinded),
  });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  expect(started.body.email).toBe(bound);
  const recovery = newRecoveryKey();
  const wrapped = wrapRecoveryKey(faceWrapKey(blind, hexToBytes(started.body.evaluated as string)), id, recovery);
  const finish = (boxes: unknown[]) =>
    device.request("PUT", `/v1/recovery/enrollments/${id}`, {
      wrappedKey: bytesToHex(wrapped),
      recoveryKey: bytesToHex(recovery.publicKey),
      authKey: bytesToHex(recoveryAuthKey(recovery).publicKey),
      boxes,
    });
  const boxes = wallets.map((w) => ({ walletId: w.walletId, epoch: 0, box: sealShare(w, recovery) }));
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
  return { id, secret, recovery };
}

/** A new device's attempt with face secret `secret`: the recovery key, or null when the face is another. */
async function tryFace(device: TestDevice, email: string, id: string, secret: Uint8Array) {
  const blind = blindFaceSecret(id, email, secret);
  const reply = await device.request("POST", `/v1/recovery/enrollments/${id}/evaluate`, {
    blinded: bytesToHex(blind.blinded),
  });
  if (reply.status !== 200) return { status: reply.status, recovery: null };
  try {
    const recovery = unwrapRecoveryKey(
      faceWrapKey(blind, hexToBytes(reply.body.evaluated as string)),
      id,
      hexToBytes(reply.body.recoveryKey as string),
      hexToBytes(reply.body.wrappedKey as string),
    );
    return { status: 200, recovery };
  } catch {
    return { status: 200, recovery: null };
  }
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
  let provider: TestProvider;
  beforeAll(async () => {
    // No account-change delay: an enrollment's wait and its cancellation are tested in account-changes.test.ts.
    provider = await startTestProvider("pglite", {
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
            blinded: bytesToHex(blindFaceSecret(randomUUID(), email, Uint8Array.of(1)).blinded),
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
    for (const table of ["face_enrollments", "recovery_boxes", "face_attempts"]) {
      const dump = JSON.stringify(await provider.context.db.query(`SELECT * FROM ${table}`));
      // 128 floats would show as a long run of decimals; nothing like an embedding is there.
      expect(dump).not.toMatch(/(-?0\.\d+,){16}/);
    }

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

    // Another face: the OPRF answer unwraps nothing, and a made-up proof is refused.
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
          blinded: bytesToHex(blindFaceSecret(randomUUID(), email, Uint8Array.of(1)).blinded),
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
    const claimed = await claim(heirDevice, heir.id, got.recovery as RecoveryKeyPair);
    expect(claimed.status, JSON.stringify(claimed.body)).toBe(200);
    expect(claimed.body.recoveryId).toBeNull();
    const theirs = (await heirDevice.request("GET", "/v1/wallets")).body.wallets as { id: string }[];
    expect(theirs.map((w) => w.id)).toContain(wallet.walletId);
    expect((await owner.request("GET", `/v1/wallets/${wallet.walletId}`)).status).toBe(404);
    expect(await visible()).toEqual([]);
  });
});
