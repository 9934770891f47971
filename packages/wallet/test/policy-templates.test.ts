/**
 * The provider's policy templates through the SDK and `keyshard`: `policy templates` lists them,
 * `wallet create --policy-template ID` gives the new wallet a copy of one's rules, and a template
 * with a policy, or an id no template could have, is refused before anything is asked of the
 * provider; an id the provider does not offer is its refusal.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProviderProcess, spawnProvider, startMailbox } from "../../provider/test/harness.js";
import { SMALL_ETH, TEMPLATES_FILE } from "../../provider/test/policy-templates-fixture.js";
import { type Device, firstDevice } from "./cli.js";

/** SMALL_ETH's rules as the SDK gives them to people: amounts in coins. */
const SMALL_ETH_IN_COINS = [{ ...SMALL_ETH.rules[0], when: { ...SMALL_ETH.rules[0]?.when, maxAmount: "0.01 ETH" } }];

describe("policy templates on the command line", () => {
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  let provider: ProviderProcess;
  let phone: Device;

  beforeAll(async () => {
    mailbox = await startMailbox();
    provider = await spawnProvider({ KEYSHARD_SMTP_URL: mailbox.url, KEYSHARD_POLICY_TEMPLATES: TEMPLATES_FILE });
    phone = await firstDevice(provider.url, mailbox.mails, "templates-cli@example.com");
  });
  afterAll(async () => {
    phone?.remove();
    await provider?.stop();
    await mailbox?.close();
  });

  it("lists the provider's templates, its default first, amounts in coins", async () => {
    const listed = await phone.ok(["policy", "templates"]);
    expect(listed.templates).toEqual([
      expect.objectContaining({ id: "standard", name: "Standard" }),
      { ...SMALL_ETH, rules: SMALL_ETH_IN_COINS },
    ]);
    const shown = await phone.run(["policy", "templates"]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`small-eth: "Small ETH transfers" ${JSON.stringify(SMALL_ETH.description)}`);
    expect(shown.stdout).toContain('rule 1 ("small ETH"): allow when');
    const help = await phone.run(["policy", "templates", "--help"]);
    expect(help.stdout).toContain("--policy-template");
  });

  it("makes a wallet with a copy of the template it names", async () => {
    await phone.ok(["wallet", "create", "--name", "small", "--policy-template", "small-eth"]);
    const shown = await phone.ok(["policy", "show", "--wallet", "small"]);
    expect(shown.policy).toEqual(SMALL_ETH_IN_COINS);
  });

  it("refuses a template with a policy, or an id no template has, before asking the provider", async () => {
    const file = join(phone.home, "rules.json");
    writeFileSync(file, JSON.stringify(SMALL_ETH.rules));
    const both = await phone.run([
      ...["wallet", "create", "--name", "both", "--policy", file, "--policy-template", "small-eth", "--json"],
    ]);
    expect(both.code).toBe(2);
    expect(both.json).toMatchObject({
      error: "usage",
      message: "give a policy or a policy template, not both",
      option: "--policy-template",
    });
    const malformed = await phone.run(["wallet", "create", "--name", "bad", "--policy-template", "Small", "--json"]);
    expect(malformed.code).toBe(2);
    expect(malformed.json).toMatchObject({ error: "usage", option: "--policy-template" });
    const unknown = await phone.run(["wallet", "create", "--name", "unknown", "--policy-template", "big", "--json"]);
    expect(unknown.code).toBe(1);
    expect(String(unknown.json.message)).toContain('this provider has no policy template "big"');
    const { wallets } = await phone.ok(["wallet", "list"]);
    expect((wallets as { name: string }[]).map((w) => w.name)).toEqual(["small"]);
  });
});
