/**
 * `keyshard register --resend`: a new code for a registered, unverified device. Within 10 minutes
 * of the last code the provider refuses, and the command says what to do and when to try again;
 * once they passed (the provider's record of the last code is moved back) a new code comes and verifies.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mailedCode, startTestProvider, type TestProvider } from "../../provider/test/harness.js";
import { codeNotResent } from "../src/cli/commands/account.js";
import { WalletError } from "../src/errors.js";
import { Wallet } from "../src/wallet.js";

describe("resending the email code", () => {
  let provider: TestProvider;
  const home = mkdtempSync(join(tmpdir(), "keyshard-home-"));
  beforeAll(async () => {
    provider = await startTestProvider("pglite");
  });
  afterAll(async () => {
    await provider?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it("is refused clearly within 10 minutes, and sends a new code after", async () => {
    const wallet = await Wallet.init(home, "correct horse battery staple", { name: "laptop" });
    await wallet.register(provider.url, "resend@example.com");
    await mailedCode(provider.mails, "resend@example.com");

    const asked = new Date("2030-01-01T12:00:00Z");
    const refused = codeNotResent(await wallet.resendCode().catch((e) => e), asked);
    expect(refused).toBeInstanceOf(WalletError);
    expect((refused as WalletError).message).toBe(
      "a code was mailed less than 10 minutes ago and is not used yet: enter it with keyshard verify CODE, or ask again with keyshard register --resend at 2030-01-01T12:10:00.000Z at the latest (the provider mails at most one code per 10 minutes)",
    );
    expect((refused as WalletError).details).toMatchObject({ status: 429, providerError: "code-recently-sent" });

    // Ten minutes pass for the provider (its clock cannot move: the device signs with the real time).
    await provider.context.db.query("UPDATE accounts SET code_mailed_ms = code_mailed_ms - $1 WHERE email = $2", [
      10 * 60_000 + 1000,
      "resend@example.com",
    ]);
    expect(await wallet.resendCode()).toEqual({ deviceId: wallet.deviceId, state: "unverified" });
    const code = await mailedCode(provider.mails, "resend@example.com", 2);
    expect((await wallet.verify(code)).state).toBe("active");
  });

  it("leaves other failures as they are", () => {
    const other = new WalletError("provider-down", "cannot reach the provider");
    expect(codeNotResent(other, new Date())).toBe(other);
  });
});
