/** `npm run audit:verify` on a provider's PostgreSQL database: 0 when the chains hold, 1 and the broken link when not. */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mailedCode, startTestProvider, TestDevice, type TestProvider } from "./harness.js";

function auditVerify(databaseUrl: string) {
  const run = spawnSync(
    process.execPath,
    ["--conditions=keyshard-source", "--import", "tsx", "packages/provider/src/audit/verify-cli.ts"],
    {
      env: { ...process.env, DATABASE_URL: databaseUrl },
      encoding: "utf8",
    },
  );
  return { status: run.status, output: run.stdout + run.stderr };
}

describe("audit verification from the command line", () => {
  let provider: TestProvider;
  beforeAll(async () => {
    provider = await startTestProvider("postgres");
    const device = new TestDevice(provider.url);
    await device.request("POST", "/v1/devices", {
      identityKey: device.identityKey,
      email: "cli@example.com",
      name: "cli",
    });
    await device.request("POST", "/v1/devices/verify", { code: await mailedCode(provider.mails, "cli@example.com") });
  });
  afterAll(async () => {
    await provider?.stop();
  });

  it("says every chain holds, then points at an edited entry", async () => {
    const url = provider.databaseUrl as string;
    const clean = auditVerify(url);
    expect(clean.status, clean.output).toBe(0);
    expect(clean.output).toContain("all 2 audit chains hold");
    await provider.context.db.query("UPDATE audit_log SET actor = 'someone else' WHERE chain <> 'system' AND seq = 2");
    const broken = auditVerify(url);
    expect(broken.status).toBe(1);
    expect(broken.output).toMatch(/BROKEN .* first broken link at entry 2 of 2/);
    expect(auditVerify("postgres://nobody@127.0.0.1:1/none").status).toBe(2);
  });
});
