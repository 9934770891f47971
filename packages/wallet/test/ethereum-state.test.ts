/**
 * What a retried Ethereum send learns of the transaction it kept, from a node whose answers are
 * set by the test: a node behind a load balancer can have the transaction in a block before it
 * serves its receipt, which no local node reproduces. Taken for replaced, it would be paid again.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ethereumTransactionState } from "../src/chains/ethereum.js";

const SENT = { transactionId: `0x${"ab".repeat(32)}`, from: `0x${"11".repeat(20)}`, nonce: 4 };

describe("a kept Ethereum transaction, as the node tells of it", () => {
  let server: Server;
  let url: string;
  let answers: Record<string, unknown>;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        const { id, method } = JSON.parse(body) as { id: number; method: string };
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ jsonrpc: "2.0", id, result: answers[method] ?? null }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("in a block without a receipt yet: neither replaced nor sent again, the send is asked again later", async () => {
    answers = { eth_getTransactionCount: "0x5", eth_getTransactionByHash: { blockNumber: "0x10" } };
    await expect(ethereumTransactionState(url, SENT)).rejects.toMatchObject({
      code: "rpc-failed",
      message: expect.stringMatching(/in block 16 but no receipt/),
    });
  });

  it("its nonce used and the transaction unknown: replaced", async () => {
    answers = { eth_getTransactionCount: "0x5", eth_getTransactionByHash: null };
    expect(await ethereumTransactionState(url, SENT)).toEqual({ state: "replaced" });
  });

  it("its nonce free: pending in the pool, or unknown and worth sending again", async () => {
    answers = { eth_getTransactionCount: "0x4", eth_getTransactionByHash: { blockNumber: null } };
    expect(await ethereumTransactionState(url, SENT)).toEqual({ state: "pending" });
    answers = { eth_getTransactionCount: "0x4", eth_getTransactionByHash: null };
    expect(await ethereumTransactionState(url, SENT)).toEqual({ state: "unknown" });
  });

  it("with its receipt: confirmed or failed, with its block", async () => {
    answers = {
      eth_getTransactionCount: "0x5",
      eth_getTransactionReceipt: { status: "0x1", blockNumber: "0x10" },
    };
    expect(await ethereumTransactionState(url, SENT)).toEqual({ state: "confirmed", block: 16 });
  });
});
