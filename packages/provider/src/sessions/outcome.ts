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
import { lockWallet } from "../store/wallets.js";
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
  share: unknown,
): Promise<Uint8Array> {
  const engine = scheme(run.scheme);
  const key = engine.publicKey(share as Share);
  await tx.query("UPDATE wallets SET share = $2, public_key = $3 WHERE id = $1", [
    run.walletId,
    ctx.masterKey.seal(engine.encodeShare(share as Share), `share:${run.walletId}`),
    key,
  ]);
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
  const [wallet] = await tx.query<{
    scheme: string;
    members: string | null;
    public_key: Uint8Array | null;
    share: Uint8Array | null;
  }>("SELECT scheme, members, public_key, share FROM wallets WHERE id = $1 AND state = 'creating'", [run.walletId]);
  if (wallet === undefined) return;
  // Who reports a key: the provider when it holds a share (hybrid, or a member), and each device member.
  const members = wallet.members === null ? null : (JSON.parse(wallet.members) as string[]);
  const providerTakesPart = members === null || members.includes(ctx.identityId);
  const deviceMembers = members?.filter((m) => m !== ctx.identityId) ?? [];
  const confirmed =
    deviceMembers.length === 0
      ? []
      : await tx.query<{ public_key: Uint8Array }>("SELECT public_key FROM wallet_confirmations WHERE wallet_id = $1", [
          run.walletId,
        ]);
  const keys = confirmed.map((c) => bytesToHex(new Uint8Array(c.public_key)));
  if (providerTakesPart && wallet.share !== null && wallet.public_key !== null)
    keys.push(bytesToHex(new Uint8Array(wallet.public_key)));
  if (new Set(keys).size > 1) {
    await tx.query("UPDATE wallets SET state = 'failed' WHERE id = $1", [run.walletId]);
    await auditRun(ctx, tx, run, "wallet.failed", {
      wallet: run.walletId,
      reason: "members report different public keys",
    });
    return;
  }
  if (keys.length < deviceMembers.length + (providerTakesPart ? 1 : 0)) return;
  await tx.query("UPDATE wallets SET state = 'active', public_key = $2 WHERE id = $1", [
    run.walletId,
    Buffer.from(keys[0] as string, "hex"),
  ]);
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
  result: unknown,
): Promise<Uint8Array> {
  const signature = scheme(run.scheme).signatureBytes(result as SignResultOf);
  // The runs of one request (a PSBT's inputs) may finish at the same moment on different
  // connections: locking the request first (the lock its update takes anyway) makes the last of
  // them see every other's signature. (The update's condition does not see the signature its own
  // first part stores, hence `idx <> $2`.)
  await tx.query("SELECT id FROM sign_requests WHERE id = $1 FOR NO KEY UPDATE", [run.requestId]);
  const completed = await tx.query(
    `WITH stored AS (UPDATE request_signatures SET signature = $3 WHERE request_id = $1 AND idx = $2)
     UPDATE sign_requests SET status = 'signed' WHERE id = $1
       AND NOT EXISTS (SELECT 1 FROM request_signatures WHERE request_id = $1 AND idx <> $2 AND signature IS NULL)
     RETURNING id`,
    [run.requestId, run.messageIndex, signature],
  );
  if (completed.length === 1) await auditRun(ctx, tx, run, "request.signed", { request: run.requestId });
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
  if (run.kind === "keygen") await tx.query("UPDATE wallets SET state = 'failed' WHERE id = $1", [run.walletId]);
  else if (run.kind === "sign")
    await tx.query("UPDATE sign_requests SET status = 'failed' WHERE id = $1", [run.requestId]);
  else await failKeyChange(ctx, tx, { ...run, epoch: run.epoch as number }, abort.reason);
  await auditRun(ctx, tx, run, "session.aborted", {
    session: run.session,
    kind: run.kind,
    culprit: abort.culprit,
    reason: abort.reason,
  });
}
