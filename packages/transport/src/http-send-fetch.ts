/**
 * The HTTP sender in a browser (`#http-send` under the "browser" condition): `fetch`, which is all
 * a page or a worker has. No cookies or other ambient credentials go with a call (the signature
 * is its only authority) and a redirect fails the call, as in Node, instead of being followed.
 */
import { REPLY_TIMEOUT_MS, type Send } from "./http-reply.js";

export const send: Send = async (url, method, headers, body) => {
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`unsupported URL scheme ${url.protocol}`);
  try {
    const response = await fetch(url, {
      method,
      headers,
      // fetch refuses a body on GET and HEAD, even an empty one.
      ...(body.length > 0 && { body: body as Uint8Array<ArrayBuffer> }),
      credentials: "omit",
      redirect: "error",
      cache: "no-store",
      // Bounds the whole exchange: the body's reading too, which the signal also aborts.
      signal: AbortSignal.timeout(REPLY_TIMEOUT_MS),
    });
    const replyHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      replyHeaders[name] = value;
    });
    return { status: response.status, headers: replyHeaders, text: await response.text(), retried: false };
  } catch (e) {
    // The same words as the Node sender's for a provider that stops answering.
    if (e instanceof DOMException && e.name === "TimeoutError")
      throw new Error("the provider stopped answering", { cause: e });
    throw new Error(`${method} ${url.pathname}: the provider at ${url.origin} could not be reached, or redirected`, {
      cause: e,
    });
  }
};
