/**
 * Backup by request: the provider releases its share of a hybrid wallet, sealed to a recovery
 * key of this device, after a delay the account is told about. Once downloaded and checked, the
 * wallet signs on this device alone.
 */
import { endpoints } from "@keyshard/api";
import { type Share, scheme } from "@keyshard/mpc";
import { backupBoxContext, newRecoveryKey, openRecoveryBox, RecoveryBoxError } from "@keyshard/recovery";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import type { Device } from "../device/device.js";
import { WalletError } from "../errors.js";
import { present } from "../replies.js";
import type { StoredWallet } from "../state.js";
import type { BackupStatus } from "../types.js";
import { signAlone } from "./sign.js";

/**
 * Asks for the provider's share of a hybrid wallet, sealed to this device's recovery key (with
 * the account's TOTP code where it has one).
 */
export async function backupRequest(device: Device, name: string, totp?: string): Promise<BackupStatus> {
  const wallet = device.find(name);
  if (wallet.members !== null)
    throw new WalletError("usage", "backup by request releases a hybrid wallet's provider share; this one is t-of-n");
  if (device.state.recovery === undefined) {
    const key = newRecoveryKey();
    await device.save((s) => {
      s.recovery ??= { secretKey: bytesToHex(key.secretKey), publicKey: bytesToHex(key.publicKey) };
    });
  }
  const recoveryKey = (device.state.recovery as { publicKey: string }).publicKey;
  return device.client.request(endpoints.requestBackup, {
    params: { id: wallet.id },
    body: { recoveryKey, ...(totp && { totp }) },
  });
}

export const backupStatus = (device: Device, name: string): Promise<BackupStatus> =>
  device.client.request(endpoints.backupStatus, { params: { id: device.find(name).id } });

export const backupCancel = (device: Device, name: string): Promise<BackupStatus> =>
  device.client.request(endpoints.cancelBackup, { params: { id: device.find(name).id } });

/**
 * Once the delay has passed: opens the released share with the recovery key, checks that the
 * two shares sign under the wallet's key, and keeps it.
 */
export async function backupDownload(device: Device, name: string): Promise<StoredWallet> {
  const wallet = device.find(name);
  const reply = await device.client.request(endpoints.downloadBackup, { params: { id: wallet.id } });
  const box = present(reply.box, "released share");
  const recovery = device.state.recovery;
  if (recovery === undefined)
    throw new WalletError(
      "keystore",
      "this device holds no recovery key: download the backup on the device that asked for it",
    );
  const engine = scheme(wallet.scheme);
  let providerShare: Share;
  try {
    const bytes = openRecoveryBox(
      { secretKey: hexToBytes(recovery.secretKey), publicKey: hexToBytes(recovery.publicKey) },
      backupBoxContext(wallet.id),
      hexToBytes(box),
    );
    providerShare = engine.decodeShare(bytes);
  } catch (e) {
    if (e instanceof RecoveryBoxError || e instanceof RangeError || (e as { name?: string }).name === "ProtocolAbort")
      throw new WalletError(
        "signing-failed",
        `the released backup is not usable here: ${(e as Error).message}`,
        {},
        { cause: e },
      );
    throw e;
  }
  if (bytesToHex(engine.publicKey(providerShare)) !== wallet.publicKey)
    throw new WalletError("signing-failed", "the released share belongs to another key");
  const stored = { ...wallet, providerShare: bytesToHex(engine.encodeShare(providerShare)) };
  // A signature made here proves the pair before the wallet relies on it.
  signAlone(device, stored, crypto.getRandomValues(new Uint8Array(32)), undefined);
  await device.save((s) => {
    const w = s.wallets.find((x) => x.id === wallet.id);
    if (w !== undefined) w.providerShare = stored.providerShare;
  });
  return device.find(wallet.id);
}
