/**
 * JSON bodies only, kept as raw bytes next to the parsed value: request signatures cover the exact
 * body bytes. A NUL anywhere in a string or key is refused: PostgreSQL text cannot hold it, so it
 * would otherwise fail as the server's error wherever such a string is stored.
 */
import { invalid, ProviderError } from "../../errors.js";
import type { App } from "../app.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The body's bytes as sent, which its signature covers. */
    rawBody?: Buffer;
  }
}

/** Largest request body; larger ones get 413 before anything reads them. */
export const BODY_LIMIT = 1 << 20;

const NUL_REFUSED = "a string of the body contains a NUL character";

function refuseNul(key: string, value: unknown): unknown {
  if (key.includes("\0") || (typeof value === "string" && value.includes("\0"))) throw invalid(NUL_REFUSED);
  return value;
}

export function jsonBodyPlugin(app: App): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body: Buffer, done) => {
    request.rawBody = body;
    if (body.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body.toString("utf8"), refuseNul));
    } catch (e) {
      done(e instanceof ProviderError ? e : invalid("body is not valid JSON"), undefined);
    }
  });
}
