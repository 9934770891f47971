/**
 * Ethereum on the web wallet's end-to-end tests: fresh payees, balances read from anvil, and a
 * send made on the page as a person makes one, up to its confirmation.
 */
import { randomBytes } from "node:crypto";
import type { Page } from "playwright-core";
import { getAddress } from "viem";
import type { Anvil } from "../../chains/test/anvil.js";
import { showing } from "./browser.js";
import { openSection } from "./devices.js";

/** An address no one has used: a payee whose balance is what the test sent it. */
export const freshAddress = () => getAddress(`0x${randomBytes(20).toString("hex")}`);

export const ethBalance = async (anvil: Anvil, who: string) =>
  BigInt((await anvil.rpc("eth_getBalance", [who, "latest"])) as string);

const heading = (page: Page, name: string) => page.getByRole("heading", { name, exact: true });

/** The value of the transaction review's row labelled `label` on `page`. */
export const reviewRowText = async (page: Page, label: string) =>
  (
    (await page
      .locator("dl.review dt", { hasText: new RegExp(`^${label}$`) })
      .locator("xpath=following-sibling::dd[1]")
      .textContent()) ?? ""
  ).trim();

/**
 * Sends `amount` ETH to `to` from `wallet` on `page`: from the Wallets section through the review,
 * confirmed; what follows (sent, held, waiting for other devices) is the caller's to see.
 */
export async function confirmSend(
  page: Page,
  { wallet, to, amount, timeoutMs }: { wallet: string; to: string; amount: string; timeoutMs: number },
): Promise<void> {
  await openSection(page, "Wallets");
  await page.getByRole("button", { name: wallet, exact: true }).click();
  await showing(page, heading(page, wallet));
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await showing(page, heading(page, "Send"));
  await page.getByLabel("Recipient").fill(to);
  await page.getByLabel("Amount").fill(amount);
  await page.getByRole("button", { name: "Review" }).click();
  await showing(page, heading(page, "Check the transaction"), timeoutMs);
  await page.getByRole("button", { name: "Confirm" }).click();
}
