/**
 * A Bitcoin request's network is the client's word (a PSBT does not commit to one): whatever
 * network it names, the same PSBT meets the same rules. A rule naming a recipient or an
 * allow-listed address matches it on every network, and a window adds up what every network spent.
 */

import { BITCOIN_NETWORKS, type BitcoinNetwork, buildPsbt, describeBitcoin, p2wpkhOutput } from "@keyshard/chains";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { describe, expect, it } from "vitest";
import { allowListKey, evaluatePolicy, parsePolicy, type WalletHistory } from "../src/policy/policy.js";

const NOW = 1_800_000_000_000;
const key = () => secp256k1.getPublicKey(secp256k1.utils.randomSecretKey());
const FUNDS = p2wpkhOutput(key(), "mainnet");
const COLD = p2wpkhOutput(key(), "mainnet");

/** One mainnet PSBT paying 50 000 sat to COLD, as the provider reads it under a network the client names. */
const psbt = buildPsbt({
  network: "mainnet",
  inputs: [{ txid: "11".repeat(32), vout: 0, amount: 51_000n, script: FUNDS.script }],
  outputs: [{ address: COLD.address, amount: 50_000n }],
});
const facts = (network: BitcoinNetwork) => ({
  kind: "transaction" as const,
  chain: "bitcoin" as const,
  description: describeBitcoin(psbt, { network, keys: {} }),
});
const history = (fields: Partial<WalletHistory> = {}): WalletHistory => ({
  now: NOW,
  allowList: new Map(),
  spent: [],
  ...fields,
});

describe("a Bitcoin request's network cannot loosen the policy", () => {
  it("a rule naming a mainnet address holds the payment under every network the client names", () => {
    const policy = parsePolicy([
      { name: "cold", when: { chain: ["bitcoin"], to: [COLD.address] }, decision: "delay", delaySeconds: 86_400 },
      { name: "rest", when: {}, decision: "allow" },
    ]);
    for (const network of BITCOIN_NETWORKS) {
      expect(facts(network).description.transfers[0]?.to.startsWith("bc1")).toBe(network === "mainnet");
      expect(evaluatePolicy(policy, facts(network), history())).toMatchObject({ rule: "cold", decision: "delay" });
    }
  });

  it("an allow-listed mainnet address counts under every network the client names", () => {
    const policy = parsePolicy([
      { name: "listed", when: { allowListed: { coolingOffSeconds: 3600 } }, decision: "allow" },
    ]);
    const allowList = new Map([[allowListKey("bitcoin", COLD.address), NOW - 3_600_000]]);
    for (const network of BITCOIN_NETWORKS)
      expect(evaluatePolicy(policy, facts(network), history({ allowList })).rule).toBe("listed");
    expect(allowListKey("bitcoin", p2wpkhOutput(COLD.key, "regtest").address)).toBe(
      allowListKey("bitcoin", COLD.address),
    );
  });

  it("a window adds up what every network spent, and no rule may name a Bitcoin network", () => {
    const policy = parsePolicy([
      {
        name: "daily",
        when: { chain: ["bitcoin"], asset: ["BTC"], window: { seconds: 86_400, maxTotal: "100000" } },
        decision: "allow",
      },
    ]);
    const spentOn = (network: string) => ({
      chain: "bitcoin" as const,
      network,
      symbol: "BTC",
      value: 49_000n,
      atMs: NOW - 1,
    });
    // 50 000 sat and the 1 000 sat fee now, 49 000 before: at the cap; 49 001 before: over it.
    for (const network of BITCOIN_NETWORKS) {
      const past = [spentOn("bitcoin:mainnet")];
      expect(evaluatePolicy(policy, facts(network), history({ spent: past })).rule).toBe("daily");
      const more = [spentOn("bitcoin:mainnet"), { ...spentOn("bitcoin:testnet"), value: 1n }];
      expect(evaluatePolicy(policy, facts(network), history({ spent: more })).rule).toBeNull();
    }
    for (const network of BITCOIN_NETWORKS)
      expect(() =>
        parsePolicy([{ name: "x", when: { network: [`bitcoin:${network}`] }, decision: "delay", delaySeconds: 60 }]),
      ).toThrow(/a PSBT does not say its network/);
  });
});
