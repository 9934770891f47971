/**
 * A first run without SMTP: the provider warns once at start and writes each message, the code
 * included, to its log, so a person reads the code there. With SMTP, no message's content reaches
 * the log.
 */
import { afterAll, describe, expect, it } from "vitest";
import { mailedCode, type ProviderProcess, spawnProvider, startTestProvider, TestDevice } from "./harness.js";

/** Waits for `pattern` in the process's output; fails after a bound only a lost message reaches. */
async function inOutput(provider: ProviderProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
    const match = provider.output().match(pattern);
    if (match) return match;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${pattern} not in the provider's output: ${provider.output()}`);
}

async function register(device: TestDevice, email: string) {
  return device.request("POST", "/v1/devices", { identityKey: device.identityKey, email, name: "laptop" });
}

describe("the email code without SMTP", () => {
  let provider: ProviderProcess;
  afterAll(async () => {
    await provider?.stop();
  });

  it("is written to the provider's log once, after a warning at start, and verifies the device", async () => {
    provider = await spawnProvider({ KEYSHARD_LOG: "info", KEYSHARD_SMTP_URL: "" });
    // The warning names the viewer's address, so it is written once the server listens: wait for it.
    await inOutput(provider, /no SMTP server configured \(KEYSHARD_SMTP_URL\)/);
    const device = new TestDevice(provider.url);
    expect((await register(device, "first@example.com")).status).toBe(201);
    const [line] = await inOutput(provider, /.*mail not sent \(no SMTP server configured\).*/);
    const entry = JSON.parse(line) as { to: string; subject: string; body: string };
    expect(entry.to).toBe("first@example.com");
    expect(entry.subject).toBe("Your keyshard verification code");
    const code = entry.body.match(/code is (\d{6})/)?.[1] as string;
    const verified = await device.request("POST", "/v1/devices/verify", { code });
    expect(verified.body.state).toBe("active");
    expect(provider.output().split(`code is ${code}`)).toHaveLength(2);
    expect(provider.output().match(/no SMTP server configured \(KEYSHARD_SMTP_URL\)/g)).toHaveLength(1);
  });
});

describe("the email code with SMTP", () => {
  it("is mailed and never logged", async () => {
    const provider = await startTestProvider("pglite");
    try {
      const logged: unknown[] = [];
      provider.context.notifier.log = {
        warn: (details, message) => void logged.push(details, message),
        info: (details, message) => void logged.push(details, message),
      };
      const device = new TestDevice(provider.url, provider.now);
      expect((await register(device, "mailed@example.com")).status).toBe(201);
      const code = await mailedCode(provider.mails, "mailed@example.com");
      expect((await device.request("POST", "/v1/devices/verify", { code })).body.state).toBe("active");
      expect(JSON.stringify(logged)).not.toContain(code);
      expect(logged).toEqual([]);
    } finally {
      await provider.stop();
    }
  });
});
