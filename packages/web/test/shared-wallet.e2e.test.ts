/**
 * A wallet shared by two devices of one account, in Chromium, each device a browser profile with
 * its own passkey: A makes a 2-of-2 wallet with B (the provider holds no share) and waits; B sees
 * it under "Waiting for this device" with its parties and joins; both show the same address. A's
 * send then waits for B: B reviews it under "Asked to co-sign" — what the bytes do, read by B
 * itself — and co-signs, and the ETH moves on anvil; a send B declines is refused on A's screen,
 * and nothing moves. Also the readers of the shared-wallet calls, strict.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Anvil, startAnvil } from "../../chains/test/anvil.js";
import { SHARED_WALLET_METHODS } from "../src/engine/calls/shared-wallets.js";
import { ProtocolError } from "../src/engine/readers.js";
import { addVirtualAuthenticator, pageProblems, showing, startWebApp, type WebAppUnderTest } from "./browser.js";
import { addSecondDevice, openSection, registerDevice } from "./devices.js";
import { confirmSend, ethBalance as ethBalanceOf, freshAddress, reviewRowText } from "./ethereum.js";

/** Key generation and signing among browsers run seconds on an idle machine; a loaded two-core one may take minutes. */
const MPC_MS = 240_000;
const EMAIL = "sam@example.com";
const DEVICE_A = "Sam's laptop";
const DEVICE_B = "Sam's phone";
const WALLET = "Family";
const ETH = 10n ** 18n;

let anvil: Anvil;
let web: WebAppUnderTest;
let pageA: Page;
let pageB: Page;
const problems: string[][] = [];

const heading = (page: Page, name: string) => page.getByRole("heading", { name, exact: true });
const fresh = freshAddress;
const ethBalance = (who: string) => ethBalanceOf(anvil, who);
const rowText = reviewRowText;
const ethereumAddress = async (page: Page) =>
  ((await page.getByRole("region", { name: "Ethereum", exact: true }).locator("code").textContent()) ?? "").trim();

/** A sends `amount` ETH to `to` from the shared wallet and confirms it: the send then waits for B. */
const sendFromA = (to: string, amount: string) => confirmSend(pageA, { wallet: WALLET, to, amount, timeoutMs: MPC_MS });

/** B's review of what A asks it to co-sign, opened from its Requests screen. */
async function cosignReviewOnB(): Promise<void> {
  await openSection(pageB, "Requests");
  const asked = pageB.getByRole("region", { name: "Asked to co-sign" });
  await showing(pageB, asked, MPC_MS);
  const item = asked.getByRole("listitem").filter({ hasText: DEVICE_A });
  expect(await item.count()).toBe(1);
  await item.getByRole("button", { name: "Review" }).click();
  await showing(pageB, heading(pageB, "Co-sign this?"), MPC_MS);
}

beforeAll(async () => {
  anvil = await startAnvil();
  web = await startWebApp({ connectSources: [anvil.url], delays: { accountChangeDelayMs: 2000, policyDelayMs: 1000 } });
  pageA = await web.newPage();
  problems.push(pageProblems(pageA));
  await addVirtualAuthenticator(pageA);
}, MPC_MS);

afterAll(async () => {
  await web?.close();
  await anvil?.stop();
});

describe("a wallet shared by two devices, in Chromium", () => {
  let shared: string;

  it(
    "A makes a 2-of-2 wallet with B; B sees its parties under 'Waiting for this device' and joins; both show one address",
    async () => {
      await registerDevice(web, pageA, { email: EMAIL, name: DEVICE_A });
      const phone = await addSecondDevice(web, pageA, { email: EMAIL, name: DEVICE_B });
      pageB = phone.page;
      problems.push(pageProblems(pageB));

      await openSection(pageA, "Wallets");
      await pageA.getByLabel("This device and other devices of the account (shared)").check();
      // Nothing chosen: the form says so at the devices, and nothing is asked of the provider.
      await pageA.getByLabel("Wallet name").fill(WALLET);
      await pageA.getByRole("button", { name: "Create shared wallet" }).click();
      await showing(pageA, pageA.getByText("Choose at least one other device."));
      expect(await web.provider.context.db.query("SELECT id FROM wallets WHERE name = $1", [WALLET])).toEqual([]);

      await pageA.getByLabel(DEVICE_B, { exact: false }).check();
      await pageA.getByLabel("The provider holds a share too", { exact: false }).uncheck();
      expect(await pageA.getByLabel("Shares that must sign together").inputValue()).toBe("2");
      expect(await pageA.getByLabel("Shares that must sign together").locator("option").allTextContents()).toEqual([
        "2 of 2",
      ]);
      await web.screenshot(pageA, "shared-wallet-new");
      await pageA.getByRole("button", { name: "Create shared wallet" }).click();

      // B's Wallets screen finds the key generation by itself, with who holds a share.
      await openSection(pageB, "Wallets");
      const waiting = pageB.getByRole("region", { name: "Waiting for this device" });
      await showing(pageB, waiting, MPC_MS);
      const text = (await waiting.getByRole("listitem").textContent()) ?? "";
      expect(text).toContain(`${WALLET}: any 2 of 2 sign together`);
      expect(text).toContain(DEVICE_A);
      expect(text).toContain("this device");
      expect(text).not.toContain("the provider");
      expect(text).toContain(`Asked for by ${DEVICE_A}`);
      await web.screenshot(pageB, "shared-wallet-waiting");
      await waiting.getByRole("button", { name: `Join ${WALLET}` }).click();

      await showing(pageB, heading(pageB, WALLET), MPC_MS);
      await showing(pageA, heading(pageA, WALLET), MPC_MS);
      shared = await ethereumAddress(pageA);
      expect(shared).toMatch(/^0x[0-9a-fA-F]{40}$/);
      expect(await ethereumAddress(pageB)).toBe(shared);
      // The provider holds no share of it: it lists the two devices as its members.
      const [row] = await web.provider.context.db.query<{ state: string; threshold: number; members: unknown }>(
        "SELECT state, threshold, members FROM wallets WHERE name = $1",
        [WALLET],
      );
      expect(row?.state).toBe("active");
      expect(Number(row?.threshold)).toBe(2);
      expect(JSON.stringify(row?.members)).not.toContain('"provider":true');

      await anvil.rpc("anvil_setBalance", [shared, `0x${(5n * ETH).toString(16)}`]);
      const ethereum = pageA.getByRole("region", { name: "Ethereum", exact: true });
      await ethereum.getByLabel("Ethereum RPC URL").fill(anvil.url);
      await ethereum.getByRole("button", { name: "Save node" }).click();
      await showing(pageA, ethereum.getByText("Balance: 5 ETH", { exact: true }));
      expect(problems.flat()).toEqual([]);
    },
    MPC_MS * 3,
  );

  it(
    "A's send waits for B, who reviews the bytes' own reading and co-signs; the ETH moves",
    async () => {
      const payee = fresh();
      await sendFromA(payee, "0.25");
      await cosignReviewOnB();
      expect(await pageB.locator("main bdi").first().textContent()).toBe(DEVICE_A);
      expect(await pageB.locator("main bdi").nth(1).textContent()).toBe(WALLET);
      expect(await rowText(pageB, "To")).toBe(payee);
      expect(await rowText(pageB, "Amount")).toBe("0.25 ETH");
      expect(await rowText(pageB, "Fee")).toMatch(/^at most 0\.[0-9]+ ETH$/);
      await web.screenshot(pageB, "cosign-review");
      await pageB.getByRole("button", { name: "Co-sign", exact: true }).click();
      const done = pageB.getByRole("status").filter({ hasText: "Co-signed:" });
      await showing(pageB, done, MPC_MS);
      expect(await done.textContent()).toContain(`${DEVICE_A} `);

      await showing(pageA, heading(pageA, "Sent"), MPC_MS);
      await showing(pageA, pageA.getByText(/^Confirmed in block [0-9]+$/));
      expect(await ethBalance(payee)).toBe(ETH / 4n);
      // Answered, it is no longer asked.
      await openSection(pageB, "Requests");
      await showing(pageB, pageB.getByText("No request is held."));
      expect(await pageB.getByRole("region", { name: "Asked to co-sign" }).count()).toBe(0);
      expect(problems.flat()).toEqual([]);
    },
    MPC_MS * 2,
  );

  it(
    "a send B declines is refused on A's screen with B's reason, and nothing moves",
    async () => {
      const payee = fresh();
      await sendFromA(payee, "0.5");
      await cosignReviewOnB();
      await pageB.getByRole("button", { name: "Do not co-sign" }).click();
      await showing(
        pageB,
        pageB.getByRole("status").filter({ hasText: "Not co-signed: declined by the person at this device" }),
        MPC_MS,
      );
      await showing(
        pageA,
        pageA.getByRole("alert").filter({ hasText: "declined by the person at this device" }),
        MPC_MS,
      );
      expect(await ethBalance(payee)).toBe(0n);
      expect(problems.flat()).toEqual([]);
    },
    MPC_MS * 2,
  );
});

describe("the shared-wallet calls' readers", () => {
  const device = { name: "Sam's phone", id: "0123456789abcdef0123456789abcdef", thisDevice: false };

  it("refuses a waiting wallet with an impossible threshold or a malformed party", () => {
    const wallet = {
      walletId: "3f2b8a8e-8f4c-4c6e-9f59-0b6c2f0d1e2a",
      name: WALLET,
      threshold: 2,
      devices: [device],
      provider: false,
      requestedBy: device,
    };
    const read = (w: unknown) => SHARED_WALLET_METHODS.waitingWallets.result({ wallets: [w] }, "the reply");
    expect(read(wallet).wallets[0]?.threshold).toBe(2);
    for (const bad of [
      { ...wallet, threshold: 0 },
      { ...wallet, threshold: 17 },
      { ...wallet, threshold: "2" },
      { ...wallet, devices: [{ ...device, id: "not-an-id" }] },
      { ...wallet, provider: "yes" },
      { ...wallet, walletId: "urn:uuid:3f2b8a8e-8f4c-4c6e-9f59-0b6c2f0d1e2a" },
    ])
      expect(() => read(bad)).toThrow(ProtocolError);
  });

  it("refuses a co-signing's outcome it does not know, and arguments out of bounds", () => {
    const outcome = SHARED_WALLET_METHODS.cosign.result;
    expect(outcome({ decision: "signed", reason: "approved by the person at this device" }, "the reply").decision).toBe(
      "signed",
    );
    expect(() => outcome({ decision: "maybe", reason: "x" }, "the reply")).toThrow(ProtocolError);
    const args = SHARED_WALLET_METHODS.createSharedWallet.args;
    const good = { name: WALLET, devices: [device.id], threshold: 2, provider: true, policyTemplate: null };
    expect(args(good, "the call")).toEqual(good);
    expect(() => args({ ...good, devices: Array(15).fill(device.id) }, "the call")).toThrow(ProtocolError);
    expect(() => args({ ...good, threshold: 1.5 }, "the call")).toThrow(ProtocolError);
    expect(() => args({ ...good, extra: true }, "the call")).toThrow(ProtocolError);
  });
});
