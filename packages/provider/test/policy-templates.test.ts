/**
 * Policy templates: the provider offers its built-in default and those of its operator's file to
 * active devices; a new wallet takes a copy of the one it names, and naming one with a policy, or
 * one the provider does not offer, is refused. A templates file the provider cannot use refuses
 * the start, naming the file and the template, before anything is opened.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PolicyTemplatesError } from "../src/index.js";
import { DEFAULT_POLICY } from "../src/policy/policy.js";
import { loadPolicyTemplates, MAX_POLICY_TEMPLATES, STANDARD_TEMPLATE } from "../src/policy/templates.js";
import { activeDevice, spawnProvider, startTestProvider, TestDevice, type TestProvider } from "./harness.js";
import { SMALL_ETH, TEMPLATES_FILE } from "./policy-templates-fixture.js";

let folder: string;
beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), "keyshard-templates-"));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

let files = 0;
/** A new templates file holding `text`; its path. */
function fileOf(text: string): string {
  const path = join(folder, `templates-${++files}.json`);
  writeFileSync(path, text);
  return path;
}
const withTemplates = (...templates: unknown[]) => fileOf(JSON.stringify({ templates }));
const template = (fields: Record<string, unknown> = {}) => ({ ...SMALL_ETH, ...fields });

describe("a policy templates file", () => {
  it("adds its templates after the built-in default", () => {
    expect(loadPolicyTemplates(undefined)).toEqual([STANDARD_TEMPLATE]);
    expect(STANDARD_TEMPLATE.rules).toEqual(DEFAULT_POLICY);
    expect(loadPolicyTemplates(TEMPLATES_FILE)).toEqual([STANDARD_TEMPLATE, SMALL_ETH]);
  });

  it("is refused, naming the file and the template, for anything the provider cannot use", () => {
    const refused: [string, RegExp][] = [
      [join(folder, "missing.json"), /missing\.json" cannot be read \(ENOENT\)/],
      [fileOf("{ templates: [] }"), /is not JSON/],
      [fileOf(JSON.stringify({ templates: [], other: 1 })), /one field, "templates"/],
      [fileOf(JSON.stringify({ templates: {} })), /one field, "templates"/],
      [withTemplates(template({ extra: true })), /template "small-eth" has fields a template does not have: "extra"/],
      [
        withTemplates(template({ rules: [{ name: "x", decision: "perhaps" }] })),
        /template "small-eth"'s rules are refused: .*decision/,
      ],
      [withTemplates(template({ rules: "allow" })), /template "small-eth"'s rules are refused/],
      [withTemplates(template(), template({ name: "again" })), /two templates have the id "small-eth"/],
      [withTemplates(template({ id: "standard" })), /template "standard" has the built-in template's id/],
      [withTemplates(template({ id: "Small ETH" })), /template 1's id is not 1 to 40 lower-case letters/],
      [withTemplates(template({ id: "a".repeat(41) })), /template 1's id is not/],
      [withTemplates(template({ name: "" })), /template "small-eth"'s name is not one line of 1 to 64/],
      [withTemplates(template({ description: "two\nlines" })), /template "small-eth"'s description is not one line/],
      [withTemplates("small-eth"), /template 1 is not an object/],
      [
        withTemplates(...Array.from({ length: MAX_POLICY_TEMPLATES }, (_, i) => template({ id: `t-${i}` }))),
        /lists 32 templates: at most 31 beside the built-in "standard"/,
      ],
    ];
    for (const [file, message] of refused) {
      let error: unknown;
      try {
        loadPolicyTemplates(file);
      } catch (e) {
        error = e;
      }
      expect(error, file).toBeInstanceOf(PolicyTemplatesError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain(`the policy templates file ${JSON.stringify(file)}`);
    }
    // At the limit, it is taken.
    const most = Array.from({ length: MAX_POLICY_TEMPLATES - 1 }, (_, i) => template({ id: `t-${i}` }));
    expect(loadPolicyTemplates(withTemplates(...most))).toHaveLength(MAX_POLICY_TEMPLATES);
  });

  it("refuses the start before anything is opened, and npm start says why without a stack", async () => {
    const bad = withTemplates(template({ rules: [{ name: "x", decision: "perhaps" }] }));
    await expect(startTestProvider("pglite", { policyTemplatesFile: bad })).rejects.toThrow(PolicyTemplatesError);
    const started = await spawnProvider({ KEYSHARD_POLICY_TEMPLATES: bad }).then(
      (running) => running.stop().then(() => "started"),
      (e: Error) => e.message,
    );
    expect(started).toMatch(
      /keyshard provider refuses to start: the policy templates file .*template "small-eth"'s rules/,
    );
    expect(started).not.toMatch(/\n\s+at /);
  });
});

describe("policy templates at the provider", () => {
  let provider: TestProvider;
  let device: TestDevice;
  beforeAll(async () => {
    provider = await startTestProvider("pglite", { policyTemplatesFile: TEMPLATES_FILE });
    device = await activeDevice(provider, "templates@example.com");
  });
  afterAll(() => provider?.stop());

  const create = (name: string, fields: Record<string, unknown>) =>
    device.request("POST", "/v1/wallets", { name, scheme: "ecdsa2p", ...fields });
  const policyOf = async (walletId: string) =>
    (await device.request("GET", `/v1/wallets/${walletId}/policy`)).body.policy;

  it("lists them to an active device, the built-in default first", async () => {
    const listed = await device.request("GET", "/v1/policy-templates");
    expect(listed).toMatchObject({ status: 200, body: { templates: [STANDARD_TEMPLATE, SMALL_ETH] } });
    const stranger = await fetch(`${provider.url}/v1/policy-templates`);
    expect(stranger.status).toBe(401);
    // A device not yet let in sees nothing of the provider's setup either.
    const newcomer = new TestDevice(provider.url, provider.now);
    await newcomer.request("POST", "/v1/devices", {
      identityKey: newcomer.identityKey,
      email: "templates-newcomer@example.com",
      name: "phone",
    });
    expect((await newcomer.request("GET", "/v1/policy-templates")).status).toBe(403);
  });

  it("gives a new wallet a copy of the template it names, which later changes of the templates leave alone", async () => {
    const created = await create("from a template", { policyTemplate: "small-eth" });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const walletId = created.body.walletId as string;
    expect(await policyOf(walletId)).toEqual(SMALL_ETH.rules);
    // The account's audit chain says which template the rules came from.
    const { entries } = (await device.request("GET", "/v1/audit")).body as {
      entries: { action: string; details: Record<string, unknown> }[];
    };
    expect(
      entries.find((e) => e.action === "wallet.requested" && e.details.wallet === walletId)?.details,
    ).toMatchObject({
      policy: SMALL_ETH.rules,
      policyTemplate: "small-eth",
    });
    // A provider restarted with another file offers other rules under the id: the wallet keeps its own.
    const offered = provider.context.policyTemplates;
    provider.context.policyTemplates = [STANDARD_TEMPLATE, { ...SMALL_ETH, rules: DEFAULT_POLICY }];
    try {
      expect(await policyOf(walletId)).toEqual(SMALL_ETH.rules);
    } finally {
      provider.context.policyTemplates = offered;
    }
    const plain = await create("default", {});
    expect(await policyOf(plain.body.walletId as string)).toEqual(DEFAULT_POLICY);
  });

  it("refuses a template with a policy, and one it does not offer, as invalid requests", async () => {
    const both = await create("both", { policyTemplate: "small-eth", policy: DEFAULT_POLICY });
    expect(both).toMatchObject({
      status: 400,
      body: { error: "invalid-request", message: "give a policy or a policy template, not both" },
    });
    const unknown = await create("unknown", { policyTemplate: "large-eth" });
    expect(unknown).toMatchObject({
      status: 400,
      body: { error: "invalid-request", message: 'this provider has no policy template "large-eth"' },
    });
    const malformed = await create("malformed", { policyTemplate: "Small ETH" });
    expect(malformed).toMatchObject({ status: 400, body: { error: "invalid-request" } });
    // None of them made a wallet.
    const { wallets } = (await device.request("GET", "/v1/wallets")).body as { wallets: { name: string }[] };
    expect(wallets.map((w) => w.name).sort()).toEqual(["default", "from a template"]);
  });
});
