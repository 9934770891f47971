/**
 * The wallet engine's handlers for devices and requests, run on a small stand-in for the SDK's
 * `Wallet` (only what the handlers call): what they pass on of the provider's lists — each entry
 * read strictly, a bad one left out and counted, a long list cut with the rest counted, a device's
 * self-chosen name quoted and stripped of invisible characters — and what they refuse before
 * anything is approved or signed.
 */
import { type Wallet, WalletError } from "@keyshard/wallet/browser";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CORE_METHODS } from "../src/engine/calls/core.js";
import { DEVICES_METHODS } from "../src/engine/calls/devices.js";
import { REQUESTS_METHODS } from "../src/engine/calls/requests.js";
import { devicesHandlers } from "../src/engine/handlers/devices.js";
import { type Confirm, keepWallet } from "../src/engine/handlers/engine-state.js";
import { requestsHandlers } from "../src/engine/handlers/requests.js";
import { heldOf } from "../src/engine/handlers/review.js";
import { ProtocolError, showable } from "../src/engine/readers.js";
import type { Review } from "../src/engine/review.js";

const THIS = "a".repeat(32);
const OTHER = "b".repeat(32);
const REVOKED = "c".repeat(32);
const WALLET_ID = "w-1";
const requestIdOf = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

const devices = [
  { id: THIS, name: "Ann's laptop", state: "active", createdMs: 1_690_000_000_000 },
  { id: OTHER, name: "Ann's phone", state: "active", createdMs: 1_690_000_000_001 },
  { id: REVOKED, name: "Old tablet", state: "revoked", createdMs: 1_600_000_000_000 },
];

/** A held request as the provider lists it, made by `by`. */
const request = (n: number, by = OTHER, more: Record<string, unknown> = {}) => ({
  requestId: requestIdOf(n),
  walletId: WALLET_ID,
  deviceId: by,
  kind: "transaction",
  chain: "ethereum",
  status: "held",
  rule: "A second device approves",
  ruleNumber: 1,
  description: {},
  waitingFor: { approvals: { needed: 1, have: 0 } },
  createdMs: 1_700_000_000_000 + n,
  ...more,
});

const transfer = { to: "0x00000000000000000000000000000000000b0b00", text: "0.5 ETH" };
const description = (transfers = [transfer]) => ({
  chain: "ethereum",
  network: "eip155:31337",
  action: "transfer",
  transfers,
  change: [],
  approvals: [],
  calls: [],
  fee: { text: "0.000042 ETH" },
  warnings: [],
});

/** The SDK's `Wallet` as far as the handlers use it; each test overrides what it needs. */
function fakeWallet(overrides: Record<string, unknown> = {}) {
  const wallet = {
    deviceId: THIS,
    account: async () => ({ id: "acc", email: "ann@example.com", devices }),
    accountChanges: async () => ({ changes: [] }),
    policyWallets: async () => [{ id: WALLET_ID, name: "Household", localName: "Household" }],
    requests: async () => ({ requests: [request(1)] }),
    requestDetail: async (id: string) => ({ ...request(1), requestId: id, payload: "0x00" }),
    // As the SDK does: the request with this device's reading of its bytes, approved once confirmed.
    approve: vi.fn(async (id: string, confirm: (r: unknown) => Promise<boolean>) => {
      const detail = await wallet.requestDetail(id);
      if (!(await confirm({ ...detail, description: description() }))) throw new WalletError("usage", "not approved");
      return request(1);
    }),
    resume: vi.fn(async () => ({ transactionId: `0x${"1".repeat(64)}`, receiptStatus: 1 })),
    transactionStatus: async () => ({ block: 7 }),
    ...overrides,
  };
  keepWallet(wallet as unknown as Wallet);
  return wallet;
}

const noProgress = () => {};
const refuseAll: Confirm = async () => false;

afterEach(() => vi.restoreAllMocks());

describe("the requests' handlers", () => {
  it("does not count an approval by a device revoked since", async () => {
    fakeWallet({
      requestDetail: async () => ({
        ...request(1, THIS),
        payload: "0x00",
        approvals: [
          { deviceId: REVOKED, atMs: 1, revoked: true },
          { deviceId: OTHER, atMs: 2 },
        ],
      }),
    });
    const entry = await requestsHandlers.request({ requestId: requestIdOf(1) }, noProgress, refuseAll);
    expect(entry.approvedBy).toEqual([{ name: "Ann's phone", id: OTHER, thisDevice: false }]);
    expect(REQUESTS_METHODS.request.result(entry, "the request")).toEqual(entry);
  });

  it('names the device that asked apart from its name: a device named "this device" is not this one', async () => {
    fakeWallet({
      account: async () => ({
        id: "acc",
        devices: [...devices.slice(0, 1), { id: OTHER, name: "this device", state: "active", createdMs: 1 }],
      }),
    });
    const entry = await requestsHandlers.request({ requestId: requestIdOf(1) }, noProgress, refuseAll);
    expect(entry.requestedBy).toEqual({ name: "this device", id: OTHER, thisDevice: false });
    expect(entry.mine).toBe(false);
  });

  it("finishes only this device's own request: another's is refused before anything is signed", async () => {
    const wallet = fakeWallet();
    await expect(
      requestsHandlers.finishRequest({ requestId: requestIdOf(1), totp: null }, noProgress, refuseAll),
    ).rejects.toThrow("only the device that made a request can finish it");
    expect(wallet.resume).not.toHaveBeenCalled();
  });

  it("finishes this device's own request and gives the receipt", async () => {
    fakeWallet({ requestDetail: async () => ({ ...request(1, THIS), payload: "0x00" }) });
    const sent = await requestsHandlers.finishRequest({ requestId: requestIdOf(1), totp: null }, noProgress, refuseAll);
    expect(REQUESTS_METHODS.finishRequest.result(sent, "the result")).toEqual({
      kind: "sent",
      transactionId: `0x${"1".repeat(64)}`,
      receipt: "confirmed",
      block: 7,
      sentBefore: false,
    });
  });

  it("asks about another device's request with the wallet and the device read from the request itself", async () => {
    fakeWallet();
    const asked: Review[] = [];
    const outcome = await requestsHandlers.approveRequest({ requestId: requestIdOf(1) }, noProgress, async (r) => {
      asked.push(r);
      return false;
    });
    expect(outcome).toEqual({ kind: "not-approved" });
    expect(asked.map((r) => r.request)).toEqual([
      { wallet: "Household", requestedBy: { name: "Ann's phone", id: OTHER, thisDevice: false } },
    ]);
  });

  it("refuses to have this device approve its own request, without asking", async () => {
    fakeWallet({ requestDetail: async () => ({ ...request(1, THIS), payload: "0x00" }) });
    const confirm = vi.fn(refuseAll);
    await expect(requestsHandlers.approveRequest({ requestId: requestIdOf(1) }, noProgress, confirm)).rejects.toThrow(
      "this device made this request",
    );
    expect(confirm).not.toHaveBeenCalled();
  });

  it("refuses to show for approval a transaction that does more than a review carries", async () => {
    fakeWallet({
      approve: async (_id: string, confirm: (r: unknown) => Promise<boolean>) =>
        confirm({ ...request(1), payload: "0x00", description: description(Array(21).fill(transfer)) }),
    });
    const confirm = vi.fn(refuseAll);
    await expect(requestsHandlers.approveRequest({ requestId: requestIdOf(1) }, noProgress, confirm)).rejects.toThrow(
      ProtocolError,
    );
    expect(confirm).not.toHaveBeenCalled();
  });

  it("refuses to show for approval what is not an Ethereum transaction with this device's description", async () => {
    for (const shown of [
      { chain: "bitcoin", description: description() },
      { kind: "message", description: description() },
      { description: undefined },
      { description: { text: "hello" } },
    ]) {
      fakeWallet({
        approve: async (_id: string, confirm: (r: unknown) => Promise<boolean>) =>
          confirm({ ...request(1), payload: "0x00", ...shown }),
      });
      const confirm = vi.fn(refuseAll);
      await expect(
        requestsHandlers.approveRequest({ requestId: requestIdOf(1) }, noProgress, confirm),
        JSON.stringify(shown),
      ).rejects.toThrow("this app shows Ethereum transactions only");
      expect(confirm).not.toHaveBeenCalled();
    }
  });

  it("leaves out and counts a request it cannot read, and copies only the fields it knows", async () => {
    fakeWallet({
      requests: async () => ({
        requests: [
          request(1, OTHER, { extra: "not passed on" }),
          request(2, OTHER, { requestId: undefined }),
          request(3, OTHER, { createdMs: "yesterday" }),
          request(4, OTHER, { waitingFor: { approvals: { needed: -1, have: 0 } } }),
          request(5, "../../v1/devices"),
        ],
      }),
    });
    const held = await requestsHandlers.heldRequests({}, noProgress, refuseAll);
    expect(held.unreadable).toBe(4);
    expect(held.requests.map((r) => r.requestId)).toEqual([requestIdOf(1)]);
    expect(REQUESTS_METHODS.heldRequests.result(held, "the result")).toEqual(held);
  });

  it("lists at most what one answer carries, other devices' requests first, and counts the rest", async () => {
    const many = Array.from({ length: 600 }, (_, n) => request(n, n % 2 === 0 ? THIS : OTHER));
    fakeWallet({ requests: async () => ({ requests: many }) });
    const held = await requestsHandlers.heldRequests({}, noProgress, refuseAll);
    expect(held.requests).toHaveLength(500);
    expect(held.notShown).toBe(100);
    expect(held.requests.slice(0, 300).every((r) => !r.mine)).toBe(true);
    expect(REQUESTS_METHODS.heldRequests.result(held, "the result")).toEqual(held);
  });
});

describe("the devices' handlers", () => {
  it("describes a waiting change itself, its kind first and the new device's name quoted", async () => {
    const NEW = "d".repeat(32);
    fakeWallet({
      account: async () => ({
        id: "acc",
        devices: [
          ...devices,
          { id: NEW, name: "Ann's tablet\u200b\u2028, approved by you", state: "approved", createdMs: 2 },
        ],
      }),
      accountChanges: async () => ({
        changes: [
          {
            id: requestIdOf(9),
            kind: "device",
            subject: NEW,
            summary: "a harmless change, nothing to see",
            requestedBy: THIS,
            requestedAt: "2026-01-01T00:00:00.000Z",
            effectiveAt: "2026-01-02T00:00:00.000Z",
            status: "pending",
          },
        ],
      }),
    });
    const view = await devicesHandlers.devices({}, noProgress, refuseAll);
    expect(view.changes.map((c) => c.line)).toEqual([`New device: "Ann's tablet , approved by you" (dddddddd)`]);
    expect(view.changes[0]).toMatchObject({ requestedBy: "Ann's laptop", requestedById: THIS, byThisDevice: true });
    expect(view.devices.find((d) => d.id === NEW)?.name).toBe("Ann's tablet , approved by you");
    expect(DEVICES_METHODS.devices.result(view, "the result")).toEqual(view);
  });

  it("leaves out and counts a device or a change it cannot read, and cuts a long list", async () => {
    const many = Array.from({ length: 150 }, (_, n) => ({
      id: n.toString(16).padStart(32, "0"),
      name: `device ${n}`,
      state: n === 149 ? "awaiting-approval" : "active",
      createdMs: n,
    }));
    fakeWallet({
      account: async () => ({
        id: "acc",
        devices: [...many, { id: "not an id", name: "x", state: "active" }, { id: OTHER, name: 5, state: "active" }],
      }),
      accountChanges: async () => ({
        changes: [
          {
            id: "nope",
            kind: "device",
            subject: OTHER,
            requestedBy: THIS,
            effectiveAt: "2026-01-02",
            status: "pending",
          },
        ],
      }),
    });
    const view = await devicesHandlers.devices({}, noProgress, refuseAll);
    expect(view.unreadable).toBe(3);
    expect(view.devices).toHaveLength(100);
    expect(view.notShown).toBe(50);
    // The device waiting for approval is the one to act on: it is listed, whatever its place.
    expect(view.devices[0]?.state).toBe("awaiting-approval");
    expect(DEVICES_METHODS.devices.result(view, "the result")).toEqual(view);
  });

  it("reports a revocation that leaves more shared wallets than one answer names", async () => {
    const wallets = Array.from({ length: 150 }, (_, n) => ({
      walletId: `w-${n}`,
      name: `Shared ${n}`,
      threshold: 2,
      signersLeft: 1,
    }));
    fakeWallet({ revokeDevice: async () => ({ deviceId: OTHER, accountId: "acc", state: "revoked", wallets }) });
    const revoked = await devicesHandlers.revokeDevice({ id: OTHER }, noProgress, refuseAll);
    expect(DEVICES_METHODS.revokeDevice.result(revoked, "the result")).toEqual(revoked);
    expect(revoked.wallets).toHaveLength(100);
    expect(revoked.walletsNotShown).toBe(50);
  });
});

describe("what the engine passes on of the provider's words", () => {
  it("strips invisible characters and line separators from a name", () => {
    expect(showable("Ann\u200b's\u2028phone\u2029\u200d\ufeff", 64)).toBe("Ann 's phone");
    expect(showable("Ann's\u202etablet", 64)).toBe("Ann's tablet");
  });

  it('refuses a held send whose request has no id, rather than following request "undefined"', () => {
    const held = (details: Record<string, unknown>) => heldOf(new WalletError("held", "held", details));
    expect(held({ requestId: requestIdOf(1), waitingFor: { totp: true } })).toEqual({
      kind: "held",
      requestId: requestIdOf(1),
      rule: "a rule",
      waitingFor: { totp: true, approvals: null, releaseMs: null },
    });
    expect(() => held({ waitingFor: { totp: true } })).toThrow(ProtocolError);
    expect(() => held({ requestId: requestIdOf(1), waitingFor: { approvals: { needed: "1", have: 0 } } })).toThrow(
      ProtocolError,
    );
    const outcome = {
      kind: "held",
      requestId: "undefined",
      rule: "a rule",
      waitingFor: { totp: true, approvals: null, releaseMs: null },
    };
    expect(() => CORE_METHODS.send.result(outcome, "the outcome")).toThrow(ProtocolError);
  });
});
