/**
 * Wallets. A hybrid wallet (2-of-2, the creating device party 0, the provider party 1) makes its
 * key over /v1/sessions, one round per request. A t-of-n wallet among the account's devices makes
 * it over the relay, with the provider as the last party or only as the relay; each device then
 * confirms the public key it got, and the wallet is active once all agree. A wallet whose key
 * generation never finished can be deleted, freeing its name (`abandon.ts`).
 */
import { randomUUID } from "node:crypto";
import { canonicalJson, type WalletCreate } from "@keyshard/api";
import { PROVIDER, scheme } from "@keyshard/mpc";
import { appendAudit } from "../audit/log.js";
import type { ProviderContext } from "../context.js";
import type { AuthenticatedDevice } from "../devices/authenticated.js";
import { conflict, forbidden, invalid } from "../errors.js";
import { newWalletPolicy } from "../policy/templates.js";
import { openMembersRun } from "../relay/provider-party.js";
import { startSession } from "../sessions/driver.js";
import { activateIfAgreed } from "../sessions/outcome.js";
import { findKeyChange } from "../store/key-changes.js";
import type { Queryable } from "../store/queryable.js";
import {
  accountWallets,
  findWallet,
  insertConfirmation,
  insertWallet,
  walletNamed,
  walletState,
} from "../store/wallets.js";
import { memberViews } from "./members.js";
import { refuseUnenforceablePolicy } from "./policy-changes.js";

async function createHybrid(
  ctx: ProviderContext,
  tx: Queryable,
  device: AuthenticatedDevice,
  walletId: string,
  body: WalletCreate,
) {
  if (body.threshold !== undefined || body.provider !== undefined)
    throw invalid("threshold and provider go with members (a t-of-n wallet)");
  const sid = crypto.getRandomValues(new Uint8Array(32));
  const { reply: session, party } = await startSession(
    ctx,
    tx,
    { id: randomUUID(), accountId: device.accountId, walletId, kind: "keygen", sid },
    (claimed) => scheme(body.scheme).keygen(claimed, PROVIDER),
  );
  return { reply: { session: { ...session, sid: Buffer.from(sid).toString("hex") } }, party };
}

async function createMultiparty(
  ctx: ProviderContext,
  tx: Queryable,
  device: AuthenticatedDevice,
  walletId: string,
  body: WalletCreate,
  members: string[],
) {
  if (!scheme(body.scheme).multiparty) throw invalid(`${body.scheme} keys are 2-of-2: use dkls23 or FROST`);
  const threshold = body.threshold ?? 2;
  if (members.length < 2 || threshold > members.length)
    throw invalid(`a ${threshold}-of-${members.length} wallet is not possible`);
  const quorum = { t: threshold, n: members.length };
  const relay = await openMembersRun(
    ctx,
    tx,
    device,
    { walletId, kind: "keygen", purpose: `keygen of wallet ${body.name}`, members },
    (sid, index) => scheme(body.scheme).keygen(sid, index, quorum),
  );
  return {
    reply: {
      relayId: relay.id,
      sid: Buffer.from(relay.sid).toString("hex"),
      threshold,
      members: await memberViews(ctx, tx, members),
    },
  };
}

/** Creates a wallet and starts its key generation: the first session round (hybrid) or the relay session (t-of-n). */
export async function createWallet(ctx: ProviderContext, device: AuthenticatedDevice, body: WalletCreate) {
  const policy = newWalletPolicy(ctx.policyTemplates, body);
  await refuseUnenforceablePolicy(ctx.db, device.accountId, policy);
  const walletId = randomUUID();
  const created = await ctx.db.transaction(async (tx) => {
    const taken = await walletNamed(tx, device.accountId, body.name);
    if (taken !== undefined)
      throw conflict(
        taken === "creating" || taken === "failed"
          ? `a wallet named ${body.name} exists whose key generation never finished: delete it to use the name again`
          : `a wallet named ${body.name} exists`,
      );
    const members = body.members && [...body.members, ...(body.provider === false ? [] : [ctx.identityId])];
    await insertWallet(tx, {
      id: walletId,
      accountId: device.accountId,
      name: body.name,
      scheme: body.scheme,
      policy: canonicalJson(policy),
      threshold: body.threshold ?? 2,
      members: members ? JSON.stringify(members) : null,
      createdMs: ctx.now(),
    });
    await appendAudit(tx, {
      chain: device.accountId,
      atMs: ctx.now(),
      actor: device.id,
      action: "wallet.requested",
      details: {
        wallet: walletId,
        name: body.name,
        scheme: body.scheme,
        policy,
        ...(body.policyTemplate !== undefined && { policyTemplate: body.policyTemplate }),
        ...(members && { members, threshold: body.threshold }),
      },
    });
    return members
      ? createMultiparty(ctx, tx, device, walletId, body, members)
      : createHybrid(ctx, tx, device, walletId, body);
  });
  if ("party" in created) ctx.parties.put(created.reply.session.sessionId, 0, created.party);
  return { walletId, ...created.reply };
}

/** A member device of a t-of-n wallet reports the public key its key generation produced. */
export async function confirmWalletKey(
  ctx: ProviderContext,
  device: AuthenticatedDevice,
  walletId: string,
  publicKey: Uint8Array,
): Promise<{ state: string }> {
  return ctx.db.transaction(async (tx) => {
    const wallet = await findWallet(tx, walletId, device.accountId, { lock: true });
    if (wallet.members === null || !(JSON.parse(wallet.members) as string[]).includes(device.id))
      throw forbidden("only a member device of a t-of-n wallet confirms its key");
    if (wallet.state !== "creating") throw conflict(`wallet is ${wallet.state}`);
    if (!(await insertConfirmation(tx, walletId, device.id, publicKey, ctx.now())))
      throw conflict("this device already confirmed");
    await activateIfAgreed(ctx, tx, { accountId: device.accountId, actor: device.id, walletId });
    return { state: await walletState(tx, walletId) };
  });
}

/** The account's wallets. */
export async function listWallets(ctx: ProviderContext, device: AuthenticatedDevice) {
  const rows = await accountWallets(ctx.db, device.accountId);
  return rows.map((w) => ({
    id: w.id,
    name: w.name,
    scheme: w.scheme,
    state: w.state,
    publicKey: w.public_key === null ? null : Buffer.from(w.public_key).toString("hex"),
    threshold: w.threshold,
    epoch: w.epoch,
    members: w.members === null ? null : (JSON.parse(w.members) as string[]),
  }));
}

/** One wallet; a t-of-n wallet with its members' identity keys in party order, and its key change under way. */
export async function walletDetail(ctx: ProviderContext, device: AuthenticatedDevice, walletId: string) {
  const wallet = await findWallet(ctx.db, walletId, device.accountId);
  const change = await findKeyChange(ctx.db, wallet.id);
  return {
    id: wallet.id,
    name: wallet.name,
    scheme: wallet.scheme,
    state: wallet.state,
    publicKey: wallet.public_key === null ? null : Buffer.from(wallet.public_key).toString("hex"),
    epoch: wallet.epoch,
    threshold: wallet.threshold,
    members: wallet.members === null ? null : await memberViews(ctx, ctx.db, JSON.parse(wallet.members) as string[]),
    // The key change under way, for the devices that must take part in it.
    change:
      change === undefined
        ? null
        : {
            epoch: change.epoch,
            kind: change.kind,
            threshold: change.threshold,
            relayId: change.relay_id,
            createdBy: change.created_by,
            members:
              change.members === null ? null : await memberViews(ctx, ctx.db, JSON.parse(change.members) as string[]),
          },
  };
}
