/** Refresh and reshare over HTTP (see `wallets/key-change-runs.ts`). */
import {
  ErrorBody,
  KeyChangeConfirmed,
  KeyChangeParams,
  KeyChangeRequest,
  KeyChangeStarted,
  KeyConfirmation,
  UuidParams,
} from "@keyshard/api";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { ProviderContext } from "../../context.js";
import { confirmNewShare, startKeyChange } from "../../wallets/key-change-runs.js";
import type { App } from "../app.js";

export function keyChangeRoutes(app: App, ctx: ProviderContext): void {
  app.post(
    "/v1/wallets/:id/key-changes",
    {
      config: { auth: ["active"] },
      schema: {
        summary:
          "Refresh a wallet's shares, or reshare a t-of-n wallet to other devices or another threshold (same key)",
        params: UuidParams,
        body: KeyChangeRequest,
        response: { 201: KeyChangeStarted, "4xx": ErrorBody },
      },
    },
    // The body is optional: none asks for a refresh.
    async (request, reply) =>
      reply.code(201).send(await startKeyChange(ctx, request.device, request.params.id, request.body ?? {})),
  );

  app.post(
    "/v1/wallets/:id/key-changes/:epoch/confirm",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "A device of the new epoch reports that it keeps its new share",
        params: KeyChangeParams,
        body: KeyConfirmation,
        response: { 200: KeyChangeConfirmed, "4xx": ErrorBody },
      },
    },
    (request) =>
      confirmNewShare(
        ctx,
        request.device,
        request.params.id,
        Number(request.params.epoch),
        hexToBytes(request.body.publicKey),
      ),
  );
}
