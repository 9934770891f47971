/**
 * The web wallet's trusted addresses (a wallet's allow-list) without a browser: the strict
 * readers of the calls, where an entry stands told as the provider's own evaluation decides it,
 * and the engine's handlers on a small stand-in for the SDK's `Wallet` (only what they call) —
 * each listed entry read on its own, a bad one left out and counted, texts made showable, and an
 * address its chain would refuse stopped before anything is sent.
 */
import { type Wallet, WalletError } from "@keyshard/wallet/browser";
import { describe, expect, it, vi } from "vitest";
import { evaluatePolicy } from "../../provider/src/policy/policy.js";
import {
  ADDRESS_MAX,
  LABEL_MAX,
  POLICY_METHODS,
  TRUSTED_SHOWN,
  type TrustedAddress,
  trustedStanding,
} from "../src/engine/calls/policies.js";
import { keepWallet } from "../src/engine/handlers/engine-state.js";
import { policyHandlers } from "../src/engine/handlers/policies.js";
import { ProtocolError } from "../src/engine/readers.js";

const ID = "11111111-1111-4111-8111-111111111111";
/** EIP-55's own example: checksummed, as a person copies it. */
const ETH = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
/** The same address with one letter's case changed: its checksum no longer holds. */
const ETH_MISTYPED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD";
const BTC = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4";
const SOL = "11111111111111111111111111111111";
const NOW = 1_800_000_000_000;

const entry = (more: Partial<TrustedAddress> = {}): TrustedAddress => ({
  chain: "ethereum",
  address: ETH.toLowerCase(),
  label: "rent",
  addedMs: NOW,
  countsFrom: [{ rule: "trusted", atMs: NOW + 86_400_000 }],
  ...more,
});

describe("the strict readers of the allow-list's calls", () => {
  const list = POLICY_METHODS.allowList.result;
  const view = (entries: unknown[]) => ({ entries, notShown: 0, unreadable: 0 });

  it("take a listed address in letters and digits only, of a chain this app knows", () => {
    expect(list(view([entry()]), "result").entries).toEqual([entry()]);
    expect(list(view([entry({ chain: "bitcoin", address: BTC, label: null })]), "result").entries).toHaveLength(1);
    for (const address of [
      `${ETH} `,
      `\u202e${ETH}`,
      `${ETH.slice(0, 20)}\u200b${ETH.slice(20)}`,
      "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed/",
      "",
      "a".repeat(ADDRESS_MAX + 1),
    ])
      expect(() => list(view([entry({ address })]), "result"), JSON.stringify(address)).toThrow(ProtocolError);
    expect(() => list(view([{ ...entry(), chain: "dogecoin" }]), "result")).toThrow(/is not a chain/);
    expect(() => list(view([{ ...entry(), note: "x" }]), "result")).toThrow(/unexpected field/);
  });

  it("take a label of the provider's length at most, and none as null rather than empty", () => {
    expect(list(view([entry({ label: "l".repeat(LABEL_MAX) })]), "result").entries).toHaveLength(1);
    expect(() => list(view([entry({ label: "l".repeat(LABEL_MAX + 1) })]), "result")).toThrow(ProtocolError);
    expect(() => list(view([entry({ label: "" })]), "result")).toThrow(ProtocolError);
  });

  it("take no more entries than one answer carries", () => {
    expect(list(view(Array(TRUSTED_SHOWN).fill(entry())), "result").entries).toHaveLength(TRUSTED_SHOWN);
    expect(() => list(view(Array(TRUSTED_SHOWN + 1).fill(entry())), "result")).toThrow(ProtocolError);
  });

  it("take an addition's address as typed, bounded, and its label or none", () => {
    const add = POLICY_METHODS.allowListAdd.args;
    const good = { id: ID, chain: "ethereum", address: ETH, label: null };
    expect(add(good, "args")).toEqual(good);
    expect(add({ ...good, label: "rent" }, "args")).toEqual({ ...good, label: "rent" });
    expect(() => add({ ...good, address: "" }, "args")).toThrow(ProtocolError);
    expect(() => add({ ...good, address: "1".repeat(ADDRESS_MAX + 1) }, "args")).toThrow(ProtocolError);
    expect(() => add({ ...good, label: "" }, "args")).toThrow(ProtocolError);
    expect(() => add({ ...good, chain: "dogecoin" }, "args")).toThrow(ProtocolError);
    expect(() => add({ ...good, id: "Vault" }, "args")).toThrow(ProtocolError);
  });

  it("take a removal of an address as the list gives it", () => {
    const remove = POLICY_METHODS.allowListRemove.args;
    const good = { id: ID, chain: "solana", address: SOL };
    expect(remove(good, "args")).toEqual(good);
    expect(() => remove({ ...good, address: `${SOL}\n` }, "args")).toThrow(ProtocolError);
  });
});

describe("where a trusted address stands", () => {
  const time = (ms: number) => `T${ms - NOW}`;

  it("counts from when the provider lets it through: cooling off until then, in force from then", () => {
    const coolingOffSeconds = 3600;
    const policy = [{ name: "trusted", when: { allowListed: { coolingOffSeconds } }, decision: "allow" as const }];
    const listed = entry({ countsFrom: [{ rule: "trusted", atMs: NOW + coolingOffSeconds * 1000 }] });
    const decided = (now: number) =>
      evaluatePolicy(
        policy,
        {
          kind: "transaction",
          chain: "ethereum",
          description: {
            chain: "ethereum",
            network: "eip155:1",
            action: "transfer",
            transfers: [{ asset: { symbol: "ETH", decimals: 18, known: true }, value: 1n, text: "", to: ETH }],
            change: [],
            approvals: [],
            calls: [],
            fee: { asset: { symbol: "ETH", decimals: 18, known: true }, value: 1n, text: "" },
            warnings: [],
          },
        },
        { now, allowList: new Map([[`ethereum:${ETH.toLowerCase()}`, NOW]]), spent: [] },
      ).decision;
    const at = listed.countsFrom[0]?.atMs as number;
    expect(decided(at - 1)).toBe("deny");
    expect(trustedStanding(listed, at - 1, time)).toEqual([
      'Cooling off: counts for rule "trusted" from T3600000. Until then any device of the account can remove it.',
    ]);
    expect(decided(at)).toBe("allow");
    expect(trustedStanding(listed, at, time)).toEqual(['In force for rule "trusted" since T3600000.']);
  });

  it("says so where no rule reads the list, and each rule's time where several do", () => {
    expect(trustedStanding(entry({ countsFrom: [] }), NOW, time)).toEqual([
      "No rule of the policy in force reads the allow-list: being on it changes nothing for now.",
    ]);
    const two = entry({
      countsFrom: [
        { rule: "now", atMs: NOW },
        { rule: "later", atMs: NOW + 1 },
      ],
    });
    expect(trustedStanding(two, NOW, time)).toEqual([
      'In force for rule "now" since T0.',
      'Cooling off: counts for rule "later" from T1. Until then any device of the account can remove it.',
    ]);
  });
});

/** An entry as the SDK gives it (the provider's fields, with the SDK's `countsFrom`). */
const listed = (more: Record<string, unknown> = {}) => ({
  chain: "ethereum",
  address: ETH.toLowerCase(),
  label: "rent",
  addedMs: NOW,
  countsFrom: [{ rule: "trusted", atMs: NOW + 1000 }],
  ...more,
});

/** The SDK's `Wallet` as far as the allow-list's handlers use it. */
function standIn(overrides: Record<string, unknown> = {}) {
  const wallet = {
    allowList: vi.fn(async () => [listed()]),
    allowListAdd: vi.fn(async (_id: string, e: { chain: string; address: string; label?: string }) =>
      listed({ ...e, label: e.label ?? "" }),
    ),
    allowListRemove: vi.fn(async () => ({ removed: true })),
    ...overrides,
  };
  keepWallet(wallet as unknown as Wallet);
  return wallet;
}

const noProgress = () => {};
const noConfirm = async () => false;

describe("the engine's allow-list handlers", () => {
  const add = (args: { chain: "ethereum" | "bitcoin" | "solana"; address: string; label: string | null }) =>
    policyHandlers.allowListAdd({ id: ID, ...args }, noProgress, noConfirm);

  it("refuse an address its chain would refuse, before anything is sent", async () => {
    const wallet = standIn();
    for (const [chain, address] of [
      ["ethereum", ETH_MISTYPED],
      ["ethereum", ETH.slice(0, -1)],
      ["ethereum", ` ${ETH}`],
      ["ethereum", BTC],
      ["bitcoin", ETH],
      ["bitcoin", `${BTC.slice(0, -1)}5`],
      ["solana", "0OIl"],
    ] as const) {
      const refused = add({ chain, address, label: null });
      await expect(refused, address).rejects.toThrow(WalletError);
      await expect(refused).rejects.toMatchObject({ code: "invalid-address", details: { parameter: "address" } });
    }
    await expect(add({ chain: "ethereum", address: ETH_MISTYPED, label: null })).rejects.toThrow(
      /^this is no ethereum address .*: nothing was added/,
    );
    expect(wallet.allowListAdd).not.toHaveBeenCalled();
  });

  it("add an address its chain takes, in its normal form, with its label or none", async () => {
    const wallet = standIn();
    const added = await add({ chain: "ethereum", address: ETH, label: null });
    expect(wallet.allowListAdd).toHaveBeenCalledWith(ID, { chain: "ethereum", address: ETH.toLowerCase() });
    expect(added).toEqual({
      chain: "ethereum",
      address: ETH.toLowerCase(),
      label: null,
      addedMs: NOW,
      countsFrom: [{ rule: "trusted", atMs: NOW + 1000 }],
    });
    await add({ chain: "solana", address: SOL, label: "system" });
    expect(wallet.allowListAdd).toHaveBeenLastCalledWith(ID, { chain: "solana", address: SOL, label: "system" });
  });

  it("pass on each listed entry read strictly: a bad one left out and counted, texts made showable", async () => {
    standIn({
      allowList: async () => [
        listed({ label: "rent\u202e\u0007 ", countsFrom: [{ rule: "tr\u200busted\n", atMs: NOW }] }),
        listed({ chain: "bitcoin", address: BTC.toUpperCase(), label: "" }),
        listed({ chain: "dogecoin" }),
        listed({ address: ETH_MISTYPED }),
        listed({ address: `${ETH.toLowerCase()}\u200b` }),
        listed({ label: 7 }),
        listed({ addedMs: -1 }),
        listed({ countsFrom: [{ rule: "r", atMs: Number.NaN }] }),
        listed({ countsFrom: "trusted" }),
        listed({ chain: "bitcoin", address: 7 }),
        listed({ chain: "solana", address: "1".repeat(ADDRESS_MAX + 1) }),
        listed({ addedMs: NOW + 1, countsFrom: [{ rule: 5, atMs: NOW }] }),
      ],
    });
    const answer = await policyHandlers.allowList({ id: ID }, noProgress, noConfirm);
    expect(answer).toEqual({
      entries: [
        {
          chain: "ethereum",
          address: ETH.toLowerCase(),
          label: "rent",
          addedMs: NOW,
          countsFrom: [{ rule: "tr usted", atMs: NOW }],
        },
        // Bech32 in either case is one address: shown in the form the provider compares.
        {
          chain: "bitcoin",
          address: BTC,
          label: null,
          addedMs: NOW,
          countsFrom: [{ rule: "trusted", atMs: NOW + 1000 }],
        },
        // A rule whose name is no text is still said: it decides all the same.
        { ...listed(), label: "rent", addedMs: NOW + 1, countsFrom: [{ rule: "unnamed", atMs: NOW }] },
      ],
      notShown: 0,
      unreadable: 9,
    });
    expect(POLICY_METHODS.allowList.result(answer, "result")).toEqual(answer);
  });

  it("pass on the oldest entries of a long list, the rest counted", async () => {
    standIn({
      allowList: async () => Array.from({ length: TRUSTED_SHOWN + 3 }, (_, i) => listed({ addedMs: NOW - i })),
    });
    const answer = await policyHandlers.allowList({ id: ID }, noProgress, noConfirm);
    expect(answer.entries).toHaveLength(TRUSTED_SHOWN);
    expect(answer.entries[0]?.addedMs).toBe(NOW - TRUSTED_SHOWN - 2);
    expect(answer.notShown).toBe(3);
  });

  it("remove an address as the list gives it", async () => {
    const wallet = standIn();
    expect(
      await policyHandlers.allowListRemove({ id: ID, chain: "solana", address: SOL }, noProgress, noConfirm),
    ).toEqual({ removed: true });
    expect(wallet.allowListRemove).toHaveBeenCalledWith(ID, { chain: "solana", address: SOL });
  });
});
