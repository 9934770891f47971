/**
 * The provider's list of recovery operators read strictly, the list a person gives to accept new
 * operators, and the choice between those and the list the device pinned.
 */
import { describe, expect, it } from "vitest";
import { messageInCliWords } from "../src/cli/next-steps.js";
import { chooseOperators, parseOperatorList, readOperatorListing } from "../src/recovery-operators.js";
import { refusal } from "./thrown.js";

const key = (n: number) => n.toString(16).padStart(2, "0").repeat(32);
const operator = (index: number) => ({ index, url: `https://operator-${index}.example:8443`, key: key(index) });
const listing = (changes: Record<string, unknown> = {}) => ({
  threshold: 2,
  operators: [operator(1), operator(2), operator(3)],
  ticketKey: key(9),
  ...changes,
});

describe("the provider's list of recovery operators", () => {
  it("is read with its ticket key, ordered by index, urls without a trailing slash", () => {
    const read = readOperatorListing(
      listing({ operators: [operator(3), { ...operator(1), url: "https://operator-1.example:8443/" }, operator(2)] }),
    );
    expect(read.operators).toEqual([operator(1), operator(2), operator(3)]);
    expect(read.threshold).toBe(2);
    expect(read.ticketKey).toHaveLength(32);
  });

  it("is refused when one operator could act alone, or one is listed twice", () => {
    expect(refusal(() => readOperatorListing(listing({ threshold: 1 }))).message).toMatch(/less than 2/);
    expect(refusal(() => readOperatorListing(listing({ threshold: 4 }))).message).toMatch(/cannot meet/);
    const twice = [operator(1), { ...operator(2), key: key(1) }, operator(3)];
    expect(refusal(() => readOperatorListing(listing({ operators: twice }))).message).toMatch(/share a key/);
    const sameIndex = [operator(1), { ...operator(2), index: 1 }, operator(3)];
    expect(refusal(() => readOperatorListing(listing({ operators: sameIndex }))).message).toMatch(/share an index/);
    const sameUrl = [operator(1), { ...operator(2), url: operator(1).url }, operator(3)];
    expect(refusal(() => readOperatorListing(listing({ operators: sameUrl }))).message).toMatch(/share a url/);
  });

  it("is refused when an operator is malformed", () => {
    for (const bad of [
      { ...operator(1), url: "file:///etc/passwd" },
      { ...operator(1), url: "http://user:pw@operator.example" },
      { ...operator(1), key: key(10).toUpperCase() },
      { ...operator(1), index: 0 },
      { ...operator(1), extra: true },
    ])
      expect(refusal(() => readOperatorListing(listing({ operators: [bad, operator(2), operator(3)] }))).code).toBe(
        "operator",
      );
  });

  it("takes plain http on loopback only, where no one between can read the shares sealed to it", () => {
    for (const url of ["http://127.0.0.1:9000", "http://127.8.0.1", "http://[::1]:9000", "http://localhost:9000"])
      expect(
        readOperatorListing(listing({ operators: [{ ...operator(1), url }, operator(2), operator(3)] })).operators,
      ).toContainEqual({ ...operator(1), url });
    for (const url of ["http://operator-1.example", "http://10.0.0.1", "http://128.0.0.1", "http://[::2]"])
      expect(
        refusal(() => readOperatorListing(listing({ operators: [{ ...operator(1), url }, operator(2), operator(3)] })))
          .code,
      ).toBe("operator");
  });

  it("with no operators, says the provider cannot enroll a face", () => {
    expect(refusal(() => readOperatorListing(listing({ operators: [] }))).code).toBe("provider-refused");
  });
});

describe("the operators a device uses", () => {
  const listed = { threshold: 2, operators: [operator(1), operator(2), operator(3)] };
  const pinned = { threshold: 2, operators: [operator(1), operator(2), operator(4)] };

  it("are the provider's when nothing is pinned or the pinned list is the same", () => {
    expect(chooseOperators(listed, undefined)).toBe(listed);
    expect(chooseOperators(listed, { ...listed })).toBe(listed);
  });

  it("are refused when the provider names others than the pinned ones, unless given", () => {
    const e = refusal(() => chooseOperators(listed, pinned));
    expect(e.code).toBe("operators-changed");
    expect(messageInCliWords(e)).toMatch(/pass them explicitly in --operators to accept$/);
    expect(chooseOperators(listed, pinned, [operator(1), operator(2), operator(3)])).toBe(listed);
    // Given, they must be the provider's: the device cannot enroll at operators the provider does not name.
    expect(refusal(() => chooseOperators(listed, pinned, pinned.operators)).code).toBe("operators-changed");
  });

  it("given, are still refused when fewer of them would suffice than the pinned threshold", () => {
    const threeOfFour = { threshold: 3, operators: [operator(1), operator(2), operator(3), operator(4)] };
    const e = refusal(() => chooseOperators(listed, threeOfFour, listed.operators));
    expect(e.code).toBe("operators-changed");
    expect(e.message).toMatch(/threshold below the 3 this device pinned/);
    // A higher threshold is no loss.
    const twoOfTwo = { threshold: 2, operators: [operator(1), operator(2)] };
    const raised = { threshold: 3, operators: listed.operators };
    expect(chooseOperators(raised, twoOfTwo, listed.operators)).toBe(raised);
  });

  it("given as url#key, comma-separated, index by place; anything else names `operators`", () => {
    expect(parseOperatorList(`${operator(1).url}#${key(1)}, ${operator(2).url}/#${key(2)}`)).toEqual([
      operator(1),
      operator(2),
    ]);
    for (const bad of [operator(1).url, `${operator(1).url}#${key(1)}#x`, `ftp://a#${key(1)}`, `http://a#abc`]) {
      const e = refusal(() => parseOperatorList(bad));
      expect(e).toMatchObject({ code: "usage", details: { parameter: "operators" } });
      expect(messageInCliWords(e)).toMatch(/^--operators lists/);
    }
  });
});
