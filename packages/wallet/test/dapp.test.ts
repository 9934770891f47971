/**
 * dApp libraries over the Wallet SDK, against a real provider process and anvil: viem with
 * `wallet.viemAccount` (a hybrid wallet, a derived path, a 2-of-3 wallet with the provider as a
 * party), wagmi's `injected` connector and ethers' BrowserProvider over `wallet.eip1193`. A
 * request the policy denies reaches the dApp with the rule named in the library's own error; a
 * request the policy holds is waited for, and given up on when the caller says so.
 */
import { endpoints } from "@keyshard/api";
import { base32 } from "@scure/base";
import { connect, createConfig, injected, sendTransaction, waitForTransactionReceipt } from "@wagmi/core";
import { BrowserProvider, verifyMessage as ethersVerifyMessage } from "ethers";
import {
  type Address,
  type BaseError,
  createPublicClient,
  createWalletClient,
  http,
  type LocalAccount,
  parseEther,
  parseGwei,
  verifyMessage,
  verifyTypedData,
} from "viem";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ANVIL_CHAIN, type Anvil, startAnvil } from "../../chains/test/anvil.js";
import { hotp, TOTP_STEP_MS, totpStep } from "../../provider/src/policy/totp.js";
import { type ProviderProcess, spawnProvider, startMailbox } from "../../provider/test/harness.js";
import { ProviderClient } from "../src/client.js";
import { type HeldRequest, MAX_HELD_WAIT_MS } from "../src/dapp/held.js";
import { WalletError } from "../src/errors.js";
import { Wallet } from "../src/wallet.js";
import { type Device, firstDevice, nextDevice, PASSPHRASE } from "./cli.js";

const BOB = "0x00000000000000000000000000000000000b0b00";
const TEN_ETH = "0x8ac7230489e80000";

const MAIL = {
  domain: {
    name: "Ether Mail",
    version: "1",
    chainId: 31337,
    verifyingContract: "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC",
  },
  types: {
    Person: [
      { name: "name", type: "string" },
      { name: "wallet", type: "address" },
    ],
    Mail: [
      { name: "from", type: "Person" },
      { name: "to", type: "Person" },
      { name: "contents", type: "string" },
      { name: "nonce", type: "uint256" },
    ],
  },
  primaryType: "Mail",
  message: {
    from: { name: "Cow", wallet: "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826" },
    to: { name: "Bob", wallet: "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB" },
    contents: "Hello, Bob!",
    nonce: 2n ** 200n,
  },
} as const;

/** Transfers, messages and typed data allowed: what a dApp's wallet does. */
const OPEN_POLICY = [
  { name: "transfers", when: { action: ["transfer"] }, decision: "allow" },
  { name: "signatures", when: { kind: ["message", "typed-data"] }, decision: "allow" },
];

describe("viem, wagmi and ethers over the Wallet SDK", () => {
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  let provider: ProviderProcess;
  let anvil: Anvil;
  let phone: Device;
  let laptop: Device;
  let wallet: Wallet;

  /** The authenticator: a code for a step after the last one used (a code works once). */
  let secret: Uint8Array;
  let lastStep = 0;
  async function code(): Promise<string> {
    const step = Math.max(lastStep + 1, totpStep(Date.now()) + 1);
    const wait = (step - 1) * TOTP_STEP_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait + 50));
    lastStep = step;
    return hotp(secret, step);
  }

  beforeAll(async () => {
    mailbox = await startMailbox();
    provider = await spawnProvider({
      KEYSHARD_SMTP_URL: mailbox.url,
      KEYSHARD_ACCOUNT_CHANGE_DELAY_SECONDS: "0",
      KEYSHARD_POLICY_DELAY_SECONDS: "1",
      KEYSHARD_TRIAL: "1",
    });
    anvil = await startAnvil();
    const email = "dana@example.com";
    phone = await firstDevice(provider.url, mailbox.mails, email);
    const other = await nextDevice(provider.url, mailbox.mails, email, phone, "laptop");
    laptop = other.device;
    // The device's own steps run in this process, through the SDK; the laptop's through its command line.
    wallet = await Wallet.open(phone.home, PASSPHRASE);
    await wallet.createWallet({ name: "main", policy: OPEN_POLICY });
    await wallet.createWallet({
      name: "strict",
      policy: [{ name: "no messages", when: { kind: ["message"] }, decision: "deny" }],
    });
    const written = (await wallet.totpEnroll()).secret;
    secret = base32.decode(written.padEnd(Math.ceil(written.length / 8) * 8, "="));
    await wallet.totpConfirm(await code());
    await wallet.createWallet({
      name: "guarded",
      policy: [
        { name: "second device", when: { kind: ["message"] }, decision: "require-approvals", approvals: 1 },
        { name: "2fa", when: { kind: ["typed-data"] }, decision: "require-totp" },
      ],
    });
    await wallet.createWallet({
      name: "slow",
      policy: [
        { name: "cooling", when: { kind: ["message"] }, decision: "delay", delaySeconds: 2 },
        { name: "long wait", when: { kind: ["typed-data"] }, decision: "delay", delaySeconds: 3600 },
      ],
    });
    // 2-of-3: this device, the laptop and the provider; the laptop joins the key generation.
    const laptopJoins = (async () => {
      for (let i = 0; i < 60; i++) {
        const run = await laptop.ok(["wallet", "join"]);
        if ((run.joined as unknown[]).length > 0) return;
      }
    })();
    await wallet.createWallet({ name: "team", policy: OPEN_POLICY, threshold: 2, devices: [other.id] });
    await laptopJoins;
    // Five key generations, a TOTP enrollment and the command line run for two devices.
  }, 300_000);
  afterAll(async () => {
    vi.unstubAllGlobals();
    await provider?.stop();
    await mailbox?.close();
    await anvil?.stop();
    for (const d of [phone, laptop]) d?.remove();
  });

  const chain = () => ({ ...ANVIL_CHAIN, rpcUrls: { default: { http: [anvil.url] } } });
  const clientOf = (account: LocalAccount) =>
    createWalletClient({ account, chain: chain(), transport: http(anvil.url) });
  const fund = (address: string) => anvil.rpc("anvil_setBalance", [address, TEN_ETH]);
  const balance = async (who: string) => BigInt((await anvil.rpc("eth_getBalance", [who, "latest"])) as string);

  it("viem signs EIP-191 and EIP-712 with a hybrid wallet and sends a transaction on anvil", async () => {
    const account = wallet.viemAccount("main");
    const address = wallet.address("main", "ethereum") as Address;
    expect(account.address).toBe(address);
    const client = clientOf(account);

    const message = "sign in to example.org";
    const signature = await client.signMessage({ message });
    expect(await verifyMessage({ address, message, signature })).toBe(true);
    const typed = await client.signTypedData(MAIL);
    expect(await verifyTypedData({ address, ...MAIL, signature: typed })).toBe(true);

    await fund(address);
    const before = await balance(BOB);
    const hash = await client.sendTransaction({ to: BOB, value: parseEther("0.25") });
    const receipt = await createPublicClient({ chain: chain(), transport: http(anvil.url) }).waitForTransactionReceipt({
      hash,
    });
    expect(receipt.status).toBe("success");
    expect(receipt.from.toLowerCase()).toBe(address.toLowerCase());
    expect((await balance(BOB)) - before).toBe(parseEther("0.25"));
    // EIP-2930: an access list with gasPrice, signed like EIP-1559.
    const accessList = [{ address: BOB as Address, storageKeys: [] }];
    const typeOne = await client.sendTransaction({ to: BOB, value: 1n, gasPrice: parseGwei("2"), accessList });
    expect(
      await createPublicClient({ chain: chain(), transport: http(anvil.url) }).waitForTransactionReceipt({
        hash: typeOne,
      }),
    ).toMatchObject({ status: "success", type: "eip2930" });
  });

  it("viem signs at a derived path with that path's address; a hardened path is refused", async () => {
    const path = "m/0/7";
    const account = wallet.viemAccount("main", { path });
    const address = wallet.address("main", "ethereum", { path }) as Address;
    expect(account.address).toBe(address);
    expect(address).not.toBe(wallet.address("main", "ethereum"));
    const signature = await account.signMessage({ message: "at a path" });
    expect(await verifyMessage({ address, message: "at a path", signature })).toBe(true);
    expect(() => wallet.viemAccount("main", { path: "m/0'/1" })).toThrow(WalletError);
  });

  it("viem signs through a 2-of-3 wallet whose parties are two devices and the provider", async () => {
    const account = wallet.viemAccount("team");
    const address = wallet.address("team", "ethereum") as Address;
    const client = clientOf(account);
    const signature = await client.signMessage({ message: "from the team" });
    expect(await verifyMessage({ address, message: "from the team", signature })).toBe(true);
    await fund(address);
    const hash = await client.sendTransaction({ to: BOB, value: parseEther("0.01") });
    const receipt = await createPublicClient({ chain: chain(), transport: http(anvil.url) }).waitForTransactionReceipt({
      hash,
    });
    expect(receipt.status).toBe("success");
  });

  it("wagmi's injected connector connects to wallet.eip1193 and sends a transaction on anvil", async () => {
    const provider = wallet.eip1193("main", { rpc: anvil.url, chainId: ANVIL_CHAIN.id });
    const address = wallet.address("main", "ethereum") as Address;
    await fund(address);
    // The injected connector looks for a browser: this one has only the wallet's provider.
    vi.stubGlobal("window", new EventTarget());
    const config = createConfig({
      chains: [chain()],
      multiInjectedProviderDiscovery: false,
      connectors: [injected({ target: () => ({ id: "keyshard", name: "keyshard", provider }) })],
      transports: { [ANVIL_CHAIN.id]: http(anvil.url) },
    });
    const connector = config.connectors[0];
    if (connector === undefined) throw new Error("no connector");
    const connected = await connect(config, { connector });
    expect(connected.accounts).toEqual([address]);
    expect(connected.chainId).toBe(ANVIL_CHAIN.id);
    const before = await balance(BOB);
    const hash = await sendTransaction(config, { to: BOB, value: parseEther("0.5") });
    const receipt = await waitForTransactionReceipt(config, { hash });
    expect(receipt.status).toBe("success");
    expect((await balance(BOB)) - before).toBe(parseEther("0.5"));
  });

  it("ethers' BrowserProvider over wallet.eip1193 signs a message and sends a transaction", async () => {
    const address = wallet.address("main", "ethereum");
    await fund(address);
    const browser = new BrowserProvider(wallet.eip1193("main", { rpc: anvil.url, chainId: ANVIL_CHAIN.id }));
    const signer = await browser.getSigner();
    expect(await signer.getAddress()).toBe(address);
    const signature = await signer.signMessage("hello from ethers");
    expect(ethersVerifyMessage("hello from ethers", signature)).toBe(address);
    const before = await balance(BOB);
    const sent = await signer.sendTransaction({ to: BOB, value: parseEther("0.125") });
    const receipt = await sent.wait();
    expect(receipt?.status).toBe(1);
    expect((await balance(BOB)) - before).toBe(parseEther("0.125"));
  });

  it("a request the policy denies fails in viem, ethers and the EIP-1193 provider with the rule named", async () => {
    const client = clientOf(wallet.viemAccount("strict"));
    const denied = await client.signMessage({ message: "nope" }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(Error);
    expect((denied as Error).message).toContain('the provider\'s policy denies this (rule 1 ("no messages"))');
    // Transactions go through viem's error wrapping for sends: the reason survives it.
    const address = wallet.address("strict", "ethereum") as Address;
    await fund(address);
    const transaction = await client.sendTransaction({ to: BOB, value: 1n }).catch((e: unknown) => e);
    expect((transaction as Error).message).toContain("the provider's policy denies this (no rule matched)");
    const cause = (transaction as BaseError).walk((e) => e instanceof WalletError);
    expect(cause).toMatchObject({ code: "denied", details: { rule: null } });

    const browser = new BrowserProvider(wallet.eip1193("strict", { rpc: anvil.url, chainId: ANVIL_CHAIN.id }));
    const rejected = await (await browser.getSigner()).signMessage("nope").catch((e: unknown) => e);
    expect(rejected).toMatchObject({ code: "ACTION_REJECTED" });
    const provider = wallet.eip1193("strict", { rpc: anvil.url, chainId: ANVIL_CHAIN.id });
    const direct = await provider
      .request({ method: "personal_sign", params: ["0x6e6f7065", address] })
      .catch((e: unknown) => e);
    expect(direct).toMatchObject({ code: 4001, message: expect.stringContaining('rule 1 ("no messages")') });
  });

  it("a held request is waited for until its time lock is over, and given up when the caller aborts", async () => {
    const address = wallet.address("slow", "ethereum") as Address;
    const told: HeldRequest[] = [];
    const account = wallet.viemAccount("slow", { onHeld: (held) => void told.push(held) });
    const signature = await clientOf(account).signMessage({ message: "after a pause" });
    expect(await verifyMessage({ address, message: "after a pause", signature })).toBe(true);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ rule: "cooling", ruleNumber: 1, waitingFor: { releaseMs: expect.any(Number) } });

    const controller = new AbortController();
    const patient = wallet.viemAccount("slow", { onHeld: () => controller.abort(), signal: controller.signal });
    const given = await clientOf(patient)
      .signTypedData(MAIL)
      .catch((e: unknown) => e);
    expect((given as Error).message).toMatch(
      /request \S+ is still held by the provider's policy \(rule 2 \("long wait"\)\): stopped waiting/,
    );
    const timed = await wallet
      .viemAccount("slow", { heldWaitMs: 1 })
      .signTypedData(MAIL)
      .catch((e: unknown) => e);
    expect(timed).toMatchObject({ code: "held", message: expect.stringMatching(/not released within/) });
    // Given up on, the requests stay held for a later resume.
    const held = (await wallet.requests("held")).requests.filter((r) => r.rule === "long wait");
    expect(held).toHaveLength(2);
  });

  it("a request held for another device's approval is signed once it approves", async () => {
    const address = wallet.address("guarded", "ethereum") as Address;
    // The approving device must have been active for the policy delay (1 s here).
    const account = wallet.viemAccount("guarded", {
      onHeld: async ({ requestId }) => void (await laptop.ok(["approve", requestId])),
    });
    const signature = await account.signMessage({ message: "approved elsewhere" });
    expect(await verifyMessage({ address, message: "approved elsewhere", signature })).toBe(true);
  });

  it("a request held for the TOTP code asks `totp` for it, and without `totp` is left held", async () => {
    const address = wallet.address("guarded", "ethereum") as Address;
    const unasked = await wallet
      .viemAccount("guarded")
      .signTypedData(MAIL)
      .catch((e: unknown) => e);
    expect(unasked).toMatchObject({
      code: "held",
      message: expect.stringContaining('(rule 2 ("2fa")): it waits for the account\'s TOTP code'),
    });
    const signature = await wallet.viemAccount("guarded", { totp: code }).signTypedData(MAIL);
    expect(await verifyTypedData({ address, ...MAIL, signature })).toBe(true);
  });

  it("a held request another device cancels is denied to the dApp", async () => {
    const account = wallet.viemAccount("slow", {
      onHeld: async ({ requestId }) => void (await laptop.ok(["cancel", requestId])),
    });
    const cancelled = await account.signTypedData(MAIL).catch((e: unknown) => e);
    expect(cancelled).toMatchObject({
      code: "denied",
      message: expect.stringMatching(/^request \S+ was (cancelled|denied) while held by rule 2 \("long wait"\)$/),
    });
  });

  it("the EIP-1193 provider rejects a request still held (4001); an aborted signal makes no request", async () => {
    const slow = wallet.address("slow", "ethereum") as Address;
    const provider = wallet.eip1193("slow", { rpc: anvil.url, chainId: ANVIL_CHAIN.id, heldWaitMs: 0 });
    const held = await provider
      .request({ method: "personal_sign", params: ["0x68656c64", slow] })
      .catch((e: unknown) => e);
    expect(held).toMatchObject({
      code: 4001,
      message: expect.stringMatching(
        /still held by the provider's policy \(rule 1 \("cooling"\)\): not released within 0 s/,
      ),
    });

    const before = (await wallet.requests()).requests.length;
    const controller = new AbortController();
    controller.abort();
    const signal = controller.signal;
    const stopped = await wallet
      .viemAccount("main", { signal })
      .signMessage({ message: "never asked" })
      .catch((e: unknown) => e);
    expect(stopped).toMatchObject({ code: "usage", details: { declined: true } });
    const main = wallet.address("main", "ethereum") as Address;
    const rejected = await wallet
      .eip1193("main", { rpc: anvil.url, chainId: ANVIL_CHAIN.id, signal })
      .request({ method: "personal_sign", params: ["0x6e6f7065", main] })
      .catch((e: unknown) => e);
    expect(rejected).toMatchObject({ code: 4001, message: expect.stringContaining("`signal` is aborted") });
    expect((await wallet.requests()).requests.length).toBe(before);
  });

  describe("with a provider whose replies are rewritten", () => {
    const request = ProviderClient.prototype.request;
    /** Calls to the provider pass through `rewrite`, which sees each endpoint and its reply. */
    function rewriting(rewrite: (endpoint: unknown, reply: Record<string, unknown>) => Record<string, unknown>) {
      vi.spyOn(ProviderClient.prototype, "request").mockImplementation(async function (
        this: ProviderClient,
        ...args: Parameters<typeof request>
      ) {
        return rewrite(args[0], (await request.apply(this, args)) as Record<string, unknown>) as never;
      });
    }
    afterEach(() => vi.restoreAllMocks());

    it("a held reply naming another request this device holds is refused, and the other stays held", async () => {
      const first = await wallet
        .viemAccount("slow", { heldWaitMs: 0 })
        .signTypedData(MAIL)
        .catch((e: unknown) => e);
      expect(first).toMatchObject({ code: "held" });
      const firstId = (first as WalletError).details.requestId as string;
      rewriting((endpoint, reply) =>
        endpoint === endpoints.createSignRequest && reply.status === "held" ? { ...reply, requestId: firstId } : reply,
      );
      const refused = await wallet
        .viemAccount("slow", { heldWaitMs: 0 })
        .signMessage({ message: "another" })
        .catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: "provider-refused", details: { requestId: firstId } });
      // Any other failure reaches a dApp as an internal error (-32603), with the SDK's message.
      const slow = wallet.address("slow", "ethereum") as Address;
      const internal = await wallet
        .eip1193("slow", { rpc: anvil.url, chainId: ANVIL_CHAIN.id, heldWaitMs: 0 })
        .request({ method: "personal_sign", params: ["0x6e6f7065", slow] })
        .catch((e: unknown) => e);
      expect(internal).toMatchObject({ code: -32603, message: expect.stringContaining(`holds (${firstId})`) });
      vi.restoreAllMocks();
      const held = (await wallet.requests("held")).requests.map((r) => r.requestId);
      expect(held).toContain(firstId);
    });

    it("a release time that seems past (the device's clock ahead) is asked about at the usual pace", async () => {
      let asked = 0;
      rewriting((endpoint, reply) => {
        if (endpoint !== endpoints.signRequest) return reply;
        asked++;
        return { ...reply, waitingFor: { releaseMs: Date.now() - 60_000 } };
      });
      const given = await wallet
        .viemAccount("slow", { heldWaitMs: 2_500 })
        .signTypedData(MAIL)
        .catch((e: unknown) => e);
      expect(given).toMatchObject({ code: "held", message: expect.stringMatching(/not released within 3 s/) });
      // Once a second: a 50 ms pace would ask some fifty times.
      expect(asked).toBeGreaterThan(0);
      expect(asked).toBeLessThanOrEqual(6);
    });
  });

  it("confirm sees the decoded request first; declining signs nothing", async () => {
    const seen: unknown[] = [];
    const account = wallet.viemAccount("main", {
      confirm: (description) => {
        seen.push(description);
        return false;
      },
    });
    const before = (await wallet.requests()).requests.length;
    const stopped = await account.signMessage({ message: "not this" }).catch((e: unknown) => e);
    expect(stopped).toMatchObject({ code: "usage", message: "stopped before signing: nothing was signed" });
    expect(JSON.stringify(seen)).toContain("not this");
    const provider = wallet.eip1193("main", { rpc: anvil.url, chainId: ANVIL_CHAIN.id, confirm: () => false });
    const declined = await provider
      .request({ method: "personal_sign", params: ["0x6e6f7065", account.address] })
      .catch((e: unknown) => e);
    expect(declined).toMatchObject({ code: 4001, message: "stopped before signing: nothing was signed" });
    // A transaction a dApp sends is declined alike, once `confirm` has seen it decoded.
    await fund(account.address);
    const sending = wallet.eip1193("main", {
      rpc: anvil.url,
      chainId: ANVIL_CHAIN.id,
      confirm: (description) => {
        seen.push(description);
        return false;
      },
    });
    const notSent = await sending
      .request({ method: "eth_sendTransaction", params: [{ from: account.address, to: BOB, value: "0x1" }] })
      .catch((e: unknown) => e);
    expect(notSent).toMatchObject({ code: 4001, message: "stopped before signing: nothing was signed" });
    expect(seen.at(-1)).toMatchObject({
      action: "transfer",
      transfers: [expect.objectContaining({ to: expect.stringMatching(new RegExp(`^${BOB}$`, "i")), value: 1n })],
    });
    expect((await wallet.requests()).requests.length).toBe(before);
  });

  it("bad options are refused before anything is asked", () => {
    expect(() => wallet.viemAccount("nowhere")).toThrow(/no wallet named nowhere/);
    const refusal = (make: () => unknown): unknown => {
      try {
        make();
      } catch (e) {
        return e;
      }
      return "taken";
    };
    const eip = { rpc: anvil.url, chainId: ANVIL_CHAIN.id };
    const bad: [string, Record<string, unknown>][] = [
      // NaN would poll without pause, Infinity wait for ever, a negative wait give up at once.
      ...[Number.NaN, Number.POSITIVE_INFINITY, -1, 1.5, MAX_HELD_WAIT_MS + 1, "5"].map(
        (heldWaitMs) => ["heldWaitMs", { heldWaitMs }] as [string, Record<string, unknown>],
      ),
      ["signal", { signal: { aborted: false } }],
      ["totp", { totp: "123456" }],
      ["onHeld", { onHeld: true }],
      ["confirm", { confirm: true }],
      ["path", { path: 7 }],
    ];
    for (const [parameter, options] of bad) {
      const expected = { code: "usage", details: { parameter } };
      expect(
        refusal(() => wallet.viemAccount("main", options as never)),
        parameter,
      ).toMatchObject(expected);
      expect(
        refusal(() => wallet.eip1193("main", { ...eip, ...options } as never)),
        parameter,
      ).toMatchObject(expected);
    }
    expect(refusal(() => wallet.viemAccount("main", null as never))).toMatchObject({
      code: "usage",
      details: { parameter: "options" },
    });
    for (const heldWaitMs of [0, MAX_HELD_WAIT_MS]) expect(wallet.viemAccount("main", { heldWaitMs })).toBeDefined();
    expect(() => wallet.eip1193("main", { rpc: "", chainId: 1 })).toThrow(/`rpc` is required/);
    expect(() => wallet.eip1193("main", { rpc: anvil.url, chainId: 0 })).toThrow(
      /`chainId` must be a positive integer/,
    );
  });
});
