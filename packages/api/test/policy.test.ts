/**
 * The policy document of the API contract: the policies people write are accepted as they are,
 * and every rule of the schema and of `policyConflict` refuses a document that breaks it, in words
 * that name the rule from 1 and the field — the same words whether TypeBox or the HTTP layer's
 * validator (ajv) found the violation.
 */
import { describe, expect, it } from "vitest";
import { checkPolicy, type Policy, policyViolationText, YEAR_SECONDS } from "../src/policy.js";

const accepted = (policy: unknown) => expect(checkPolicy(policy)).toEqual({ policy });
/** The refusal of `when` in the second rule, after one that is fine. */
const refusal = (rule: Record<string, unknown>) => {
  const checked = checkPolicy([
    { name: "first", when: {}, decision: "deny" },
    { name: "big", ...rule },
  ]);
  return "refusal" in checked ? checked.refusal : "accepted";
};
const refusalOfWhen = (when: unknown) => refusal({ when, decision: "allow" });

describe("policies people write", () => {
  it("accepts the examples of the documentation and the tests", () => {
    const examples: Policy[] = [
      // A new wallet's default.
      [{ name: "transfers", when: { action: ["transfer", "token-transfer"] }, decision: "allow" }],
      [
        { name: "no-eve", when: { to: ["0x0000000000000000000000000000000000000e0e"] }, decision: "deny" },
        {
          name: "small-eth-to-bob",
          when: {
            chain: ["ethereum"],
            asset: ["ETH"],
            to: ["0x00000000000000000000000000000000000b0b00"],
            maxAmount: "1000000000000000000",
          },
          decision: "allow",
        },
        {
          name: "usdc",
          when: { action: ["token-transfer"], asset: ["USDC"], maxAmount: "5000000", maxFee: "90000" },
          decision: "allow",
        },
      ],
      // The token rule of the provider's README: a fee cap answers for the fee in Ether.
      [
        {
          name: "token",
          when: { asset: ["USDC"], maxAmount: "100000000", maxFee: "10000000000000000" },
          decision: "allow",
        },
      ],
      [
        {
          name: "daily",
          when: { asset: ["ETH"], window: { seconds: 86_400, maxTotal: "1000000" } },
          decision: "delay",
          delaySeconds: 60,
        },
        { name: "approved", when: { chain: ["bitcoin"] }, decision: "require-approvals", approvals: 2 },
        { name: "listed", when: { allowListed: { coolingOffSeconds: 86_400 } }, decision: "allow" },
        { name: "hashes", when: { kind: ["raw-hash"] }, decision: "require-totp" },
        { name: "messages", when: { kind: ["message", "typed-data"], chain: ["ethereum"] }, decision: "allow" },
        {
          name: "fees",
          when: { network: ["eip155:1", "solana"], maxFee: "2000000000000000", maxFeeBasisPoints: 10_000 },
          decision: "allow",
        },
        { name: "anything-tiny", when: { maxAmount: "1000" }, decision: "delay", delaySeconds: 60 },
      ],
      // Without conditions, a rule matches every transaction.
      [{ name: "open", decision: "allow" }],
      [],
    ];
    for (const example of examples) accepted(example);
  });

  it("accepts every bound at its edge", () => {
    accepted([{ name: "x".repeat(64), when: { maxAmount: "9".repeat(78) }, decision: "allow" }]);
    accepted([{ name: "a", when: { allowListed: { coolingOffSeconds: 0 } }, decision: "delay", delaySeconds: 1 }]);
    accepted([
      {
        name: "a",
        when: { asset: ["x".repeat(128)], window: { seconds: YEAR_SECONDS, maxTotal: "0" } },
        decision: "delay",
        delaySeconds: YEAR_SECONDS,
      },
    ]);
    accepted([
      { name: "a", when: { network: ["eip155:1234567890123456"] }, decision: "require-approvals", approvals: 16 },
    ]);
    accepted([{ name: "a", when: { to: Array(256).fill("a"), maxFeeBasisPoints: 0 }, decision: "allow" }]);
    accepted(Array.from({ length: 100 }, (_, i) => ({ name: `r${i}`, decision: "allow" })));
  });
});

describe("refusals", () => {
  it("the document and its rules", () => {
    const list = "a policy is a list of at most 100 rules";
    expect(checkPolicy({})).toEqual({ refusal: list });
    expect(checkPolicy(Array.from({ length: 101 }, (_, i) => ({ name: `r${i}`, decision: "allow" })))).toEqual({
      refusal: list,
    });
    expect(refusal({ name: undefined, decision: "allow" })).toBe("rule 2 needs a name (1 to 64 characters)");
    expect(checkPolicy([{ name: "", decision: "allow" }])).toEqual({
      refusal: "rule 1 needs a name (1 to 64 characters)",
    });
    expect(refusal({ name: "x".repeat(65), decision: "allow" })).toBe("rule 2 needs a name (1 to 64 characters)");
    expect(checkPolicy([{ name: 5, decision: "allow" }])).toEqual({
      refusal: "rule 1 needs a name (1 to 64 characters)",
    });
    expect(checkPolicy(["rule"])).toEqual({ refusal: "rule 1 must be an object" });
    expect(refusal({ decision: "allow", extra: true })).toBe("rule 2 has an unknown field extra");
    const decisions = 'rule 2 ("big"): decision must be one of allow, deny, require-totp, require-approvals, delay';
    expect(refusal({ decision: "maybe" })).toBe(decisions);
    expect(refusal({})).toBe(decisions);
  });

  it("decisions and what goes with them", () => {
    expect(refusal({ decision: "require-approvals" })).toBe(
      'rule 2 ("big"): approvals goes with require-approvals, and only there',
    );
    expect(refusal({ decision: "allow", approvals: 1 })).toBe(
      'rule 2 ("big"): approvals goes with require-approvals, and only there',
    );
    for (const approvals of [0, 17, 1.5])
      expect(refusal({ decision: "require-approvals", approvals })).toBe('rule 2 ("big"): approvals is from 1 to 16');
    expect(refusal({ decision: "delay" })).toBe('rule 2 ("big"): delaySeconds goes with delay, and only there');
    expect(refusal({ decision: "deny", delaySeconds: 60 })).toBe(
      'rule 2 ("big"): delaySeconds goes with delay, and only there',
    );
    for (const delaySeconds of [0, YEAR_SECONDS + 1, "60"])
      expect(refusal({ decision: "delay", delaySeconds })).toBe(
        `rule 2 ("big"): delaySeconds is a whole number of seconds from 1 to ${YEAR_SECONDS}`,
      );
    expect(
      checkPolicy([
        { name: "x", decision: "allow" },
        { name: "x", decision: "deny" },
      ]),
    ).toEqual({ refusal: 'rule 2 ("x"): another rule is named x' });
  });

  it("conditions", () => {
    const where = 'rule 2 ("big"): ';
    for (const when of [null, [], "x"]) expect(refusalOfWhen(when)).toBe(`${where}when must be an object`);
    expect(refusalOfWhen({ colour: ["red"] })).toBe(`${where}when has an unknown field colour`);
    const valid = { kind: "message", chain: "ethereum", network: "solana", action: "transfer", asset: "ETH", to: "a" };
    for (const [field, entry] of Object.entries(valid)) {
      for (const list of [[], entry, Array(257).fill(entry)])
        expect(refusalOfWhen({ [field]: list })).toBe(`${where}${field} must be a non-empty list of strings`);
      accepted([{ name: "a", when: { [field]: Array(256).fill(entry) }, decision: "allow" }]);
    }
    for (const entry of ["", "x".repeat(129)]) {
      expect(refusalOfWhen({ asset: [entry] })).toBe(`${where}asset has an empty or overlong entry`);
      expect(refusalOfWhen({ to: [entry] })).toBe(`${where}to has an empty or overlong entry`);
    }
    // Lengths are UTF-16 units: 100 emoji fit in 128 characters but not in 128 units.
    expect(refusalOfWhen({ to: ["\u{1F600}".repeat(100)] })).toBe(`${where}to has an empty or overlong entry`);
    expect(refusal({ name: "\u{1F600}".repeat(40), when: {}, decision: "allow" })).toBe(
      "rule 2 needs a name (1 to 64 characters)",
    );
    const sparse: unknown[] = [{ name: "a", when: {}, decision: "allow" }];
    sparse.length = 2;
    expect(checkPolicy(sparse)).toEqual({ refusal: "a policy is a list of rules" });
    expect(refusalOfWhen({ to: [null] })).toBe(`${where}to must be a non-empty list of strings`);
    expect(refusalOfWhen({ kind: ["picture"] })).toBe(`${where}kind has an unknown value`);
    expect(refusalOfWhen({ chain: ["dogecoin"] })).toBe(`${where}chain has an unknown value`);
    expect(refusalOfWhen({ action: ["mint"] })).toBe(`${where}action has an unknown value`);
    // A PSBT does not commit to its network: a rule scoped by the client's label could be dodged.
    for (const network of ["ethereum", "eip155:01", "eip155:12345678901234567", "bitcoin:mainnet", "bitcoin:signet"])
      expect(refusalOfWhen({ network: [network] })).toBe(
        `${where}a network is eip155:<chain id> or solana (a PSBT does not say its network: use chain bitcoin)`,
      );
  });

  it("amounts, windows, cooling-off and fees", () => {
    const where = 'rule 2 ("big"): ';
    for (const amount of [5, "-1", "1.5", "01", " 1", "1".repeat(79), "1e18"]) {
      expect(refusalOfWhen({ maxAmount: amount })).toBe(
        `${where}maxAmount is a whole number of base units, as a string`,
      );
      expect(refusalOfWhen({ maxFee: amount })).toBe(`${where}maxFee is a whole number of base units, as a string`);
      expect(refusalOfWhen({ asset: ["ETH"], window: { seconds: 60, maxTotal: amount } })).toBe(
        `${where}window maxTotal is a whole number of base units, as a string`,
      );
    }
    const seconds = `${where}window seconds is a whole number of seconds from 60 to ${YEAR_SECONDS}`;
    for (const s of [59, YEAR_SECONDS + 1, 60.5, "60"])
      expect(refusalOfWhen({ asset: ["ETH"], window: { seconds: s, maxTotal: "1" } })).toBe(seconds);
    expect(refusalOfWhen({ asset: ["ETH"], window: { maxTotal: "1" } })).toBe(seconds);
    expect(refusalOfWhen({ asset: ["ETH"], window: { seconds: 60 } })).toBe(
      `${where}window maxTotal is a whole number of base units, as a string`,
    );
    expect(refusalOfWhen({ asset: ["ETH"], window: { seconds: 60, maxTotal: "1", per: "day" } })).toBe(
      `${where}window has an unknown field per`,
    );
    expect(refusalOfWhen({ asset: ["ETH"], window: 3600 })).toBe(`${where}window must be an object`);
    for (const asset of [undefined, ["ETH", "USDC"]])
      expect(refusalOfWhen({ asset, window: { seconds: 3600, maxTotal: "1" } })).toBe(
        `${where}a window needs exactly one asset to add up`,
      );
    const coolingOff = `${where}coolingOffSeconds is a whole number of seconds from 0 to ${YEAR_SECONDS}`;
    for (const s of [-1, YEAR_SECONDS + 1, 0.5])
      expect(refusalOfWhen({ allowListed: { coolingOffSeconds: s } })).toBe(coolingOff);
    expect(refusalOfWhen({ allowListed: {} })).toBe(coolingOff);
    expect(refusalOfWhen({ allowListed: true })).toBe(`${where}allowListed must be an object`);
    expect(refusalOfWhen({ allowListed: { coolingOffSeconds: 0, label: "x" } })).toBe(
      `${where}allowListed has an unknown field label`,
    );
    for (const bps of [-1, 10_001, 2.5, "50"])
      expect(refusalOfWhen({ maxFeeBasisPoints: bps })).toBe(
        `${where}maxFeeBasisPoints is a whole number from 0 to 10000`,
      );
  });

  it("transfer conditions on rules that cannot match a transaction", () => {
    for (const when of [
      { kind: ["message"], maxAmount: "1" },
      { kind: ["typed-data"], maxFee: "1" },
      { kind: ["message"], network: ["eip155:1"] },
      { kind: ["raw-hash"], to: ["a"] },
    ])
      expect(refusalOfWhen(when)).toBe(
        'rule 2 ("big"): transfer conditions cannot match messages, typed data or hashes',
      );
    accepted([{ name: "a", when: { kind: ["message", "transaction"], maxAmount: "1" }, decision: "allow" }]);
  });
});

describe("a violation the HTTP layer's validator found", () => {
  const policy = [
    { name: "first", decision: "deny" },
    { name: "big", when: { maxAmount: 5, colour: "red" } },
  ];
  it("reads in the same words, from ajv's way of naming missing and unknown fields", () => {
    expect(
      policyViolationText({ keyword: "type", instancePath: "/1/when/maxAmount", params: { type: "string" } }, policy),
    ).toBe('rule 2 ("big"): maxAmount is a whole number of base units, as a string');
    expect(
      policyViolationText(
        { keyword: "additionalProperties", instancePath: "/1/when", params: { additionalProperty: "colour" } },
        policy,
      ),
    ).toBe('rule 2 ("big"): when has an unknown field colour');
    expect(
      policyViolationText({ keyword: "required", instancePath: "/1", params: { missingProperty: "decision" } }, policy),
    ).toBe('rule 2 ("big"): decision must be one of allow, deny, require-totp, require-approvals, delay');
    expect(
      policyViolationText({ keyword: "required", instancePath: "/0", params: { missingProperty: "name" } }, [{}]),
    ).toBe("rule 1 needs a name (1 to 64 characters)");
    expect(policyViolationText({ keyword: "maxItems", instancePath: "", params: { limit: 100 } }, [])).toBe(
      "a policy is a list of at most 100 rules",
    );
  });
});
