/**
 * What happens to a signed transaction: it is kept before it is broadcast, so that a retry of the
 * same send finds it and broadcasts it again instead of paying twice, and it is settled once its
 * outcome is known (mined, or refused for good).
 */

import type { ChainName, SigningRequest } from "@keyshard/chains";
import { ethereumReceipt } from "../chains/ethereum.js";
import { nodeRefusal, shownUrl } from "../chains/rpc.js";
import {
  broadcastSent,
  canStillBeMined,
  KEPT_SENDS,
  keptRecord,
  keptSend,
  onChainOf,
  sentState,
} from "../chains/sent.js";
import type { Device } from "../device/device.js";
import { WalletError } from "../errors.js";
import { finishRequest } from "../requests.js";
import type { SendIntent, SentTransaction, StoredWallet } from "../state.js";
import type { SignOutcome, TransactionStatus } from "../types.js";

/** How long a send waits for an Ethereum receipt unless told otherwise. */
export const RECEIPT_WAIT_MS = 30_000;

/**
 * The signatures made into the signed transaction or message; a transaction given an `rpc` is
 * kept (when it has an `intent`, so that a retry finds it) and broadcast.
 */
export async function finish(
  device: Device,
  wallet: StoredWallet,
  body: SigningRequest,
  signed: { requestId?: string; signatures: Uint8Array[] },
  rpc: string | undefined,
  intent?: SendIntent,
  receiptWaitMs?: number,
): Promise<SignOutcome> {
  const key = device.keyOf(wallet, body.path);
  const finished = await finishRequest(body, signed.signatures, key);
  const outcome: SignOutcome = { ...(signed.requestId && { requestId: signed.requestId }), ...finished };
  if ((body.kind ?? "transaction") !== "transaction") return outcome;
  if (rpc === undefined) return { ...outcome, broadcast: false };
  const sent = keptRecord({
    walletId: wallet.id,
    body,
    publicKey: key.publicKey,
    finished,
    signatures: signed.signatures,
    ...(signed.requestId && { requestId: signed.requestId }),
    rpc,
    // A held request from before sends were kept has no intent: it is broadcast, not kept.
    intent: intent ?? { to: "", amount: "" },
  });
  // Kept before the broadcast: whatever happens next, a retry finds this transaction.
  if (intent !== undefined) await device.save((s) => void (s.sent = [...(s.sent ?? []), sent].slice(-KEPT_SENDS)));
  return deliver(device, wallet, sent, outcome, rpc, receiptWaitMs ?? RECEIPT_WAIT_MS);
}

/**
 * Broadcasts a kept transaction through `rpc` (Ethereum: and waits for its receipt). A node that
 * cannot be reached, or a receipt that does not come, leaves it kept for a retry, and the error
 * says so; a node that refuses it settles it: it will not be mined, so a retry signs anew.
 */
async function deliver(
  device: Device,
  wallet: StoredWallet,
  sent: SentTransaction,
  outcome: SignOutcome,
  rpc: string,
  receiptWaitMs: number,
): Promise<SignOutcome> {
  const id = sent.transactionId;
  const follow = { step: "transaction-status", wallet: wallet.name, chain: sent.chain, transactionId: id } as const;
  device.progress(`broadcasting ${id} to ${shownUrl(rpc)}`);
  try {
    await broadcastSent(sent, rpc);
  } catch (e) {
    if (!(e instanceof WalletError)) throw e;
    if (nodeRefusal(e) !== undefined) {
      await settle(device, sent);
      // A Bitcoin node without -txindex cannot say whether a transaction it refuses now was
      // mined before: the person must look before paying anew.
      throw new WalletError(
        "rpc-failed",
        `${e.message}. Transaction ${id} was not taken.${outcome.sentBefore ? " If it was mined before, it has paid." : ""} The same send again signs a new one`,
        { transactionId: id },
        { cause: e, ...(outcome.sentBefore && { next: follow }) },
      );
    }
    throw new WalletError(
      e.code,
      `${e.message}. Transaction ${id} is signed and kept: the same send again broadcasts it, it does not pay twice`,
      { ...e.details, transactionId: id },
      { cause: e },
    );
  }
  const out = { ...outcome, transactionId: id, broadcast: true };
  if (sent.chain === "ethereum") {
    const receipt = await ethereumReceipt(rpc, id, receiptWaitMs);
    if (receipt === undefined)
      throw new WalletError(
        "unconfirmed",
        `transaction ${id} is out: the node took it, but it was not mined within ${receiptWaitMs / 1000} s, and it can still be. The same send again broadcasts this transaction again, it does not pay twice`,
        { transactionId: id, ...(sent.requestId && { requestId: sent.requestId }) },
        { next: follow },
      );
    await settle(device, sent);
    return { ...out, receiptStatus: receipt.status };
  }
  await settle(device, sent);
  return out;
}

/** Marks a kept transaction's outcome as known: the same send from now on is a new payment. */
function settle(device: Device, sent: SentTransaction): Promise<void> {
  return device.save((s) => {
    for (const kept of s.sent ?? []) if (kept.transactionId === sent.transactionId) kept.settled = true;
  });
}

/**
 * A retry of a send whose transaction is kept and unsettled: that transaction's outcome if it
 * was mined, the same transaction broadcast again if it still can be, and undefined — sign
 * anew — only when it never can be (its nonce taken, its blockhash expired).
 */
export async function sendAgain(
  device: Device,
  wallet: StoredWallet,
  chain: ChainName,
  intent: SendIntent,
  rpc: string,
  receiptWaitMs: number,
): Promise<SignOutcome | undefined> {
  const kept = keptSend(device.state.sent ?? [], wallet.id, chain, intent);
  if (kept === undefined || !(await onChainOf(kept, rpc))) return undefined;
  const now = await sentState(kept, rpc);
  const outcome: SignOutcome = {
    ...(kept.requestId && { requestId: kept.requestId }),
    signed: kept.signed,
    sentBefore: true,
  };
  if (now.state === "confirmed" || now.state === "failed") {
    device.progress(`this send was made before: ${kept.transactionId} is mined; nothing new was signed`);
    await settle(device, kept);
    return {
      ...outcome,
      transactionId: kept.transactionId,
      broadcast: true,
      ...(chain === "ethereum" && { receiptStatus: now.state === "confirmed" ? 1 : 0 }),
    };
  }
  if (canStillBeMined(now)) {
    device.progress(`this send was signed before as ${kept.transactionId}, which can still be mined: sending it again`);
    return deliver(device, wallet, kept, outcome, rpc, receiptWaitMs);
  }
  device.progress(
    `${kept.transactionId}, signed before for this send, can never be mined (${now.state}): signing anew`,
  );
  await settle(device, kept);
  return undefined;
}

export interface TransactionQuery {
  wallet: string;
  chain: ChainName;
  /** The transaction's id, or its request's. */
  id: string;
  /** The node to ask (default: the one it was sent through). */
  rpc?: string;
}

/** What became of a transaction this device sent from `wallet` on `chain`, by its id or its request's. */
export async function transactionStatus(device: Device, query: TransactionQuery): Promise<TransactionStatus> {
  const wallet = device.find(query.wallet);
  const kept = [...(device.state.sent ?? [])]
    .reverse()
    .find(
      (s) =>
        s.walletId === wallet.id &&
        s.chain === query.chain &&
        (s.transactionId === query.id || s.requestId === query.id),
    );
  if (kept === undefined)
    throw new WalletError(
      "usage",
      `this device sent no ${query.chain} transaction or request ${query.id} from wallet ${wallet.name}`,
    );
  const now = await sentState(kept, query.rpc ?? kept.rpc);
  return {
    transactionId: kept.transactionId,
    ...(kept.requestId && { requestId: kept.requestId }),
    ...now,
  };
}
