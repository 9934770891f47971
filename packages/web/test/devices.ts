/**
 * A second device of an account in the web wallet under test, added as a person adds one: a new
 * browser profile with its own passkey authenticator (with PRF) sets itself up with the account's
 * email, device A approves it on its Devices screen once it has checked that the id it is asked to
 * approve is the one the new device shows, and once the account's waiting period for new devices
 * has passed the new device unlocks as an active one.
 */
import type { Page } from "playwright-core";
import { mailedCode, mailText } from "../../provider/test/harness.js";
import { addVirtualAuthenticator, showing, type VirtualAuthenticator, type WebAppUnderTest } from "./browser.js";

/** Each step of setting a device up may take long on a loaded machine; the waiting period is the provider's. */
const STEP_MS = 60_000;

export interface SecondDevice {
  page: Page;
  authenticator: VirtualAuthenticator;
}

const heading = (page: Page, name: string) => page.getByRole("heading", { name, exact: true });

/** Goes to a section of an active device (Wallets, Requests, Devices) through the top navigation. */
export async function openSection(page: Page, section: string): Promise<void> {
  await page.getByRole("navigation", { name: "Sections" }).getByRole("button", { name: section, exact: true }).click();
  await showing(page, heading(page, section));
}

/**
 * Sets `page`'s browser up as a device of `email` named `name` (with the passkey its profile's
 * authenticator holds), through the mailed code: the account's first device ends on its Wallets
 * screen, a later one on "Waiting for approval" (`until`).
 */
export async function registerDevice(
  app: WebAppUnderTest,
  page: Page,
  { email, name, until = "Wallets" }: { email: string; name: string; until?: "Wallets" | "Waiting for approval" },
): Promise<void> {
  const codesBefore = app.provider.mails.filter((m) => m.to === email && /code is \d{6}/.test(mailText(m))).length;
  await page.goto(app.appUrl);
  await showing(page, heading(page, "Set up this device"));
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Device name").fill(name);
  await page.getByRole("button", { name: "Continue" }).click();
  await showing(page, heading(page, "Check your email"), STEP_MS);
  await page.getByLabel("Code").fill(await mailedCode(app.provider.mails, email, codesBefore + 1));
  await page.getByRole("button", { name: "Verify" }).click();
  await showing(page, heading(page, until), STEP_MS);
}

/** Creates a hybrid wallet named `name` from the Wallets screen: key generation with the provider, up to its screen. */
export async function createHybridWallet(page: Page, name: string, timeoutMs: number): Promise<void> {
  await page.getByLabel("Wallet name").fill(name);
  await page.getByRole("button", { name: "Create wallet" }).click();
  await showing(page, heading(page, name), timeoutMs);
}

/** The device id a screen shows to be compared (`.fingerprint`), without its grouping. */
export async function shownDeviceId(page: Page): Promise<string> {
  return ((await page.locator(".fingerprint").textContent()) ?? "").replace(/\s+/g, "");
}

/**
 * Sets up a device named `name` under `email` in a new browser profile, approves it from `pageA`
 * (an active device of that account, on any screen with the sections; with `totp()`'s code where
 * the account has a one-time code) and waits until it is active, unlocked on its Wallets screen.
 * `expectTotp`: the provider must ask for the code (the account has one in force), and nothing is
 * approved before it is given. `viewport`: the new device's screen (a phone's, say); the desktop
 * size by default. `pageA` is left on its Devices screen.
 */
export async function addSecondDevice(
  app: WebAppUnderTest,
  pageA: Page,
  {
    email,
    name,
    totp,
    expectTotp = false,
    viewport,
  }: {
    email: string;
    name: string;
    totp?: () => string;
    expectTotp?: boolean;
    viewport?: { width: number; height: number };
  },
): Promise<SecondDevice> {
  const page = await app.newPage(viewport);
  const authenticator = await addVirtualAuthenticator(page);
  await registerDevice(app, page, { email, name, until: "Waiting for approval" });
  const id = await shownDeviceId(page);
  if (!/^[0-9a-f]{32}$/.test(id)) throw new Error(`${name} shows no device id while it waits for approval`);

  await openSection(pageA, "Devices");
  await showing(pageA, pageA.getByRole("button", { name: `Approve ${name}`, exact: true }), STEP_MS);
  await pageA.getByRole("button", { name: `Approve ${name}`, exact: true }).click();
  await showing(pageA, heading(pageA, "Approve this device?"), STEP_MS);
  const asked = await shownDeviceId(pageA);
  if (asked !== id) throw new Error(`device A is asked to approve ${asked}, not ${name}'s ${id}`);
  await pageA.getByRole("button", { name: "Approve this device", exact: true }).click();
  const approved = pageA.getByText(`${name} is approved.`, { exact: false });
  const codeField = pageA.getByLabel("One-time code (TOTP)");
  if (expectTotp) {
    if (totp === undefined) throw new Error("expectTotp needs totp, the code to give");
    await showing(pageA, codeField, STEP_MS);
    const [row] = await app.provider.context.db.query<{ state: string }>("SELECT state FROM devices WHERE id = $1", [
      id,
    ]);
    if (row?.state !== "awaiting-approval")
      throw new Error(`${name} is ${row?.state ?? "gone"} before the one-time code was given`);
    await codeField.fill(totp());
    await pageA.getByRole("button", { name: "Approve with the code" }).click();
  } else if (totp !== undefined) {
    await showing(pageA, codeField.or(approved), STEP_MS);
    if (await codeField.isVisible()) {
      await codeField.fill(totp());
      await pageA.getByRole("button", { name: "Approve with the code" }).click();
    }
  }
  await showing(pageA, approved, STEP_MS);

  // Active once the waiting period has passed: each unlock asks the provider again.
  const active = heading(page, "Wallets");
  const notYet = heading(page, "Approved, not active yet");
  for (const deadline = Date.now() + app.provider.context.accountChangeDelayMs + STEP_MS; ; ) {
    await page.reload();
    await showing(page, heading(page, "Unlock this device"), STEP_MS);
    await page.getByRole("button", { name: "Unlock with passkey" }).click();
    await showing(page, active.or(notYet), STEP_MS);
    if (await active.isVisible()) break;
    if (Date.now() > deadline) throw new Error(`${name} did not become active after its waiting period`);
    await page.waitForTimeout(500);
  }
  return { page, authenticator };
}
