/**
 * The device's side of guarded account-security changes, against a real provider in this process
 * (PGlite) with its mailbox: a device approval and a TOTP enrollment made through the SDK wait out
 * the provider's delay, listed as pending, until a device of the account cancels them or the
 * owner does with the token in the mail, used once; where a TOTP is in force an approval needs
 * its code; and `keyshard changes` lists what waits.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { base32 } from "@scure/base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totp } from "../../provider/src/policy/totp.js";
import { mailedCode, mailText, startTestProvider, type TestProvider } from "../../provider/test/harness.js";
import { WalletError } from "../src/errors.js";
import { cancelAccountChangeWithToken } from "../src/flows/register.js";
import { Wallet } from "../src/wallet.js";
import { Device, PASSPHRASE } from "./cli.js";

/** Far longer than this file runs: no change here takes effect by the clock, only by being let through. */
const DELAY = 24 * 3600_000;

async function refusal(work: Promise<unknown>): Promise<WalletError> {
  try {
    await work;
  } catch (e) {
    if (e instanceof WalletError) return e;
    throw e;
  }
  throw new Error("expected a WalletError");
}

/** The one-time cancel token in the mail to `email` about change `changeId`, waiting for it to arrive. */
async function mailedCancelToken(provider: TestProvider, email: string, changeId: string): Promise<string> {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
    const token = provider.mails
      .filter((m) => m.to === email)
      .map(mailText)
      .find((text) => text.includes(`keyshard changes cancel ${changeId}`))
      ?.match(/cancel token: ([0-9a-f]{64})/)?.[1];
    if (token) return token;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no mail about change ${changeId} to ${email}`);
}

describe("account-security changes from the wallet device", () => {
  /** Changes wait `DELAY`. */
  let delayed: TestProvider;
  /** Changes take effect with the account's next request: a TOTP comes into force without moving the clock. */
  let immediate: TestProvider;
  const homes: string[] = [];
  const cliDevices: Device[] = [];

  beforeAll(async () => {
    [delayed, immediate] = await Promise.all([
      startTestProvider("pglite", { accountChangeDelayMs: DELAY }),
      startTestProvider("pglite", { accountChangeDelayMs: 0 }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([delayed?.stop(), immediate?.stop()]);
    for (const home of homes) rmSync(home, { recursive: true, force: true });
    for (const device of cliDevices) device.remove();
  });

  /**
   * A device of the account under `email`, registered and verified with the mailed code: the
   * account's first is active, later ones await approval.
   */
  async function newDevice(provider: TestProvider, email: string, name: string, home?: string): Promise<Wallet> {
    if (home === undefined) homes.push((home = mkdtempSync(join(tmpdir(), "keyshard-changes-"))));
    const wallet = await Wallet.init(home, PASSPHRASE, { name });
    const codes = provider.mails.filter((m) => m.to === email && /code is/.test(mailText(m))).length;
    await wallet.register(provider.url, email);
    await wallet.verify(await mailedCode(provider.mails, email, codes + 1));
    return wallet;
  }

  const stateOf = async (asker: Wallet, id: string) => (await asker.account()).devices.find((d) => d.id === id)?.state;

  it("an approved device waits, listed as pending and not active, and stays out once a device of the account cancels it", async () => {
    const email = "approve@example.com";
    const phone = await newDevice(delayed, email, "phone");
    const laptop = await newDevice(delayed, email, "laptop");
    expect(await stateOf(phone, laptop.deviceId)).toBe("awaiting-approval");

    const approved = await phone.approveDevice(laptop.deviceId);
    expect(approved).toMatchObject({ deviceId: laptop.deviceId, state: "approved" });
    const { changeId } = approved;
    const { changes } = await phone.accountChanges();
    expect(changes).toEqual([
      expect.objectContaining({
        id: changeId,
        kind: "device",
        subject: laptop.deviceId,
        requestedBy: phone.deviceId,
        effectiveAt: approved.effectiveAt,
        status: "pending",
      }),
    ]);
    const [change] = changes as { requestedAt: string; effectiveAt: string }[];
    expect(Date.parse(change?.effectiveAt ?? "") - Date.parse(change?.requestedAt ?? "")).toBe(DELAY);

    // Not active yet: the provider answers the laptop nothing.
    expect(await stateOf(phone, laptop.deviceId)).toBe("approved");
    const early = await refusal(laptop.accountChanges());
    expect(early).toMatchObject({ code: "provider-refused", details: { status: 403, providerError: "forbidden" } });
    expect(early.message).toMatch(/device is approved/);

    const cancelled = await phone.cancelAccountChange(changeId);
    expect(cancelled).toMatchObject({ id: changeId, kind: "device", subject: laptop.deviceId, status: "cancelled" });
    expect((await phone.accountChanges()).changes).toEqual([]);
    expect(await stateOf(phone, laptop.deviceId)).toBe("revoked");
    expect((await refusal(laptop.accountChanges())).message).toMatch(/device is revoked/);
    // A decided change is not cancelled twice.
    expect(await refusal(phone.cancelAccountChange(changeId))).toMatchObject({
      code: "provider-refused",
      details: { status: 409, providerError: "conflict" },
    });
  });

  it("a TOTP enrollment waits, listed as pending, and the mailed token cancels it once", async () => {
    const email = "token@example.com";
    const phone = await newDevice(delayed, email, "phone");
    const { secret, uri } = await phone.totpEnroll();
    expect(uri).toMatch(/^otpauth:\/\/totp\//);
    const confirmed = await phone.totpConfirm(totp(base32.decode(secret), delayed.now()));
    expect(confirmed).toMatchObject({ enrolled: false });
    const changeId = confirmed.changeId as string;
    expect((await phone.accountChanges()).changes).toEqual([
      expect.objectContaining({
        id: changeId,
        kind: "totp",
        summary: "a TOTP authenticator for your account",
        status: "pending",
      }),
    ]);
    // Another enrollment waits for this one to be decided.
    expect(await refusal(phone.totpEnroll())).toMatchObject({
      code: "provider-refused",
      details: { providerError: "totp-change-pending" },
    });

    const token = await mailedCancelToken(delayed, email, changeId);
    // An unknown token cancels nothing; the URL may end in a slash.
    expect(await refusal(cancelAccountChangeWithToken(`${delayed.url}/`, "0".repeat(64)))).toMatchObject({
      code: "provider-refused",
      details: { status: 404, providerError: "unknown-token" },
    });
    const cancelled = await cancelAccountChangeWithToken(delayed.url, token);
    expect(cancelled).toMatchObject({ id: changeId, kind: "totp", status: "cancelled" });
    expect((await phone.accountChanges()).changes).toEqual([]);

    // The token is good once.
    const reused = await refusal(cancelAccountChangeWithToken(delayed.url, token));
    expect(reused).toMatchObject({ code: "provider-refused", details: { status: 409, providerError: "conflict" } });
    expect(reused.message).toMatch(/cancelled/);
    // The cancelled enrollment no longer blocks a new one.
    expect((await phone.totpEnroll()).secret).not.toBe(secret);
  });

  it("with a TOTP in force, approving a device needs its code", async () => {
    const email = "totp@example.com";
    /** A fresh code: each 30-second step is good once, so the clock moves to the next one. */
    const code = (secret: Uint8Array) => {
      immediate.advance(30_000);
      return totp(secret, immediate.now());
    };
    const phone = await newDevice(immediate, email, "phone");
    const secret = base32.decode((await phone.totpEnroll()).secret);
    await phone.totpConfirm(code(secret));
    // Without a delay the TOTP took effect with this request.
    expect((await phone.accountChanges()).changes).toEqual([]);
    // Replacing it now needs its code: it is in force.
    expect(await refusal(phone.totpEnroll())).toMatchObject({ details: { providerError: "totp-required" } });

    const laptop = await newDevice(immediate, email, "laptop");
    const refused = await refusal(phone.approveDevice(laptop.deviceId));
    expect(refused).toMatchObject({
      code: "provider-refused",
      details: { status: 403, providerError: "totp-required" },
    });
    expect(await stateOf(phone, laptop.deviceId)).toBe("awaiting-approval");

    const approved = await phone.approveDevice(laptop.deviceId, code(secret));
    expect(approved).toMatchObject({ deviceId: laptop.deviceId, state: "approved" });
    // Active with the account's next request.
    expect((await laptop.accountChanges()).changes).toEqual([]);
    expect(await stateOf(phone, laptop.deviceId)).toBe("active");
  });

  it("keyshard changes lists a waiting change by its id", async () => {
    const email = "cli@example.com";
    const cli = new Device();
    cliDevices.push(cli);
    const phone = await newDevice(delayed, email, "phone", cli.home);
    const laptop = await newDevice(delayed, email, "laptop");
    const approved = await phone.approveDevice(laptop.deviceId);
    const { changeId } = approved;

    const run = await cli.run(["changes"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      `${changeId} a new device in your account, laptop (${laptop.deviceId}), from ${approved.effectiveAt}`,
    );
  });
});
