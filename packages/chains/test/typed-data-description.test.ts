/**
 * What a person is shown before an off-chain signature: EIP-712 typed data read along its types
 * (token approvals named, with spender, amount and deadline), and messages as text or as hex
 * with a warning. Vectors include the Permit2 request the Uniswap web app sends for a swap.
 */
import { readFileSync } from "node:fs";
import { maxUint256 } from "viem";
import { describe, expect, it } from "vitest";
import { ChainError, describeMessage, describeTypedData, type TypedField, typedDataDigest } from "../src/index.js";

const USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48";
const DAI = "0x6B175474E89094C44Da98b954EedeAC495271d0F";
const OWNER = "0x935E73EDb9fF52E23BaC7F7e043A1ecD06d05477";
const SPENDER = "0x3fC91A3afd70395Cd496C647d5a6CC9D4B2b7FAD";
const OTHER = "0x1111111111111111111111111111111111111111";

/** As app.uniswap.org asks a wallet to sign it before a USDC swap on mainnet. */
const uniswapPermit2 = JSON.parse(
  readFileSync(new URL("fixtures/uniswap-permit2-single.json", import.meta.url), "utf8"),
) as Record<string, unknown>;

const domainType = [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
];

function erc2612(value: bigint | string, deadline = "1735689600") {
  return {
    types: {
      EIP712Domain: domainType,
      Permit: [
        { name: "owner", type: "address" },
        { name: "spender", type: "address" },
        { name: "value", type: "uint256" },
        { name: "nonce", type: "uint256" },
        { name: "deadline", type: "uint256" },
      ],
    },
    domain: { name: "USD Coin", version: "2", chainId: 1, verifyingContract: USDC },
    primaryType: "Permit",
    message: { owner: OWNER, spender: SPENDER, value: value.toString(), nonce: "0", deadline },
  };
}

const field = (fields: TypedField[], name: string) => {
  const found = fields.find((f) => f.name === name);
  if (found === undefined) throw new Error(`no field ${name}`);
  return found;
};

describe("EIP-712 typed data", () => {
  it("names Uniswap's Permit2 PermitSingle an unlimited USDC approval, with spender and dates", () => {
    const d = describeTypedData(uniswapPermit2);
    expect(d.domain).toEqual({
      name: "Permit2",
      chainId: 1,
      verifyingContract: "0x000000000022D473030F116dDEE9F6B43aC78BA3",
    });
    expect(d.primaryType).toBe("PermitSingle");
    expect(d.approval?.standard).toBe("Permit2 PermitSingle");
    expect(d.approval?.deadline).toBe("2024-07-06T20:22:22.000Z");
    const [grant] = d.approval?.approvals ?? [];
    expect(grant).toMatchObject({
      spender: SPENDER,
      unlimited: true,
      text: "UNLIMITED USDC",
      expires: "2024-08-05T19:52:22.000Z",
      asset: { symbol: "USDC", contract: USDC, known: true },
    });
    expect(d.warnings).toContain(`lets ${SPENDER} take every USDC token (${USDC}) of the wallet`);
    const details = field(d.fields, "details");
    expect(details.type).toBe("PermitDetails");
    expect(field(details.fields ?? [], "token").value).toBe(USDC);
    expect(field(details.fields ?? [], "amount").value).toBe(((1n << 160n) - 1n).toString());
    expect(field(d.fields, "spender").value).toBe(SPENDER);
  });

  it("names an ERC-2612 Permit with owner, spender, amount in the token's unit and the deadline as a date", () => {
    const d = describeTypedData(erc2612(25_000_000n));
    expect(d.domain).toEqual({ name: "USD Coin", version: "2", chainId: 1, verifyingContract: USDC });
    expect(d.approval).toMatchObject({
      standard: "ERC-2612 Permit",
      owner: OWNER,
      deadline: "2025-01-01T00:00:00.000Z",
      approvals: [{ spender: SPENDER, text: "25 USDC", unlimited: false, value: 25_000_000n }],
    });
    expect(d.warnings).toEqual([]);
  });

  it("shows a Permit for the largest uint256 as UNLIMITED, and a deadline past any date as never", () => {
    const d = describeTypedData(erc2612(maxUint256, maxUint256.toString()));
    expect(d.approval?.approvals[0]).toMatchObject({ text: "UNLIMITED USDC", unlimited: true });
    expect(d.approval?.deadline).toBe("never");
    expect(d.warnings.some((w) => w.includes("take every USDC"))).toBe(true);
  });

  it("reads DAI's Permit: allowed true is unlimited, expiry 0 never ends, allowed false takes it back", () => {
    const dai = (allowed: boolean) => ({
      types: {
        EIP712Domain: domainType,
        Permit: [
          { name: "holder", type: "address" },
          { name: "spender", type: "address" },
          { name: "nonce", type: "uint256" },
          { name: "expiry", type: "uint256" },
          { name: "allowed", type: "bool" },
        ],
      },
      domain: { name: "Dai Stablecoin", version: "1", chainId: 1, verifyingContract: DAI },
      primaryType: "Permit",
      message: { holder: OWNER, spender: SPENDER, nonce: 3, expiry: 0, allowed },
    });
    const granted = describeTypedData(dai(true));
    expect(granted.approval).toMatchObject({
      standard: "DAI Permit",
      owner: OWNER,
      deadline: "never",
      approvals: [{ spender: SPENDER, unlimited: true, text: "UNLIMITED DAI" }],
    });
    expect(field(granted.fields, "allowed").value).toBe("true");
    expect(describeTypedData(dai(false)).approval?.approvals[0]).toMatchObject({ unlimited: false, text: "0 DAI" });
  });

  it("lists every token of a Permit2 PermitBatch and of a PermitTransferFrom", () => {
    const details = [
      { token: USDC, amount: "1000000", expiration: "1735689600", nonce: "0" },
      { token: OTHER, amount: "7", expiration: "1735689600", nonce: "0" },
    ];
    const batch = describeTypedData({
      ...uniswapPermit2,
      types: {
        ...(uniswapPermit2.types as object),
        PermitBatch: [
          { name: "details", type: "PermitDetails[]" },
          { name: "spender", type: "address" },
          { name: "sigDeadline", type: "uint256" },
        ],
      },
      primaryType: "PermitBatch",
      message: { details, spender: SPENDER, sigDeadline: "1735689600" },
    });
    expect(batch.approval?.standard).toBe("Permit2 PermitBatch");
    expect(batch.approval?.approvals.map((a) => a.text)).toEqual(["1 USDC", `7 base units of unknown token ${OTHER}`]);
    expect(batch.warnings).toContain(`unknown token contract ${OTHER}: amount shown in base units`);
    expect(field(batch.fields, "details").fields?.map((f) => f.name)).toEqual(["[0]", "[1]"]);

    const transfer = describeTypedData({
      types: {
        EIP712Domain: (uniswapPermit2.types as Record<string, unknown>).EIP712Domain,
        PermitTransferFrom: [
          { name: "permitted", type: "TokenPermissions" },
          { name: "spender", type: "address" },
          { name: "nonce", type: "uint256" },
          { name: "deadline", type: "uint256" },
        ],
        TokenPermissions: [
          { name: "token", type: "address" },
          { name: "amount", type: "uint256" },
        ],
      },
      domain: uniswapPermit2.domain,
      primaryType: "PermitTransferFrom",
      message: { permitted: { token: USDC, amount: "2500000" }, spender: SPENDER, nonce: "1", deadline: "1735689600" },
    });
    expect(transfer.approval).toMatchObject({
      standard: "Permit2 PermitTransferFrom",
      deadline: "2025-01-01T00:00:00.000Z",
      approvals: [{ spender: SPENDER, text: "2.5 USDC" }],
    });
  });

  it("takes a permit only by its exact shape, never from keys the signature does not cover", () => {
    const data = erc2612(1n);
    const lookalike = describeTypedData({
      ...data,
      types: {
        ...data.types,
        Permit: data.types.Permit.map((f) => (f.name === "value" ? { name: "amount", type: "uint256" } : f)),
      },
      message: { ...data.message, amount: "5", value: "1" },
    });
    expect(lookalike.approval).toBeUndefined();
    expect(lookalike.warnings).toContain("Permit carries value, which the signature does not cover");
    expect(lookalike.warnings.some((w) => w.startsWith("Permit reads like an approval"))).toBe(true);
  });

  it("warns about approval-like types it does not know", () => {
    const d = describeTypedData({
      types: {
        EIP712Domain: domainType,
        Delegation: [
          { name: "operator", type: "address" },
          { name: "nonce", type: "uint256" },
        ],
      },
      domain: { name: "Some Vault", version: "1", chainId: 1, verifyingContract: OTHER },
      primaryType: "Delegation",
      message: { operator: SPENDER, nonce: 1 },
    });
    expect(d.approval).toBeUndefined();
    expect(d.warnings.some((w) => w.includes("reads like an approval"))).toBe(true);
    // A harmless name does not hide a spender nested in the fields.
    const order = describeTypedData({
      types: {
        EIP712Domain: domainType,
        Listing: [{ name: "terms", type: "Terms[]" }],
        Terms: [
          { name: "spender", type: "address" },
          { name: "price", type: "uint256" },
        ],
      },
      domain: { name: "Some Market", version: "1", chainId: 1, verifyingContract: OTHER },
      primaryType: "Listing",
      message: { terms: [{ spender: SPENDER, price: 1 }] },
    });
    expect(order.warnings).toEqual([
      "Listing reads like an approval keyshard does not know: signing it may let someone move the wallet's assets",
    ]);
  });

  it("shows nested structs of the EIP-712 example in type order, strings quoted", () => {
    const mail = {
      types: {
        EIP712Domain: domainType,
        Person: [
          { name: "name", type: "string" },
          { name: "wallet", type: "address" },
        ],
        Mail: [
          { name: "from", type: "Person" },
          { name: "to", type: "Person" },
          { name: "contents", type: "string" },
        ],
      },
      primaryType: "Mail",
      domain: {
        name: "Ether Mail",
        version: "1",
        chainId: 1,
        verifyingContract: "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC",
      },
      message: {
        from: { name: "Cow", wallet: "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826" },
        to: { name: "Bob", wallet: "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB" },
        contents: "Hello, Bob!",
      },
    };
    const d = describeTypedData(mail);
    expect(d.approval).toBeUndefined();
    expect(d.warnings).toEqual([]);
    expect(d.fields).toEqual([
      {
        name: "from",
        type: "Person",
        fields: [
          { name: "name", type: "string", value: '"Cow"' },
          { name: "wallet", type: "address", value: "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826" },
        ],
      },
      {
        name: "to",
        type: "Person",
        fields: [
          { name: "name", type: "string", value: '"Bob"' },
          { name: "wallet", type: "address", value: "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB" },
        ],
      },
      { name: "contents", type: "string", value: '"Hello, Bob!"' },
    ]);
    // The digest of the same data is the specification's own vector.
    expect(Buffer.from(typedDataDigest(mail as never)).toString("hex")).toBe(
      "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2",
    );
  });

  it("shows only signed fields, warns about the rest, and writes out characters that could hide text", () => {
    const data = erc2612(1n);
    const d = describeTypedData({
      ...data,
      domain: { ...data.domain, name: "USD Coin\r\u202eevil" },
      message: { ...data.message, note: "ignored by the signature" },
    });
    expect(d.fields.map((f) => f.name)).toEqual(["owner", "spender", "value", "nonce", "deadline"]);
    expect(d.warnings).toContain("Permit carries note, which the signature does not cover");
    expect(d.domain.name).toBe("USD Coin\\u{d}\\u{202e}evil");
  });

  it("warns when the domain binds neither a chain nor a contract", () => {
    const data = erc2612(1n);
    const d = describeTypedData({
      ...data,
      types: { ...data.types, EIP712Domain: [{ name: "name", type: "string" }] },
      domain: { name: "USD Coin" },
    });
    expect(d.approval).toBeUndefined();
    expect(d.warnings).toContain("the domain names no chain: the signature is valid on every chain");
    expect(d.warnings.some((w) => w.startsWith("the domain names no contract"))).toBe(true);
    expect(d.warnings.some((w) => w.includes("reads like an approval"))).toBe(true);
  });

  it("refuses typed data for another chain, and malformed typed data, with a typed error", () => {
    expect(() => describeTypedData(erc2612(1n), { chainId: 10 })).toThrow(
      expect.objectContaining({ code: "wrong-network" }),
    );
    const bad = erc2612(1n);
    for (const input of [
      null,
      { ...bad, primaryType: undefined },
      { ...bad, message: { ...bad.message, spender: "0x1234" } },
      { ...bad, message: { ...bad.message, value: "-1" } },
      { ...bad, message: { ...bad.message, value: undefined } },
    ]) {
      let thrown: unknown;
      try {
        describeTypedData(input);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(ChainError);
      expect((thrown as ChainError).code).toBe("malformed");
    }
  });

  const malformed = expect.objectContaining({ code: "malformed" });
  /** Escape codes that move the cursor up over the approval lines, erase them, and draw a harmless message. */
  const REDRAW = "\u001b[12A\u001b[0J  EIP-712 typed data: Mail";

  it("refuses bytes that are no strict hex, which viem would sign as text that redraws the screen", () => {
    const data = erc2612(1n);
    const withBytes = (type: string, memo: string) => ({
      ...data,
      types: {
        ...data.types,
        Note: [{ name: "memo", type }],
        Permit: [...data.types.Permit, { name: "note", type: "Note" }],
      },
      message: { ...data.message, note: { memo } },
    });
    // viem hashes each of these, so only the description stands between them and a signature.
    for (const [type, memo] of [
      ["bytes", REDRAW],
      ["bytes32", REDRAW.slice(0, 32)],
      ["bytes2", "0x123"],
    ] as const) {
      expect(typedDataDigest(withBytes(type, memo) as never)).toHaveLength(32);
      expect(() => describeTypedData(withBytes(type, memo))).toThrow(malformed);
    }
    const shown = describeTypedData(withBytes("bytes4", "0xdeadBEEF"));
    expect(field(field(shown.fields, "note").fields ?? [], "memo").value).toBe("0xdeadBEEF");

    const salted = (salt: string) => ({
      ...data,
      types: { ...data.types, EIP712Domain: [...domainType, { name: "salt", type: "bytes32" }] },
      domain: { ...data.domain, salt },
    });
    for (const salt of [REDRAW.slice(0, 32), `0x${"a".repeat(63)}`]) {
      expect(typedDataDigest(salted(salt) as never)).toHaveLength(32);
      expect(() => describeTypedData(salted(salt))).toThrow(malformed);
    }
    expect(describeTypedData(salted(`0x${"ab".repeat(32)}`)).domain.salt).toBe(`0x${"ab".repeat(32)}`);
  });

  it("writes out control characters in every name, type and value it shows", () => {
    const data = erc2612(1n);
    const d = describeTypedData({
      ...data,
      types: {
        ...data.types,
        Note: [{ name: `memo${REDRAW}`, type: "string" }],
        Permit: [...data.types.Permit, { name: `note${REDRAW}`, type: "Note" }],
      },
      domain: { ...data.domain, version: REDRAW },
      message: { ...data.message, [`note${REDRAW}`]: { [`memo${REDRAW}`]: REDRAW, [`extra${REDRAW}`]: 1 } },
    });
    const shown: string[] = [];
    const collect = (value: unknown): void => {
      if (typeof value === "string") shown.push(value);
      else if (typeof value === "object" && value !== null) for (const v of Object.values(value)) collect(v);
    };
    collect(d);
    expect(shown.some((s) => s.includes("\\u{1b}[12A"))).toBe(true);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    expect(shown.filter((s) => /[\u0000-\u001f]/.test(s))).toEqual([]);
    // Refused data is quoted in the error, which is shown too.
    expect(() => describeTypedData({ ...data, message: { ...data.message, spender: REDRAW } })).toThrow(
      expect.objectContaining({ code: "malformed", message: expect.stringContaining("\\u{1b}[12A") }),
    );
  });

  it("refuses a domain that shows fields its EIP712Domain type leaves unsigned", () => {
    const data = erc2612(1n);
    const without = (name: string) => domainType.filter((f) => f.name !== name);
    // Shown as a Permit on USDC, this signature would be valid for any contract that accepts it.
    const anyContract = { ...data, types: { ...data.types, EIP712Domain: without("verifyingContract") } };
    for (const input of [
      anyContract,
      // Without a domain type, viem hashes the standard fields only.
      { ...data, types: { Permit: data.types.Permit }, domain: { ...data.domain, chain: 1 } },
      { ...data, types: { Permit: data.types.Permit }, domain: { ...data.domain, salt: null } },
      // A field EIP-712 does not define, or a standard one hashed as another type, is no domain a wallet can show.
      {
        ...data,
        types: { ...data.types, EIP712Domain: [...domainType, { name: "owner", type: "address" }] },
        domain: { ...data.domain, owner: OTHER },
      },
      {
        ...data,
        types: { ...data.types, EIP712Domain: [...without("chainId"), { name: "chainId", type: "string" }] },
        domain: { ...data.domain, chainId: "1" },
      },
    ]) {
      expect(typedDataDigest(input as never)).toHaveLength(32);
      expect(() => describeTypedData(input)).toThrow(malformed);
    }
  });

  it("describes a domain whose type leaves out chainId as bound to no chain, whatever chainId it carries", () => {
    const data = erc2612(1n);
    const types = { ...data.types, EIP712Domain: domainType.filter((f) => f.name !== "chainId") };
    expect(() => describeTypedData({ ...data, types }, { chainId: 1 })).toThrow(malformed);
    const { chainId: _, ...domain } = data.domain;
    const d = describeTypedData({ ...data, types, domain }, { chainId: 1 });
    expect(d.domain).toEqual({ name: "USD Coin", version: "2", verifyingContract: USDC });
    expect(d.warnings).toContain("the domain names no chain: the signature is valid on every chain");
  });
});

describe("messages (EIP-191, BIP322)", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);

  it("shows printable UTF-8 as text, lines kept", () => {
    expect(describeMessage("ethereum", bytes("log in to example.org\nnonce: 42 ✓"))).toEqual({
      kind: "message",
      chain: "ethereum",
      encoding: "text",
      shown: "log in to example.org\nnonce: 42 ✓",
      length: 35,
      warnings: [],
    });
  });

  it("shows bytes that are no UTF-8 as hex with a warning, and 32 of them as a likely hash", () => {
    const d = describeMessage("bitcoin", new Uint8Array([0xff, 0x00, 0x10]));
    expect(d).toMatchObject({ encoding: "hex", shown: "0xff0010", chain: "bitcoin" });
    expect(d.warnings[0]).toMatch(/not readable text/);
    const hash = describeMessage("ethereum", new Uint8Array(32).fill(0xee));
    expect(hash.warnings.some((w) => w.includes("hash"))).toBe(true);
  });

  it("shows text with carriage returns or direction overrides as hex, since it could read as something else", () => {
    for (const text of ["pay 1 ETH\rpay 0 ETH", "abc\u202Etxt.exe", "\u001b[2Khidden"]) {
      const d = describeMessage("ethereum", bytes(text));
      expect(d.encoding).toBe("hex");
      expect(d.warnings[0]).toMatch(/control or direction characters/);
    }
  });

  it("says when the message is empty", () => {
    expect(describeMessage("ethereum", new Uint8Array()).warnings).toEqual(["the message is empty"]);
  });
});
