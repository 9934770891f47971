/** JSON-RPC 2.0 over HTTP, as Ethereum and Solana nodes speak it; failures become `rpc-failed`. */
import { WalletError } from "../errors.js";

let id = 0;

export async function rpcCall<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
    });
  } catch (e) {
    throw new WalletError(
      "rpc-failed",
      `cannot reach the node at ${url} (${e instanceof Error ? e.message : String(e)}): check --rpc`,
    );
  }
  let body: { result?: T; error?: { message?: string } };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new WalletError("rpc-failed", `the node at ${url} answered ${method} with something that is not JSON-RPC`);
  }
  if (body.error !== undefined)
    throw new WalletError("rpc-failed", `the node refused ${method}: ${String(body.error.message ?? "no reason")}`);
  return body.result as T;
}
