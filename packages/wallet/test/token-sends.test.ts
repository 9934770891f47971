/**
 * ERC-20 sends (`keyshard send --token`) with the real `keyshard` bin, a real provider process and
 * anvil, on tokens built from OpenZeppelin 4.9.6's artifacts:
 * - the amount is in the token's units, its decimals read from the contract (6 here, not 18);
 *   the recipient is paid on chain, the screen shows token, recipient and amount;
 * - more decimals than the token has, more than the token balance, no ETH for the fee, an
 *   address that is no token, `--token` off Ethereum or without a node: refused before signing;
 * - a transfer the token refuses (paused) is `would-fail` before signing;
 * - a token send is kept apart from an ETH send of the same base units to the same recipient;
 * - the transfer is built for the chain the token was read on: a node that changes chain, or a
 *   `--chain-id` of another chain, is refused;
 * - an unlisted token's symbol is not shown when it is the chain's coin's or a listed token's;
 * - on mainnet's chain id, a listed token (USDC) is limited by the provider's policy, and a
 *   contract at a listed address that answers other decimals than the list is refused.
 */
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import {
  type Abi,
  decodeFunctionResult,
  encodeAbiParameters,
  encodeDeployData,
  encodeFunctionData,
  getAddress,
  type Hex,
  keccak256,
  pad,
  toHex,
} from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEthereumTransaction, erc20TransferData } from "../../chains/src/index.js";
import { type Anvil, startAnvil } from "../../chains/test/anvil.js";
import { type ProviderProcess, spawnProvider, startMailbox } from "../../provider/test/harness.js";
import { describeTokenTransfer } from "../src/chains/erc20.js";
import { type Device, firstDevice, type Run } from "./cli.js";
import { startLyingNode } from "./lying-node.js";

const BOB = getAddress("0x00000000000000000000000000000000000b0b00");
const CAROL = getAddress("0x00000000000000000000000000000000000ca201");
const ETH = 10n ** 18n;
const ONE_ETH = `0x${ETH.toString(16)}`;
/** anvil's first account: unlocked, funded, it deploys the tokens. */
const DEPLOYER = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
/**
 * Contracts that are no tokens, or odd ones: any call stops without an answer (CALLVALUE PUSH1 0
 * SSTORE STOP); reverts (PUSH1 0 PUSH1 0 REVERT); answers 256 (PUSH2 0x100 PUSH1 0 MSTORE PUSH1
 * 32 PUSH1 0 RETURN); answers 18 to every call, symbol() too (PUSH1 18 …); answers 18 to calls
 * without arguments and nothing to balanceOf(address) (CALLDATASIZE PUSH1 4 EQ PUSH1 8 JUMPI
 * STOP JUMPDEST PUSH1 18 …).
 */
const ODD_CODES = {
  silent: "0x3460005500",
  reverting: "0x60006000fd",
  decimals256: "0x61010060005260206000f3",
  all18: "0x601260005260206000f3",
  noBalance: "0x36600414600857005b601260005260206000f3",
} as const;
const oddAddress = (index: number) => `0x00000000000000000000000000000000000c0de${index}`;
/** Listed in `MAINNET_TOKENS` for chain 1, with 6 decimals each. */
const USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48";
const USDT = "0xdAC17F958D2ee523a2206206994597C13D831ec7";

interface Artifact {
  abi: Abi;
  bytecode: Hex;
  deployedBytecode: Hex;
}
const artifact = (name: string) =>
  createRequire(import.meta.url)(`@openzeppelin/contracts/build/contracts/${name}.json`) as Artifact;
const FIXED = artifact("ERC20PresetFixedSupply");
const PAUSER = artifact("ERC20PresetMinterPauser");

/**
 * OpenZeppelin's presets answer decimals() with a constant 18, compiled as JUMPDEST PUSH1 0x40
 * MLOAD PUSH1 0x12 (the code's only such sequence): with 0x06 there, the same token has 6
 * decimals. The tests check the patched token's decimals() on chain.
 */
function withSixDecimals(code: Hex): Hex {
  const body = "5b604051601281";
  const at = code.indexOf(body);
  if (at < 0 || at % 2 !== 0 || code.indexOf(body, at + 1) >= 0) throw new Error("decimals() is not where expected");
  return `${code.slice(0, at)}5b604051600681${code.slice(at + body.length)}` as Hex;
}

describe("ERC-20 sends: token units from the contract, checked before they are signed", () => {
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  let provider: ProviderProcess;
  let anvil: Anvil;
  let phone: Device;
  let address: string;
  /** 6 decimals, "SIX", a million of them held by the wallet. */
  let six: Hex;
  /** 18 decimals, "PLN", held by the wallet. */
  let plain: Hex;
  /** 18 decimals, "PAU", held by the wallet, paused. */
  let paused: Hex;

  /** The receipt of a transaction anvil's automine has taken, which a loaded machine may serve a moment later. */
  async function mined(node: Anvil, hash: unknown): Promise<{ contractAddress: Hex | null; status: string }> {
    for (let tries = 0; ; tries++) {
      const receipt = await node.rpc("eth_getTransactionReceipt", [hash]);
      if (receipt !== null) return receipt as { contractAddress: Hex | null; status: string };
      if (tries > 300) throw new Error(`${String(hash)} was not mined`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  async function deploy(node: Anvil, data: Hex): Promise<Hex> {
    const receipt = await mined(node, await node.rpc("eth_sendTransaction", [{ from: DEPLOYER, data }]));
    expect(receipt.status).toBe("0x1");
    return getAddress(receipt.contractAddress as Hex);
  }
  const call = (node: Anvil, to: string, data: Hex) => node.rpc("eth_call", [{ to, data }, "latest"]) as Promise<Hex>;
  const read = async (node: Anvil, token: string, functionName: string, args: unknown[] = []) =>
    decodeFunctionResult({
      abi: FIXED.abi,
      functionName,
      data: await call(node, token, encodeFunctionData({ abi: FIXED.abi, functionName, args })),
    });
  const tokenBalance = (node: Anvil, token: string, who: string) =>
    read(node, token, "balanceOf", [who]) as Promise<bigint>;
  const ethBalance = async (who: string) => BigInt((await anvil.rpc("eth_getBalance", [who, "latest"])) as string);
  const asDeployer = async (token: Hex, functionName: string, args: unknown[]) => {
    const data = encodeFunctionData({ abi: PAUSER.abi, functionName, args });
    const receipt = await mined(anvil, await anvil.rpc("eth_sendTransaction", [{ from: DEPLOYER, to: token, data }]));
    expect(receipt.status).toBe("0x1");
  };

  beforeAll(async () => {
    mailbox = await startMailbox();
    provider = await spawnProvider({ KEYSHARD_SMTP_URL: mailbox.url });
    anvil = await startAnvil();
    phone = await firstDevice(provider.url, mailbox.mails, "tess@example.com");
    await phone.ok(["wallet", "create", "--name", "main"]);
    address = (await phone.ok(["address", "--wallet", "main", "--chain", "ethereum"])).address as string;
    six = await deploy(
      anvil,
      encodeDeployData({
        abi: FIXED.abi,
        bytecode: withSixDecimals(FIXED.bytecode),
        args: ["Six", "SIX", 10n ** 12n, address],
      }),
    );
    plain = await deploy(
      anvil,
      encodeDeployData({ abi: FIXED.abi, bytecode: FIXED.bytecode, args: ["Plain", "PLN", 1000n * ETH, address] }),
    );
    paused = await deploy(
      anvil,
      encodeDeployData({ abi: PAUSER.abi, bytecode: PAUSER.bytecode, args: ["Paused", "PAU"] }),
    );
    await asDeployer(paused, "mint", [address, 1000n * ETH]);
    await asDeployer(paused, "pause", []);
  });
  afterAll(async () => {
    await provider?.stop();
    await mailbox?.close();
    await anvil?.stop();
    phone?.remove();
  });

  const requestCount = async () => ((await phone.ok(["requests"])).requests as unknown[]).length;
  const sendToken = (token: string, to: string, amount: string, ...more: string[]): Promise<Run> =>
    phone.run([
      ...["send", "--wallet", "main", "--chain", "ethereum", "--token", token, "--to", to, "--amount", amount],
      ...[...more, "--yes", "--json"],
    ]);

  it("pays the recipient in the token's units, with its decimals from the contract, shown before signing", async () => {
    await anvil.rpc("anvil_setBalance", [address, ONE_ETH]);
    expect(await read(anvil, six, "decimals")).toBe(6);
    const transfer = encodeFunctionData({ abi: FIXED.abi, functionName: "transfer", args: [BOB, 12_500_000n] });
    const estimate = BigInt(
      (await anvil.rpc("eth_estimateGas", [{ from: address, to: six, data: transfer }])) as string,
    );

    const paid = await sendToken(six, BOB, "12.5", "--rpc", anvil.url);
    expect(paid.code, paid.stdout + paid.stderr).toBe(0);
    expect(paid.json).toMatchObject({ receiptStatus: 1, transactionId: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    expect(await tokenBalance(anvil, six, BOB)).toBe(12_500_000n);
    // What the screen showed before signing: the token, the recipient, the amount in token units.
    expect(paid.stderr).toContain(`token-transfer on eip155:31337`);
    expect(paid.stderr).toContain(`send 12.5 SIX to ${BOB}`);
    expect(paid.stderr).toContain(`call transfer(address,uint256) on ${six}`);
    expect(paid.stderr).toContain(
      `is on no list keyshard trusts: its symbol SIX and its 6 decimals are as the node at ${anvil.url} reports them`,
    );
    // The same estimate and margin as an ETH send; the transaction sends no ETH.
    const mined = (await anvil.rpc("eth_getTransactionByHash", [paid.json.transactionId])) as Record<string, string>;
    expect(BigInt(mined.gas as string)).toBe((estimate * 120n + 99n) / 100n);
    expect(BigInt(mined.value as string)).toBe(0n);
    expect(getAddress(mined.to as string)).toBe(six);

    // Its symbol and base units are understood too; the JSON is a native send's.
    const bySymbol = await sendToken(six, BOB, "0.5 SIX", "--rpc", anvil.url);
    expect(bySymbol.json).toMatchObject({ receiptStatus: 1 });
    const inBaseUnits = await sendToken(six, CAROL, "1500000 base units", "--rpc", anvil.url);
    expect(inBaseUnits.json).toMatchObject({ receiptStatus: 1 });
    expect(await tokenBalance(anvil, six, BOB)).toBe(13_000_000n);
    expect(await tokenBalance(anvil, six, CAROL)).toBe(1_500_000n);
    const native = await phone.run([
      ...["send", "--wallet", "main", "--chain", "ethereum", "--to", CAROL, "--amount", "0.01"],
      ...["--rpc", anvil.url, "--yes", "--json"],
    ]);
    expect(native.code, native.stderr).toBe(0);
    expect(Object.keys(paid.json).sort()).toEqual(Object.keys(native.json).sort());
  });

  it("refuses before signing: too many decimals, more than the token balance, no ETH for the fee, off Ethereum, no node", async () => {
    await anvil.rpc("anvil_setBalance", [address, ONE_ETH]);
    const before = await requestCount();
    const fraction = await sendToken(six, BOB, "1.1234567", "--rpc", anvil.url);
    expect(fraction.code).toBe(1);
    expect(fraction.json).toMatchObject({
      error: "invalid-amount",
      message: '"1.1234567" has 7 decimals; SIX has 6 at most',
    });

    const held = await tokenBalance(anvil, six, address);
    const tooMuch = await sendToken(six, BOB, `${held / 1_000_000n + 1n}`, "--rpc", anvil.url);
    expect(tooMuch.code).toBe(1);
    expect(tooMuch.json).toMatchObject({
      error: "insufficient-funds",
      balance: held.toString(),
      message: expect.stringMatching(/holds \d+(\.\d+)? SIX, less than the \d+ SIX to send/),
    });

    await anvil.rpc("anvil_setBalance", [address, "0x0"]);
    const noEth = await sendToken(six, BOB, "1", "--rpc", anvil.url);
    expect(noEth.json).toMatchObject({
      error: "insufficient-funds",
      message: expect.stringMatching(/holds 0 ETH, less than a fee of up to/),
    });
    await anvil.rpc("anvil_setBalance", [address, ONE_ETH]);

    const bitcoin = await phone.run([
      ...["send", "--wallet", "main", "--chain", "bitcoin", "--network", "regtest", "--token", six],
      ...["--to", "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", "--amount", "1", "--yes", "--json"],
    ]);
    expect(bitcoin.code).toBe(2);
    expect(bitcoin.json).toMatchObject({
      error: "usage",
      option: "--token",
      message: expect.stringMatching(/^--token sends an ERC-20 token/),
    });
    // The chain the token is read on is the one the transfer is built for: the user's, and the node's throughout.
    const otherChain = await sendToken(six, BOB, "1", "--rpc", anvil.url, "--chain-id", "1");
    expect(otherChain.json).toMatchObject({
      error: "usage",
      option: "--chain-id",
      message: expect.stringMatching(/^--chain-id is 1, but the node at .* is on chain 31337/),
    });
    let chainIdCalls = 0;
    const switching = await startLyingNode(anvil.url, (method) =>
      method === "eth_chainId" && ++chainIdCalls > 1 ? { result: "0x1" } : undefined,
    );
    try {
      const switched = await sendToken(six, BOB, "1", "--rpc", switching.url);
      expect(switched.json).toMatchObject({ error: "usage", message: expect.stringMatching(/is on chain 1$/) });
      expect(chainIdCalls).toBe(2);
    } finally {
      await switching.close();
    }
    const offline = await sendToken(six, BOB, "1", "--chain-id", "31337", "--nonce", "0");
    expect(offline.code).toBe(2);
    expect(offline.json).toMatchObject({
      error: "usage",
      option: "--rpc",
      message: expect.stringMatching(/^a token send needs --rpc/),
    });

    expect(await requestCount()).toBe(before);
    expect(await tokenBalance(anvil, six, address)).toBe(held);
  });

  it("refuses before signing an address that is no token, and never shows a symbol() that is no plain text", async () => {
    await anvil.rpc("anvil_setBalance", [address, ONE_ETH]);
    const before = await requestCount();
    const noCode = await sendToken(CAROL, BOB, "1", "--rpc", anvil.url);
    expect(noCode.code).toBe(1);
    expect(noCode.json).toMatchObject({
      error: "invalid-token",
      option: "--token",
      message: expect.stringMatching(
        /^0x0+Ca201 is not an ERC-20 token contract: no contract is at this address on chain 31337\. Check --token/i,
      ),
    });
    const odd: Record<string, Run> = {};
    for (const [index, [name, code]] of Object.entries(ODD_CODES).entries()) {
      await anvil.rpc("anvil_setCode", [oddAddress(index), code]);
      odd[name] = await sendToken(oddAddress(index), BOB, "1", "--rpc", anvil.url);
    }
    const notToken = (why: RegExp) => ({
      error: "invalid-token",
      option: "--token",
      message: expect.stringMatching(why),
    });
    expect(odd.silent?.json).toMatchObject(notToken(/its decimals\(\) does not answer a uint8/));
    expect(odd.reverting?.json).toMatchObject(notToken(/its decimals\(\) fails \(.*revert.*\)/));
    expect(odd.decimals256?.json).toMatchObject(notToken(/its decimals\(\) does not answer a uint8/));
    expect(odd.noBalance?.json).toMatchObject(notToken(/its balanceOf\(\) does not answer a uint256/));
    // A symbol() that is no string is not shown: the amounts name the token by its address.
    expect(odd.all18?.json).toMatchObject({
      error: "insufficient-funds",
      message: `${address} holds 0.000000000000000018 of token ${getAddress(oddAddress(3))}, less than the 1 of token ${getAddress(oddAddress(3))} to send`,
    });
    // Nor is one that could steer the terminal.
    const escaping = await deploy(
      anvil,
      encodeDeployData({ abi: FIXED.abi, bytecode: FIXED.bytecode, args: ["Esc", "\u001b[2JUSDC", ETH, DEPLOYER] }),
    );
    const escaped = await sendToken(escaping, BOB, "1", "--rpc", anvil.url);
    expect(escaped.json).toMatchObject({
      error: "insufficient-funds",
      message: `${address} holds 0 of token ${escaping}, less than the 1 of token ${escaping} to send`,
    });
    expect(escaped.stdout + escaped.stderr).not.toContain("\u001b");
    // A symbol that is the chain's coin's is not shown either (in any case; BNB where BNB is the coin).
    const fakeEther = await deploy(
      anvil,
      encodeDeployData({ abi: FIXED.abi, bytecode: FIXED.bytecode, args: ["Ether", "ETH", ETH, DEPLOYER] }),
    );
    const lowerEther = await deploy(
      anvil,
      encodeDeployData({ abi: FIXED.abi, bytecode: FIXED.bytecode, args: ["Ether", "eth", ETH, DEPLOYER] }),
    );
    const fakeBnb = await deploy(
      anvil,
      encodeDeployData({ abi: FIXED.abi, bytecode: FIXED.bytecode, args: ["BNB", "BNB", ETH, DEPLOYER] }),
    );
    const fakeUsdc = await deploy(
      anvil,
      encodeDeployData({ abi: FIXED.abi, bytecode: FIXED.bytecode, args: ["USD Coin", "USDC", ETH, DEPLOYER] }),
    );
    const unnamed = (token: string) =>
      `${address} holds 0 of token ${token}, less than the 1 of token ${token} to send`;
    expect((await sendToken(lowerEther, BOB, "1", "--rpc", anvil.url)).json.message).toBe(unnamed(lowerEther));
    expect((await sendToken(fakeBnb, BOB, "1", "--rpc", anvil.url)).json.message).toMatch(/holds 0 BNB/);
    expect((await sendToken(fakeUsdc, BOB, "1", "--rpc", anvil.url)).json.message).toMatch(/holds 0 USDC/);
    await anvil.rpc("anvil_setChainId", [56]);
    try {
      expect((await sendToken(fakeBnb, BOB, "1", "--rpc", anvil.url)).json.message).toBe(unnamed(fakeBnb));
      // Nor a listed token's, on the chain it is listed for: no "send 1 USDC" for another contract.
      await anvil.rpc("anvil_setChainId", [1]);
      expect((await sendToken(fakeUsdc, BOB, "1", "--rpc", anvil.url)).json.message).toBe(unnamed(fakeUsdc));
      // ETH is no token's symbol on a chain keyshard does not know either.
      await anvil.rpc("anvil_setChainId", [8888]);
      expect((await sendToken(fakeEther, BOB, "1", "--rpc", anvil.url)).json.message).toBe(unnamed(fakeEther));
    } finally {
      await anvil.rpc("anvil_setChainId", [31337]);
    }
    const badAddress = await sendToken("0xnot-an-address", BOB, "1", "--rpc", anvil.url);
    expect(badAddress.json).toMatchObject({ error: "invalid-address", option: "--token" });
    expect(await requestCount()).toBe(before);
  });

  it("a transfer the token refuses (paused) is would-fail, before anything is signed", async () => {
    await anvil.rpc("anvil_setBalance", [address, ONE_ETH]);
    const before = await requestCount();
    const refused = await sendToken(paused, BOB, "1", "--rpc", anvil.url);
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.json).toMatchObject({
      error: "would-fail",
      nodeError: expect.stringMatching(/paused/),
      message: expect.stringMatching(
        new RegExp(
          `^the node at ${anvil.url} says a transfer of 1 PAU to ${BOB} would fail \\(.*\\), so nothing was signed: the token contract ${paused} refuses it`,
        ),
      ),
    });
    expect(await requestCount()).toBe(before);
    expect(await tokenBalance(anvil, paused, BOB)).toBe(0n);
  });

  it("a token send is kept apart from an ETH send of the same base units to the same recipient: each pays once", async () => {
    await anvil.rpc("anvil_setBalance", [address, ONE_ETH]);
    const bobEth = await ethBalance(BOB);
    await anvil.rpc("evm_setAutomine", [false]);
    let id: string;
    try {
      const late = await sendToken(plain, BOB, "0.1", "--rpc", anvil.url, "--wait-receipt", "1");
      expect(late.json).toMatchObject({ error: "unconfirmed" });
      id = late.json.transactionId as string;
      await anvil.rpc("evm_mine");
    } finally {
      await anvil.rpc("evm_setAutomine", [true]);
    }
    // 0.1 PLN and 0.1 ETH are both 10^17 base units: the ETH send is a new payment.
    const eth = await phone.run([
      ...["send", "--wallet", "main", "--chain", "ethereum", "--to", BOB, "--amount", "0.1"],
      ...["--rpc", anvil.url, "--yes", "--json"],
    ]);
    expect(eth.code, eth.stdout + eth.stderr).toBe(0);
    expect(eth.json.sentBefore).toBeUndefined();
    expect((await ethBalance(BOB)) - bobEth).toBe(ETH / 10n);
    // The token send again is the one sent before, mined: not paid twice.
    const again = await sendToken(plain, BOB, "0.1", "--rpc", anvil.url);
    expect(again.json).toMatchObject({ transactionId: id, sentBefore: true, receiptStatus: 1 });
    expect(await tokenBalance(anvil, plain, BOB)).toBe(ETH / 10n);
  });

  describe("on mainnet's chain id, with listed tokens", () => {
    let mainnet: Anvil;
    beforeAll(async () => {
      mainnet = await startAnvil();
      await mainnet.rpc("anvil_setChainId", [1]);
      // The 6-decimal token's code at USDC's address, and the wallet's balance in OpenZeppelin's
      // ERC20 storage (`_balances`, slot 0); an 18-decimal token's code at USDT's.
      const sixCode = withSixDecimals(FIXED.deployedBytecode);
      await mainnet.rpc("anvil_setCode", [USDC, sixCode]);
      const slot = keccak256(encodeAbiParameters([{ type: "address" }, { type: "uint256" }], [address as Hex, 0n]));
      await mainnet.rpc("anvil_setStorageAt", [USDC, slot, pad(toHex(1000n * 10n ** 6n))]);
      await mainnet.rpc("anvil_setCode", [USDT, FIXED.deployedBytecode]);
      await mainnet.rpc("anvil_setBalance", [address, ONE_ETH]);
      expect(await read(mainnet, USDC, "decimals")).toBe(6);
      expect(await tokenBalance(mainnet, USDC, address)).toBe(1000n * 10n ** 6n);
    });
    afterAll(async () => {
      await mainnet?.stop();
    });

    it("the provider's policy limits a listed token: within it paid, over it denied, the rule shown", async () => {
      const policy = join(phone.home, "usdc-policy.json");
      writeFileSync(
        policy,
        JSON.stringify([
          {
            name: "small USDC",
            when: { chain: ["ethereum"], asset: ["USDC"], maxAmount: "100", maxFee: "0.01" },
            decision: "allow",
          },
          { name: "no other tokens", when: { action: ["token-transfer"] }, decision: "deny" },
          { name: "ether", when: { action: ["transfer"] }, decision: "allow" },
        ]),
      );
      await phone.ok(["wallet", "create", "--name", "limited", "--policy", policy]);
      const limited = (await phone.ok(["address", "--wallet", "limited", "--chain", "ethereum"])).address as string;
      const slot = keccak256(encodeAbiParameters([{ type: "address" }, { type: "uint256" }], [limited as Hex, 0n]));
      await mainnet.rpc("anvil_setStorageAt", [USDC, slot, pad(toHex(1000n * 10n ** 6n))]);
      await mainnet.rpc("anvil_setBalance", [limited, ONE_ETH]);
      const pay = (amount: string) =>
        phone.run([
          ...["send", "--wallet", "limited", "--chain", "ethereum", "--token", USDC, "--to", BOB, "--amount", amount],
          ...["--rpc", mainnet.url, "--yes", "--json"],
        ]);

      const small = await pay("100");
      expect(small.code, small.stdout + small.stderr).toBe(0);
      expect(small.stderr).toContain(`send 100 USDC to ${BOB}`);
      expect(small.stderr).not.toMatch(/on no list/);
      expect(await tokenBalance(mainnet, USDC, BOB)).toBe(100n * 10n ** 6n);

      const large = await pay("100.000001");
      expect(large.code, large.stdout + large.stderr).toBe(1);
      expect(large.json).toMatchObject({
        error: "denied",
        ruleNumber: 2,
        rule: "no other tokens",
        message: `the provider's policy denies this (rule 2 ("no other tokens"))`,
      });
      expect(await tokenBalance(mainnet, USDC, BOB)).toBe(100n * 10n ** 6n);
    });

    it("a contract at a listed token's address that answers other decimals than the list is refused", async () => {
      const before = await requestCount();
      const run = await phone.run([
        ...["send", "--wallet", "main", "--chain", "ethereum", "--token", USDT, "--to", BOB, "--amount", "1"],
        ...["--rpc", mainnet.url, "--yes", "--json"],
      ]);
      expect(run.code).toBe(1);
      expect(run.json).toMatchObject({
        error: "invalid-token",
        message: expect.stringMatching(/USDT on chain 1 has 6 decimals, and this contract answers 18/),
      });
      expect(await requestCount()).toBe(before);
    });
  });
});

describe("a token transfer as the screen describes it", () => {
  const token = getAddress("0x00000000000000000000000000000000000c0ffe");
  const bytes = buildEthereumTransaction({
    chainId: 31337,
    nonce: 0,
    to: token,
    value: 0n,
    data: erc20TransferData(BOB, 12_500_000n),
    gas: 60_000n,
    maxFeePerGas: 1n,
    maxPriorityFeePerGas: 1n,
  });
  const facts = { chainId: 31337, address: token, decimals: 6, symbol: "SIX", rpc: "http://127.0.0.1:8545/v3/api-key" };

  it("an unlisted token's amount is in its units, yet not known: its symbol and decimals are the node's say", () => {
    const description = describeTokenTransfer(bytes, { ...facts, listed: false });
    expect(description.action).toBe("token-transfer");
    expect(description.transfers).toEqual([
      expect.objectContaining({
        to: BOB,
        value: 12_500_000n,
        text: "12.5 SIX",
        asset: expect.objectContaining({ known: false }),
      }),
    ]);
    expect(description.warnings).toContainEqual(
      `token ${token} is on no list keyshard trusts: its symbol SIX and its 6 decimals are as the node at http://127.0.0.1:8545 reports them; check the address`,
    );
    expect(description.warnings.join()).not.toContain("api-key");
    const unnamed = describeTokenTransfer(bytes, { ...facts, symbol: "?", listed: false });
    expect(unnamed.warnings.join()).toMatch(/its symbol \(not shown: .*\) and its 6 decimals are as the node/);
  });

  it("a listed token is known, without the warning", () => {
    const description = describeTokenTransfer(bytes, { ...facts, listed: true });
    expect(description.transfers[0]?.asset.known).toBe(true);
    expect(description.warnings.join()).not.toMatch(/no list/);
  });
});
