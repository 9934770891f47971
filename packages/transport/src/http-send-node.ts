/**
 * The HTTP sender in Node (`#http-send` outside browsers): Node's http and https modules with
 * keep-alive connections, because a signing run makes several calls in a row and global fetch
 * costs several times their CPU per call.
 */
import http from "node:http";
import https from "node:https";
import { type HttpReply, REPLY_TIMEOUT_MS, type Send } from "./http-reply.js";

/** How a write to, or a read from, a connection the server has just closed fails. */
const CLOSED_ON_REUSE = new Set(["ECONNRESET", "EPIPE"]);

const clients = {
  "http:": { module: http, agent: new http.Agent({ keepAlive: true }) },
  "https:": { module: https, agent: new https.Agent({ keepAlive: true }) },
};

/**
 * One HTTP exchange. A kept-alive connection that the server closed just as it was reused fails
 * before any reply; that request is sent once more, unchanged, on a new connection. Usually the
 * server never saw it; if it did, the same nonce is refused as a replay rather than acted on
 * twice, and the caller learns that the outcome is unknown. Redirects are not followed.
 */
export const send: Send = (url, method, headers, body) => exchange(url, method, headers, body, false);

function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Uint8Array,
  retried: boolean,
): Promise<HttpReply> {
  const client = clients[url.protocol as keyof typeof clients];
  if (client === undefined) return Promise.reject(new Error(`unsupported URL scheme ${url.protocol}`));
  return new Promise((resolve, reject) => {
    const request = client.module.request(url, { method, headers, agent: client.agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          text: Buffer.concat(chunks).toString("utf8"),
          retried,
        }),
      );
      response.on("error", reject);
    });
    // As global fetch did: a provider that stops answering fails the call instead of hanging it.
    request.setTimeout(REPLY_TIMEOUT_MS, () => request.destroy(new Error("the provider stopped answering")));
    request.on("error", (e: NodeJS.ErrnoException) => {
      if (request.reusedSocket && CLOSED_ON_REUSE.has(e.code ?? "") && !retried)
        resolve(exchange(url, method, headers, body, true));
      else reject(e);
    });
    request.end(body);
  });
}
