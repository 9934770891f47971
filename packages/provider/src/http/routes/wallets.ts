/** Wallets and two-party session rounds over HTTP (see `wallets/wallets.ts` and `sessions/driver.ts`). */
import {
  ErrorBody,
  KeyConfirmation,
  SessionReply,
  SessionRound,
  UuidParams,
  WalletCreate,
  WalletCreated,
  WalletDeleted,
  WalletState,
} from "@keyshard/api";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { ProviderContext } from "../../context.js";
import { advanceSession } from "../../sessions/driver.js";
import { abandonWallet } from "../../wallets/abandon.js";
import { confirmWalletKey, createWallet, listWallets, walletDetail } from "../../wallets/wallets.js";
import type { App } from "../app.js";

export function walletRoutes(app: App, ctx: ProviderContext): void {
  app.post(
    "/v1/wallets",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "Create a hybrid 2-of-2 wallet, or a t-of-n wallet among the account's devices (`members`)",
        body: WalletCreate,
        response: { 201: WalletCreated, "4xx": ErrorBody },
      },
    },
    async (request, reply) => reply.code(201).send(await createWallet(ctx, request.device, request.body)),
  );

  app.post(
    "/v1/wallets/:id/confirm",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "A member device of a t-of-n wallet reports the public key its keygen produced",
        params: UuidParams,
        body: KeyConfirmation,
        response: { 200: WalletState, "4xx": ErrorBody },
      },
    },
    (request) => confirmWalletKey(ctx, request.device, request.params.id, hexToBytes(request.body.publicKey)),
  );

  // These two replies have no schema of their own (they are sent as they are), so their type is the service's.
  app.get<{ Reply: { wallets: Awaited<ReturnType<typeof listWallets>> } }>(
    "/v1/wallets",
    { config: { auth: ["active"] }, schema: { summary: "The account's wallets", response: { "4xx": ErrorBody } } },
    async (request) => ({ wallets: await listWallets(ctx, request.device) }),
  );

  app.get<{ Params: UuidParams; Reply: Awaited<ReturnType<typeof walletDetail>> }>(
    "/v1/wallets/:id",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "One wallet; a t-of-n wallet with its members' identity keys in party order",
        params: UuidParams,
        response: { "4xx": ErrorBody },
      },
    },
    (request) => walletDetail(ctx, request.device, request.params.id),
  );

  app.delete(
    "/v1/wallets/:id",
    {
      config: { auth: ["active"] },
      schema: {
        summary:
          "Delete a wallet whose key generation never finished (any device of the account): its name is free again and its key generation ends",
        params: UuidParams,
        response: { 200: WalletDeleted, "4xx": ErrorBody },
      },
    },
    (request) => ctx.db.transaction((tx) => abandonWallet(ctx, tx, request.device, request.params.id)),
  );

  app.post(
    "/v1/sessions/:id/round",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "Send the device's messages of one round; get the provider's",
        params: UuidParams,
        body: SessionRound,
        response: { 200: SessionReply, "4xx": ErrorBody },
      },
    },
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
