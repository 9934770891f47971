/**
 * "The secret is in you", on the device: enrolling a face (the owner's, or an heir's) and
 * recovering the hybrid wallets from it on a new device. The face is read into an embedding that
 * stays in memory; what leaves the device is helper data, a blinded OPRF input, the wrapped
 * recovery key and the shares sealed to the recovery public key.
 *
 * Recovery is local first: the liveness challenge and the fuzzy extractor run on the device, so
 * a face that does not decode, or frames that do not answer the challenge, spend no guess at the
 * provider. Only then does one OPRF round (a counted, mailed guess) turn the face secret into the
 * key that unwraps the recovery key.
 */
import { randomUUID } from "node:crypto";
import { endpoints } from "@keyshard/api";
import {
  BiometricError,
  type Challenge,
  captureFace,
  checkLiveness,
  describeChallenge,
  enrollFace,
  parseChallenge,
  parseHelperData,
  readFrames,
  reproduceFace,
} from "@keyshard/biometric";
import { isSchemeName, scheme } from "@keyshard/mpc";
import {
  blindFaceSecret,
  faceBoxContext,
  faceWrapKey,
  newRecoveryKey,
  openRecoveryBox,
  RecoveryBoxError,
  type RecoveryKeyPair,
  recoveryAuthKey,
  sealToRecoveryKey,
  signRecoveryClaim,
  unwrapRecoveryKey,
  wrapRecoveryKey,
} from "@keyshard/recovery";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { ProviderClient } from "./client.js";
import type { Device } from "./device/device.js";
import { WalletError } from "./errors.js";
import { present } from "./replies.js";
import type { StoredWallet } from "./state.js";

/** What face recovery needs of the wallet: its provider link and its hybrid wallets. */
export interface FaceLink {
  client: ProviderClient;
  email: string;
  wallets(): StoredWallet[];
  progress(message: string): void;
}

/** The face from pictures or frames, with biometric errors turned into the wallet's. */
async function capture(paths: readonly string[]) {
  try {
    return await captureFace(readFrames(paths));
  } catch (e) {
    if (e instanceof BiometricError)
      throw new WalletError(e.code === "models" ? "face-models" : "usage", `face: ${e.message}`, {}, { cause: e });
    throw e;
  }
}

const hybrid = (link: FaceLink) => link.wallets().filter((w) => w.members === null && w.providerShare === undefined);

/** What a box holds: the device's wallet record with its share at the wallet's epoch. */
function boxOf(wallet: StoredWallet, recoveryKey: Uint8Array): string {
  const { id, name, scheme: s, publicKey, share, index, threshold, members } = wallet;
  const content = { id, name, scheme: s, publicKey, share, index, threshold, members, epoch: wallet.epoch ?? 0 };
  return bytesToHex(
    sealToRecoveryKey(recoveryKey, faceBoxContext(id), new TextEncoder().encode(JSON.stringify(content))),
  );
}

/**
 * Enrolls the face in `paths` for the owner, or for an heir named by `heir.email`; `totp`: the
 * account's code, needed where it has a TOTP. The enrollment takes effect at `effectiveAt`.
 */
export async function enrollFaceAt(
  link: FaceLink,
  paths: readonly string[],
  heir?: { email: string; inactivityDays?: number },
  totp?: string,
): Promise<{ enrollmentId: string; wallets: number; effectiveAt: string }> {
  const face = await capture(paths);
  const { helper, secret } = enrollFace(face);
  const id = randomUUID();
  const email = (heir?.email ?? link.email).toLowerCase();
  const blind = blindFaceSecret(id, email, secret);
  const started = await link.client.request(endpoints.startEnrollment, {
    body: {
      id,
      kind: heir ? "heir" : "owner",
      ...(heir && { heirEmail: email }),
      ...(heir?.inactivityDays !== undefined && { inactivityDays: heir.inactivityDays }),
      helper,
      blinded: bytesToHex(blind.blinded),
    },
  });
  if (started.email !== email)
    throw new WalletError("provider-refused", `the provider bound the enrollment to ${started.email}, not ${email}`);
  const recovery = newRecoveryKey();
  const wrapped = wrapRecoveryKey(wrapKeyOf(blind, started.evaluated), id, recovery);
  const wallets = hybrid(link);
  const done = await link.client.request(endpoints.completeEnrollment, {
    params: { id },
    body: {
      wrappedKey: bytesToHex(wrapped),
      recoveryKey: bytesToHex(recovery.publicKey),
      authKey: bytesToHex(recoveryAuthKey(recovery).publicKey),
      boxes: wallets.map((w) => ({ walletId: w.id, epoch: w.epoch ?? 0, box: boxOf(w, recovery.publicKey) })),
      ...(totp !== undefined && { totp }),
    },
  });
  return { enrollmentId: id, wallets: wallets.length, effectiveAt: present(done.effectiveAt, "effective time") };
}

function wrapKeyOf(blind: ReturnType<typeof blindFaceSecret>, evaluated: string): Uint8Array {
  try {
    return faceWrapKey(blind, hexToBytes(evaluated));
  } catch (e) {
    throw new WalletError(
      "provider-refused",
      `the provider's OPRF answer is not usable: ${(e as Error).message}`,
      {},
      { cause: e },
    );
  }
}

/** Seals a hybrid wallet's current share to every enrollment again (a new wallet, a refresh). */
export async function sealRecoveryBoxes(link: FaceLink, wallet: StoredWallet): Promise<number> {
  if (wallet.members !== null || wallet.providerShare !== undefined) return 0;
  const { enrollments } = await link.client.request(endpoints.recoveryKeys);
  if (enrollments.length === 0) return 0;
  const reply = await link.client.request(endpoints.resealRecoveryBoxes, {
    params: { id: wallet.id },
    body: {
      epoch: wallet.epoch ?? 0,
      boxes: enrollments.map((e) => ({
        enrollmentId: e.id,
        box: boxOf(wallet, hexToBytes(present(e.recoveryKey, "recovery key"))),
      })),
    },
  });
  return reply.sealed;
}

/** A box's content read strictly: it comes back from the provider, which may have altered it. */
function walletFromBox(recovery: RecoveryKeyPair, box: { walletId: string; epoch: number; box: string }): StoredWallet {
  let content: Record<string, unknown>;
  try {
    content = JSON.parse(
      new TextDecoder().decode(openRecoveryBox(recovery, faceBoxContext(box.walletId), hexToBytes(box.box))),
    );
  } catch (e) {
    throw new WalletError("signing-failed", `a recovered box does not open: ${(e as Error).message}`, {}, { cause: e });
  }
  const bad = (why: string, cause?: unknown) =>
    new WalletError("signing-failed", `the recovered box of ${box.walletId} ${why}`, {}, { cause });
  const { id, name, scheme: s, publicKey, share, index, threshold, members, epoch } = content;
  if (id !== box.walletId || epoch !== box.epoch) throw bad("is for another wallet or epoch");
  if (typeof name !== "string" || typeof publicKey !== "string" || typeof share !== "string") throw bad("is malformed");
  if (typeof s !== "string" || !isSchemeName(s) || members !== null || index !== 0 || threshold !== 2)
    throw bad("is not a hybrid wallet's device share");
  const engine = scheme(s);
  try {
    if (bytesToHex(engine.publicKey(engine.decodeShare(hexToBytes(share)))) !== publicKey)
      throw bad("holds a share of another key");
  } catch (e) {
    if (e instanceof WalletError) throw e;
    throw bad(`holds no share: ${(e as Error).message}`, e);
  }
  return { id, name, scheme: s, publicKey, share, index: 0, threshold: 2, members: null, epoch };
}

export interface Recovered {
  kind: "owner" | "heir";
  wallets: StoredWallet[];
  recoveryId: string | null;
  holdUntil: string | null;
}

/**
 * Recovers with the face: asks for the enrollments and a liveness challenge, lets the person
 * capture (`ready`), checks liveness, decodes the face locally, and spends one guess per
 * enrollment that decodes.
 */
export async function recoverWithFace(
  link: FaceLink & { deviceId: string },
  paths: readonly string[],
  ready: (challenge: Challenge) => Promise<void>,
): Promise<Recovered> {
  const listed = await link.client.request(endpoints.recoverableEnrollments);
  if (listed.enrollments.length === 0)
    throw new WalletError(
      "provider-refused",
      "no face enrollment is open to this device: was a face enrolled for this email (or, for an heir, has the owner's inactivity passed)?",
    );
  let challenge: Challenge;
  try {
    challenge = parseChallenge(listed.challenge);
  } catch (e) {
    throw new WalletError(
      "provider-refused",
      "the provider's liveness challenge is not one this device knows",
      {},
      { cause: e },
    );
  }
  await ready(challenge);
  const face = await capture(paths);
  const live = checkLiveness(face.faces, challenge);
  if (!live.live)
    throw new WalletError("liveness", `liveness: the frames do not ${describeChallenge(challenge)} (${live.reason})`);
  for (const enrollment of listed.enrollments) {
    let secret: Uint8Array;
    try {
      secret = reproduceFace(face, parseHelperData(enrollment.helper)).secret;
    } catch (e) {
      if (e instanceof BiometricError) continue;
      throw e;
    }
    link.progress(`the face decodes against enrollment ${enrollment.id}: asking the provider (one counted attempt)`);
    const blind = blindFaceSecret(enrollment.id, enrollment.email, secret);
    const answer = await link.client.request(endpoints.evaluateFaceGuess, {
      params: { id: enrollment.id },
      body: { blinded: bytesToHex(blind.blinded) },
    });
    let recovery: RecoveryKeyPair;
    try {
      recovery = unwrapRecoveryKey(
        wrapKeyOf(blind, answer.evaluated),
        enrollment.id,
        hexToBytes(answer.recoveryKey),
        hexToBytes(answer.wrappedKey),
      );
    } catch (e) {
      if (e instanceof RecoveryBoxError) continue;
      throw e;
    }
    const claimed = await link.client.request(endpoints.claimRecovery, {
      params: { id: enrollment.id },
      body: { signature: bytesToHex(signRecoveryClaim(recovery, enrollment.id, link.deviceId)) },
    });
    return {
      kind: enrollment.kind,
      wallets: claimed.boxes.map((b) => walletFromBox(recovery, b)),
      recoveryId: claimed.recoveryId,
      holdUntil: claimed.holdUntil,
    };
  }
  throw new WalletError("no-match", "this face does not match any enrollment open to this device");
}

/** The face link of `device`: its provider, its account's email and its wallets. */
export function faceLink(device: Device): FaceLink & { deviceId: string } {
  const provider = device.state.provider;
  if (provider === null) throw new WalletError("not-registered", "register with a provider first");
  return {
    client: device.client,
    email: provider.email,
    wallets: () => device.state.wallets,
    progress: device.progress,
    deviceId: device.deviceId,
  };
}

/**
 * A hybrid wallet's share, sealed again to every face enrollment: after it is made and after
 * each refresh, or a recovery would bring back a share that no longer signs.
 */
export async function sealForRecovery(device: Device, wallet: StoredWallet): Promise<void> {
  const sealed = await sealRecoveryBoxes(faceLink(device), wallet);
  if (sealed > 0) device.progress(`sealed ${wallet.name}'s share for face recovery (${sealed} enrollments)`);
}
