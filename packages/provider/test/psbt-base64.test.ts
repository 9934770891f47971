/**
 * A sign request's PSBT in base64, BIP174's text form, through the real HTTP API: taken for a
 * Bitcoin transaction and kept as the same bytes hex would give; refused, as the client's mistake
 * and never a 5xx, when it is not canonical base64, not a PSBT, or given for another chain.
 */
import { buildPsbt, p2trOutput } from "@keyshard/chains";
import { type FrostShare, frost } from "@keyshard/mpc";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { Transaction } from "@scure/btc-signer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activeDevice, createWallet, startTestProvider, type TestDevice, type TestProvider } from "./harness.js";

const payee = () => p2trOutput(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey()).slice(1), "regtest").address;

describe("a PSBT in base64 through the API", () => {
  let provider: TestProvider;
  let owner: TestDevice;
  let walletId: string;
  let psbt: Uint8Array;
  beforeAll(async () => {
    provider = await startTestProvider("pglite");
    owner = await activeDevice(provider, "psbt@example.com");
    const wallet = await createWallet(owner, "btc", "frost-taproot", [
      { name: "all", when: { chain: ["bitcoin"] }, decision: "allow" },
    ]);
    walletId = wallet.walletId;
    const internalKey = frost.secp256k1tr.internalKey(wallet.share as FrostShare);
    const own = p2trOutput(internalKey, "regtest");
    const previous = new Transaction({ allowUnknownInputs: true });
    previous.addInput({ txid: crypto.getRandomValues(new Uint8Array(32)), index: 0 });
    previous.addOutput({ script: own.script, amount: 100_000n });
    psbt = buildPsbt({
      network: "regtest",
      inputs: [{ txid: previous.id, vout: 0, amount: 100_000n, script: own.script, internalKey }],
      outputs: [{ address: payee(), amount: 90_000n }],
    });
  });
  afterAll(async () => {
    await provider?.stop();
  });

  const ask = (body: Record<string, unknown>) => owner.request("POST", `/v1/wallets/${walletId}/sign-requests`, body);

  it("is taken for a Bitcoin transaction, and kept as the bytes hex gives", async () => {
    const asked = await ask({ chain: "bitcoin", network: "regtest", payload: Buffer.from(psbt).toString("base64") });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    expect(asked.body).toMatchObject({ status: "signing", description: { fee: { value: "10000" } } });
    const read = await owner.request("GET", `/v1/sign-requests/${asked.body.requestId}`);
    expect(read.body.payload).toBe(Buffer.from(psbt).toString("hex"));
  });

  it("is refused as the client's mistake when it is not canonical, not a PSBT, or not for Bitcoin", async () => {
    const base64 = Buffer.from(psbt).toString("base64");
    for (const [payload, chain, message] of [
      // Cut short: the schema's pattern lets it through, the parser's strict decoding does not.
      [base64.slice(0, -1), "bitcoin", /payload: .*canonical base64/],
      // The magic and nothing after it.
      ["cHNidP8=", "bitcoin", /payload: .*not a PSBT/],
      [base64, "ethereum", /base64 is a PSBT, for Bitcoin transactions only/],
      [`${base64.slice(0, 20)}-${base64.slice(21)}`, "bitcoin", /payload/],
    ] as const) {
      const refused = await ask({ chain, network: chain === "bitcoin" ? "regtest" : undefined, payload });
      expect(refused.status, JSON.stringify(refused.body)).toBe(400);
      expect(refused.body.error).toBe("invalid-request");
      expect(String(refused.body.message)).toMatch(message);
    }
  });
});
