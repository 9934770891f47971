/**
 * The web wallet end to end in Chromium, as a person uses it: set up this browser as a device
 * with a passkey (the keystore in IndexedDB sealed under its PRF output), create a hybrid wallet
 * under a policy template the provider offers, see its addresses, come back and unlock; and the
 * same with a passphrase. Also what an attacker with the browser's storage would find, and that
 * another authenticator cannot unlock.
 */
import { ethereumAddress } from "@keyshard/chains";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthenticatedDevice } from "../../provider/src/devices/authenticated.js";
import { listWallets } from "../../provider/src/wallets/wallets.js";
import { mailedCode } from "../../provider/test/harness.js";
import { SMALL_ETH, TEMPLATES_FILE } from "../../provider/test/policy-templates-fixture.js";
import {
  addVirtualAuthenticator,
  pageProblems,
  showing,
  startWebApp,
  type VirtualAuthenticator,
  type WebAppUnderTest,
} from "./browser.js";

/** Key generation runs seconds on an idle machine; a loaded two-core one may take minutes. */
const KEYGEN_MS = 240_000;
const PASSKEY_EMAIL = "ada@example.com";
const PASSPHRASE_EMAIL = "grace@example.com";
const PASSPHRASE = "correct horse battery staple";
const WALLET = "Savings";

let web: WebAppUnderTest;
let page: Page;
let authenticator: VirtualAuthenticator;
let problems: string[];

beforeAll(async () => {
  web = await startWebApp({ policyTemplatesFile: TEMPLATES_FILE });
  page = await web.newPage();
  problems = pageProblems(page);
  authenticator = await addVirtualAuthenticator(page);
});

afterAll(async () => {
  await web?.close();
});

const heading = (p: Page, name: string) => p.getByRole("heading", { name, exact: true });

/** The provider's record of the device `email` set up, and the wallets its API lists to that device. */
async function providerView(email: string) {
  const [device] = await web.provider.context.db.query<{
    id: string;
    account_id: string;
    state: AuthenticatedDevice["state"];
    identity_key: Uint8Array;
    name: string;
  }>(
    "SELECT d.id, d.account_id, d.state, d.identity_key, d.name FROM devices d JOIN accounts a ON a.id = d.account_id WHERE a.email = $1",
    [email],
  );
  if (device === undefined) throw new Error(`no device of ${email} at the provider`);
  const authenticated = {
    id: device.id,
    accountId: device.account_id,
    state: device.state,
    identityKey: device.identity_key,
  };
  return { device, wallets: await listWallets(web.provider.context, authenticated) };
}

/** Everything the app keeps in the browser: the raw IndexedDB records and both web storages. */
function browserStorage(p: Page) {
  return p.evaluate(async () => {
    const records = await new Promise<unknown[]>((done, fail) => {
      const open = indexedDB.open("keyshard");
      open.onerror = () => fail(open.error);
      open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains("keystore")) return done([]);
        const all = db.transaction("keystore").objectStore("keystore").getAll();
        all.onerror = () => fail(all.error);
        all.onsuccess = () => done(all.result);
      };
    });
    const stored = (s: Storage) =>
      Object.fromEntries(Array.from({ length: s.length }, (_, i) => [s.key(i), s.getItem(s.key(i) ?? "")]));
    return { records: JSON.stringify(records), local: stored(localStorage), session: stored(sessionStorage) };
  });
}

/** The keystore's header as the browser stores it in the clear (the one JSON text with `keyshard: "keystore"`). */
function keystoreHeader(records: string): Record<string, unknown> {
  const texts: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === "string") texts.push(value);
    else if (value !== null && typeof value === "object") Object.values(value).forEach(collect);
  };
  collect(JSON.parse(records));
  for (const text of texts) {
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      if (parsed.keyshard === "keystore") return parsed;
    } catch {}
  }
  throw new Error(`no keystore among the browser's records: ${records.slice(0, 200)}`);
}

/** Sets `p`'s browser up as a device of `email`, to the (empty) Wallets screen; the code mailed for it. */
async function onboard(p: Page, email: string, deviceName: string, passphrase?: string): Promise<string> {
  await p.goto(web.appUrl);
  await showing(p, heading(p, "Set up this device"));
  expect(await p.getByLabel("Provider URL").inputValue()).toBe(new URL(web.appUrl).origin);
  await p.getByLabel("Email").fill(email);
  await p.getByLabel("Device name").fill(deviceName);
  const usePassphrase = p.getByRole("checkbox", { name: "Use a passphrase instead of a passkey" });
  expect(await usePassphrase.isChecked()).toBe(false);
  if (passphrase !== undefined) {
    await usePassphrase.check();
    await p.getByLabel("Passphrase", { exact: true }).fill(passphrase);
    await p.getByLabel("Repeat passphrase", { exact: true }).fill(passphrase);
  }
  await web.screenshot(p, passphrase === undefined ? "onboarding" : "onboarding-passphrase");
  await p.getByRole("button", { name: "Continue" }).click();
  await showing(p, heading(p, "Check your email"));
  await web.screenshot(p, passphrase === undefined ? "check-email" : "check-email-passphrase");
  const code = await mailedCode(web.provider.mails, email);
  await p.getByLabel("Code").fill(code);
  await p.getByRole("button", { name: "Verify" }).click();
  await showing(p, heading(p, "Wallets"));
  return code;
}

/** The wallet's entry in the Wallets screen's list. */
const walletEntry = (p: Page, name: string) =>
  p
    .getByRole("link", { name, exact: true })
    .or(p.getByRole("button", { name, exact: true }))
    .first();

/** Web storage holds no key, share, PRF output, passphrase or code: nothing that even looks like a key. */
function expectNoSecretIn(
  storage: { local: Record<string, string | null>; session: Record<string, string | null> },
  ...secrets: string[]
): void {
  for (const value of [...Object.values(storage.local), ...Object.values(storage.session)]) {
    expect(value ?? "").not.toMatch(/[0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}/);
    for (const secret of secrets) expect(value ?? "").not.toContain(secret);
  }
}

const base64url = (base64: string) => base64.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

/** The address shown in the wallet screen's section of `chain`, with its QR code present. */
async function shownAddress(p: Page, chain: string): Promise<string> {
  const section = p.getByRole("region", { name: chain, exact: true });
  await section.getByRole("img", { name: `QR code of the ${chain} address` }).waitFor();
  await section.getByRole("button", { name: "Copy" }).waitFor();
  return ((await section.locator("code").textContent()) ?? "").trim();
}

describe("the web wallet in Chromium", () => {
  let code: string;
  let ethereum: string;
  let unlockedWithPasskey = false;

  it("sets this browser up as a device with a passkey", async () => {
    code = await onboard(page, PASSKEY_EMAIL, "Ada's browser");
    const { device } = await providerView(PASSKEY_EMAIL);
    expect(device).toMatchObject({ state: "active", name: "Ada's browser" });
    // The keystore is sealed under the passkey made for it, resident on the authenticator.
    const passkeys = await authenticator.credentials();
    expect(passkeys).toHaveLength(1);
    expect(passkeys[0]?.rpId).toBe("localhost");
    await web.screenshot(page, "wallets-empty");
  });

  it(
    "creates a hybrid wallet under a chosen policy template with a progress bar, and shows the address the provider holds the key of",
    async () => {
      await page.getByLabel("Wallet name").fill(WALLET);
      // The provider's default is offered first; the operator's template, once chosen, says what it is.
      const policy = page.getByLabel("Policy");
      await showing(page, policy);
      expect(await policy.inputValue()).toBe("standard");
      await policy.selectOption({ label: SMALL_ETH.name });
      await showing(page, page.getByText(SMALL_ETH.description));
      await page.getByRole("button", { name: "Create wallet" }).click();
      const progress = page.getByRole("progressbar", { name: "Creating the key" });
      await showing(page, progress);
      await web.screenshot(page, "creating");
      await progress.waitFor({ state: "hidden", timeout: KEYGEN_MS });
      // The app may open the new wallet or list it: either way a person gets to it in one step.
      const walletHeading = heading(page, WALLET);
      await showing(page, walletHeading.or(walletEntry(page, WALLET)));
      if (!(await walletHeading.isVisible())) await walletEntry(page, WALLET).click();
      await showing(page, walletHeading);
      ethereum = await shownAddress(page, "Ethereum");
      // The same secp256k1 key serves Bitcoin (a native SegWit address).
      expect(await shownAddress(page, "Bitcoin")).toMatch(/^(bc1q|tb1q|bcrt1q)/);
      await web.screenshot(page, "wallet");

      const { wallets } = await providerView(PASSKEY_EMAIL);
      expect(wallets).toHaveLength(1);
      expect(wallets[0]).toMatchObject({ name: WALLET, state: "active", members: null });
      const [stored] = await web.provider.context.db.query<{ policy: string }>(
        "SELECT policy FROM wallets WHERE id = $1",
        [wallets[0]?.id],
      );
      expect(JSON.parse(stored?.policy ?? "null")).toEqual(SMALL_ETH.rules);
      expect(ethereum).toBe(ethereumAddress(Buffer.from(wallets[0]?.publicKey ?? "", "hex")));
      expect(problems).toEqual([]);
    },
    KEYGEN_MS + 60_000,
  );

  it("keeps nothing secret in the clear in the browser's storage", async () => {
    const { device, wallets } = await providerView(PASSKEY_EMAIL);
    const storage = await browserStorage(page);
    const header = keystoreHeader(storage.records);
    // Sealed under the PRF output of the one passkey made for it.
    const [passkey] = await authenticator.credentials();
    expect(header).toMatchObject({
      kdf: { name: "webauthn-prf", credential: base64url(passkey?.credentialId ?? "") },
      cipher: "xchacha20-poly1305",
    });
    expect(header.ciphertext).toEqual(expect.stringMatching(/^[A-Za-z0-9+/=_-]{200,}$/));
    // What is sealed inside (the device's identity, the wallet and its share) shows nowhere in its records.
    for (const inside of [wallets[0]?.id, wallets[0]?.publicKey, Buffer.from(device.identity_key).toString("hex")])
      expect(storage.records).not.toContain(inside);
    expectNoSecretIn(storage, code);
  });

  it("unlocks with the passkey after a reload, and the wallet is there", async () => {
    await page.reload();
    await showing(page, heading(page, "Unlock this device"));
    await web.screenshot(page, "unlock");
    await page.getByRole("button", { name: "Unlock with passkey" }).click();
    await showing(page, heading(page, "Wallets"));
    await walletEntry(page, WALLET).click();
    await showing(page, heading(page, WALLET));
    expect(await shownAddress(page, "Ethereum")).toBe(ethereum);
    await page.getByRole("link", { name: "Wallets" }).click();
    await showing(page, heading(page, "Wallets"));
    expect(problems).toEqual([]);
    unlockedWithPasskey = true;
  });

  /** Tries to unlock with whatever authenticator the page has now: the app must refuse, and stay locked. */
  async function expectUnlockRefused(screenshot: string): Promise<void> {
    // Only a refusal of what unlocked before shows that the passkey's absence is what refuses it.
    expect(unlockedWithPasskey).toBe(true);
    await page.reload();
    await showing(page, heading(page, "Unlock this device"));
    await page.getByRole("button", { name: "Unlock with passkey" }).click();
    await page.getByRole("alert").filter({ hasText: /\S/ }).waitFor({ timeout: 60_000 });
    await web.screenshot(page, screenshot);
    expect(await heading(page, "Wallets").isVisible()).toBe(false);
    expect(await heading(page, "Unlock this device").isVisible()).toBe(true);
  }

  it("cannot be unlocked by a copy of the passkey's signing key, which lacks its PRF secret", async () => {
    authenticator = await authenticator.replaceByCopy();
    expect(await authenticator.credentials()).toHaveLength(1);
    await expectUnlockRefused("unlock-refused-copy");
  });

  it("cannot be unlocked without the passkey", async () => {
    await authenticator.clear();
    await expectUnlockRefused("unlock-refused");
  });

  it("sets up another browser with a passphrase instead, on a phone-sized screen", async () => {
    const phone = await web.newPage({ width: 360, height: 780 });
    const phoneProblems = pageProblems(phone);
    const phoneCode = await onboard(phone, PASSPHRASE_EMAIL, "Grace's phone", PASSPHRASE);
    await web.screenshot(phone, "wallets-phone");
    const storage = await browserStorage(phone);
    expect(keystoreHeader(storage.records)).toMatchObject({ kdf: { name: "scrypt" } });
    expectNoSecretIn(storage, phoneCode, PASSPHRASE);
    expect((await providerView(PASSPHRASE_EMAIL)).device).toMatchObject({ state: "active", name: "Grace's phone" });

    await phone.reload();
    await showing(phone, heading(phone, "Unlock this device"));
    expect(await phone.getByRole("button", { name: "Unlock with passkey" }).count()).toBe(0);
    await phone.getByLabel("Passphrase", { exact: true }).fill("not the passphrase");
    await phone.getByRole("button", { name: "Unlock", exact: true }).click();
    await phone.getByRole("alert").filter({ hasText: /\S/ }).waitFor({ timeout: 60_000 });
    await phone.getByLabel("Passphrase", { exact: true }).fill(PASSPHRASE);
    await phone.getByRole("button", { name: "Unlock", exact: true }).click();
    // Not `showing`: the wrong passphrase's alert may stay until the right one has opened the keystore.
    await heading(phone, "Wallets").waitFor({ timeout: 60_000 });
    expect(phoneProblems).toEqual([]);
  });
});
