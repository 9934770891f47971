/**
 * The provider's policy templates in the web wallet and its console, without a browser: the
 * engine's strict readers of the `policyTemplates` call and of a chosen template's id going with
 * `createWallet` and `createSharedWallet`, and the console reading templates' rules into words.
 */
import { POLICY_TEMPLATE_ID as API_TEMPLATE_ID, type PolicyTemplate } from "@keyshard/api";
import type { NewWallet, Wallet } from "@keyshard/wallet/browser";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { STANDARD_TEMPLATE } from "../../provider/src/policy/templates.js";
import { consoleApi } from "../src/console/api.js";
import { CORE_METHODS, POLICY_TEMPLATE_ID } from "../src/engine/calls/core.js";
import { POLICY_METHODS, type PolicyTemplateChoice } from "../src/engine/calls/policies.js";
import { SHARED_WALLET_METHODS } from "../src/engine/calls/shared-wallets.js";
import { coreHandlers } from "../src/engine/handlers/core.js";
import { type Confirm, keepWallet } from "../src/engine/handlers/engine-state.js";
import { policyHandlers } from "../src/engine/handlers/policies.js";
import { ProtocolError } from "../src/engine/readers.js";

const CHOICE: PolicyTemplateChoice = {
  id: "small-eth",
  name: "Small ETH transfers",
  description: "",
  rules: ['1. "small ETH": signed, for transfers.', "2. Anything no rule above matches: refused."],
};

describe("the engine's policy template calls", () => {
  it("take the provider's form of a template id, and nothing else", () => {
    expect(POLICY_TEMPLATE_ID.source).toBe(API_TEMPLATE_ID.source);
    const create = CORE_METHODS.createWallet.args;
    for (const policyTemplate of ["small-eth", "a", "x".repeat(40), null])
      expect(create({ name: "main", policyTemplate }, "the call")).toEqual({ name: "main", policyTemplate });
    for (const policyTemplate of ["", "Small", "small eth", "x".repeat(41), "ab\u202e", 7, undefined])
      expect(() => create({ name: "main", policyTemplate }, "the call"), String(policyTemplate)).toThrow(ProtocolError);
    const shared = SHARED_WALLET_METHODS.createSharedWallet.args;
    const good = { name: "team", devices: ["0".repeat(32)], threshold: 2, provider: true, policyTemplate: "small-eth" };
    expect(shared(good, "the call")).toEqual(good);
    expect(() => shared({ ...good, policyTemplate: "../x" }, "the call")).toThrow(ProtocolError);
  });

  it("read the templates strictly: an id, a showable name, a description, the rules in words", () => {
    const read = POLICY_METHODS.policyTemplates.result;
    expect(read([CHOICE], "the reply")).toEqual([CHOICE]);
    for (const bad of [
      [{ ...CHOICE, id: "Small" }],
      [{ ...CHOICE, name: "" }],
      [{ ...CHOICE, name: "x".repeat(201) }],
      [{ ...CHOICE, description: "x".repeat(201) }],
      [{ ...CHOICE, rules: "allow" }],
      [{ ...CHOICE, extra: true }],
      Array(33).fill(CHOICE),
      CHOICE,
    ])
      expect(() => read(bad, "the reply")).toThrow(ProtocolError);
    expect(POLICY_METHODS.policyTemplates.args({}, "the call")).toEqual({});
  });
});

const noProgress = () => {};
/** Nothing here asks the person to confirm. */
const noConfirm: Confirm = async () => {
  throw new Error("nothing is to be confirmed");
};

describe("the engine's policy template handlers", () => {
  /** What the SDK was asked to make. */
  let made: NewWallet[];
  beforeEach(() => {
    made = [];
    const wallet = {
      policyTemplates: async () => [
        { ...STANDARD_TEMPLATE },
        {
          id: "odd",
          name: "\u202eevil\u0007",
          description: `line\nbreak${"x".repeat(300)}`,
          rules: [{ name: "big\u202e", decision: "deny" }],
        },
        { id: "blank", name: "\u200f", description: "", rules: [] },
      ],
      createWallet: async (options: NewWallet) => {
        made.push(options);
        return { id: "w", name: options.name, scheme: "ecdsa2p", publicKey: "02", threshold: 2, members: null };
      },
    };
    keepWallet(wallet as unknown as Wallet);
  });

  it("make the provider operator's names and descriptions showable, and the rules words", async () => {
    const templates = await policyHandlers.policyTemplates({}, noProgress, noConfirm);
    // What the handler gives passes the page's reader.
    expect(POLICY_METHODS.policyTemplates.result(templates, "the reply")).toEqual(templates);
    const [standard, odd, blank] = templates;
    expect(standard?.rules[0]).toBe('1. "transfers": signed, for transfers or token transfers.');
    expect(odd?.name).toBe("evil");
    expect(odd?.description).not.toMatch(/[\n\u202e]/);
    expect(odd?.description.length).toBeLessThanOrEqual(200);
    expect(odd?.rules[0]).toBe('1. "big": refused, for transactions.');
    // A name nothing of which can be shown is named by its id.
    expect(blank?.name).toBe("blank");
  });

  it("pass a chosen template to the SDK, and none for the provider's default", async () => {
    await coreHandlers.createWallet({ name: "a", policyTemplate: "small-eth" }, noProgress, noConfirm);
    await coreHandlers.createWallet({ name: "b", policyTemplate: null }, noProgress, noConfirm);
    expect(made).toEqual([{ name: "a", policyTemplate: "small-eth" }, { name: "b" }]);
  });
});

describe("the console's policy templates", () => {
  const realFetch = globalThis.fetch;
  let body: unknown;
  beforeEach(() => {
    globalThis.fetch = async () => new Response(JSON.stringify(body), { status: 200 });
  });
  afterEach(() => {
    globalThis.fetch = realFetch;
  });
  const reply = (templates: unknown[]) => ({ limit: 200, total: 0, templates, wallets: [] });

  it("come with their rules in words, a rule it cannot read said to be one", async () => {
    const odd: PolicyTemplate = { ...STANDARD_TEMPLATE, id: "odd", rules: [{ name: "x", decision: "deny" }] };
    body = reply([STANDARD_TEMPLATE, { ...odd, rules: [...odd.rules, "not a rule"] }]);
    const { templates } = await consoleApi.policies("t".repeat(40));
    expect(templates[0]).toEqual({
      id: "standard",
      name: "Standard",
      description: STANDARD_TEMPLATE.description,
      rules: [
        '1. "transfers": signed, for transfers or token transfers.',
        "2. Anything no rule above matches: refused.",
      ],
    });
    expect(templates[1]?.rules).toEqual([
      '1. "x": refused, for transactions.',
      "2. A rule this app cannot read.",
      "3. Anything no rule above matches: refused.",
    ]);
  });

  it("refuse a reply whose rules are no list, or too many", async () => {
    body = reply([{ ...STANDARD_TEMPLATE, rules: "allow" }]);
    await expect(consoleApi.policies("t".repeat(40))).rejects.toBeInstanceOf(ProtocolError);
    body = reply([{ ...STANDARD_TEMPLATE, rules: Array(101).fill(STANDARD_TEMPLATE.rules[0]) }]);
    await expect(consoleApi.policies("t".repeat(40))).rejects.toBeInstanceOf(ProtocolError);
    body = reply(Array(33).fill(STANDARD_TEMPLATE));
    await expect(consoleApi.policies("t".repeat(40))).rejects.toBeInstanceOf(ProtocolError);
  });
});
