/**
 * Guarded account changes, run as a thief holding only the owner's wallet device (its identity
 * key) would run them: replacing the owner's face enrollment and asking for the provider's share
 * need the account's TOTP code, and with a code they only wait, mailed, while the owner's other
 * device — or a device the owner recovers with the face enrollment that stays in force — cancels
 * them. A first TOTP the thief enrolls waits likewise, passes no rule meanwhile, and is cancelled
 * by the owner's other device or by the token in the mail. On PGlite and PostgreSQL.
 */
import { randomUUID } from "node:crypto";
import {
  faceBoxContext,
  newRecoveryKey,
  type RecoveryKeyPair,
  sealToRecoveryKey,
  signRecoveryClaim,
} from "@keyshard/recovery";
import { bytesToHex } from "@noble/hashes/utils.js";
import { base32 } from "@scure/base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totp } from "../src/policy/totp.js";
import { type DealtFace, dealFace, guessFace, helperAndSecret, startProviderWithOperators } from "./face-device.js";
import {
  activeDevice,
  addDevice,
  createWallet,
  type DatabaseKind,
  deviceGroup,
  mailed,
  mailedCode,
  mailText,
  TestDevice,
  type TestProvider,
  type TestWallet,
} from "./harness.js";

const HOUR = 3600_000;
const DELAY = 48 * HOUR;
const BACKUP_DELAY = 7 * 24 * HOUR;
const REQUIRE_TOTP = [{ name: "everything", when: {}, decision: "require-totp" }];

interface Face {
  id: string;
  secret: Uint8Array;
  recovery: RecoveryKeyPair;
}

/**
 * The wallet's enrollment, by hand: the OPRF key dealt to the recovery operators, the wrapped
 * recovery key and the wallet's share sealed to it. Returns the finishing reply and what a new
 * device would recover with.
 */
async function enrollFace(device: TestDevice, wallet: TestWallet, code?: string) {
  const id = randomUUID();
  const { helper, secret } = helperAndSecret();
  const { started, face } = await dealFace(device, { id, kind: "owner", helper }, secret);
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  const { recovery, completion } = face as DealtFace;
  const box = sealToRecoveryKey(recovery.publicKey, faceBoxContext(wallet.walletId), Uint8Array.of(1, 2, 3));
  const done = await device.request("PUT", `/v1/recovery/enrollments/${id}`, {
    ...completion,
    boxes: [{ walletId: wallet.walletId, epoch: 0, box: bytesToHex(box) }],
    ...(code && { totp: code }),
  });
  return { done, face: { id, secret, recovery } satisfies Face };
}

/** A new device of the account proves the email, then recovers with `face`: it becomes active. */
async function recoverWithFace(provider: TestProvider, email: string, face: Face): Promise<TestDevice> {
  const device = new TestDevice(provider.url, provider.now);
  const codes = provider.mails.filter((m) => m.to === email && /code is/.test(mailText(m))).length;
  await device.request("POST", "/v1/devices", { identityKey: device.identityKey, email, name: "new phone" });
  await device.request("POST", "/v1/devices/verify", { code: await mailedCode(provider.mails, email, codes + 1) });
  const offered = await device.request("GET", "/v1/recovery/enrollments");
  expect((offered.body.enrollments as { id: string }[]).map((e) => e.id)).toEqual([face.id]);
  const guess = await guessFace(device, email, face.id, face.secret);
  expect(guess.status, JSON.stringify(guess.ticket.body)).toBe(200);
  const recovery = guess.recovery as RecoveryKeyPair;
  const claimed = await device.request("POST", `/v1/recovery/enrollments/${face.id}/claim`, {
    signature: bytesToHex(signRecoveryClaim(recovery, face.id, device.id)),
  });
  expect(claimed.status, JSON.stringify(claimed.body)).toBe(200);
  return device;
}

/** The cancel token in the `nth` change mail to `email` whose text contains `about`, waiting for it. */
async function cancelToken(provider: TestProvider, email: string, about: string, nth: number): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const tokens = provider.mails
      .filter((m) => m.to === email)
      .map(mailText)
      .filter((t) => t.includes(about))
      .flatMap((t) => t.match(/cancel token: ([0-9a-f]{64})/)?.[1] ?? []);
    const token = tokens[nth - 1];
    if (token) return token;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no change mail about ${about} to ${email}`);
}

describe.each(["pglite", "postgres"] as DatabaseKind[])("guarded account changes (%s)", (kind) => {
  let provider: TestProvider;
  beforeAll(async () => {
    provider = await startProviderWithOperators(kind, { policyDelayMs: DELAY, backupDelayMs: BACKUP_DELAY });
  });
  afterAll(async () => {
    await provider?.stop();
  });

  /** Starts and confirms a TOTP from `device`; returns its secret and the confirmation's reply. */
  async function newTotp(device: TestDevice, current?: Uint8Array) {
    const started = await device.request("POST", "/v1/totp", current ? { code: code(current) } : {});
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const secret = base32.decode(started.body.secret as string);
    return { secret, confirmed: await device.request("POST", "/v1/totp/confirm", { code: code(secret) }) };
  }

  /** A fresh code: each 30-second step is good once, so the clock moves to the next one. */
  const code = (secret: Uint8Array) => {
    provider.advance(30_000);
    return totp(secret, provider.now());
  };

  it("the stolen device alone cannot replace the face enrollment or take the provider's share; with a code both wait and the owner cancels them", async () => {
    const email = "owner@example.com";
    const [phone, laptop] = (await deviceGroup(provider, email, 2)) as [TestDevice, TestDevice];
    const owned = await newTotp(phone);
    expect(owned.confirmed.body).toMatchObject({ enrolled: false });
    provider.advance(DELAY);
    const wallet = await createWallet(phone, "main", "frost-ed25519", REQUIRE_TOTP);
    const ownerFace = await enrollFace(phone, wallet, code(owned.secret));
    expect(ownerFace.done.body).toMatchObject({ status: "waiting" });
    provider.advance(DELAY);
    const keys = async () =>
      ((await laptop.request("GET", "/v1/recovery/keys")).body.enrollments as { id: string; status: string }[]).map(
        (e) => `${e.id}:${e.status}`,
      );
    expect(await keys()).toEqual([`${ownerFace.face.id}:active`]);

    // The phone is stolen. Without the TOTP code: nothing.
    const thief = phone;
    const refused = await enrollFace(thief, wallet);
    expect(refused.done).toMatchObject({ status: 403, body: { error: "totp-required" } });
    const backupPath = `/v1/wallets/${wallet.walletId}/backup`;
    const recoveryKey = bytesToHex(newRecoveryKey().publicKey);
    expect((await thief.request("POST", backupPath, { recoveryKey })).body).toMatchObject({ error: "totp-required" });
    expect(await keys()).toEqual([`${ownerFace.face.id}:active`]);

    // With a code the thief learned: both wait, mailed, and the owner's enrollment stays in force.
    const replaced = await enrollFace(thief, wallet, code(owned.secret));
    expect(replaced.done.status, JSON.stringify(replaced.done.body)).toBe(200);
    expect(replaced.done.body).toMatchObject({ status: "waiting" });
    expect(await mailed(provider.mails, email, "asked for a face enrollment")).toBe(true);
    const backup = await thief.request("POST", backupPath, { recoveryKey, totp: code(owned.secret) });
    expect(backup.status, JSON.stringify(backup.body)).toBe(201);
    expect(await mailed(provider.mails, email, "asked for the provider's share of wallet main")).toBe(true);
    const pending = (await laptop.request("GET", "/v1/account-changes")).body.changes as { id: string; kind: string }[];
    expect(pending.map((c) => c.kind).sort()).toEqual(["backup", "owner-enrollment"]);

    // The owner's other device cancels the enrollment; a device the owner recovers with the face
    // enrollment still in force — added after the request — cancels the backup.
    const enrollmentChange = pending.find((c) => c.kind === "owner-enrollment") as { id: string };
    const cancelled = await laptop.request("POST", `/v1/account-changes/${enrollmentChange.id}/cancel`);
    expect(cancelled.body).toMatchObject({ status: "cancelled" });
    expect(await mailed(provider.mails, email, `was cancelled by device ${laptop.id}`)).toBe(true);
    const recovered = await recoverWithFace(provider, email, ownerFace.face);
    expect((await recovered.request("POST", `${backupPath}/cancel`)).body).toMatchObject({ status: "cancelled" });

    provider.advance(BACKUP_DELAY);
    expect((await thief.request("POST", `${backupPath}/download`)).status).toBe(404);
    expect(await keys()).toEqual([`${ownerFace.face.id}:active`]);
    expect((await laptop.request("GET", "/v1/account-changes")).body.changes).toEqual([]);
  });

  it("a backup is released only once its change has taken effect, whatever its own ready time says", async () => {
    const owner = await activeDevice(provider, "ready@example.com");
    const wallet = await createWallet(owner, "kept", "frost-ed25519");
    const path = `/v1/wallets/${wallet.walletId}/backup`;
    const requested = await owner.request("POST", path, { recoveryKey: bytesToHex(newRecoveryKey().publicKey) });
    expect(requested.status, JSON.stringify(requested.body)).toBe(201);
    // The change waits an hour past the backup's own ready time (as after a clock step between them).
    await provider.context.db.query(
      "UPDATE account_changes SET effective_ms = effective_ms + $2 WHERE kind = 'backup' AND subject = $1",
      [requested.body.id, HOUR],
    );
    provider.advance(BACKUP_DELAY + 1000);
    expect(await owner.request("POST", `${path}/download`)).toMatchObject({ status: 409 });
    provider.advance(HOUR);
    expect((await owner.request("POST", `${path}/download`)).status).toBe(200);
  });

  it("the stolen device's first TOTP waits, passes no rule meanwhile, and is cancelled by the other device or the mailed token", async () => {
    const email = "nototp@example.com";
    const [phone, laptop] = (await deviceGroup(provider, email, 2)) as [TestDevice, TestDevice];
    const wallet = await createWallet(phone, "main", "frost-ed25519");
    const thief = phone;

    const first = await newTotp(thief);
    expect(first.confirmed.status, JSON.stringify(first.confirmed.body)).toBe(200);
    expect(first.confirmed.body).toMatchObject({ enrolled: false });
    expect(await mailed(provider.mails, email, "asked for a TOTP authenticator for your account")).toBe(true);
    // Not in force: it passes no code check, and a rule asking for a code cannot be saved.
    const policy = await thief.request("POST", `/v1/wallets/${wallet.walletId}/policy`, {
      policy: REQUIRE_TOTP,
      totp: code(first.secret),
    });
    expect(policy).toMatchObject({ status: 409, body: { error: "totp-not-enrolled" } });
    const looser = await thief.request("POST", `/v1/wallets/${wallet.walletId}/policy`, {
      policy: [{ name: "all", when: {}, decision: "allow" }],
      totp: code(first.secret),
    });
    expect(looser).toMatchObject({ status: 403, body: { error: "totp-not-enrolled" } });
    expect((await thief.request("GET", `/v1/wallets/${wallet.walletId}/policy`)).body.totpEnrolled).toBe(false);
    // A second enrollment waits until the first is decided.
    expect((await thief.request("POST", "/v1/totp", {})).body).toMatchObject({ error: "totp-change-pending" });

    const [change] = (await laptop.request("GET", "/v1/account-changes")).body.changes as { id: string }[];
    expect((await laptop.request("POST", `/v1/account-changes/${(change as { id: string }).id}/cancel`)).status).toBe(
      200,
    );
    provider.advance(DELAY);
    expect((await thief.request("GET", `/v1/wallets/${wallet.walletId}/policy`)).body.totpEnrolled).toBe(false);

    // Again; this time the owner, with no device at hand, cancels with the token in the mail.
    const second = await newTotp(thief);
    expect(second.confirmed.status).toBe(200);
    const token = await cancelToken(provider, email, "asked for a TOTP authenticator", 2);
    const unsigned = (body: unknown) =>
      fetch(`${provider.url}/v1/account-changes/cancel`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    expect(await unsigned({ token: "0".repeat(64) })).toMatchObject({ status: 404, body: { error: "unknown-token" } });
    expect(await unsigned({ token })).toMatchObject({ status: 200, body: { kind: "totp", status: "cancelled" } });
    expect((await unsigned({ token })).status).toBe(409);
    expect(await mailed(provider.mails, email, "with the mailed cancel token")).toBe(true);
    provider.advance(DELAY);
    expect((await thief.request("GET", `/v1/wallets/${wallet.walletId}/policy`)).body.totpEnrolled).toBe(false);
  });

  it("refuses a require-TOTP policy on an account without a TOTP in force, and accepts it once one is", async () => {
    const [phone] = (await deviceGroup(provider, "policy@example.com", 1)) as [TestDevice];
    const refused = await phone.request("POST", "/v1/wallets", {
      name: "strict",
      scheme: "frost-ed25519",
      policy: REQUIRE_TOTP,
    });
    expect(refused).toMatchObject({ status: 409, body: { error: "totp-not-enrolled" } });
    const enrolled = await newTotp(phone);
    expect(
      (await phone.request("POST", "/v1/wallets", { name: "strict", scheme: "frost-ed25519", policy: REQUIRE_TOTP }))
        .status,
    ).toBe(409);
    provider.advance(DELAY);
    await createWallet(phone, "strict", "frost-ed25519", REQUIRE_TOTP);
    // Replacing it needs its code, and the new one waits too while the old one still counts.
    expect((await phone.request("POST", "/v1/totp", {})).body).toMatchObject({ error: "totp-required" });
    const replacement = await newTotp(phone, enrolled.secret);
    expect(replacement.confirmed.status).toBe(200);
    const withNew = await phone.request("POST", "/v1/devices/0123456789abcdef0123456789abcdef/approve", {
      totp: code(replacement.secret),
    });
    expect(withNew.body).toMatchObject({ error: "totp-required" });
  });

  it("a device the stolen one approves waits, inactive, and the owner's other device shuts it out", async () => {
    const email = "devices@example.com";
    const [phone, laptop] = (await deviceGroup(provider, email, 2)) as [TestDevice, TestDevice];
    const accomplice = new TestDevice(provider.url, provider.now);
    const codes = provider.mails.filter((m) => m.to === email && /code is/.test(mailText(m))).length;
    await accomplice.request("POST", "/v1/devices", { identityKey: accomplice.identityKey, email, name: "evil" });
    await accomplice.request("POST", "/v1/devices/verify", {
      code: await mailedCode(provider.mails, email, codes + 1),
    });
    const approved = await phone.request("POST", `/v1/devices/${accomplice.id}/approve`);
    expect(approved.body).toMatchObject({ state: "approved" });
    expect(await mailed(provider.mails, email, `a new device in your account, evil (${accomplice.id})`)).toBe(true);
    expect((await accomplice.request("GET", "/v1/account-changes")).body).toMatchObject({ error: "forbidden" });
    const cancelled = await laptop.request("POST", `/v1/account-changes/${approved.body.changeId as string}/cancel`);
    expect(cancelled.body).toMatchObject({ kind: "device", status: "cancelled" });
    provider.advance(DELAY);
    expect((await accomplice.request("GET", "/v1/account-changes")).body).toMatchObject({
      message: "device is revoked",
    });
    // The honest case: a device added and left alone is active after the delay.
    const tablet = await addDevice(provider, laptop, email);
    expect((await tablet.request("GET", "/v1/account-changes")).status).toBe(200);
  });

  it("the stolen device revokes the owner's other one: the mailed token lets it back in and revokes the thief's, and no device can undo a revocation", async () => {
    const email = "revoked@example.com";
    const [phone, laptop, tablet] = (await deviceGroup(provider, email, 3)) as [TestDevice, TestDevice, TestDevice];
    const thief = phone;
    const refusedAsRevoked = { status: 403, body: { message: "device is revoked" } };

    const revoked = await thief.request("POST", `/v1/devices/${laptop.id}/revoke`, { strandWallets: true });
    expect(revoked.body).toMatchObject({ deviceId: laptop.id, state: "revoked" });
    expect(await laptop.request("GET", "/v1/account-changes")).toMatchObject(refusedAsRevoked);
    const [change] = (await thief.request("GET", "/v1/account-changes")).body.changes as { id: string; kind: string }[];
    expect(change).toMatchObject({ kind: "revocation" });
    // Neither the thief's device nor another of the account's undoes a revocation: only the mailbox.
    for (const device of [thief, tablet])
      expect(await device.request("POST", `/v1/account-changes/${(change as { id: string }).id}/cancel`)).toMatchObject(
        { status: 403, body: { error: "token-only-change" } },
      );

    const token = await cancelToken(
      provider,
      email,
      `device ${laptop.id} is let back in and device ${thief.id} is revoked`,
      1,
    );
    const undone = await fetch(`${provider.url}/v1/account-changes/cancel`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token }),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
    expect(undone).toMatchObject({ status: 200, body: { kind: "revocation", status: "cancelled" } });
    expect((await laptop.request("GET", "/v1/account-changes")).status).toBe(200);
    expect(await thief.request("GET", "/v1/account-changes")).toMatchObject(refusedAsRevoked);

    // The owner's own revocation stays once its window to be undone has passed.
    expect((await laptop.request("POST", `/v1/devices/${tablet.id}/revoke`)).status).toBe(200);
    provider.advance(provider.context.accountChangeDelayMs);
    expect((await laptop.request("GET", "/v1/account-changes")).body.changes).toEqual([]);
    expect(await tablet.request("GET", "/v1/account-changes")).toMatchObject(refusedAsRevoked);
  });
});
