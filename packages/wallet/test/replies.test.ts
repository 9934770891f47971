/**
 * The provider's replies are hostile until checked: member lists out of party order or naming a
 * device twice, a request's fields of the wrong form, a wallet's scheme other than the one this
 * device holds a share of. Each is refused as `provider-refused` before a flow acts on it.
 */
import { endpoints } from "@keyshard/api";
import { describe, expect, it } from "vitest";
import type { Device } from "../src/device/device.js";
import { requestOf } from "../src/flows/approvals.js";
import { joinKeyChanges } from "../src/flows/key-change.js";
import { membersOf } from "../src/replies.js";
import type { Member, StoredWallet } from "../src/state.js";
import type { RequestDetail } from "../src/types.js";
import { refusal } from "./thrown.js";

const member = (index: number, deviceId: string): Member => ({
  index,
  deviceId,
  identityKey: `${deviceId}00`,
  provider: false,
});

describe("membersOf", () => {
  it("keeps a list in party order with each device once", () => {
    const list = [member(0, "aa"), member(1, "bb"), { ...member(2, "cc"), provider: true }];
    expect(membersOf(list)).toEqual(list);
  });

  it("refuses a list whose indices are permuted", () => {
    const e = refusal(() => membersOf([member(1, "aa"), member(0, "bb")]));
    expect(e.code).toBe("provider-refused");
    expect(e.message).toMatch(/party order/);
  });

  it("refuses a list naming a device twice", () => {
    const e = refusal(() => membersOf([member(0, "aa"), member(1, "bb"), member(2, "aa")]));
    expect(e.code).toBe("provider-refused");
    expect(e.message).toMatch(/twice/);
  });
});

describe("requestOf", () => {
  const device = { state: { wallets: [] } } as unknown as Device;
  const detail = (fields: Partial<RequestDetail>): RequestDetail => ({
    requestId: "r",
    walletId: "w",
    deviceId: "d",
    kind: "transaction",
    chain: "ethereum",
    status: "held",
    rule: null,
    ruleNumber: null,
    description: {},
    payload: "00ff",
    createdMs: 0,
    ...fields,
  });

  it("reads a Bitcoin request whose description is no object as one for mainnet", () => {
    const hostile = detail({ chain: "bitcoin", description: "regtest" as unknown as RequestDetail["description"] });
    expect(requestOf(device, hostile).body).toEqual({
      chain: "bitcoin",
      kind: "transaction",
      payload: "00ff",
      network: "mainnet",
    });
  });

  it("takes the Bitcoin network from the description", () => {
    const body = requestOf(device, detail({ chain: "bitcoin", description: { network: "bitcoin:regtest" } })).body;
    expect(body.network).toBe("regtest");
  });

  it("refuses a chain it does not know, without repeating the provider's value in the message", () => {
    const chain = `\u001b[2J${"x".repeat(100)}`;
    const e = refusal(() => requestOf(device, detail({ chain })));
    expect(e.code).toBe("provider-refused");
    expect(e.message).not.toContain("xxx");
    expect(e.message).not.toContain("\u001b");
    expect(String(e.details.chain).length).toBeLessThanOrEqual(40);
    expect(e.details.chain).not.toContain("\u001b");
  });

  it("refuses a kind or a path of the wrong form", () => {
    expect(refusal(() => requestOf(device, detail({ kind: "psbt" }))).code).toBe("provider-refused");
    expect(refusal(() => requestOf(device, detail({ path: "m/../0" }))).code).toBe("provider-refused");
  });
});

describe("joinKeyChanges", () => {
  it("refuses a change of a held wallet the provider names another scheme for", async () => {
    const members = [member(0, "aa"), member(1, "bb")];
    const stored: StoredWallet = {
      id: "w1",
      name: "main",
      scheme: "dkls23",
      publicKey: "02ab",
      share: "00",
      index: 1,
      threshold: 2,
      members,
      epoch: 0,
      sids: [],
    };
    const session = {
      relayId: "relay",
      sid: "5e".repeat(32),
      purpose: "refresh of wallet main",
      participants: ["aa", "bb"],
      createdBy: "aa",
      expiresMs: 0,
    };
    const remote = {
      id: "w1",
      name: "main",
      scheme: "frost-ed25519",
      state: "ready",
      publicKey: "02ab",
      epoch: 0,
      threshold: 2,
      members,
      change: { epoch: 1, kind: "refresh", threshold: 2, relayId: "relay", createdBy: "aa", members },
    };
    const replies = new Map<unknown, unknown>([
      [endpoints.relaySessions, { sessions: [session] }],
      [endpoints.wallets, { wallets: [{ id: "w1", name: "main" }] }],
      [endpoints.wallet, remote],
    ]);
    const device = {
      deviceId: "bb",
      state: { wallets: [stored] },
      client: { request: async (endpoint: unknown) => replies.get(endpoint) },
      progress: () => undefined,
    } as unknown as Device;
    await expect(joinKeyChanges(device)).rejects.toMatchObject({
      code: "provider-refused",
      message: expect.stringMatching(/another scheme/),
    });
  });
});
