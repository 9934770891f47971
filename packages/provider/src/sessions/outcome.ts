/**
 * What a finished or failed run of the provider's party changes, whichever way its messages came
 * (a two-party session over HTTP or a relayed multi-party run): a key share is sealed into its
 * wallet, a signature into its request, a failure into the wallet, request or key change — each
 * audited (a refresh's or reshare's new share goes through `wallets/key-changes.ts`).
 * A t-of-n wallet becomes active only once every device member has reported the same public key
 * (and, when the provider is a member, the provider's own run agrees).
 */
import { type SchemeName, type Share, type SignResultOf, scheme } from "@keyshard/mpc";
import { bytesToHex } from "@noble/hashes/utils.js";
import { appendAudit } from "../audit/log.js";
import type { ProviderContext } from "../context.js";
import type { Queryable } from "../store/queryable.js";
import { markRequestFailed, storeSignature } from "../store/sign-requests.js";
import {
  activateWallet,
  confirmedPublicKeys,
  creatingWallet,
  lockWallet,
  markWalletFailed,
  storeWalletShare,
} from "../store/wallets.js";
import { failKeyChange } from "../wallets/key-changes.js";

export interface RunContext {
  accountId: string;
  /** Who delivered the last messages (a device id), for the audit log. */
  actor: string;
}

export async function keyMade(
  ctx: ProviderContext,
  tx: Queryable,
  run: RunContext & { walletId: string; scheme: SchemeName },
  share: Share,
): Promise<Uint8Array> {
  const engine = scheme(run.scheme);
  const key = engine.publicKey(share);
  await storeWalletShare(tx, run.walletId, ctx.masterKey.seal(engine.encodeShare(share), `share:${run.walletId}`), key);
  await activateIfAgreed(ctx, tx, run);
  return key;
}

/** Marks a creating wallet active when every member agrees on its key, failed when two disagree. */
export async function activateIfAgreed(
  ctx: ProviderContext,
  tx: Queryable,
  run: RunContext & { walletId: string },
): Promise<void> {
  await lockWallet(tx, run.walletId);
  const wallet = await creatingWallet(tx, run.walletId);
  if (wallet === undefined) return;
  // Who reports a key: the provider when it holds a share (hybrid, or a member), and each device member.
  const members = wallet.members === null ? null : (JSON.parse(wallet.members) as string[]);
  const providerTakesPart = members === null || members.includes(ctx.identityId);
  const deviceMembers = members?.filter((m) => m !== ctx.identityId) ?? [];
  const confirmed = deviceMembers.length === 0 ? [] : await confirmedPublicKeys(tx, run.walletId);
  const keys = confirmed.map((key) => bytesToHex(new Uint8Array(key)));
  if (providerTakesPart && wallet.share !== null && wallet.public_key !== null)
    keys.push(bytesToHex(new Uint8Array(wallet.public_key)));
  if (new Set(keys).size > 1) {
    await markWalletFailed(tx, run.walletId);
    await auditRun(ctx, tx, run, "wallet.failed", {
      wallet: run.walletId,
      reason: "members report different public keys",
    });
    return;
  }
  if (keys.length < deviceMembers.length + (providerTakesPart ? 1 : 0)) return;
  await activateWallet(tx, run.walletId, Buffer.from(keys[0] as string, "hex"));
  await auditRun(ctx, tx, run, "wallet.created", { wallet: run.walletId, scheme: wallet.scheme, publicKey: keys[0] });
}

/** An audit entry on the run's account chain, now. */
function auditRun(ctx: ProviderContext, tx: Queryable, run: RunContext, action: string, details: object) {
  return appendAudit(tx, { chain: run.accountId, atMs: ctx.now(), actor: run.actor, action, details });
}

export async function signatureMade(
  ctx: ProviderContext,
  tx: Queryable,
  run: RunContext & { requestId: string; messageIndex: number; scheme: SchemeName },
  result: SignResultOf,
): Promise<Uint8Array> {
  const signature = scheme(run.scheme).signatureBytes(result);
  if (await storeSignature(tx, run.requestId, run.messageIndex, signature))
    await auditRun(ctx, tx, run, "request.signed", { request: run.requestId });
  return signature;
}

export async function runFailed(
  ctx: ProviderContext,
  tx: Queryable,
  run: RunContext & {
    kind: "keygen" | "sign" | "refresh" | "reshare";
    walletId: string;
    requestId: string | null;
    epoch: number | null;
    session: string;
  },
  abort: { culprit: number | null; reason: string },
): Promise<void> {
  if (run.kind === "keygen") await markWalletFailed(tx, run.walletId);
  else if (run.kind === "sign") await markRequestFailed(tx, run.requestId);
  else await failKeyChange(ctx, tx, { ...run, epoch: run.epoch as number }, abort.reason);
  await auditRun(ctx, tx, run, "session.aborted", {
    session: run.session,
    kind: run.kind,
    culprit: abort.culprit,
    reason: abort.reason,
  });
}
