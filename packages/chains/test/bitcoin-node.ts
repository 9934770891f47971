/**
 * A regtest stand-in for Bitcoin Core's JSON-RPC (no Bitcoin Core can be installed here): a UTXO
 * set, blocks that hold the transactions that funded it, and `sendrawtransaction` that accepts a
 * transaction only when bitcore-lib's interpreter passes every input against the outputs it
 * spends, none is spent twice, and it pays no more than it spends. The calls and answers are
 * Bitcoin Core's (`scantxoutset`, `getblockhash`, `getrawtransaction`, `estimatesmartfee`), with
 * its basic auth.
 */
import { createServer, type Server } from "node:http";
import { hex } from "@scure/base";
import { Address, OutScript, Transaction } from "@scure/btc-signer";
import { bitcoreVerdicts } from "./bitcore.js";

const REGTEST = { bech32: "bcrt", pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };

interface Coin {
  script: Uint8Array;
  amount: bigint;
  height: number;
}

export interface BitcoinNode {
  /** With credentials, as `--rpc` takes it. */
  url: string;
  /** Mines a transaction paying `amount` to `address`; returns its raw bytes and txid. */
  fund(address: string, amount: bigint): { txid: string; hex: string };
  /** The unspent amount paying `address`. */
  balance(address: string): bigint;
  /** Transactions accepted by `sendrawtransaction`. */
  accepted: string[];
  close(): Promise<void>;
}

export async function startBitcoinNode(): Promise<BitcoinNode> {
  const utxos = new Map<string, Coin>();
  const blocks: string[][] = [];
  const raw = new Map<string, string>();
  const accepted: string[] = [];
  const user = "keyshard";
  const password = crypto.randomUUID();
  const scriptOf = (address: string) => OutScript.encode(Address(REGTEST).decode(address));

  const mine = (tx: Transaction, bytes: Uint8Array) => {
    const height = blocks.length;
    blocks.push([tx.id]);
    raw.set(tx.id, hex.encode(bytes));
    for (let vout = 0; vout < tx.outputsLength; vout++) {
      const output = tx.getOutput(vout);
      utxos.set(`${tx.id}:${vout}`, { script: output.script as Uint8Array, amount: output.amount as bigint, height });
    }
  };

  const methods: Record<string, (params: unknown[]) => unknown> = {
    scantxoutset([action, descriptors]) {
      if (action !== "start") throw new Error("only start is supported");
      const scripts = (descriptors as string[]).map((d) => {
        const address = /^addr\((.+)\)$/.exec(d)?.[1];
        if (address === undefined) throw new Error(`descriptor ${d} is not addr(…)`);
        return hex.encode(scriptOf(address));
      });
      const unspents = [...utxos.entries()]
        .filter(([, coin]) => scripts.includes(hex.encode(coin.script)))
        .map(([outpoint, coin]) => {
          const [txid, vout] = outpoint.split(":");
          return { txid, vout: Number(vout), height: coin.height, scriptPubKey: hex.encode(coin.script) };
        });
      return { success: true, unspents };
    },
    getblockhash([height]) {
      if (typeof height !== "number" || blocks[height] === undefined) throw new Error("Block height out of range");
      return `${height.toString(16).padStart(64, "0")}`;
    },
    getrawtransaction([txid, verbose, block]) {
      const height = Number.parseInt(String(block), 16);
      if (verbose !== false || !blocks[height]?.includes(String(txid)))
        throw new Error("No such transaction found in the provided block");
      return raw.get(String(txid));
    },
    estimatesmartfee() {
      return { errors: ["Insufficient data or no feerate found"], blocks: 0 };
    },
    sendrawtransaction([rawHex]) {
      const bytes = hex.decode(String(rawHex));
      const tx = Transaction.fromRaw(bytes, { allowUnknownOutputs: true });
      const spent: Coin[] = [];
      for (let i = 0; i < tx.inputsLength; i++) {
        const input = tx.getInput(i);
        const coin = utxos.get(`${hex.encode(input.txid as Uint8Array)}:${input.index}`);
        if (coin === undefined) throw new Error("bad-txns-inputs-missingorspent");
        spent.push(coin);
      }
      const verdicts = bitcoreVerdicts(bytes, spent);
      if (verdicts.some((v) => v !== true))
        throw new Error(`mandatory-script-verify-flag-failed (${verdicts.join(", ")})`);
      let out = 0n;
      for (let vout = 0; vout < tx.outputsLength; vout++) out += tx.getOutput(vout).amount as bigint;
      if (out > spent.reduce((sum, c) => sum + c.amount, 0n)) throw new Error("bad-txns-in-belowout");
      for (let i = 0; i < tx.inputsLength; i++) {
        const input = tx.getInput(i);
        utxos.delete(`${hex.encode(input.txid as Uint8Array)}:${input.index}`);
      }
      mine(tx, bytes);
      accepted.push(tx.id);
      return tx.id;
    },
  };

  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  const server: Server = createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401).end();
      return;
    }
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      const call = JSON.parse(body) as { id: unknown; method: string; params?: unknown[] };
      const method = methods[call.method];
      let reply: { result: unknown; error: unknown; id: unknown };
      try {
        if (method === undefined) throw new Error("Method not found");
        reply = { result: method(call.params ?? []), error: null, id: call.id };
      } catch (e) {
        reply = { result: null, error: { code: -26, message: (e as Error).message }, id: call.id };
      }
      res.writeHead(reply.error === null ? 200 : 500, { "content-type": "application/json" });
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://${user}:${password}@127.0.0.1:${port}/`,
    fund(address, amount) {
      const tx = new Transaction({ allowUnknownInputs: true });
      tx.addInput({ txid: crypto.getRandomValues(new Uint8Array(32)), index: 0 });
      tx.addOutput({ script: scriptOf(address), amount });
      mine(tx, tx.unsignedTx);
      return { txid: tx.id, hex: hex.encode(tx.unsignedTx) };
    },
    balance(address) {
      const script = hex.encode(scriptOf(address));
      return [...utxos.values()].filter((c) => hex.encode(c.script) === script).reduce((s, c) => s + c.amount, 0n);
    },
    accepted,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
