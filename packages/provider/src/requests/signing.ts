/**
 * Starting the provider's side of a request's signatures: one session per message not yet
 * signed (a PSBT may need several). A session for the same message that is still running is
 * superseded — failed — so that a device that lost a reply can start again, and the request's
 * messages are each signed by at most one session that completes.
 */
import { randomUUID } from "node:crypto";
import type { Party } from "@keyshard/mpc";
import { scheme } from "@keyshard/transport";
import type { ProviderContext } from "../api/context.js";
import { type SessionReply, startSession } from "../sessions/driver.js";
import type { Queryable } from "../store/database.js";
import type { WalletRow } from "../store/wallets.js";

export interface SigningSession extends SessionReply {
  sid: string;
  /** Which of the request's messages this session signs. */
  index: number;
  /** The PSBT input, for Bitcoin. */
  input?: number;
}

export interface StartedSigning {
  sessions: SigningSession[];
  /** Hand each to `ctx.parties` once the transaction has committed. */
  parties: [sessionId: string, party: Party<unknown>][];
}

export async function startSigning(
  ctx: ProviderContext,
  tx: Queryable,
  wallet: WalletRow,
  request: { id: string; path: string | null },
): Promise<StartedSigning> {
  await tx.query(
    "UPDATE sessions SET status = 'failed', state = NULL, updated_ms = $2 WHERE sign_request_id = $1 AND status = 'running'",
    [request.id, ctx.now()],
  );
  const unsigned = await tx.query<{ idx: number; input: number | null; message: Uint8Array }>(
    "SELECT idx, input, message FROM request_signatures WHERE request_id = $1 AND signature IS NULL ORDER BY idx",
    [request.id],
  );
  const share = ctx.shares.get(wallet.id, wallet.scheme, new Uint8Array(wallet.share as Uint8Array));
  const started: StartedSigning = { sessions: [], parties: [] };
  for (const item of unsigned) {
    const sid = crypto.getRandomValues(new Uint8Array(32));
    const precomputed = ctx.shares.takePrecomputation(wallet.id);
    const party = scheme(wallet.scheme).sign(share, {
      sid,
      message: new Uint8Array(item.message),
      ...(request.path !== null && { path: request.path }),
      ...(precomputed !== undefined && { precomputed }),
    });
    const reply = await startSession(
      ctx,
      tx,
      {
        id: randomUUID(),
        accountId: wallet.account_id,
        walletId: wallet.id,
        kind: "sign",
        signRequestId: request.id,
        messageIndex: item.idx,
        sid,
      },
      party,
    );
    started.sessions.push({
      ...reply,
      sid: Buffer.from(sid).toString("hex"),
      index: item.idx,
      ...(item.input !== null && { input: item.input }),
    });
    started.parties.push([reply.sessionId, party]);
  }
  return started;
}
