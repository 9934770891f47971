/**
 * What the two HTTP senders (`http-send-node.ts`, `http-send-fetch.ts`) share with `http.ts`: the
 * shape of one exchange's outcome, so a reply is judged in one place whichever sender made it.
 */

/** Reply headers by lower-case name. */
export type ReplyHeaders = Record<string, string | string[] | undefined>;

export interface HttpReply {
  status: number;
  headers: ReplyHeaders;
  text: string;
  /** Sent a second time after a kept-alive connection dropped (only the Node sender retries). */
  retried: boolean;
}

/** One exchange; redirects are never followed (a signed request names its one target). */
export type Send = (url: URL, method: string, headers: Record<string, string>, body: Uint8Array) => Promise<HttpReply>;

/** How long a provider may take to answer before the call fails instead of hanging. */
export const REPLY_TIMEOUT_MS = 300_000;
