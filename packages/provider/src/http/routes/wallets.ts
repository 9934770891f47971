/** Wallets and two-party session rounds over HTTP (see `wallets/wallets.ts` and `sessions/driver.ts`). */
import { endpoints } from "@keyshard/api";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { ProviderContext } from "../../context.js";
import { advanceSession } from "../../sessions/driver.js";
import { abandonWallet } from "../../wallets/abandon.js";
import { confirmWalletKey, createWallet, listWallets, walletDetail } from "../../wallets/wallets.js";
import type { App } from "../app.js";
import { route } from "../endpoint.js";

export function walletRoutes(app: App, ctx: ProviderContext): void {
  route(
    app,
    endpoints.createWallet,
    {
      config: { auth: ["active"] },
      summary: "Create a hybrid 2-of-2 wallet, or a t-of-n wallet among the account's devices (`members`)",
    },
    (request) => createWallet(ctx, request.device, request.body),
  );

  route(
    app,
    endpoints.confirmWalletKey,
    {
      config: { auth: ["active"] },
      summary: "A member device of a t-of-n wallet reports the public key its keygen produced",
    },
    (request) => confirmWalletKey(ctx, request.device, request.params.id, hexToBytes(request.body.publicKey)),
  );

  route(
    app,
    endpoints.wallets,
    { config: { auth: ["active"] }, summary: "The account's wallets" },
    async (request) => ({
      wallets: await listWallets(ctx, request.device),
    }),
  );

  route(
    app,
    endpoints.wallet,
    {
      config: { auth: ["active"] },
      summary: "One wallet; a t-of-n wallet with its members' identity keys in party order",
    },
    (request) => walletDetail(ctx, request.device, request.params.id),
  );

  route(
    app,
    endpoints.deleteWallet,
    {
      config: { auth: ["active"] },
      summary:
        "Delete a wallet whose key generation never finished (any device of the account): its name is free again and its key generation ends",
    },
    (request) => ctx.db.transaction((tx) => abandonWallet(ctx, tx, request.device, request.params.id)),
  );

  route(
    app,
    endpoints.sessionRound,
    { config: { auth: ["active"] }, summary: "Send the device's messages of one round; get the provider's" },
    (request) =>
      advanceSession(ctx, {
        sessionId: request.params.id,
        accountId: request.device.accountId,
        actor: request.device.id,
        round: request.body.round,
        messages: request.body.messages,
        rawBody: new Uint8Array(request.rawBody ?? Buffer.alloc(0)),
      }),
  );
}
