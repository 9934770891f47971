/**
 * A wallet's policy and the account's security in the web wallet, in Chromium against a real
 * provider: device A sets up a hybrid wallet and lets device B in; A enrols a TOTP (the test reads
 * the secret off the screen, as a person types it into an app, and computes the codes), which
 * takes effect after the account's delay; A asks for a daily limit, which waits out the policy
 * delay; B, which holds no share of the wallet, opens its policy from Security, sees the change and
 * cancels it; A sees it gone and the old policy still in force. A asks for a backup of the
 * wallet and cancels it, asks again and downloads it once released: the wallet is then
 * self-custodied, and its Policy screen says the provider enforces nothing and offers no form. A
 * finds the audit log intact on its own, then extends what it saw; the provider reports it intact too.
 */
import { base32 } from "@scure/base";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hotp, TOTP_STEP_MS, totpStep } from "../../provider/src/policy/totp.js";
import { addVirtualAuthenticator, pageProblems, showing, startWebApp, type WebAppUnderTest } from "./browser.js";
import { addSecondDevice, createHybridWallet, openSection, registerDevice } from "./devices.js";

/** Key generation runs seconds on an idle machine; a loaded two-core one may take minutes. */
const MPC_MS = 240_000;
/** The policy delay: long enough that the change is still waiting when B cancels it. */
const POLICY_DELAY_MS = 3600_000;
/** The backup delay: long enough to see a backup waiting, short enough to wait it out. */
const BACKUP_DELAY_MS = 20_000;
const EMAIL = "pat@example.com";
const PHONE = "Pat's phone";
const LAPTOP = "Pat's laptop";
const WALLET = "Vault";
/** The default policy's one rule, as the Policy screen says it. */
const DEFAULT_RULE = '1. "transfers": signed, for transfers or token transfers.';

/** The Policy form's daily limit of 2 ETH, as the screen says it. */
const DAILY_RULE =
  '1. "ETH transfers": signed, for transfers, on ethereum, of ETH only, while the total of the last 1 day stays within 2 ETH, network fees included.';

let web: WebAppUnderTest;
let pageA: Page;
let pageB: Page;
const problems: string[][] = [];

const heading = (page: Page, name: string) => page.getByRole("heading", { name, exact: true });

/** The text of what has the keyboard focus. */
const focused = (page: Page) => page.evaluate(() => document.activeElement?.textContent?.trim() ?? null);

/** The account's TOTP secret as read off the screen, and the last step a code was given for. */
let secret: Uint8Array;
let lastStep = 0;

/**
 * A code the provider accepts now and has not seen: each code is good once, and the provider
 * takes the steps either side of its own, so the next unused step is taken while it is in reach.
 */
async function nextCode(): Promise<string> {
  for (;;) {
    const now = totpStep(web.provider.now());
    const step = Math.max(lastStep + 1, now - 1);
    if (step <= now + 1) {
      lastStep = step;
      return hotp(secret, step);
    }
    await new Promise((r) => setTimeout(r, TOTP_STEP_MS / 10));
  }
}

/** From A's wallet screen to the wallet's Policy screen. */
async function openPolicyFromWallet(page: Page): Promise<void> {
  await openSection(page, "Wallets");
  await page.getByRole("button", { name: WALLET, exact: true }).click();
  await showing(page, heading(page, WALLET));
  await page.getByRole("button", { name: "Policy", exact: true }).click();
  await showing(page, heading(page, `Policy of ${WALLET}`));
}

const rules = (page: Page, section: string) =>
  page.getByRole("region", { name: section, exact: true }).getByRole("listitem");

beforeAll(async () => {
  web = await startWebApp({
    delays: { accountChangeDelayMs: 2000, policyDelayMs: POLICY_DELAY_MS, backupDelayMs: BACKUP_DELAY_MS },
  });
  pageA = await web.newPage();
  problems.push(pageProblems(pageA));
  await addVirtualAuthenticator(pageA);
});

afterAll(async () => {
  await web?.close();
});

describe("policies and security in the web wallet, in Chromium", () => {
  it(
    "sets up device A with a hybrid wallet, and lets device B in",
    async () => {
      await registerDevice(web, pageA, { email: EMAIL, name: PHONE });
      await createHybridWallet(pageA, WALLET, MPC_MS);

      const laptop = await addSecondDevice(web, pageA, { email: EMAIL, name: LAPTOP });
      pageB = laptop.page;
      problems.push(pageProblems(pageB));
      expect(problems.flat()).toEqual([]);
    },
    MPC_MS * 2,
  );

  it("enrols a TOTP from the QR code's secret, confirmed with a code, in force after the account's delay", async () => {
    await openSection(pageA, "Security");
    await showing(pageA, pageA.getByText("No TOTP is in force yet", { exact: false }));
    // The first TOTP: no current code asked for.
    expect(await pageA.getByLabel("Code of the TOTP in force").count()).toBe(0);
    await pageA.getByRole("button", { name: "Set up a TOTP" }).click();
    await showing(pageA, pageA.getByRole("img", { name: "QR code of the new TOTP" }));
    // The pressed button is gone: the focus goes on from the new TOTP's heading.
    await expect.poll(() => focused(pageA)).toBe("The new TOTP");
    const typed = ((await pageA.locator("code.secret").textContent()) ?? "").trim();
    expect(typed).toMatch(/^[A-Z2-7]{32}$/);
    secret = base32.decode(`${typed}${"=".repeat((8 - (typed.length % 8)) % 8)}`);
    await web.screenshot(pageA, "security-totp");

    // A wrong code is refused on the page, before the provider is asked.
    await pageA.getByLabel("Code from the app").fill("12345");
    await pageA.getByRole("button", { name: "Confirm the TOTP" }).click();
    expect(await pageA.getByLabel("Code from the app").getAttribute("aria-invalid")).toBe("true");

    await pageA.getByLabel("Code from the app").fill(await nextCode());
    await pageA.getByRole("button", { name: "Confirm the TOTP" }).click();
    await showing(pageA, pageA.getByText("Confirmed: the new TOTP takes effect at", { exact: false }));
    // The secret is shown once: gone from the screen, and never kept in the browser's storage.
    expect(await pageA.locator("code.secret").count()).toBe(0);
    const stored = await pageA.evaluate(
      () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
    );
    expect(stored).not.toContain(typed);

    // In force once the delay has passed: the Policy screen, asking again, offers the form.
    await openPolicyFromWallet(pageA);
    await showing(pageA, pageA.getByRole("button", { name: "Review the new policy" }), 60_000);
    await openSection(pageA, "Security");
    await showing(pageA, pageA.getByText("A TOTP is in force", { exact: false }));
    expect(await pageA.getByLabel("Code of the TOTP in force").count()).toBe(1);
  });

  it("asks for a daily limit with the code: the change waits out the policy delay", async () => {
    await openPolicyFromWallet(pageA);
    await showing(pageA, rules(pageA, "In force").first());
    expect(await rules(pageA, "In force").allTextContents()).toEqual([
      DEFAULT_RULE,
      "2. Anything no rule above matches: refused.",
    ]);
    await showing(pageA, pageA.getByText("No change is waiting."));

    // A time lock from a lower amount than the code's would let a larger transfer through with the
    // code alone: refused on the page, beside its field.
    await pageA.getByLabel("One-time code from above (ETH)").fill("2");
    await pageA.getByLabel("Time lock from above (ETH)").fill("1");
    await pageA.getByLabel("Hold for (hours)").fill("24");
    await pageA.getByRole("button", { name: "Review the new policy" }).click();
    expect(await pageA.getByLabel("Time lock from above (ETH)").getAttribute("aria-invalid")).toBe("true");
    await pageA.getByLabel("One-time code from above (ETH)").fill("");
    await pageA.getByLabel("Time lock from above (ETH)").fill("");
    await pageA.getByLabel("Hold for (hours)").fill("");

    // The new policy in words, before the code is asked for.
    await pageA.getByLabel("Most per day (ETH)").fill("2");
    await pageA.getByRole("button", { name: "Review the new policy" }).click();
    const words = pageA.getByRole("form", { name: "The new policy, in words", exact: true }).getByRole("listitem");
    await showing(pageA, words.first());
    await expect.poll(() => focused(pageA)).toBe("The new policy, in words");
    expect(await words.allTextContents()).toEqual([DAILY_RULE, "2. Anything no rule above matches: refused."]);
    await pageA.getByLabel("One-time code (TOTP)").fill(await nextCode());
    const asked = Date.now();
    await pageA.getByRole("button", { name: "Ask for this policy" }).click();
    await showing(pageA, pageA.getByText("Asked for: the new policy takes effect at", { exact: false }));
    const waiting = rules(pageA, "Waiting to take effect");
    await showing(pageA, waiting.first());
    expect(await waiting.allTextContents()).toEqual([DAILY_RULE, "2. Anything no rule above matches: refused."]);
    // When it takes effect: the policy delay after it was asked for, as the screen says it.
    const when = await pageA.getByRole("heading", { name: /^Takes effect at / }).textContent();
    const effective = Date.parse((when ?? "").replace("Takes effect at ", ""));
    expect(Math.abs(effective - (asked + POLICY_DELAY_MS))).toBeLessThan(120_000);
    await web.screenshot(pageA, "policy");

    // On a phone: nothing wider than the screen.
    await pageA.setViewportSize({ width: 360, height: 800 });
    expect(await pageA.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await web.screenshot(pageA, "policy-phone");
    await pageA.setViewportSize({ width: 1280, height: 800 });
  });

  it("lets device B, which holds no share of the wallet, see the change from Security and cancel it", async () => {
    await openSection(pageB, "Security");
    await pageB.getByRole("button", { name: `Policy of ${WALLET}` }).click();
    await showing(pageB, heading(pageB, `Policy of ${WALLET}`));
    const waiting = rules(pageB, "Waiting to take effect");
    await showing(pageB, waiting.first());
    expect(await waiting.first().textContent()).toContain("within 2 ETH");
    await pageB.getByRole("button", { name: "Cancel this change" }).click();
    await showing(pageB, pageB.getByText("Cancelled: the change will not take effect."));
    await showing(pageB, pageB.getByText("No change is waiting."));
  });

  it("shows A the change gone and the old policy still in force", async () => {
    // A's Policy screen asks the provider again by itself.
    await showing(pageA, pageA.getByText("No change is waiting."), 60_000);
    expect(await rules(pageA, "In force").first().textContent()).toBe(DEFAULT_RULE);
    expect(await pageA.getByRole("button", { name: "Cancel this change" }).count()).toBe(0);
  });

  it("keeps trusted addresses: a wrong one refused unsent, one added counting once its rule's cooling-off has passed, removed by a device with no share", async () => {
    const db = web.provider.context.db;
    /** EIP-55's own example, checksummed, and the same with one letter's case changed: its checksum fails. */
    const address = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
    const mistyped = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD";
    const [wallet] = await db.query<{ id: string; policy: string }>("SELECT id, policy FROM wallets WHERE name = $1", [
      WALLET,
    ]);
    const walletId = wallet?.id ?? "";
    const listed = async () =>
      (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM allow_list WHERE wallet_id = $1", [walletId]))[0]
        ?.n;
    // A policy with two rules reading the allow-list in force, as a change leaves it once its delay is over.
    const reading = [
      { name: "trusted now", when: { allowListed: { coolingOffSeconds: 0 } }, decision: "allow" },
      { name: "trusted after a day", when: { allowListed: { coolingOffSeconds: 86_400 } }, decision: "allow" },
    ];
    await db.query("UPDATE wallets SET policy = $2 WHERE id = $1", [
      walletId,
      JSON.stringify([...JSON.parse(wallet?.policy ?? "[]"), ...reading]),
    ]);
    try {
      await openPolicyFromWallet(pageA);
      const trusted = pageA.getByRole("region", { name: "Trusted addresses", exact: true });
      await showing(pageA, trusted.getByText("No address is on the allow-list."));
      const field = trusted.getByLabel("Address", { exact: true });
      const add = trusted.getByRole("button", { name: "Add to the allow-list" });

      // No address, a mistyped one, another chain's: each refused beside the field, nothing reaches the provider.
      await add.click();
      await showing(pageA, trusted.getByText("Give the address.", { exact: true }));
      expect(await field.getAttribute("aria-invalid")).toBe("true");
      await trusted.getByLabel("Chain", { exact: true }).selectOption("ethereum");
      for (const wrong of [mistyped, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"]) {
        await field.fill(wrong);
        await add.click();
        await showing(
          pageA,
          trusted.getByRole("alert").getByText(/^this is no ethereum address .*: nothing was added/),
        );
        expect(await field.getAttribute("aria-invalid")).toBe("true");
        expect(await field.evaluate((input) => input === document.activeElement)).toBe(true);
      }
      expect(await listed()).toBe(0);

      await field.fill(address);
      await trusted.getByLabel("Label (optional)", { exact: true }).fill("Rent");
      const asked = Date.now();
      await add.click();
      const shown = address.toLowerCase();
      await showing(pageA, trusted.getByRole("status").getByText("Added to the allow-list.", { exact: false }));
      expect(await listed()).toBe(1);
      const entry = trusted.getByRole("listitem").filter({ hasText: shown });
      await showing(pageA, entry.getByText("Rent", { exact: true }));
      // In force at once for the rule without a cooling-off; for the other, its day after being added.
      await showing(pageA, entry.getByText('In force for rule "trusted now" since', { exact: false }));
      const cooling = await entry.getByText('Cooling off: counts for rule "trusted after a day" from').textContent();
      const from = Date.parse(/ from (.*)\. Until then/.exec(cooling ?? "")?.[1] ?? "");
      expect(Math.abs(from - (asked + 86_400_000))).toBeLessThan(120_000);
      await web.screenshot(pageA, "policy-trusted");
      await pageA.setViewportSize({ width: 360, height: 800 });
      expect(await pageA.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
      await pageA.setViewportSize({ width: 1280, height: 800 });

      // Device B, which holds no share of the wallet, removes it before it counts for every rule.
      await openSection(pageB, "Security");
      await pageB.getByRole("button", { name: `Policy of ${WALLET}` }).click();
      const onB = pageB.getByRole("region", { name: "Trusted addresses", exact: true });
      const entryOnB = onB.getByRole("listitem").filter({ hasText: shown });
      await showing(pageB, entryOnB);
      // Asked first, and kept: the focus goes back to its Remove button.
      await entryOnB.getByRole("button", { name: "Remove", exact: true }).click();
      await expect.poll(() => focused(pageB)).toBe("Remove this address?");
      await entryOnB.getByRole("button", { name: "Keep it" }).click();
      await expect.poll(() => focused(pageB)).toBe("Remove");
      expect(await listed()).toBe(1);
      await entryOnB.getByRole("button", { name: "Remove", exact: true }).click();
      await entryOnB.getByRole("button", { name: "Remove it" }).click();
      await showing(pageB, onB.getByText("Removed from the allow-list: it no longer counts for any rule."));
      await showing(pageB, onB.getByText("No address is on the allow-list."));
      expect(await listed()).toBe(0);
      // A's screen, asking again by itself, shows it gone.
      await showing(pageA, trusted.getByText("No address is on the allow-list."));
      expect(problems.flat()).toEqual([]);
    } finally {
      await db.query("UPDATE wallets SET policy = $2 WHERE id = $1", [walletId, wallet?.policy]);
    }
  });

  it("asks for a backup of the wallet with the code, shows when it is released, and cancels it", async () => {
    await openSection(pageA, "Wallets");
    await pageA.getByRole("button", { name: WALLET, exact: true }).click();
    await showing(pageA, heading(pageA, WALLET));
    await pageA.getByRole("button", { name: "Backup", exact: true }).click();
    await showing(pageA, heading(pageA, `Backup of ${WALLET}`));
    await showing(pageA, pageA.getByText("No backup of this wallet was asked for."));
    await pageA.getByLabel("One-time code (TOTP)").fill(await nextCode());
    await pageA.getByRole("button", { name: "Ask for a backup" }).click();
    await showing(pageA, pageA.getByText("A backup was asked for: it can be downloaded from", { exact: false }));
    // Not before the backup delay (a week): nothing to download yet.
    expect(await pageA.getByRole("button", { name: "Download the backup" }).count()).toBe(0);
    await pageA.getByRole("button", { name: "Cancel the backup" }).click();
    await showing(pageA, pageA.getByText("The last backup asked for was cancelled", { exact: false }));
  });

  it("downloads a backup once released: the wallet is self-custodied, its policy no longer enforced", async () => {
    await pageA.getByLabel("One-time code (TOTP)").fill(await nextCode());
    await pageA.getByRole("button", { name: "Ask for a backup" }).click();
    await showing(pageA, pageA.getByText("A backup was asked for: it can be downloaded from", { exact: false }));
    // Asked again as the delay runs out, the screen offers the download.
    const download = pageA.getByRole("button", { name: "Download the backup" });
    await expect
      .poll(
        async () => {
          if ((await download.count()) > 0) return true;
          const again = pageA.getByRole("button", { name: "Check again" });
          if ((await again.count()) > 0) await again.click();
          return false;
        },
        { timeout: BACKUP_DELAY_MS + 60_000, interval: 2000 },
      )
      .toBe(true);
    await download.click();
    await expect.poll(() => focused(pageA)).toBe("Before downloading");
    await pageA.getByRole("button", { name: "Download and keep it here" }).click();
    await showing(pageA, pageA.getByText("The backup was downloaded", { exact: false }), 60_000);

    await openPolicyFromWallet(pageA);
    await showing(pageA, heading(pageA, "On record, not enforced"), 60_000);
    await showing(
      pageA,
      pageA.getByText("This wallet is self-custodied: the provider co-signs nothing for it, so no policy"),
    );
    expect(await pageA.getByRole("button", { name: "Review the new policy" }).count()).toBe(0);
  });

  it("checks the account's audit log: intact", async () => {
    await openSection(pageA, "Security");
    await pageA.getByRole("button", { name: "Check the audit log" }).click();
    // This device's own check first: the first time, it has nothing of its own to hold the log to.
    await showing(
      pageA,
      pageA.getByText(
        /^Checked on this device: the audit log's [0-9]+ entries all link together\. This device had not/,
      ),
    );
    await showing(
      pageA,
      pageA.getByText(/^Intact, the provider reports: the audit log's [0-9]+ entries all hold together/),
    );
    // The next time, the log must still have the last entry this device checked.
    await pageA.getByRole("button", { name: "Check the audit log" }).click();
    await showing(pageA, pageA.getByText(/, and it extends what this device saw last \(entry [0-9]+, unchanged\)\.$/));
    // The entries themselves, newest first: the account changes this device asked for among them.
    await pageA.getByRole("button", { name: "Show the latest entries" }).click();
    const entries = pageA
      .getByRole("region", { name: /^Latest [0-9]+ of [0-9]+ entries, newest first$/ })
      .getByRole("listitem");
    await showing(pageA, entries.first());
    expect((await entries.allTextContents()).some((e) => e.endsWith(`: account-change.requested, by ${PHONE}`))).toBe(
      true,
    );
    expect(problems.flat()).toEqual([]);
  });
});
