/**
 * A recovery operator that misbehaves: an HTTP server in front of a real operator that passes
 * every call on, except that, as told, it is down (drops every connection), answers evaluations
 * with a byte of `evaluated` flipped, or answers them under a share it made up, with commitments
 * of its own making that its proof verifies against (the enrollment's OPRF public key first, or not).
 */
import { createServer } from "node:http";
import { dealOprfKey, evaluatePartial, publicShare } from "@keyshard/recovery";
import { ristretto255 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";

export type OperatorFault = "down" | "wrong-evaluation" | "forged-commitments" | "other-key";

export interface LyingOperator {
  url: string;
  /** What it does wrong from now on; undefined: nothing. */
  fault: OperatorFault | undefined;
  close(): Promise<void>;
}

const Point = ristretto255.Point;

/**
 * Operator `index`'s answer under a share of a key of its own making (t = 2). "other-key": with
 * that key's commitments. "forged-commitments": with the enrollment's key K kept as C_0 and C_1
 * chosen so that C_0 + i·C_1 = s'·G, so that its proof still verifies though the evaluation is not k_i·B.
 */
function underOwnShare(
  reply: Record<string, unknown>,
  blinded: Uint8Array,
  fault: "forged-commitments" | "other-key",
): Record<string, unknown> {
  const index = reply.index as number;
  const [oprfKey] = reply.commitments as string[];
  const made = dealOprfKey(2, [index, index === 1 ? 2 : 1]);
  const share = made.shares.find((s) => s.index === index)?.share as Uint8Array;
  const partial = evaluatePartial(share, index, blinded);
  const commitments =
    fault === "other-key"
      ? made.commitments.map(bytesToHex)
      : [
          oprfKey,
          Point.fromBytes(publicShare(made.commitments, index))
            .subtract(Point.fromHex(oprfKey as string))
            .multiply(Point.Fn.inv(BigInt(index)))
            .toHex(),
        ];
  return { ...reply, commitments, evaluated: bytesToHex(partial.evaluated), proof: bytesToHex(partial.proof) };
}

export async function startLyingOperator(target: string): Promise<LyingOperator> {
  const server = createServer((request, response) => {
    void (async () => {
      if (lying.fault === "down") {
        request.socket.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const path = request.url ?? "/";
      const reply = await fetch(target + path, {
        method: request.method ?? "GET",
        ...(body.length > 0 && { headers: { "content-type": "application/json" }, body: new Uint8Array(body) }),
      });
      let text = await reply.text();
      if (reply.ok && /\/evaluations$/.test(path) && lying.fault !== undefined) {
        const json = JSON.parse(text) as Record<string, unknown>;
        if (lying.fault === "wrong-evaluation") {
          const evaluated = hexToBytes(json.evaluated as string);
          evaluated[0] = (evaluated[0] as number) ^ 1;
          json.evaluated = bytesToHex(evaluated);
          text = JSON.stringify(json);
        } else {
          const { blinded } = JSON.parse(body.toString("utf8")) as { blinded: string };
          text = JSON.stringify(underOwnShare(json, hexToBytes(blinded), lying.fault));
        }
      }
      response.writeHead(reply.status, { "content-type": "application/json" });
      response.end(text);
    })().catch((e) => {
      response.writeHead(502);
      response.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const lying: LyingOperator = {
    url: `http://127.0.0.1:${port}`,
    fault: undefined,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return lying;
}
