/**
 * Starting the provider's side of a request's signatures: one run per message not yet signed (a
 * PSBT may need several) — a two-party session for a hybrid wallet, a relayed run with the
 * request's signer devices for a t-of-n wallet. A run for the same message that is still going
 * is superseded — failed — so that a device that lost a reply can start again.
 */
import { randomUUID } from "node:crypto";
import { scheme } from "@keyshard/mpc";
import type { ProviderContext } from "../context.js";
import { startProviderParty } from "../relay/provider-party.js";
import { createRelaySession } from "../relay/relay.js";
import { type SessionReply, startSession } from "../sessions/driver.js";
import type { SessionParty } from "../sessions/live-parties.js";
import { heldShare } from "../sessions/share-cache.js";
import type { Queryable } from "../store/queryable.js";
import { failRequestParties } from "../store/relay-parties.js";
import { failRequestSessions } from "../store/sessions.js";
import { unsignedMessages } from "../store/sign-requests.js";
import type { WalletRow } from "../store/wallets.js";
import { type MemberView, memberViews, signingParties } from "../wallets/members.js";

export interface SigningSession extends SessionReply {
  sid: string;
  /** Which of the request's messages this session signs. */
  index: number;
  /** The PSBT input, for Bitcoin. */
  input?: number;
}

/** A relayed signing run: the devices run their parties through the relay with the provider's. */
export interface RelayedSigning {
  relayId: string;
  sid: string;
  index: number;
  input?: number;
  /** The party indices taking part, the provider's among them. */
  parties: number[];
  members: MemberView[];
}

export interface StartedSigning {
  sessions: SigningSession[];
  relays: RelayedSigning[];
  /** Hand each to `ctx.parties` once the transaction has committed. */
  parties: [sessionId: string, round: number, party: SessionParty][];
}

interface UnsignedMessage {
  idx: number;
  input: number | null;
  message: Uint8Array;
}

/** A device's first round of one signature's session, under the sid it chose (hex). */
export interface DeviceOpening {
  sid: string;
  messages: unknown[];
}

export async function startSigning(
  ctx: ProviderContext,
  tx: Queryable,
  wallet: WalletRow,
  request: { id: string; path: string | null; signers: string | null },
  device: { id: string; accountId: string },
  /**
   * The request's messages when this transaction has just stored it, so no run of it exists yet,
   * with the device's first rounds if it sent them (hybrid wallets: one per message, in order).
   * Without them the request is signed again (a release or a retry): its messages not yet signed
   * are read, and runs of it still going are superseded.
   */
  fresh?: { messages: UnsignedMessage[]; openings?: DeviceOpening[] },
): Promise<StartedSigning> {
  if (fresh === undefined) {
    await failRequestSessions(tx, request.id, ctx.now());
    await failRequestParties(tx, request.id, ctx.now());
  }
  const unsigned: UnsignedMessage[] = fresh?.messages ?? (await unsignedMessages(tx, request.id));
  const share = heldShare(
    wallet.share === null ? null : ctx.shares.get(wallet.id, wallet.scheme, new Uint8Array(wallet.share)),
  );
  const started: StartedSigning = { sessions: [], relays: [], parties: [] };
  if (wallet.members !== null) {
    const members = JSON.parse(wallet.members) as string[];
    const signers = JSON.parse(request.signers as string) as string[];
    const parties = signingParties(ctx, members, wallet.threshold, signers);
    const views = await memberViews(ctx, tx, members);
    for (const item of unsigned) {
      const relay = await createRelaySession(ctx, tx, device, {
        participants: signers,
        purpose: `signature ${item.idx} of request ${request.id}`,
        withProvider: true,
      });
      const partyIndex = members.indexOf(ctx.identityId);
      await startProviderParty(
        ctx,
        tx,
        {
          relay,
          accountId: wallet.account_id,
          walletId: wallet.id,
          kind: "sign",
          signRequestId: request.id,
          messageIndex: item.idx,
          members,
          parties,
          partyIndex,
        },
        (sid) =>
          scheme(wallet.scheme).sign(share, {
            sid,
            message: new Uint8Array(item.message),
            signers: parties,
            ...(request.path !== null && { path: request.path }),
          }),
      );
      started.relays.push({
        relayId: relay.id,
        sid: Buffer.from(relay.sid).toString("hex"),
        index: item.idx,
        ...(item.input !== null && { input: item.input }),
        parties,
        members: views,
      });
    }
    return started;
  }
  for (const item of unsigned) {
    const opening = fresh?.openings?.[item.idx];
    const sid =
      opening === undefined
        ? crypto.getRandomValues(new Uint8Array(32))
        : new Uint8Array(Buffer.from(opening.sid, "hex"));
    const { reply, party } = await startSession(
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
      (claimed) => {
        // Taken only once the sid is claimed: a refused sid spends no precomputation.
        const precomputed = ctx.shares.takePrecomputation(wallet.id);
        return scheme(wallet.scheme).sign(share, {
          sid: claimed,
          message: new Uint8Array(item.message),
          ...(request.path !== null && { path: request.path }),
          ...(precomputed !== undefined && { precomputed }),
        });
      },
      opening?.messages,
    );
    started.sessions.push({
      ...reply,
      sid: Buffer.from(sid).toString("hex"),
      index: item.idx,
      ...(item.input !== null && { input: item.input }),
    });
    started.parties.push([reply.sessionId, reply.round, party]);
  }
  return started;
}
