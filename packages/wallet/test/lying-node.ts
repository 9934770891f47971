/**
 * A JSON-RPC node that lies: an HTTP server in front of a real node (anvil) that passes every
 * call on, except those `answer` answers itself — what a wrong, broken or malicious node can say
 * to the device. Its URL carries an API key in its path, which nothing the device prints may show.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface LyingNode {
  /** Ends in `/v3/api-key`. */
  url: string;
  close(): Promise<void>;
}

/**
 * `answer` sees each call's method and gives the JSON-RPC reply's `result` or `error` fields
 * (e.g. `{ result: "0x1" }`), or undefined to pass the call on to `upstream`.
 */
export async function startLyingNode(
  upstream: string,
  answer: (method: string) => Record<string, unknown> | undefined,
): Promise<LyingNode> {
  const server = createServer(async (request, response) => {
    let text = "";
    for await (const chunk of request) text += chunk;
    const call = JSON.parse(text) as { id: number; method: string };
    const lie = answer(call.method);
    const body =
      lie !== undefined
        ? JSON.stringify({ jsonrpc: "2.0", id: call.id, ...lie })
        : await (
            await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body: text })
          ).text();
    response.setHeader("content-type", "application/json");
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3/api-key`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
