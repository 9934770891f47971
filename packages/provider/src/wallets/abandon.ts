/**
 * Abandoning a wallet whose key generation never finished (interrupted, timed out or failed), so
 * that its name can be used again. Any device of the account may do it: the key does not exist,
 * so nothing can be lost or taken, and the alternative is a name burnt for good. A wallet whose
 * key was made is never abandoned here, even one still waiting for its member devices to confirm
 * the key: its shares may hold funds. A failed one may be, whatever it holds: its key was refused.
 * The wallet's runs end with it: its key generation's relay session expires at once (so the
 * devices still waiting in it stop, and `wallet join` no longer offers it) and the provider's
 * parties and sessions in it fail, their sealed states erased.
 */

import { appendAudit } from "../audit/log.js";
import type { ProviderContext } from "../context.js";
import { conflict } from "../errors.js";
import type { Queryable } from "../store/queryable.js";
import { expireRelaySessionsOf } from "../store/relay.js";
import { failWalletParties } from "../store/relay-parties.js";
import { failWalletSessions } from "../store/sessions.js";
import { anyConfirmation, findWallet, markAbandoned } from "../store/wallets.js";

export async function abandonWallet(
  ctx: ProviderContext,
  tx: Queryable,
  device: { id: string; accountId: string },
  walletId: string,
): Promise<{ walletId: string; name: string }> {
  const wallet = await findWallet(tx, walletId, device.accountId, { lock: true });
  if (wallet.state !== "creating" && wallet.state !== "failed")
    throw conflict(
      wallet.state === "abandoned"
        ? `wallet ${wallet.name} was deleted already`
        : `wallet ${wallet.name} has its key (${wallet.state}): only a wallet whose key generation never finished can be deleted`,
    );
  // A t-of-n wallet stays `creating` until every member device confirms its key, but the key is
  // made before that: the provider's party stores its share and the public key as its run ends,
  // and each device that confirms has stored its own share. Deleting it then would erase the
  // provider's share while those devices keep theirs, of a key that may already hold funds.
  if (wallet.state === "creating" && (wallet.public_key !== null || (await anyConfirmation(tx, walletId))))
    throw conflict(
      `wallet ${wallet.name} has its key, made but not yet confirmed by every member device: only a wallet whose key generation never finished can be deleted`,
    );
  const now = ctx.now();
  await markAbandoned(tx, walletId);
  await expireRelaySessionsOf(tx, device.accountId, `keygen of wallet ${wallet.name}`, now);
  await failWalletParties(tx, walletId, now);
  await failWalletSessions(tx, walletId, now);
  await appendAudit(tx, {
    chain: device.accountId,
    atMs: now,
    actor: device.id,
    action: "wallet.abandoned",
    details: { wallet: walletId, name: wallet.name, was: wallet.state },
  });
  return { walletId, name: wallet.name };
}
