/** Refresh and reshare over HTTP (see `wallets/key-change-runs.ts`). */
import { endpoints } from "@keyshard/api";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { ProviderContext } from "../../context.js";
import { confirmNewShare, startKeyChange } from "../../wallets/key-change-runs.js";
import type { App } from "../app.js";
import { route } from "../endpoint.js";

export function keyChangeRoutes(app: App, ctx: ProviderContext): void {
  route(
    app,
    endpoints.startKeyChange,
    {
      config: { auth: ["active"] },
      summary: "Refresh a wallet's shares, or reshare a t-of-n wallet to other devices or another threshold (same key)",
    },
    // The body is optional: none asks for a refresh.
    (request) => startKeyChange(ctx, request.device, request.params.id, request.body ?? {}),
  );

  route(
    app,
    endpoints.confirmKeyChange,
    { config: { auth: ["active"] }, summary: "A device of the new epoch reports that it keeps its new share" },
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
