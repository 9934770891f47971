/** Sign requests over HTTP (see `requests/sign-requests.ts`). */
import { endpoints } from "@keyshard/api";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { ProviderContext } from "../../context.js";
import {
  approveSignRequest,
  cancelSignRequest,
  createSignRequest,
  giveRequestTotp,
  listSignRequests,
  signRequestDetail,
  signSignRequest,
} from "../../requests/sign-requests.js";
import type { App } from "../app.js";
import { route } from "../endpoint.js";
import { codeRateLimit } from "../rate-limits.js";

export function requestRoutes(app: App, ctx: ProviderContext): void {
  route(
    app,
    endpoints.createSignRequest,
    {
      config: { auth: ["active"] },
      summary: "Ask the provider to co-sign; it decides by the wallet's policy (signing, held or denied)",
    },
    (request) => createSignRequest(ctx, request.device, request.params.id, request.body),
  );

  route(
    app,
    endpoints.signRequests,
    {
      config: { auth: ["active"] },
      summary: "The account's latest sign requests, optionally only those in one status",
    },
    async (request) => ({ requests: await listSignRequests(ctx, request.device, request.query.status) }),
  );

  route(
    app,
    endpoints.signRequest,
    { config: { auth: ["active"] }, summary: "One request with its bytes, approvals and signatures" },
    (request) => signRequestDetail(ctx, request.device, request.params.id),
  );

  route(
    app,
    endpoints.approveSignRequest,
    {
      config: { auth: ["active"] },
      summary: "Another device of the account approves a held request: its signature over the request id and bytes",
    },
    (request) => approveSignRequest(ctx, request.device, request.params.id, hexToBytes(request.body.signature)),
  );

  route(
    app,
    endpoints.cancelSignRequest,
    {
      config: { auth: ["active"] },
      summary: "Any device of the account cancels (or, for another device's request, denies) a held request",
    },
    (request) => cancelSignRequest(ctx, request.device, request.params.id),
  );

  route(
    app,
    endpoints.giveSignRequestTotp,
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["active"] },
      summary: "Give the TOTP code a held request waits for",
    },
    (request) => giveRequestTotp(ctx, request.device, request.params.id, request.body.code),
  );

  route(
    app,
    endpoints.startSigning,
    {
      config: { auth: ["active"] },
      summary: "The requesting device starts (or restarts) signing once nothing is waited for",
    },
    (request) => signSignRequest(ctx, request.device, request.params.id),
  );
}
