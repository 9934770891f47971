/**
 * Two devices of one account in Chromium, each a browser profile with its own passkey: device A
 * makes a hybrid wallet and lets device B in from its Devices screen; the wallet's policy holds
 * every send for one approval. A's send waits; B reviews it on its Requests screen — what the
 * bytes do, read by B itself — and approves; A sees the approval come, finishes the send and gets
 * its receipt, and the ETH moves on anvil. A request B rejects shows as rejected on A; a request
 * whose provider-side description was altered still shows B what its bytes do; A cancels one of
 * its own. Also the readers of the devices' and requests' messages, strict.
 */
import { randomBytes } from "node:crypto";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Anvil, startAnvil } from "../../chains/test/anvil.js";
import { hotp, totpStep } from "../../provider/src/policy/totp.js";
import { DEVICES_METHODS } from "../src/engine/calls/devices.js";
import { REQUESTS_METHODS } from "../src/engine/calls/requests.js";
import { ProtocolError } from "../src/engine/readers.js";
import { addVirtualAuthenticator, pageProblems, showing, startWebApp, type WebAppUnderTest } from "./browser.js";
import { addSecondDevice, createHybridWallet, openSection, registerDevice, shownDeviceId } from "./devices.js";
import { confirmSend, ethBalance as ethBalanceOf, freshAddress, reviewRowText } from "./ethereum.js";

/** Key generation and signing run seconds on an idle machine; a loaded two-core one may take minutes. */
const MPC_MS = 240_000;
const EMAIL = "ann@example.com";
/** Device A, on a desktop screen; device B is a phone, 360 px wide. */
const DEVICE_A = "Ann's laptop";
const DEVICE_B = "Ann's phone";
const WALLET = "Household";
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

/** A sends `amount` ETH to `to` from the wallet and confirms it; the policy holds it. Its request's id. */
async function heldSend(to: string, amount: string): Promise<string> {
  await confirmSend(pageA, { wallet: WALLET, to, amount, timeoutMs: MPC_MS });
  await showing(pageA, heading(pageA, "Waiting"), MPC_MS);
  return ((await pageA.locator("main code").textContent()) ?? "").trim();
}

/** B's Requests screen, once it lists request `requestId` (asked for by A): its list item. */
async function requestOnB(requestId: string) {
  await openSection(pageB, "Requests");
  const item = pageB.getByRole("listitem").filter({ hasText: requestId });
  await showing(pageB, item, MPC_MS);
  expect(await item.textContent()).toContain(`asked for by ${DEVICE_A}`);
  return item;
}

beforeAll(async () => {
  anvil = await startAnvil();
  // Short waits: a new device is active 2 s after its approval, and may approve 1 s after that.
  web = await startWebApp({
    connectSources: [anvil.url],
    delays: { accountChangeDelayMs: 2000, policyDelayMs: 1000 },
  });
  pageA = await web.newPage();
  problems.push(pageProblems(pageA));
  await addVirtualAuthenticator(pageA);
}, MPC_MS);

afterAll(async () => {
  await web?.close();
  await anvil?.stop();
});

describe("approving a held send from another device, in Chromium", () => {
  let sender: string;

  it(
    "sets up device A with a funded hybrid wallet, and lets device B in from A's Devices screen",
    async () => {
      await registerDevice(web, pageA, { email: EMAIL, name: DEVICE_A });
      await createHybridWallet(pageA, WALLET, MPC_MS);
      const ethereum = pageA.getByRole("region", { name: "Ethereum", exact: true });
      sender = ((await ethereum.locator("code").textContent()) ?? "").trim();
      await anvil.rpc("anvil_setBalance", [sender, `0x${(10n * ETH).toString(16)}`]);
      await ethereum.getByLabel("Ethereum RPC URL").fill(anvil.url);
      await ethereum.getByRole("button", { name: "Save node" }).click();
      await showing(pageA, ethereum.getByText("Balance: 10 ETH", { exact: true }));

      const phone = await addSecondDevice(web, pageA, {
        email: EMAIL,
        name: DEVICE_B,
        viewport: { width: 360, height: 740 },
      });
      pageB = phone.page;
      problems.push(pageProblems(pageB));

      // A's list, read again: both devices active, this one marked.
      await pageA.getByRole("button", { name: "Refresh" }).click();
      const laptopItem = pageA.getByRole("listitem").filter({ hasText: DEVICE_B });
      await showing(pageA, laptopItem.locator(".hint", { hasText: /^\s*·\s*active$/ }));
      // "this device" is drawn apart from the names, next to this one only.
      const marked = pageA.getByRole("listitem").filter({ has: pageA.locator(".this-device") });
      await showing(pageA, marked);
      expect(await marked.count()).toBe(1);
      expect(await marked.locator("bdi").textContent()).toBe(DEVICE_A);
      await showing(pageA, pageA.getByText("No change is waiting."));
      await web.screenshot(pageA, "devices");
      expect(problems.flat()).toEqual([]);
    },
    MPC_MS * 2,
  );

  it("shows a device's waiting approval with when it takes effect, and cancels it, shutting that device out", async () => {
    // A name with a right-to-left override and a zero-width space in it, as a device may give itself: shown without.
    const tablet = "Ann's tablet";
    const given = "Ann's\u202e\u200btablet";
    const pageC = await web.newPage();
    await addVirtualAuthenticator(pageC);
    await registerDevice(web, pageC, { email: EMAIL, name: given, until: "Waiting for approval" });
    await showing(pageC, pageC.getByText("check that the other device shows this", { exact: false }));
    const tabletId = await shownDeviceId(pageC);

    await pageA.getByRole("button", { name: "Refresh" }).click();
    await pageA.getByRole("button", { name: `Approve ${tablet}`, exact: true }).click();
    // Approving asks first, showing the device's name and the id its own screen shows.
    await showing(pageA, heading(pageA, "Approve this device?"));
    expect(await pageA.locator("main bdi").first().textContent()).toBe(tablet);
    expect(await shownDeviceId(pageA)).toBe(tabletId);
    // And when it registered, as the provider keeps it.
    const [registered] = await web.provider.context.db.query<{ created_ms: string }>(
      "SELECT created_ms FROM devices WHERE id = $1",
      [tabletId],
    );
    expect(await pageA.locator("main time").getAttribute("datetime")).toBe(
      new Date(Number(registered?.created_ms)).toISOString(),
    );
    // Its waiting period, made long for this device before it is approved: still waiting when it is cancelled.
    const delay = web.provider.context.accountChangeDelayMs;
    web.provider.context.accountChangeDelayMs = 3600_000;
    try {
      await pageA.getByRole("button", { name: "Approve this device", exact: true }).click();
      await showing(pageA, pageA.getByText(`${tablet} is approved.`, { exact: false }));
    } finally {
      web.provider.context.accountChangeDelayMs = delay;
    }
    await pageA.getByRole("button", { name: "Refresh" }).click();
    // Told in the app's words, its kind first and the name quoted; not in the provider's sentence.
    const change = pageA.getByRole("listitem").filter({ hasText: `New device: "${tablet}" (${tabletId.slice(0, 8)})` });
    await showing(pageA, change.getByText("takes effect at", { exact: false }));
    await showing(pageA, change.locator(".this-device"));
    await change.getByRole("button", { name: "Cancel this change" }).click();
    await showing(pageA, pageA.getByText("It will not take effect.", { exact: false }));
    await showing(pageA, pageA.getByText("No change is waiting."));

    await pageC.reload();
    await pageC.getByRole("button", { name: "Unlock with passkey" }).click();
    await showing(pageC, heading(pageC, "This device was revoked"));
  });

  const payee = fresh();

  it(
    "holds A's send for one approval; B reviews the bytes' own reading and approves; A finishes and gets the receipt",
    async () => {
      await web.provider.context.db.query("UPDATE wallets SET policy = $1 WHERE name = $2", [
        JSON.stringify([
          {
            name: "A second device approves",
            when: { action: ["transfer"] },
            decision: "require-approvals",
            approvals: 1,
          },
        ]),
        WALLET,
      ]);
      const requestId = await heldSend(payee, "0.5");
      await showing(pageA, pageA.getByText("(0 of 1 given)", { exact: false }));
      expect(await pageA.getByRole("status").filter({ hasText: "holds this send" }).textContent()).toContain(
        'rule 1 ("A second device approves")',
      );
      await web.screenshot(pageA, "held-waiting");

      const item = await requestOnB(requestId);
      await item.getByRole("button", { name: "Review" }).click();
      await showing(pageB, heading(pageB, "Approve this request?"), MPC_MS);
      // Whose request it is, read from the request fetched for the review: A's hybrid wallet, of which B holds no
      // share, by the name the account lists it under.
      expect(await pageB.locator("main bdi").first().textContent()).toBe(DEVICE_A);
      expect(await pageB.locator("main bdi").nth(1).textContent()).toBe(WALLET);
      expect(await rowText(pageB, "To")).toBe(payee);
      expect(await rowText(pageB, "Amount")).toBe("0.5 ETH");
      expect(await rowText(pageB, "Fee")).toMatch(/^at most 0\.[0-9]+ ETH$/);
      expect(await rowText(pageB, "Network")).toBe("chain 31337");
      await web.screenshot(pageB, "request-review");
      await pageB.getByRole("button", { name: "Approve", exact: true }).click();
      const approvedNotice = pageB.getByRole("status").filter({ hasText: "can finish the send" });
      await showing(pageB, approvedNotice, MPC_MS);
      expect(await approvedNotice.textContent()).toContain(`Approved: ${DEVICE_A} `);

      // A's screen asks the provider again by itself: the approval arrives, and the send can be finished.
      await showing(pageA, pageA.getByText(new RegExp(`^Approved by ${DEVICE_B} [0-9a-f]{8}\\.$`)), MPC_MS);
      await pageA.getByRole("button", { name: "Finish sending" }).click();
      await showing(pageA, heading(pageA, "Sent"), MPC_MS);
      await showing(pageA, pageA.getByText(/^Confirmed in block [0-9]+$/));
      expect(await ethBalance(payee)).toBe(ETH / 2n);
      expect(await ethBalance(sender)).toBeLessThan(10n * ETH - ETH / 2n);
      expect(problems.flat()).toEqual([]);
    },
    MPC_MS * 2,
  );

  it(
    "shows A a request B rejected as rejected, and nothing is sent",
    async () => {
      const refused = fresh();
      const requestId = await heldSend(refused, "0.1");
      const item = await requestOnB(requestId);
      await item.getByRole("button", { name: "Reject" }).click();
      await showing(pageB, heading(pageB, "Reject this request?"));
      await pageB.getByRole("button", { name: "Reject", exact: true }).click();
      const rejectedNotice = pageB.getByRole("status").filter({ hasText: "is denied, and nothing is signed" });
      await showing(pageB, rejectedNotice);
      expect(await rejectedNotice.textContent()).toContain(`Rejected: the request of ${DEVICE_A} `);

      await showing(pageA, heading(pageA, "Cancelled or rejected"), MPC_MS);
      await showing(
        pageA,
        pageA.getByText("A device of the account cancelled or rejected this request: nothing was signed."),
      );
      const [row] = await web.provider.context.db.query<{ status: string }>(
        "SELECT status FROM sign_requests WHERE id = $1",
        [requestId],
      );
      expect(row?.status).toBe("cancelled");
      expect(await ethBalance(refused)).toBe(0n);
      expect(problems.flat()).toEqual([]);
    },
    MPC_MS,
  );

  it(
    "shows B what the request's bytes do, not what the provider's description of them says; A cancels its own",
    async () => {
      const payee2 = fresh();
      const requestId = await heldSend(payee2, "0.2");
      // The provider's reading of the request, altered: another recipient, another amount.
      const [row] = await web.provider.context.db.query<{ description: string }>(
        "SELECT description FROM sign_requests WHERE id = $1",
        [requestId],
      );
      const told = JSON.parse(row?.description ?? "{}") as { transfers: { to: string; value: string }[] };
      const decoy = fresh();
      for (const t of told.transfers) Object.assign(t, { to: decoy, value: (7n * ETH).toString() });
      await web.provider.context.db.query("UPDATE sign_requests SET description = $1 WHERE id = $2", [
        JSON.stringify(told),
        requestId,
      ]);

      const item = await requestOnB(requestId);
      await item.getByRole("button", { name: "Review" }).click();
      await showing(pageB, heading(pageB, "Approve this request?"), MPC_MS);
      expect(await rowText(pageB, "To")).toBe(payee2);
      expect(await rowText(pageB, "Amount")).toBe("0.2 ETH");
      expect(await pageB.locator("main").textContent()).not.toContain(decoy);
      await pageB.getByRole("button", { name: "Do not approve" }).click();
      await showing(pageB, pageB.getByText("Not approved: the request still waits."), MPC_MS);
      // Leaving the review for another screen is a "no" too: the engine is not left waiting for an answer.
      await item.getByRole("button", { name: "Review" }).click();
      await showing(pageB, heading(pageB, "Approve this request?"), MPC_MS);
      await openSection(pageB, "Devices");
      // Within the usual wait: an engine left waiting for an answer would answer nothing more.
      await showing(pageB, pageB.getByRole("listitem").filter({ has: pageB.locator(".this-device") }));
      // Leaving before the review is even shown: the provider's answer with the request is held back
      // until B is on another screen, so the question comes after; it is answered "no" at once, and
      // the engine goes on to the next call.
      await openSection(pageB, "Requests");
      await showing(pageB, item, MPC_MS);
      await web.provider.context.db.transaction(async (tx) => {
        await tx.query("LOCK TABLE sign_requests IN ACCESS EXCLUSIVE MODE");
        await item.getByRole("button", { name: "Review" }).click();
        await openSection(pageB, "Devices");
      });
      await showing(pageB, pageB.getByRole("listitem").filter({ has: pageB.locator(".this-device") }));
      await openSection(pageB, "Requests");
      await showing(pageB, item, MPC_MS);
      const [approvals] = await web.provider.context.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM approvals WHERE request_id = $1",
        [requestId],
      );
      expect(approvals?.n).toBe(0);
      await openSection(pageB, "Requests");

      await pageA.getByRole("button", { name: "Cancel this send" }).click();
      await showing(pageA, heading(pageA, "Cancelled"), MPC_MS);
      const [after] = await web.provider.context.db.query<{ status: string }>(
        "SELECT status FROM sign_requests WHERE id = $1",
        [requestId],
      );
      expect(after?.status).toBe("cancelled");
      await showing(pageB, pageB.getByText("No request is held."), MPC_MS);
      expect(await ethBalance(payee2)).toBe(0n);
      expect(problems.flat()).toEqual([]);
    },
    MPC_MS,
  );
  it(
    "asks for the account's one-time code where one is in force: to let a device in, and to finish a send held for it",
    async () => {
      // The account's TOTP in force, as its enrollment leaves it once its waiting period is over.
      const secret = randomBytes(20);
      const [account] = await web.provider.context.db.query<{ id: string }>(
        "SELECT id FROM accounts WHERE email = $1",
        [EMAIL],
      );
      const accountId = account?.id ?? "";
      await web.provider.context.db.query(
        "INSERT INTO totp (account_id, secret, confirmed, created_ms) VALUES ($1, $2, true, $3)",
        [accountId, web.provider.context.masterKey.seal(secret, `totp:${accountId}`), Date.now()],
      );
      // Each code is spent once: every use takes the next step the provider still accepts.
      let lastStep = 0;
      const code = () => {
        lastStep = Math.max(lastStep + 1, totpStep(web.provider.now()) - 1);
        return hotp(secret, lastStep);
      };

      const watch = await addSecondDevice(web, pageA, {
        email: EMAIL,
        name: "Ann's watch",
        totp: code,
        expectTotp: true,
      });
      problems.push(pageProblems(watch.page));

      await web.provider.context.db.query("UPDATE wallets SET policy = $1 WHERE name = $2", [
        JSON.stringify([{ name: "The code for every send", when: {}, decision: "require-totp" }]),
        WALLET,
      ]);
      const payee3 = fresh();
      await heldSend(payee3, "0.3");
      await showing(pageA, pageA.getByText("It waits only for the account's one-time code (TOTP)", { exact: false }));
      await pageA.getByRole("button", { name: "Finish sending" }).click();
      // No code given: the field says so, and nothing is sent.
      expect(await pageA.getByLabel("One-time code (TOTP)").getAttribute("aria-invalid")).toBe("true");
      await pageA.getByLabel("One-time code (TOTP)").fill(code());
      await pageA.getByRole("button", { name: "Finish sending" }).click();
      await showing(pageA, heading(pageA, "Sent"), MPC_MS);
      expect(await ethBalance(payee3)).toBe((3n * ETH) / 10n);
      expect(problems.flat()).toEqual([]);
    },
    MPC_MS,
  );
});

describe("the devices' and requests' messages between the page and the engine", () => {
  const entry = {
    requestId: "3f0c2a1e-9b4d-4c6e-8a2f-0123456789ab",
    wallet: WALLET,
    chain: "ethereum",
    kind: "transaction",
    status: "held",
    mine: false,
    requestedBy: { name: DEVICE_A, id: "0123456789abcdef0123456789abcdef", thisDevice: false },
    rule: 'rule 1 ("A second device approves")',
    waitingFor: { totp: false, approvals: { needed: 1, have: 0 }, releaseMs: null },
    approvedBy: [],
    createdMs: 1_700_000_000_000,
  };
  const request = REQUESTS_METHODS.request.result;

  it("reads a request as the engine gives it", () => {
    expect(request(entry, "the request")).toEqual(entry);
  });

  it("refuses a request of another shape", () => {
    for (const bad of [
      { ...entry, requestId: "../../v1/devices/0123456789abcdef012" },
      { ...entry, status: "approved" },
      { ...entry, mine: "yes" },
      { ...entry, waitingFor: { totp: false, approvals: { needed: -1, have: 0 }, releaseMs: null } },
      { ...entry, description: { to: "0xb0b" } },
      { ...entry, approvedBy: [42] },
      { ...entry, requestedBy: "this device" },
      { ...entry, requestedBy: { ...entry.requestedBy, id: "../devices" } },
    ])
      expect(() => request(bad, "the request"), JSON.stringify(bad)).toThrow(ProtocolError);
  });

  it("takes only a device's id and a six-digit code to approve a device", () => {
    const args = DEVICES_METHODS.approveDevice.args;
    const id = "0123456789abcdef0123456789abcdef";
    expect(args({ id, totp: null }, "args")).toEqual({ id, totp: null });
    expect(args({ id, totp: "123456" }, "args")).toEqual({ id, totp: "123456" });
    for (const bad of [
      { id: "0123456789ABCDEF0123456789ABCDEF", totp: null },
      { id: `${id}/revoke`, totp: null },
      { id, totp: "12345" },
      { id, totp: "12345a" },
      { id },
    ])
      expect(() => args(bad, "args"), JSON.stringify(bad)).toThrow(ProtocolError);
  });

  it("reads an approval's outcome strictly", () => {
    const result = DEVICES_METHODS.approveDevice.result;
    expect(result({ kind: "totp-required" }, "r")).toEqual({ kind: "totp-required" });
    expect(result({ kind: "approved", effectiveMs: 5 }, "r")).toEqual({ kind: "approved", effectiveMs: 5 });
    for (const bad of [{ kind: "approved" }, { kind: "totp-required", effectiveMs: 5 }, { kind: "maybe" }])
      expect(() => result(bad, "r"), JSON.stringify(bad)).toThrow(ProtocolError);
  });
});
