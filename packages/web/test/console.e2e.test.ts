/**
 * The provider's operator console in Chromium: the operator opens /console, is refused with a
 * wrong token, opens it with the right one (kept by the page alone: no storage, cookie or URL
 * holds it), finds a held request with the rule that held it and what it waits for, verifies an
 * account's audit chain intact, and, once an entry is edited in the database, broken at it; it
 * lists the operator's policy templates with their rules in words. What the provider answers late
 * for an account chosen before (its entries, its verdict, its failure) never shows under the one
 * chosen now.
 */
import type { Page, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  accountWithHeldRequest,
  CONSOLE_TOKEN,
  type HeldRequest,
  HOLDING_RULE,
  tamperWithAudit,
} from "../../provider/test/console-fixture.js";
import { activeDevice } from "../../provider/test/harness.js";
import { SMALL_ETH, TEMPLATES_FILE } from "../../provider/test/policy-templates-fixture.js";
import { pageProblems, showing, startWebApp, type WebAppUnderTest } from "./browser.js";

const EMAIL = "console-e2e@example.com";
const OTHER_EMAIL = "console-e2e-other@example.com";

let web: WebAppUnderTest;
let page: Page;
let problems: string[];
let held: HeldRequest;
/** A second account, without requests. */
let otherAccountId: string;

const heading = (name: string) => page.getByRole("heading", { name, exact: true });
const section = (name: string) =>
  page.getByRole("navigation", { name: "Sections" }).getByRole("button", { name, exact: true });
const verdict = () => page.locator("p.verdict");

/** Holds the page's requests to `url` until the returned function is called, which hands each to `answer`. */
async function holdRequests(url: string, answer: (route: Route) => Promise<void>): Promise<() => void> {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  await page.route(url, async (route) => {
    await released;
    await answer(route);
  });
  return release;
}

/** Until the verification under way has its answer. */
const verified = () =>
  page.locator("p.verdict", { hasText: "Verifying the chain" }).waitFor({ state: "detached", timeout: 60_000 });

beforeAll(async () => {
  web = await startWebApp({ consoleToken: CONSOLE_TOKEN, policyTemplatesFile: TEMPLATES_FILE });
  held = await accountWithHeldRequest(web.provider, EMAIL, "vault");
  const other = await activeDevice(web.provider, OTHER_EMAIL);
  otherAccountId = (await other.request("GET", "/v1/account")).body.id as string;
  page = await web.newPage();
  problems = pageProblems(page);
});

afterAll(async () => {
  await web?.close();
});

describe("the operator console", () => {
  it("refuses a wrong token, then shows the held request and the audit chain's verification", async () => {
    await page.goto(`${web.provider.url}/console`);
    expect(new URL(page.url()).pathname).toBe("/console/");
    await showing(page, heading("Provider console"));

    const token = page.getByLabel("Console token");
    const open = page.getByRole("button", { name: "Open the console" });
    await token.fill(`${CONSOLE_TOKEN.slice(0, -1)}x`);
    await open.click();
    await showing(page, page.getByRole("alert").filter({ hasText: /refused the token/ }));
    expect(await heading("Overview").count()).toBe(0);

    await token.fill(CONSOLE_TOKEN);
    await open.click();
    await showing(page, heading("Overview"));
    await showing(page, page.getByText("pglite, reachable"));
    const kept = await page.evaluate(() => ({
      local: localStorage.length,
      session: sessionStorage.length,
      cookie: document.cookie,
      url: location.href,
    }));
    expect(kept).toEqual({ local: 0, session: 0, cookie: "", url: `${web.provider.url}/console/` });

    await section("Held requests").click();
    await showing(page, heading("Held requests"));
    const card = page.getByRole("article", { name: "vault: transaction on solana" });
    await showing(page, card.filter({ hasText: `rule 1, “${HOLDING_RULE}”: require-approvals` }));
    expect(await card.textContent()).toContain(held.requestId);
    expect(await card.textContent()).toContain("approvals: 0 of 1");
    expect(await card.textContent()).toContain(EMAIL);
    await web.screenshot(page, "console-held");
    // A phone's width: the page wraps or scrolls its tables, it never widens.
    await page.setViewportSize({ width: 360, height: 800 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await page.setViewportSize({ width: 1280, height: 800 });

    // The operator's template, its rules in words, beside the wallets' policies.
    await section("Policies").click();
    await showing(page, heading(`${SMALL_ETH.name} (${SMALL_ETH.id})`));
    await showing(page, page.getByText(SMALL_ETH.description));
    await showing(page, page.getByText(/^1\. "small ETH": signed, for transfers, on ethereum, of ETH only/));

    await section("Audit").click();
    await showing(page, heading("Audit"));
    await page.getByLabel("Account").selectOption(held.accountId);
    await showing(page, page.getByRole("cell", { name: "request.held", exact: true }));
    await page.getByRole("button", { name: "Verify chain" }).click();
    await showing(page, verdict().filter({ hasText: /^Chain intact: \d+ entries/ }));
    await web.screenshot(page, "console-audit");

    await tamperWithAudit(web.provider, held.accountId, 2);
    await page.getByRole("button", { name: "Verify chain" }).click();
    await showing(page, verdict().filter({ hasText: /^Chain broken at entry 2 of \d+/ }));
    expect(problems).toEqual([]);
  });

  it("shows under an account only its own entries and verdict, whatever arrives late for the one chosen before", async () => {
    const account = page.getByLabel("Account");
    const heldEntry = page.getByRole("cell", { name: "request.held", exact: true });
    await showing(page, heldEntry);
    const verifyHeld = `**/console/api/accounts/${held.accountId}/audit/verify`;
    const otherEntries = `**/console/api/accounts/${otherAccountId}/audit`;

    // The held request's account is verified; the other is chosen before the answer, and its entries are slow.
    const answerVerification = await holdRequests(verifyHeld, (route) => route.continue());
    const answerEntries = await holdRequests(otherEntries, (route) => route.continue());
    await page.getByRole("button", { name: "Verify chain" }).click();
    await showing(page, verdict().filter({ hasText: "Verifying the chain" }));
    await account.selectOption(otherAccountId);
    expect(await heldEntry.count()).toBe(0);
    answerVerification();
    await verified();
    expect(await verdict().textContent()).toBe("");
    answerEntries();
    await showing(page, page.getByRole("table", { name: "Audit entries, in chain order" }));
    expect(await heldEntry.count()).toBe(0);
    await page.unroute(verifyHeld);
    await page.unroute(otherEntries);

    // A verification that fails after another account was chosen is not that account's failure.
    await account.selectOption(held.accountId);
    await showing(page, heldEntry);
    const fail = await holdRequests(verifyHeld, (route) =>
      route.fulfill({
        status: 500,
        contentType: "application/json",
        body: JSON.stringify({ error: "internal", message: "the verification failed" }),
      }),
    );
    await page.getByRole("button", { name: "Verify chain" }).click();
    await showing(page, verdict().filter({ hasText: "Verifying the chain" }));
    await account.selectOption(otherAccountId);
    fail();
    await verified();
    expect(await page.getByRole("alert").count()).toBe(0);
    await page.unroute(verifyHeld);
    expect(problems).toEqual([]);
  });
});
