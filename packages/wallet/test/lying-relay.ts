/**
 * A provider that lies: an HTTP server in front of a real provider that passes every request and
 * WebSocket on unchanged, and rewrites the JSON reply of the requests it is told to — what a
 * malicious provider, or whoever sits between device and provider, can do to the device.
 */
import { createServer, type IncomingMessage } from "node:http";
import { connect } from "node:net";

export interface LyingRelay {
  url: string;
  /** Every request that came through, in order. */
  requests: { method: string; path: string }[];
  /** Rewrites the reply of the next request that `match` picks (once), in place. */
  lie(match: (method: string, path: string) => boolean, rewrite: (reply: Record<string, unknown>) => void): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(["host", "connection", "keep-alive", "content-length", "transfer-encoding"]);

async function bodyOf(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startLyingRelay(target: string): Promise<LyingRelay> {
  const upstream = new URL(target);
  const requests: LyingRelay["requests"] = [];
  const lies: {
    match: (method: string, path: string) => boolean;
    rewrite: (reply: Record<string, unknown>) => void;
  }[] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const method = request.method ?? "GET";
      const path = request.url ?? "/";
      requests.push({ method, path });
      const body = await bodyOf(request);
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(([k, v]) => !HOP_BY_HOP.has(k) && typeof v === "string"),
      ) as Record<string, string>;
      const reply = await fetch(target + path, {
        method,
        headers,
        ...(body.length > 0 && { body: new Uint8Array(body) }),
      });
      let text = await reply.text();
      const lie = lies.findIndex((l) => l.match(method, path));
      if (lie >= 0 && reply.ok) {
        const [{ rewrite }] = lies.splice(lie, 1) as [(typeof lies)[number]];
        const json = JSON.parse(text) as Record<string, unknown>;
        rewrite(json);
        text = JSON.stringify(json);
      }
      response.writeHead(reply.status, { "content-type": reply.headers.get("content-type") ?? "application/json" });
      response.end(text);
    })().catch((e) => {
      response.writeHead(502);
      response.end(String(e));
    });
  });
  // WebSockets (the relay's channel) are piped through as bytes.
  const piped = new Set<{ destroy(): void }>();
  server.on("upgrade", (request, socket, head) => {
    piped.add(socket);
    const up = connect(Number(upstream.port), upstream.hostname, () => {
      const lines = [`${request.method} ${request.url} HTTP/1.1`];
      for (let i = 0; i < request.rawHeaders.length; i += 2)
        lines.push(`${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}`);
      up.write(`${lines.join("\r\n")}\r\n\r\n`);
      up.write(head);
      socket.pipe(up).pipe(socket);
    });
    piped.add(up);
    up.on("error", () => socket.destroy());
    socket.on("error", () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    lie: (match, rewrite) => void lies.push({ match, rewrite }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        for (const s of piped) s.destroy();
        server.close(() => resolve());
      }),
  };
}
