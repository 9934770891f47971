/** Sign requests over HTTP (see `requests/sign-requests.ts`). */
import {
  ApprovalBody,
  ErrorBody,
  SignRequest,
  SignRequestCreate,
  SignRequestList,
  SignRequestQuery,
  TotpBody,
  UuidParams,
} from "@keyshard/api";
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
import { codeRateLimit } from "../rate-limits.js";

export function requestRoutes(app: App, ctx: ProviderContext): void {
  app.post(
    "/v1/wallets/:id/sign-requests",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "Ask the provider to co-sign; it decides by the wallet's policy (signing, held or denied)",
        params: UuidParams,
        body: SignRequestCreate,
        response: { 201: SignRequest, "4xx": ErrorBody },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await createSignRequest(ctx, request.device, request.params.id, request.body)),
  );

  app.get(
    "/v1/sign-requests",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "The account's latest sign requests, optionally only those in one status",
        querystring: SignRequestQuery,
        response: { 200: SignRequestList, "4xx": ErrorBody },
      },
    },
    async (request) => ({ requests: await listSignRequests(ctx, request.device, request.query.status) }),
  );

  app.get(
    "/v1/sign-requests/:id",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "One request with its bytes, approvals and signatures",
        params: UuidParams,
        response: { 200: SignRequest, "4xx": ErrorBody },
      },
    },
    (request) => signRequestDetail(ctx, request.device, request.params.id),
  );

  app.post(
    "/v1/sign-requests/:id/approve",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "Another device of the account approves a held request: its signature over the request id and bytes",
        params: UuidParams,
        body: ApprovalBody,
        response: { 200: SignRequest, "4xx": ErrorBody },
      },
    },
    (request) => approveSignRequest(ctx, request.device, request.params.id, hexToBytes(request.body.signature)),
  );

  app.post(
    "/v1/sign-requests/:id/cancel",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "Any device of the account cancels (or, for another device's request, denies) a held request",
        params: UuidParams,
        response: { 200: SignRequest, "4xx": ErrorBody },
      },
    },
    (request) => cancelSignRequest(ctx, request.device, request.params.id),
  );

  app.post(
    "/v1/sign-requests/:id/totp",
    {
      config: { rateLimit: codeRateLimit(ctx), auth: ["active"] },
      schema: {
        summary: "Give the TOTP code a held request waits for",
        params: UuidParams,
        body: TotpBody,
        response: { 200: SignRequest, "4xx": ErrorBody },
      },
    },
    (request) => giveRequestTotp(ctx, request.device, request.params.id, request.body.code),
  );

  app.post(
    "/v1/sign-requests/:id/sign",
    {
      config: { auth: ["active"] },
      schema: {
        summary: "The requesting device starts (or restarts) signing once nothing is waited for",
        params: UuidParams,
        response: { 200: SignRequest, "4xx": ErrorBody },
      },
    },
    (request) => signSignRequest(ctx, request.device, request.params.id),
  );
}
