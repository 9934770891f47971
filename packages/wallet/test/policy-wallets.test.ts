/**
 * Which wallet a policy call reads or changes: an id names exactly one of the account's wallets,
 * whoever holds it; a name is this device's wallet first, else the account's only wallet of that
 * name, and two wallets of other devices sharing it are refused rather than one picked.
 */
import { endpoints } from "@keyshard/api";
import { describe, expect, it } from "vitest";
import type { Device } from "../src/device/device.js";
import { policyWalletId, policyWallets } from "../src/flows/policies.js";

const HERE = "11111111-1111-4111-8111-111111111111";
const THERE = "22222222-2222-4222-8222-222222222222";
const ELSEWHERE = "33333333-3333-4333-8333-333333333333";

/** A device holding the wallet HERE ("Vault"), whose account also has THERE ("Vault", another device's). */
function device(accountWallets: { id: string; name: string; scheme?: string; members?: string[] | null }[]): Device {
  const local = [{ id: HERE, name: "Vault" }];
  return {
    state: { wallets: local },
    find(name: string) {
      const found = local.find((w) => w.name === name || w.id === name);
      if (found === undefined) throw new Error(`no wallet named ${name} on this device`);
      return found;
    },
    client: {
      async request(endpoint: unknown) {
        if (endpoint !== endpoints.wallets) throw new Error("unexpected request");
        return {
          wallets: accountWallets.map((w) => ({
            id: w.id,
            name: w.name,
            scheme: w.scheme ?? "ecdsa2p",
            state: "active",
            publicKey: null,
            threshold: 2,
            epoch: 0,
            members: w.members ?? null,
          })),
        };
      },
    },
  } as unknown as Device;
}

describe("the wallet a policy call names", () => {
  const account = device([
    { id: HERE, name: "Vault" },
    { id: THERE, name: "Vault" },
    { id: ELSEWHERE, name: "Savings" },
  ]);

  it("takes an id of the account's wallets as it is, even when this device has a wallet of the same name", async () => {
    expect(await policyWalletId(account, THERE)).toBe(THERE);
    expect(await policyWalletId(account, ELSEWHERE)).toBe(ELSEWHERE);
  });

  it("reads a name as this device's wallet first, else the account's one wallet of that name", async () => {
    expect(await policyWalletId(account, "Vault")).toBe(HERE);
    expect(await policyWalletId(account, "Savings")).toBe(ELSEWHERE);
    await expect(policyWalletId(account, "Nowhere")).rejects.toThrow(/no wallet named Nowhere/);
  });

  it("refuses a name two wallets of other devices share, naming their ids", async () => {
    const shared = device([
      { id: THERE, name: "Joint" },
      { id: ELSEWHERE, name: "Joint" },
    ]);
    await expect(policyWalletId(shared, "Joint")).rejects.toThrow(`${THERE}, ${ELSEWHERE}`);
  });

  it("lists the account's wallets with their ids, their names on this device, and whether they have an Ethereum address", async () => {
    const listed = await policyWallets(
      device([
        { id: HERE, name: "Vault" },
        { id: THERE, name: "Sol", scheme: "frost-ed25519", members: ["a", "b"] },
        { id: ELSEWHERE, name: "Taproot", scheme: "frost-taproot" },
      ]),
    );
    expect(listed.map((w) => [w.id, w.localName, w.ethereum, w.hybrid])).toEqual([
      [HERE, "Vault", true, true],
      [THERE, null, false, false],
      [ELSEWHERE, null, false, true],
    ]);
  });
});
