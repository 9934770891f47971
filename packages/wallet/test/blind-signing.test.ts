/**
 * What you see is what you sign, with the real `keyshard` bin and a real provider process: typed
 * data, a Permit and messages are decoded and shown before "sign this? [y/N]"; "n" signs nothing
 * (the provider never hears of the request), "y" signs, `--yes` signs unasked, and a closed
 * stdin without `--yes` refuses. A held Permit is shown the same way to the approving device.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getAddress, type Hex, verifyMessage, verifyTypedData } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Anvil, startAnvil } from "../../chains/test/anvil.js";
import { type ProviderProcess, spawnProvider, startMailbox } from "../../provider/test/harness.js";
import { type Device, firstDevice, nextDevice } from "./cli.js";

const USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48";
const SPENDER = "0x3fC91A3afd70395Cd496C647d5a6CC9D4B2b7FAD";
const BOB = "0x00000000000000000000000000000000000b0b00";
const ASKED = /sign this\? \[y\/N\]/;

const answer = (reply: string) => [{ prompt: ASKED, reply: async () => reply }];

const signedBy = (typedData: object, address: Hex, signature: Hex) =>
  verifyTypedData({ ...typedData, address, signature } as Parameters<typeof verifyTypedData>[0]);

describe("keyshard shows what it signs and asks first", () => {
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  let provider: ProviderProcess;
  let anvil: Anvil;
  let phone: Device;
  let laptop: Device;
  let address: Hex;
  let permitFile: string;
  let permit2File: string;
  let permit: Record<string, unknown>;

  beforeAll(async () => {
    mailbox = await startMailbox();
    provider = await spawnProvider({
      KEYSHARD_SMTP_URL: mailbox.url,
      KEYSHARD_POLICY_DELAY_SECONDS: "1",
      KEYSHARD_ACCOUNT_CHANGE_DELAY_SECONDS: "0",
      KEYSHARD_TRIAL: "1",
    });
    anvil = await startAnvil();
    phone = await firstDevice(provider.url, mailbox.mails, "carol@example.com");
    ({ device: laptop } = await nextDevice(provider.url, mailbox.mails, "carol@example.com", phone, "laptop"));
    const policy = join(phone.home, "policy.json");
    writeFileSync(
      policy,
      JSON.stringify([
        { name: "off-chain", when: { kind: ["message", "typed-data"] }, decision: "allow" },
        { name: "transfers", when: { action: ["transfer"] }, decision: "allow" },
      ]),
    );
    await phone.ok(["wallet", "create", "--name", "main", "--policy", policy]);
    address = (await phone.ok(["address", "--wallet", "main", "--chain", "ethereum"])).address as Hex;
    permit = {
      types: {
        EIP712Domain: [
          { name: "name", type: "string" },
          { name: "version", type: "string" },
          { name: "chainId", type: "uint256" },
          { name: "verifyingContract", type: "address" },
        ],
        Permit: [
          { name: "owner", type: "address" },
          { name: "spender", type: "address" },
          { name: "value", type: "uint256" },
          { name: "nonce", type: "uint256" },
          { name: "deadline", type: "uint256" },
        ],
      },
      domain: { name: "USD Coin", version: "2", chainId: 1, verifyingContract: USDC },
      primaryType: "Permit",
      message: { owner: address, spender: SPENDER, value: "25000000", nonce: "0", deadline: "1735689600" },
    };
    permitFile = join(phone.home, "permit.json");
    writeFileSync(permitFile, JSON.stringify(permit));
    permit2File = new URL("../../chains/test/fixtures/uniswap-permit2-single.json", import.meta.url).pathname;
  });
  afterAll(async () => {
    await provider?.stop();
    await mailbox?.close();
    await anvil?.stop();
    phone?.remove();
    laptop?.remove();
  });

  /** The provider's record of the account's sign requests: what it was asked to sign at all. */
  const requestCount = async () => ((await phone.ok(["requests"])).requests as unknown[]).length;

  const expectPermitShown = (stderr: string) => {
    expect(stderr).toContain("EIP-712 typed data: Permit");
    expect(stderr).toContain(`domain: name USD Coin, version 2, chain 1, contract ${USDC}`);
    expect(stderr).toContain("TOKEN APPROVAL (ERC-2612 Permit)");
    expect(stderr).toContain(`allow spender ${SPENDER} to take 25 USDC`);
    expect(stderr).toContain("signature usable until 2025-01-01T00:00:00.000Z");
    expect(stderr).toContain("value (uint256): 25000000");
  };

  it('shows a Permit and signs nothing at "n"', async () => {
    const before = await requestCount();
    const refused = await phone.runAnswering(
      ["sign-message", "--wallet", "main", "--typed-data", permitFile, "--json"],
      answer("n"),
    );
    expect(refused.code, refused.stderr).toBe(2);
    expectPermitShown(refused.stderr);
    expect(refused.json).toMatchObject({ error: "usage", message: "stopped before signing: nothing was signed" });
    expect(await requestCount()).toBe(before);
  });

  it('signs the Permit at "y", and the signature is the wallet\'s', async () => {
    const before = await requestCount();
    const signed = await phone.runAnswering(
      ["sign-message", "--wallet", "main", "--typed-data", permitFile, "--json"],
      answer("y"),
    );
    expect(signed.code, signed.stderr).toBe(0);
    expectPermitShown(signed.stderr);
    const signature = signed.json.signed as Hex;
    expect(await signedBy(permit, address, signature)).toBe(true);
    expect(await requestCount()).toBe(before + 1);
  });

  it("shows Uniswap's Permit2 as an unlimited approval, and --yes signs it unasked", async () => {
    const signed = await phone.run(["sign-message", "--wallet", "main", "--typed-data", permit2File, "--yes"]);
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stderr).toContain("TOKEN APPROVAL (Permit2 PermitSingle)");
    expect(signed.stderr).toContain(`allow spender ${SPENDER} to take UNLIMITED USDC`);
    expect(signed.stderr).toContain(`! lets ${SPENDER} take every USDC token`);
    expect(signed.stderr).not.toMatch(ASKED);
    const typedData = JSON.parse(readFileSync(permit2File, "utf8"));
    const signature = signed.stdout.trim() as Hex;
    expect(await signedBy(typedData, address, signature)).toBe(true);
  });

  it("without --yes, a closed stdin refuses: nothing signed, exit 2", async () => {
    const before = await requestCount();
    const run = await phone.run(["sign-message", "--wallet", "main", "--message", "hello"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("EIP-191 message, 5 bytes:\n  | hello");
    expect(run.stderr).toMatch(/nothing was signed: "sign this\?" got no answer .*--yes/);
    expect(run.stdout).toBe("");
    expect(await requestCount()).toBe(before);
  });

  it('shows a message as text, or as hex with a warning, and signs it at "y"', async () => {
    const text = await phone.runAnswering(
      ["sign-message", "--wallet", "main", "--message", "log in to example.org\nnonce 7"],
      answer("y"),
    );
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toContain("  | log in to example.org\n  | nonce 7");
    expect(
      await verifyMessage({ address, message: "log in to example.org\nnonce 7", signature: text.stdout.trim() as Hex }),
    ).toBe(true);
    const hidden = await phone.runAnswering(
      ["sign-message", "--wallet", "main", "--message", "pay 1 ETH\rpay 0 ETH"],
      answer("n"),
    );
    expect(hidden.code).toBe(2);
    expect(hidden.stderr).toContain("as hex");
    expect(hidden.stderr).toContain("! the message holds control or direction characters");
  });

  it('asks before a send too, and "n" sends nothing', async () => {
    await anvil.rpc("anvil_setBalance", [address, "0xde0b6b3a7640000"]);
    const before = await requestCount();
    const refused = await phone.runAnswering(
      ["send", "--wallet", "main", "--chain", "ethereum", "--to", BOB, "--amount", "0.1", "--rpc", anvil.url],
      answer("n"),
    );
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(`send 0.1 ETH to ${getAddress(BOB)}`);
    expect(await requestCount()).toBe(before);
    expect(await anvil.rpc("eth_getBalance", [BOB, "latest"])).toBe("0x0");
  });

  it("a held Permit is shown decoded to the approving device, which approves only at y", async () => {
    const policy = join(phone.home, "held.json");
    writeFileSync(
      policy,
      JSON.stringify([
        { name: "permits", when: { kind: ["typed-data"] }, decision: "require-approvals", approvals: 1 },
      ]),
    );
    await phone.ok(["wallet", "create", "--name", "held", "--policy", policy]);
    const owner = (await phone.ok(["address", "--wallet", "held", "--chain", "ethereum"])).address as Hex;
    const heldPermit = { ...permit, message: { ...(permit.message as object), owner } };
    const heldFile = join(phone.home, "held-permit.json");
    writeFileSync(heldFile, JSON.stringify(heldPermit));
    const held = await phone.run(["sign-message", "--wallet", "held", "--typed-data", heldFile, "--json", "--yes"]);
    expect(held.code, held.stdout + held.stderr).toBe(3);
    const requestId = held.json.requestId as string;
    // The approving device must have been active for the policy delay (1 s here).
    await new Promise((r) => setTimeout(r, 1100));

    const declined = await laptop.runAnswering(["approve", requestId], answer("n"));
    expect(declined.code).toBe(2);
    expectPermitShown(declined.stderr);
    const waiting = (await laptop.ok(["requests", "--status", "held"])).requests as Record<string, unknown>[];
    expect(waiting).toContainEqual(expect.objectContaining({ requestId }));

    const approved = await laptop.runAnswering(["approve", requestId], answer("y"));
    expect(approved.code, approved.stderr).toBe(0);
    expectPermitShown(approved.stderr);
    const resumed = await phone.ok(["resume", requestId]);
    expect(await signedBy(heldPermit, owner, resumed.signed as Hex)).toBe(true);
  });
});
