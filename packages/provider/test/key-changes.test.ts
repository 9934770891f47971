/**
 * Refresh and backup of hybrid wallets through the real HTTP API, on PGlite and PostgreSQL.
 * A refresh is two-phase: the old shares keep signing until the device confirms its new share,
 * then only the new ones do, and the public key never changes. A backup waits out its delay (with
 * mails, cancellable), then releases the provider's share sealed to the recovery key, after which
 * the provider signs nothing for the wallet and the user alone does.
 */
import { buildEthereumTransaction, ethereumSigningDigest } from "@keyshard/chains";
import { runLocal, type ShareOf, type SignResultOf, scheme } from "@keyshard/mpc";
import { backupBoxContext, newRecoveryKey, openRecoveryBox } from "@keyshard/recovery";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

const DAY = 24 * 60 * 60_000;
const ecdsa = scheme("ecdsa2p");

const transfer = (nonce: number) =>
  buildEthereumTransaction({
    chainId: 1,
    nonce,
    to: "0x00000000000000000000000000000000000b0b00",
    value: 10n ** 15n,
    gas: 21_000n,
    maxFeePerGas: 10n ** 10n,
    maxPriorityFeePerGas: 10n ** 9n,
  });

/** Whether a 65-byte r ‖ s ‖ v signature over `digest` recovers to `publicKey` (hex, compressed). */
function signs(signature: Uint8Array, digest: Uint8Array, publicKey: string): boolean {
  const recovered = secp256k1.Signature.fromBytes(signature.subarray(0, 64), "compact")
    .addRecoveryBit(signature[64] as number)
    .recoverPublicKey(digest)
    .toBytes(true);
  return bytesToHex(recovered) === publicKey;
}

describe.each<DatabaseKind>(["pglite", "postgres"])("refresh and backup on %s", (kind) => {
  let provider: TestProvider;
  let device: TestDevice;
  let wallet: TestWallet<"ecdsa2p">;
  let nonce = 0;
  beforeAll(async () => {
    provider = await startTestProvider(kind, { backupDelayMs: 2 * DAY });
    device = await activeDevice(provider, "keys@example.com");
    wallet = await createWallet(device, "main", "ecdsa2p");
  });
  afterAll(async () => {
    await provider?.stop();
  });

  /** Asks the provider to co-sign a transfer with `share` at `epoch`; the signature, or the refusal. */
  async function sign(share: ShareOf<"ecdsa2p">, epoch: number): Promise<{ status: number; signature?: Uint8Array }> {
    const payload = transfer(nonce++);
    const asked = await device.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload: bytesToHex(payload),
      chainId: 1,
      epoch,
    });
    if (asked.status !== 201) return { status: asked.status };
    const session = (asked.body.sessions as SessionReply[])[0] as SessionReply;
    const party = ecdsa.sign(share, { sid: hexToBytes(session.sid), message: ethereumSigningDigest(payload) });
    const done = await drive(device, party, session);
    const signature = hexToBytes(done.signature as string);
    expect(signs(signature, ethereumSigningDigest(payload), wallet.publicKey)).toBe(true);
    return { status: 201, signature };
  }

  const epochOf = async () => (await device.request("GET", `/v1/wallets/${wallet.walletId}`)).body.epoch as number;

  async function refresh(): Promise<{ epoch: number; share: ShareOf<"ecdsa2p">; publicKey: string }> {
    const started = await device.request("POST", `/v1/wallets/${wallet.walletId}/key-changes`, {});
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const session = started.body.session as SessionReply;
    const party = ecdsa.refresh(wallet.share, hexToBytes(session.sid));
    const done = await drive(device, party, session);
    const share = party.result();
    return { epoch: started.body.epoch as number, share, publicKey: done.publicKey as string };
  }

  it("a refresh keeps the key; the old shares sign until the device confirms, then only the new ones", async () => {
    const next = await refresh();
    expect(next.publicKey).toBe(wallet.publicKey);
    expect(bytesToHex(ecdsa.publicKey(next.share))).toBe(wallet.publicKey);
    expect(bytesToHex(ecdsa.encodeShare(next.share))).not.toBe(bytesToHex(ecdsa.encodeShare(wallet.share)));
    // Not confirmed yet: epoch 0 still signs with the old shares.
    expect(await epochOf()).toBe(0);
    expect((await sign(wallet.share, 0)).status).toBe(201);

    const confirm = (key: string) =>
      device.request("POST", `/v1/wallets/${wallet.walletId}/key-changes/${next.epoch}/confirm`, { publicKey: key });
    expect((await confirm(wallet.publicKey)).body).toEqual({ epoch: next.epoch, committed: true });
    // Asking again (a lost answer) changes nothing.
    expect((await confirm(wallet.publicKey)).body).toEqual({ epoch: next.epoch, committed: true });
    expect(await epochOf()).toBe(next.epoch);
    // A device still on the old epoch is told so before any run starts.
    const stale = await device.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload: bytesToHex(transfer(nonce++)),
      chainId: 1,
      epoch: 0,
    });
    expect(stale.status).toBe(409);
    expect(String(stale.body.message)).toMatch(/epoch/);
    wallet = { ...wallet, share: next.share };
    expect((await sign(wallet.share, next.epoch)).status).toBe(201);
    const audit = await device.request("GET", "/v1/audit");
    const actions = (audit.body.entries as { action: string }[]).map((e) => e.action);
    expect(actions).toContain("key-change.committed");
    expect((await device.request("GET", "/v1/audit/verify")).body.ok).toBe(true);
  });

  it("a device reporting another key fails the change; the current shares stay", async () => {
    const before = await epochOf();
    const next = await refresh();
    const wrong = bytesToHex(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true));
    const confirmed = await device.request("POST", `/v1/wallets/${wallet.walletId}/key-changes/${next.epoch}/confirm`, {
      publicKey: wrong,
    });
    expect(confirmed.status).toBe(409);
    expect(await epochOf()).toBe(before);
    // The failure is kept, not rolled back with the refusal: the change is over, and audited.
    const [change] = await provider.context.db.query<{ status: string }>(
      "SELECT status FROM key_changes WHERE wallet_id = $1 AND epoch = $2",
      [wallet.walletId, next.epoch],
    );
    expect(change?.status).toBe("failed");
    const audited = await device.request("GET", "/v1/audit");
    expect((audited.body.entries as { action: string }[]).map((e) => e.action)).toContain("key-change.failed");
    expect((await sign(wallet.share, before)).status).toBe(201);
    // A device of another account cannot start or confirm anything on this wallet.
    const stranger = await activeDevice(provider, "stranger@example.com");
    expect((await stranger.request("POST", `/v1/wallets/${wallet.walletId}/key-changes`, {})).status).toBe(404);
    expect(
      (
        await stranger.request("POST", `/v1/wallets/${wallet.walletId}/key-changes/${next.epoch}/confirm`, {
          publicKey: wallet.publicKey,
        })
      ).status,
    ).toBe(404);
    // A hybrid wallet does not reshare.
    const reshare = await device.request("POST", `/v1/wallets/${wallet.walletId}/key-changes`, { threshold: 3 });
    expect(reshare.status).toBe(400);
  });

  it("a backup waits out its delay with mails, can be cancelled, then makes the user the only signer", async () => {
    const epoch = await epochOf();
    const recovery = newRecoveryKey();
    const path = `/v1/wallets/${wallet.walletId}/backup`;
    const asked = await device.request("POST", path, { recoveryKey: bytesToHex(recovery.publicKey) });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    expect(asked.body.status).toBe("waiting");
    expect(await mailed(provider.mails, "keys@example.com", "asked for the provider's share of wallet main")).toBe(
      true,
    );
    expect((await device.request("POST", path, { recoveryKey: bytesToHex(recovery.publicKey) })).status).toBe(409);
    // Another device of the account cancels it (the owner noticing a thief's request).
    const other = await addDevice(provider, device, "keys@example.com");
    expect((await other.request("POST", `${path}/cancel`)).body.status).toBe("cancelled");
    provider.advance(3 * DAY);
    expect((await device.request("POST", `${path}/download`)).status).toBe(404);
    expect((await sign(wallet.share, epoch)).status).toBe(201);

    expect((await device.request("POST", path, { recoveryKey: bytesToHex(recovery.publicKey) })).status).toBe(201);
    provider.advance(DAY);
    const early = await device.request("POST", `${path}/download`);
    expect(early.status).toBe(409);
    expect(String(early.body.message)).toMatch(/released on/);
    expect((await sign(wallet.share, epoch)).status).toBe(201);

    provider.advance(DAY + 60_000);
    const released = await device.request("POST", `${path}/download`);
    expect(released.status, JSON.stringify(released.body)).toBe(200);
    expect(released.body.status).toBe("released");
    // The box opens with the recovery key, for this wallet only.
    const box = hexToBytes(released.body.box as string);
    expect(() => openRecoveryBox(newRecoveryKey(), backupBoxContext(wallet.walletId), box)).toThrow();
    const providerShare = ecdsa.decodeShare(openRecoveryBox(recovery, backupBoxContext(wallet.walletId), box));
    // The provider signs nothing more for this wallet and no longer holds a share.
    const refused = await device.request("POST", `/v1/wallets/${wallet.walletId}/sign-requests`, {
      chain: "ethereum",
      payload: bytesToHex(transfer(nonce++)),
      chainId: 1,
    });
    expect(refused.status).toBe(409);
    expect(String(refused.body.message)).toMatch(/self-custodied/);
    const [row] = await provider.context.db.query<{ share: Uint8Array | null; state: string }>(
      "SELECT share, state FROM wallets WHERE id = $1",
      [wallet.walletId],
    );
    expect(row).toEqual({ share: null, state: "self-custodied" });
    // The same box again for a download whose answer was lost.
    expect((await device.request("POST", `${path}/download`)).body.box).toBe(released.body.box);
    expect(await mailed(provider.mails, "keys@example.com", "is now self-custodied")).toBe(true);

    // The user alone: both shares on one side sign under the wallet's key.
    const digest = ethereumSigningDigest(transfer(nonce++));
    const sid = crypto.getRandomValues(new Uint8Array(32));
    const [signature] = runLocal([
      ecdsa.sign(wallet.share, { sid, message: digest }),
      ecdsa.sign(providerShare, { sid, message: digest }),
    ]);
    expect(signs(ecdsa.signatureBytes(signature as SignResultOf<"ecdsa2p">), digest, wallet.publicKey)).toBe(true);
    expect((await device.request("GET", "/v1/audit/verify")).body.ok).toBe(true);
  });
});
