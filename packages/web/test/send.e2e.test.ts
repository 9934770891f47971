/**
 * Sending from the web wallet in Chromium, against a real provider and an anvil node: the person
 * sets the node, sees the balance, and sends 0.25 ETH; the review shows what the transaction's
 * bytes do (recipient, amount, fee), Cancel sends nothing, Confirm sends it and shows its hash and
 * receipt, and the recipient is paid on chain. Then an ERC-20 token, whose review names the
 * contract call. Also the page⇄engine messages that carry the confirmation, read strictly.
 */
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { type Abi, decodeFunctionResult, encodeDeployData, encodeFunctionData, getAddress, type Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Anvil, startAnvil } from "../../chains/test/anvil.js";
import { readConfirmAnswer, readReply } from "../src/engine/protocol.js";
import { ProtocolError } from "../src/engine/readers.js";
import { addVirtualAuthenticator, pageProblems, showing, startWebApp, type WebAppUnderTest } from "./browser.js";
import { createHybridWallet, registerDevice } from "./devices.js";

/** Key generation and signing run seconds on an idle machine; a loaded two-core one may take minutes. */
const MPC_MS = 240_000;
const WALLET = "Spending";
const ETH = 10n ** 18n;
/** anvil's first account: unlocked and funded, it deploys the token. */
const DEPLOYER = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";

interface Artifact {
  abi: Abi;
  bytecode: Hex;
}
const TOKEN = createRequire(import.meta.url)(
  "@openzeppelin/contracts/build/contracts/ERC20PresetFixedSupply.json",
) as Artifact;

let anvil: Anvil;
let web: WebAppUnderTest;
let page: Page;
let problems: string[];
/** The wallet's Ethereum address, as the app shows it. */
let sender: string;

const heading = (name: string) => page.getByRole("heading", { name, exact: true });
const fresh = () => getAddress(`0x${randomBytes(20).toString("hex")}`);
const ethBalance = async (who: string) => BigInt((await anvil.rpc("eth_getBalance", [who, "latest"])) as string);
const nonce = async (who: string) => Number(await anvil.rpc("eth_getTransactionCount", [who, "latest"]));

/** The value of the review's row labelled `label` (a `<dt>`, its `<dd>`). */
const reviewRow = (label: string) =>
  page.locator("dl.review dt", { hasText: new RegExp(`^${label}$`) }).locator("xpath=following-sibling::dd[1]");
const rowText = async (label: string) => ((await reviewRow(label).textContent()) ?? "").trim();

async function mined(hash: unknown): Promise<{ contractAddress: Hex | null; status: string; blockNumber: Hex }> {
  for (let tries = 0; ; tries++) {
    const receipt = await anvil.rpc("eth_getTransactionReceipt", [hash]);
    if (receipt !== null) return receipt as { contractAddress: Hex | null; status: string; blockNumber: Hex };
    if (tries > 300) throw new Error(`${String(hash)} was not mined`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  // Started first: the provider's page policy must name its origin.
  anvil = await startAnvil();
  web = await startWebApp({ connectSources: [anvil.url] });
  page = await web.newPage();
  problems = pageProblems(page);
  await addVirtualAuthenticator(page);
}, MPC_MS);

afterAll(async () => {
  await web?.close();
  await anvil?.stop();
});

/** Goes from the wallet's screen to the send form, and asks to review `amount` to `to`. */
async function review(to: string, amount: string, token?: string): Promise<void> {
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await showing(page, heading("Send"));
  await page.getByLabel("Recipient").fill(to);
  await page.getByLabel("Amount").fill(amount);
  await page.getByLabel("Token contract").fill(token ?? "");
  await page.getByRole("button", { name: "Review" }).click();
  await showing(page, heading("Check the transaction"), MPC_MS);
}

/** Confirms the transaction under review; its hash once the app says it is sent. */
async function confirmAndWait(): Promise<string> {
  await page.getByRole("button", { name: "Confirm" }).click();
  await showing(page, heading("Sent"), MPC_MS);
  return ((await page.locator("main code").first().textContent()) ?? "").trim();
}

async function backToWallet(): Promise<void> {
  await page.getByRole("link", { name: "Back to the wallet" }).click();
  await showing(page, heading(WALLET));
}

describe("sending from the web wallet in Chromium", () => {
  it(
    "sets up a hybrid wallet, sets the node, and shows the balance read through it",
    async () => {
      await registerDevice(web, page, { email: "sam@example.com", name: "Sam's browser" });
      await createHybridWallet(page, WALLET, MPC_MS);

      const ethereum = page.getByRole("region", { name: "Ethereum", exact: true });
      sender = ((await ethereum.locator("code").textContent()) ?? "").trim();
      expect(sender).toMatch(/^0x[0-9a-fA-F]{40}$/);
      await anvil.rpc("anvil_setBalance", [sender, `0x${(10n * ETH).toString(16)}`]);
      // No node yet: nothing to send through.
      expect(await ethereum.getByRole("button", { name: "Send", exact: true }).count()).toBe(0);

      // A node address with credentials in it is refused, and not kept.
      const field = ethereum.getByLabel("Ethereum RPC URL");
      await field.fill("http://user:secret@127.0.0.1:1");
      await ethereum.getByRole("button", { name: "Save node" }).click();
      expect(await field.getAttribute("aria-invalid")).toBe("true");
      expect(await page.evaluate(() => localStorage.getItem("keyshard.rpc.ethereum"))).toBeNull();

      await field.fill(anvil.url);
      await ethereum.getByRole("button", { name: "Save node" }).click();
      await showing(page, ethereum.getByText("Balance: 10 ETH", { exact: true }));
      expect(await page.evaluate(() => localStorage.getItem("keyshard.rpc.ethereum"))).toBe(anvil.url);
      expect(problems).toEqual([]);
    },
    MPC_MS * 2,
  );

  const recipient = fresh();

  it("shows what the transaction's bytes do before signing, and Cancel sends nothing", async () => {
    // Typed as a person might: lower case, a trailing zero. The review shows the bytes' own reading.
    await review(recipient.toLowerCase(), "0.250");
    expect(await rowText("To")).toBe(recipient);
    expect(await rowText("Amount")).toBe("0.25 ETH");
    expect(await rowText("Fee")).toMatch(/^at most 0\.[0-9]+ ETH$/);
    expect(await rowText("Network")).toBe("chain 31337");
    expect(await reviewRow("Contract call").count()).toBe(0);
    await web.screenshot(page, "send-review");

    await page.getByRole("button", { name: "Cancel" }).click();
    await showing(page, page.getByText(/^Nothing was sent/));
    await showing(page, heading("Send"));
    expect(await ethBalance(recipient)).toBe(0n);
    expect(await nonce(sender)).toBe(0);
  });

  it(
    "sends on Confirm, and shows the transaction's hash and its receipt",
    async () => {
      await backToWallet();
      await review(recipient, "0.25");
      expect(await rowText("Amount")).toBe("0.25 ETH");
      const hash = await confirmAndWait();
      expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
      const receipt = await mined(hash);
      expect(receipt.status).toBe("0x1");
      await showing(page, page.getByText(`Confirmed in block ${Number(receipt.blockNumber)}`, { exact: true }));
      await web.screenshot(page, "send-sent");
      expect(await ethBalance(recipient)).toBe(ETH / 4n);

      // Back on the wallet, the balance is the node's new one: less the amount and the fee.
      await backToWallet();
      const left = await ethBalance(sender);
      expect(left < 10n * ETH - ETH / 4n).toBe(true);
      const ethereum = page.getByRole("region", { name: "Ethereum", exact: true });
      await showing(page, ethereum.getByText(/^Balance: 9\.74[0-9]* ETH$/));
      expect(problems).toEqual([]);
    },
    MPC_MS,
  );

  it(
    "sends an ERC-20 token, its review naming the contract call",
    async () => {
      const deployed = await mined(
        await anvil.rpc("eth_sendTransaction", [
          {
            from: DEPLOYER,
            data: encodeDeployData({
              abi: TOKEN.abi,
              bytecode: TOKEN.bytecode,
              args: ["Test Token", "TTK", 1000n * ETH, sender],
            }),
          },
        ]),
      );
      const token = getAddress(deployed.contractAddress as Hex);
      const payee = fresh();

      await review(payee, "12.5", token);
      expect(await rowText("To")).toBe(payee);
      expect(await rowText("Amount")).toBe("12.5 TTK");
      expect(await rowText("Contract call")).toBe(`transfer(address,uint256) on ${token}`);
      // A token on no list the app trusts is said to be one.
      await showing(page, page.getByText(`token ${token} is on no list keyshard trusts`, { exact: false }));
      await web.screenshot(page, "send-review-token");

      await confirmAndWait();
      const balanceOf = encodeFunctionData({ abi: TOKEN.abi, functionName: "balanceOf", args: [payee] });
      const paid = decodeFunctionResult({
        abi: TOKEN.abi,
        functionName: "balanceOf",
        data: (await anvil.rpc("eth_call", [{ to: token, data: balanceOf }, "latest"])) as Hex,
      });
      expect(paid).toBe(125n * 10n ** 17n);
      expect(await ethBalance(payee)).toBe(0n);
      await backToWallet();
      expect(problems).toEqual([]);
    },
    MPC_MS,
  );

  it(
    "shows a send the wallet's policy holds as waiting, and one it denies in the provider's words",
    async () => {
      const held = fresh();
      const blocked = fresh();
      // The policy the account's owner set for the wallet (through the provider's API, where a change waits its delay).
      const policy = [
        { name: "Nothing to the old exchange", when: { to: [blocked] }, decision: "deny" },
        { name: "New payees wait a day", when: { to: [held] }, decision: "delay", delaySeconds: 86_400 },
        { name: "transfers", when: { action: ["transfer", "token-transfer"] }, decision: "allow" },
      ];
      await web.provider.context.db.query("UPDATE wallets SET policy = $1 WHERE name = $2", [
        JSON.stringify(policy),
        WALLET,
      ]);

      await review(held, "0.1");
      await page.getByRole("button", { name: "Confirm" }).click();
      await showing(page, heading("Waiting"), MPC_MS);
      const said = (await page.locator("main").textContent()) ?? "";
      expect(said).toContain('rule 2 ("New payees wait a day")');
      expect(said).toContain("It waits for the end of its time lock");
      const requestId = ((await page.locator("main code").textContent()) ?? "").trim();
      const [request] = await web.provider.context.db.query<{ status: string }>(
        "SELECT status FROM sign_requests WHERE id = $1",
        [requestId],
      );
      expect(request?.status).toBe("held");
      await web.screenshot(page, "send-held");
      await backToWallet();

      await review(blocked, "0.1");
      await page.getByRole("button", { name: "Confirm" }).click();
      const alert = page.getByRole("alert").filter({ hasText: /\S/ });
      await alert.waitFor({ timeout: MPC_MS });
      expect(await alert.textContent()).toContain('The provider says: "Nothing to the old exchange"');
      await showing(page, heading("Send").or(alert));
      await web.screenshot(page, "send-denied");
      expect(await ethBalance(held)).toBe(0n);
      expect(await ethBalance(blocked)).toBe(0n);
      await backToWallet();
      expect(problems).toEqual([]);
    },
    MPC_MS,
  );

  it("has the engine drop an answer to a question it did not ask, and keep answering calls", async () => {
    const assets = fileURLToPath(new URL("../dist/assets/", import.meta.url));
    const script = readdirSync(assets).find((file) => /^worker-.*\.js$/.test(file));
    expect(script).toBeDefined();
    // A second engine on the same page, spoken to as the page speaks to its own.
    const replies = await page.evaluate(
      async (url) => {
        const engine = new Worker(url, { type: "module" });
        const seen: { id: number; kind: string }[] = [];
        engine.addEventListener("message", (event: MessageEvent<{ id: number; kind: string }>) =>
          seen.push(event.data),
        );
        engine.postMessage({ id: 1, kind: "confirm-answer", confirmed: true });
        engine.postMessage({ id: 2, kind: "confirm-answer", confirmed: "yes" });
        engine.postMessage({ id: 3, method: "unlockMethod", args: {} });
        for (let waited = 0; seen.length === 0 && waited < 60_000; waited += 50)
          await new Promise((r) => setTimeout(r, 50));
        // Time for a late reply to the answers, were there one.
        await new Promise((r) => setTimeout(r, 500));
        engine.terminate();
        return seen.map(({ id, kind }) => ({ id, kind }));
      },
      `${new URL(web.appUrl).pathname}assets/${script}`,
    );
    expect(replies).toEqual([{ id: 3, kind: "ok" }]);
  });
});

describe("the confirmation's messages between the page and the engine", () => {
  const described = {
    request: null,
    network: "eip155:31337",
    action: "transfer",
    transfers: [{ to: "0x00000000000000000000000000000000000b0b00", amount: "0.25 ETH", from: null }],
    approvals: [],
    calls: [],
    fee: "0.000042 ETH",
    warnings: [],
  };

  it("reads a confirm reply with the description the engine gives", () => {
    expect(readReply({ id: 3, kind: "confirm", review: described })).toEqual({
      id: 3,
      kind: "confirm",
      review: described,
    });
  });

  it("refuses a malformed confirm reply", () => {
    for (const bad of [
      { id: 3, kind: "confirm" },
      { id: 3, kind: "confirm", review: { ...described, fee: 42 } },
      { id: 3, kind: "confirm", review: { ...described, network: "solana" } },
      { id: 3, kind: "confirm", review: { ...described, extra: "field" } },
      { id: 3, kind: "confirm", review: { ...described, transfers: [{ to: "0xb0b", amount: "1 ETH" }] } },
      { id: 3, kind: "confirm", review: { ...described, warnings: Array(21).fill("read this") } },
      { id: 0, kind: "confirm", review: described },
    ])
      expect(() => readReply(bad), JSON.stringify(bad)).toThrow(ProtocolError);
  });

  it("reads the page's answer strictly: a yes is only `confirmed: true` for a call's id", () => {
    expect(readConfirmAnswer({ id: 3, kind: "confirm-answer", confirmed: true })).toEqual({
      id: 3,
      kind: "confirm-answer",
      confirmed: true,
    });
    for (const bad of [
      { id: 3, kind: "confirm-answer", confirmed: "yes" },
      { id: 3, kind: "confirm-answer" },
      { id: -1, kind: "confirm-answer", confirmed: true },
      { id: 3, kind: "confirm-answer", confirmed: true, review: described },
    ])
      expect(() => readConfirmAnswer(bad), JSON.stringify(bad)).toThrow(ProtocolError);
  });
});
