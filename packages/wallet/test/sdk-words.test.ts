/**
 * The SDK's errors speak the SDK's words: an input is named by the parameter of the method that
 * takes it, which the error also carries as data, and never by a command-line option; the command
 * line says the same error with its own options and commands.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildEthereumTransfer } from "../src/chains/ethereum.js";
import { rpcCall } from "../src/chains/rpc.js";
import { buildSolanaTransfer } from "../src/chains/solana.js";
import { messageInCliWords } from "../src/cli/next-steps.js";
import { optionOf } from "../src/cli/parameters.js";
import type { Device } from "../src/device/device.js";
import { WalletError } from "../src/errors.js";
import { requests } from "../src/flows/approvals.js";
import { Keystore, KeystoreError } from "../src/keystore.js";

const BOB = "0x00000000000000000000000000000000000b0b00";
const SOLANA_BOB = "11111111111111111111111111111111";

async function failure<E extends Error>(work: Promise<unknown>, kind: new (...args: never[]) => E): Promise<E> {
  try {
    await work;
  } catch (e) {
    expect(e).toBeInstanceOf(kind);
    return e as E;
  }
  throw new Error(`expected a ${kind.name}`);
}

describe("an SDK error names the SDK's parameter, the command line its option", () => {
  it("an Ethereum send without a node", async () => {
    const e = await failure(buildEthereumTransfer({ from: BOB, to: BOB, amount: "0.1" }), WalletError);
    expect(e.code).toBe("usage");
    expect(e.details).toEqual({ parameter: "rpc" });
    expect(e.message).toBe(
      "an Ethereum send needs `rpc`, the node's URL: the node gives the chain id, the nonce and the balance. To sign without broadcasting, give both `chainId` and `nonce`",
    );
    expect(e.message).not.toMatch(/--[a-z]/);
    expect(messageInCliWords(e)).toBe(
      "an Ethereum send needs --rpc, the node's URL: the node gives the chain id, the nonce and the balance. To sign without broadcasting, give both --chain-id and --nonce",
    );
  });

  it("an Ethereum gas limit below a transfer's 21 000", async () => {
    const e = await failure(
      buildEthereumTransfer({ from: BOB, to: BOB, amount: "0.1", chainId: 1, nonce: 0, gas: 20_999 }),
      WalletError,
    );
    expect(e.code).toBe("usage");
    expect(e.details).toEqual({ parameter: "gas" });
    expect(e.message).toBe("`gas` is a whole number of at least 21000, a transfer's least");
    expect(messageInCliWords(e)).toBe("--gas is a whole number of at least 21000, a transfer's least");
  });

  it("a Solana transfer without a blockhash", async () => {
    const e = await failure(buildSolanaTransfer({ from: SOLANA_BOB, to: SOLANA_BOB, amount: "0.1" }), WalletError);
    expect(e.details).toEqual({ parameter: "blockhash" });
    expect(e.message).toBe("a Solana transfer needs a recent blockhash: give `rpc` or `blockhash`");
    expect(messageInCliWords(e)).toBe("a Solana transfer needs a recent blockhash: give --rpc or --blockhash");
  });

  it("a node address that is not a URL", async () => {
    const e = await failure(rpcCall("s3cret", "eth_chainId"), WalletError);
    expect(e.details).toEqual({ parameter: "rpc" });
    expect(e.message).not.toMatch(/--[a-z]|s3cret/);
    expect(messageInCliWords(e)).toBe("--rpc is not a URL: give the node's address, e.g. http://127.0.0.1:8545");
  });

  it("a home without a keystore: the next step is data, the command is the command line's", async () => {
    const home = mkdtempSync(join(tmpdir(), "keyshard-words-"));
    try {
      const e = await failure(Keystore.open(home, "a long passphrase"), KeystoreError);
      expect(e.code).toBe("missing");
      expect(e.next).toEqual({ step: "init" });
      expect(e.message).toBe(`no keystore in ${home}`);
      expect(messageInCliWords(e)).toBe(`no keystore in ${home}: run \`keyshard init\` first`);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("a request status that is none", async () => {
    const e = await failure(requests({} as Device, "pending"), WalletError);
    expect(e.code).toBe("usage");
    expect(e.details).toEqual({ parameter: "status" });
    expect(e.message).toMatch(/^`status` is pending, no request status: one of /);
    expect(messageInCliWords(e)).toMatch(/^--status is pending, no request status: one of /);
    expect(optionOf("status")).toBe("--status");
  });

  it("a parameter the command line gives as part of an option is said so, its option alone as data", () => {
    expect(messageInCliWords(new WalletError("usage", "`n` is 5", { parameter: "n" }))).toBe("the N of --quorum is 5");
    expect(optionOf("n")).toBe("--quorum");
    expect(optionOf("threshold")).toBeUndefined();
  });

  it("a backticked word that is no parameter is left as it is", () => {
    const e = new WalletError("usage", "`threshold` and `devicesX` stay");
    expect(messageInCliWords(e)).toBe("`threshold` and `devicesX` stay");
  });
});
