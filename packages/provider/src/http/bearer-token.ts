/**
 * Operator bearer tokens (the metrics scraper's, the console's, a recovery operator's admin
 * token): what form a token must have for the provider to start with it, and the check of a
 * request's `Authorization: Bearer` header against it. One implementation, so every operator door
 * is as strong as the others.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { unauthorized } from "./errors.js";

/**
 * RFC 6750's token characters, at least as many as 128 random bits take in hex: what a client can
 * send in the header, and long enough to hold that much randomness. Whether it does (`openssl rand
 * -hex 32`, not a word repeated) is the operator's part: no form check can tell.
 */
const TOKEN_FORM = /^[A-Za-z0-9._~+/-]{32,}=*$/;

/** An operator's token setting the provider does not start with; the message names the setting, never the token. */
export class BearerTokenFormError extends Error {
  override readonly name = "BearerTokenFormError";
}

/** Refuses a token a client could not send or that is too short to hold 128 random bits; the message names `setting`, never the token. */
export function checkBearerTokenForm(token: string, setting: string): void {
  if (!TOKEN_FORM.test(token))
    throw new BearerTokenFormError(
      `${setting} must be at least 32 characters of A-Z, a-z, 0-9, - . _ ~ + / (e.g. the output of \`openssl rand -hex 32\`)`,
    );
}

/** Equal digests of equal length: the comparison takes as long whatever the guess. */
const digest = (text: string) => createHash("sha256").update(text).digest();

/** Where a token is asked for: the `realm` of the challenge, and what the refusal tells the client. */
export interface BearerDoor {
  realm: string;
  refusal: string;
}

/** Lets the request through when it carries `token`; otherwise a 401 with a Bearer challenge for `door`. */
export function requireBearerToken(
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
  door: BearerDoor,
): void {
  const given = /^bearer +(\S+)$/i.exec(request.headers.authorization ?? "")?.[1] ?? "";
  // A missing token is compared too, and both refusals read alike: neither says which it was.
  if (timingSafeEqual(digest(given), digest(token))) return;
  reply.header("www-authenticate", `Bearer realm="${door.realm}"`);
  throw unauthorized(door.refusal);
}
