/**
 * JSON-RPC 2.0 over HTTP, as Ethereum and Solana nodes speak it; failures become `rpc-failed`.
 * A node URL may carry a password (Bitcoin Core's basic auth) or an API key: only `shownUrl` of
 * it is ever printed, logged or put in an error.
 */
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { base64 } from "@scure/base";
import { WalletError } from "../errors.js";

let id = 0;

/**
 * `url` as it may be shown: its origin alone. Besides a password in its user part, a node URL
 * often carries an API key in its path or query (`/v3/KEY`, `?api-key=KEY`).
 */
export function shownUrl(url: string): string {
  try {
    const { origin } = new URL(url);
    return origin === "null" ? "the address given" : origin;
  } catch {
    return "the address given";
  }
}

/**
 * The URL without credentials, and the basic-auth header they become: Bitcoin Core wants them,
 * and fetch refuses URLs that carry them.
 */
function endpoint(url: string): { href: string; headers: Record<string, string> } {
  const headers: Record<string, string> = { "content-type": "application/json" };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (e) {
    throw new WalletError(
      "usage",
      "`rpc` is not a URL: give the node's address, e.g. http://127.0.0.1:8545",
      { parameter: "rpc" },
      { cause: e },
    );
  }
  if (parsed.username !== "" || parsed.password !== "") {
    const user = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
    headers.authorization = `Basic ${base64.encode(utf8ToBytes(user))}`;
    parsed.username = "";
    parsed.password = "";
  }
  return { href: parsed.href, headers };
}

export async function rpcCall<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const { href, headers } = endpoint(url);
  let response: Response;
  try {
    response = await fetch(href, {
      method: "POST",
      headers,
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
    });
  } catch (e) {
    throw new WalletError(
      "rpc-failed",
      `cannot reach the node at ${shownUrl(url)} (${e instanceof Error ? e.message : String(e)}): check \`rpc\``,
      { parameter: "rpc" },
      { cause: e },
    );
  }
  if (response.status === 401 || response.status === 403)
    throw new WalletError(
      "rpc-failed",
      `the node at ${shownUrl(url)} refused the credentials: give them in \`rpc\` as http://USER:PASSWORD@HOST:PORT`,
      { parameter: "rpc" },
    );
  // Bitcoin Core answers in JSON-RPC 1.0 style, with `"error": null` on success.
  let body: { result?: T; error?: { code?: unknown; message?: string } | null };
  try {
    body = (await response.json()) as typeof body;
  } catch (e) {
    throw new WalletError(
      "rpc-failed",
      `the node at ${shownUrl(url)} answered ${method} with something that is not JSON-RPC`,
      {},
      { cause: e },
    );
  }
  if (body.error !== undefined && body.error !== null) {
    // The node's text is printed: its control characters are taken out so it cannot steer the terminal.
    const reason = String(body.error.message ?? "no reason").replace(/\p{Cc}/gu, "");
    const code = body.error.code;
    throw new WalletError("rpc-failed", `the node refused ${method}: ${reason}`, {
      nodeError: reason,
      ...(typeof code === "number" ? { nodeErrorCode: code } : {}),
    });
  }
  return body.result as T;
}

/** The node's own reason when it answered `e` as a refusal, undefined when it could not be asked. */
export const nodeRefusal = (e: unknown): string | undefined =>
  e instanceof WalletError && typeof e.details.nodeError === "string" ? e.details.nodeError : undefined;
