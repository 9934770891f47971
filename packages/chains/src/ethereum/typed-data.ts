/**
 * What EIP-712 typed data says, for the screen before it is signed: the domain, the primary
 * type and every signed field (nested structs and arrays, addresses checksummed, integers in
 * full), read along the types exactly as the digest hashes them — a key of the message that no
 * type names is not signed, so it is not shown as if it were, only warned about; a domain key
 * left unsigned, or `bytes` that are no hex (viem would sign them as text), is refused.
 *
 * Token approvals are named as such, since signing one hands tokens over with no transaction
 * to see: ERC-2612 `Permit`, DAI's `Permit` (allowed: true is unlimited), and Uniswap Permit2's
 * `PermitSingle`, `PermitBatch` and the `PermitTransferFrom` family, each known by its exact
 * type; any other type that reads like an approval is warned about.
 */
import {
  type Address,
  getAddress,
  getTypesForEIP712Domain,
  hashTypedData,
  isHex,
  maxUint256,
  type TypedDataDefinition,
  validateTypedData,
} from "viem";
import { type Asset, amount, type TokenApproval } from "../describe.js";
import { ChainError, decodeOrThrow } from "../errors.js";
import { oneLineText } from "../message-description.js";
import { MAINNET_TOKENS, type TokenInfo, tokenAsset } from "./tokens.js";

export interface TypedDataOptions {
  /** The chain the wallet signs for: typed data bound to another chain is refused. */
  chainId?: number;
  /** Tokens the caller trusts in addition to `MAINNET_TOKENS`. */
  tokens?: readonly TokenInfo[];
}

export interface TypedField {
  name: string;
  type: string;
  /** The value as a person reads it; absent for a struct or an array, which have `fields`. */
  value?: string;
  /** A struct's members, or an array's elements (named `[0]`, `[1]`, …). */
  fields?: TypedField[];
}

export interface TypedDataApproval {
  /** "ERC-2612 Permit", "DAI Permit", "Permit2 PermitSingle", … */
  standard: string;
  /** Whose tokens, when the signed data names the owner. */
  owner?: string;
  /** What the spender may take, per token; Permit2 allowances also say when they lapse. */
  approvals: (TokenApproval & { expires?: string })[];
  /** Until when the signature can be used, as a date, or "never". */
  deadline?: string;
}

export interface TypedDataDescription {
  kind: "typed-data";
  domain: { name?: string; version?: string; chainId?: number; verifyingContract?: string; salt?: string };
  primaryType: string;
  fields: TypedField[];
  /** Set when the data is a token approval keyshard recognises. */
  approval?: TypedDataApproval;
  warnings: string[];
}

type Types = Record<string, readonly { name: string; type: string }[]>;
type Struct = Record<string, unknown>;

/** Past 9999-12-31 a deadline is no date anyone will see: it means "no deadline". */
const LAST_DATE_SECONDS = 253_402_300_799n;
const APPROVAL_LIKE = /permit|approv|allowance|delegat|operator|spender/i;

/** Throws a `ChainError`: "malformed" for data that does not hash as EIP-712, "wrong-network". */
export function describeTypedData(input: unknown, options: TypedDataOptions = {}): TypedDataDescription {
  return decodeOrThrow("typed data", () => {
    const candidate = input as TypedDataDefinition;
    if (typeof candidate !== "object" || candidate === null) throw new Error("it is not an object");
    if (typeof candidate.primaryType !== "string") throw new Error("primaryType is missing");
    validateTypedData(candidate);
    // Hashing checks what validation leaves out (missing fields, negative unsigned integers):
    // whatever is described below is exactly what the digest commits to.
    hashTypedData(candidate);
    return describeValid(candidate as TypedDataDefinition & { types: Types; message: Struct }, options);
  });
}

function describeValid(
  typedData: TypedDataDefinition & { types: Types; message: Struct },
  options: TypedDataOptions,
): TypedDataDescription {
  const { types, message } = typedData;
  const primaryType = oneLineText(typedData.primaryType);
  const domain = readDomain(
    (types.EIP712Domain as Types[string] | undefined) ?? getTypesForEIP712Domain({ domain: typedData.domain }),
    (typedData.domain ?? {}) as Struct,
  );
  if (options.chainId !== undefined && domain.chainId !== undefined && domain.chainId !== options.chainId)
    throw new ChainError("wrong-network", `typed data is for chain ${domain.chainId}, not chain ${options.chainId}`);
  const warnings: string[] = [];
  if (domain.chainId === undefined) warnings.push("the domain names no chain: the signature is valid on every chain");
  if (domain.verifyingContract === undefined)
    warnings.push("the domain names no contract: any contract that accepts this type may use the signature");
  const fields =
    typedData.primaryType === "EIP712Domain"
      ? []
      : readStruct(types, typedData.primaryType, message, primaryType, warnings);
  const chainId = domain.chainId ?? options.chainId ?? 1;
  const tokens = [...MAINNET_TOKENS, ...(options.tokens ?? [])];
  const approval = readApproval(types, typedData.primaryType, message, domain, (token) =>
    tokenAsset(chainId, token, tokens),
  );
  if (approval !== undefined) {
    for (const a of approval.approvals) {
      if (a.unlimited)
        warnings.push(`lets ${a.spender} take every ${a.asset.symbol} token (${a.asset.contract}) of the wallet`);
      if (!a.asset.known) warnings.push(`unknown token contract ${a.asset.contract}: amount shown in base units`);
    }
  } else if (APPROVAL_LIKE.test(primaryType) || mentionsApproval(types, typedData.primaryType, new Set()))
    warnings.push(
      `${primaryType} reads like an approval keyshard does not know: signing it may let someone move the wallet's assets`,
    );
  return { kind: "typed-data", domain, primaryType, fields, ...(approval && { approval }), warnings };
}

/** The fields EIP-712 defines for a domain, each with the type a contract hashes it as. */
const DOMAIN_FIELDS = new Map([
  ["name", "string"],
  ["version", "string"],
  ["chainId", "uint256"],
  ["verifyingContract", "address"],
  ["salt", "bytes32"],
]);

/**
 * The domain as the digest hashes it: only the fields `listed` (the data's own `EIP712Domain`
 * type, or those viem derives from the domain's keys). A domain key the list leaves out would be
 * shown but not signed — a contract or chain the signature is not bound to — so it is refused,
 * as is a field EIP-712 does not define (hashing already refuses a listed field the domain lacks).
 */
function readDomain(listed: Types[string], domain: Struct): TypedDataDescription["domain"] {
  const names = new Set(listed.map((f) => f.name));
  const unsigned = Object.keys(domain).filter((k) => domain[k] !== undefined && !names.has(k));
  if (unsigned.length > 0)
    throw new Error(
      `the domain carries ${unsigned.map((k) => oneLineText(k)).join(", ")}, which its EIP712Domain type leaves unsigned`,
    );
  for (const { name, type } of listed) {
    if (DOMAIN_FIELDS.get(name) !== type)
      throw new Error(`the domain field ${oneLineText(name)} (${oneLineText(type)}) is not one EIP-712 defines`);
  }
  const out: TypedDataDescription["domain"] = {};
  if (domain.name !== undefined) out.name = oneLineText(String(domain.name));
  if (domain.version !== undefined) out.version = oneLineText(String(domain.version));
  if (domain.chainId !== undefined) out.chainId = Number(readAtom("uint256", domain.chainId, "the domain's chainId"));
  if (domain.verifyingContract !== undefined) out.verifyingContract = getAddress(String(domain.verifyingContract));
  if (domain.salt !== undefined) out.salt = readAtom("bytes32", domain.salt, "the domain's salt");
  return out;
}

function readStruct(types: Types, type: string, value: unknown, path: string, warnings: string[]): TypedField[] {
  const members = types[type] ?? [];
  const struct = (value ?? {}) as Struct;
  const signed = new Set(members.map((m) => m.name));
  const ignored = Object.keys(struct).filter((k) => !signed.has(k));
  if (ignored.length > 0)
    warnings.push(
      `${path} carries ${ignored.map((k) => oneLineText(k)).join(", ")}, which the signature does not cover`,
    );
  return members.map((m) =>
    readField(types, m.name, m.type, struct[m.name], `${path}.${oneLineText(m.name)}`, warnings),
  );
}

function readField(
  types: Types,
  name: string,
  type: string,
  value: unknown,
  path: string,
  warnings: string[],
): TypedField {
  const shown = { name: oneLineText(name), type: oneLineText(type) };
  const array = /^(.*)\[(\d*)\]$/.exec(type);
  if (array !== null) {
    const element = array[1] as string;
    const items = (value ?? []) as unknown[];
    return {
      ...shown,
      fields: items.map((item, i) => readField(types, `[${i}]`, element, item, `${path}[${i}]`, warnings)),
    };
  }
  if (types[type] !== undefined) return { ...shown, fields: readStruct(types, type, value, path, warnings) };
  return { ...shown, value: readAtom(type, value, path) };
}

/** `path` names the value in the error when it is refused. */
function readAtom(type: string, value: unknown, path: string): string {
  if (type === "address") return getAddress(String(value));
  if (type === "bool") return String(value);
  if (/^u?int\d*$/.test(type)) return BigInt(value as bigint | string | number).toString();
  if (type === "string") return `"${oneLineText(String(value))}"`;
  const bytes = /^bytes(\d*)$/.exec(type);
  if (bytes !== null) {
    // viem hashes a `bytes` value that is no hex as its UTF-8 text, which could hold escape codes
    // that redraw the screen; odd-length hex would be padded on a side the eye cannot tell.
    const size = bytes[1] === "" ? undefined : Number(bytes[1]);
    if (
      typeof value !== "string" ||
      !isHex(value, { strict: true }) ||
      value.length % 2 !== 0 ||
      (size !== undefined && value.length !== 2 + 2 * size)
    )
      throw new Error(`${path} is not ${size === undefined ? "whole bytes" : `${size} bytes`} written as 0x-hex`);
    return value;
  }
  // Validation admits no other atomic type; a new one must be read here before it can be shown.
  throw new Error(`${path} has a type keyshard cannot show`);
}

/** Whether any type reachable from `type` has a field named like an approval (spender, operator…). */
function mentionsApproval(types: Types, type: string, seen: Set<string>): boolean {
  if (seen.has(type)) return false;
  seen.add(type);
  return (types[type] ?? []).some(
    (m) =>
      APPROVAL_LIKE.test(m.name) ||
      APPROVAL_LIKE.test(m.type) ||
      mentionsApproval(types, m.type.replace(/\[\d*\]$/, ""), seen),
  );
}

const when = (seconds: unknown): string => {
  const s = BigInt(seconds as bigint | string | number);
  return s > LAST_DATE_SECONDS ? "never" : new Date(Number(s) * 1000).toISOString();
};

/** A struct type as the contract's type hash spells it, `Name(type name,…)`: the shape a standard is known by. */
const shape = (types: Types, type: string) =>
  `${type}(${(types[type] ?? []).map((m) => `${m.type} ${m.name}`).join(",")})`;

const PERMIT_DETAILS = "PermitDetails(address token,uint160 amount,uint48 expiration,uint48 nonce)";
const TOKEN_PERMISSIONS = "TokenPermissions(address token,uint256 amount)";
/** Permit2's signature transfers; the witness forms add one field of the caller's own type. */
const TRANSFER_FROM =
  /^Permit(Batch)?(Witness)?TransferFrom\(TokenPermissions(\[\])? permitted,address spender,uint256 nonce,uint256 deadline(,[A-Za-z0-9_]+ witness)?\)$/;

/**
 * The approval the data grants, when its type has exactly a standard permit's shape: the same
 * name with other fields is not that standard, and values are read only from signed fields.
 */
function readApproval(
  types: Types,
  primaryType: string,
  message: Struct,
  domain: TypedDataDescription["domain"],
  assetOf: (token: Address) => Asset,
): TypedDataApproval | undefined {
  /** `bits` is the width of the signed amount: its largest value is an allowance without limit. */
  const approve = (token: unknown, value: unknown, bits: number, spender: unknown): TokenApproval => {
    const asset = assetOf(getAddress(String(token)));
    const v = BigInt(value as bigint | string | number);
    const unlimited = v === (1n << BigInt(bits)) - 1n;
    const shown = amount(asset, v);
    return {
      ...shown,
      ...(unlimited && { text: `UNLIMITED ${asset.known ? asset.symbol : `token ${asset.contract}`}` }),
      spender: getAddress(String(spender)),
      unlimited,
    };
  };
  const primary = shape(types, primaryType);
  if (
    shape(types, "PermitDetails") === PERMIT_DETAILS &&
    (primary === "PermitSingle(PermitDetails details,address spender,uint256 sigDeadline)" ||
      primary === "PermitBatch(PermitDetails[] details,address spender,uint256 sigDeadline)")
  ) {
    const details = (primaryType === "PermitSingle" ? [message.details] : message.details) as Struct[];
    return {
      standard: `Permit2 ${primaryType}`,
      approvals: details.map((d) => ({
        ...approve(d.token, d.amount, 160, message.spender),
        expires: when(d.expiration),
      })),
      deadline: when(message.sigDeadline),
    };
  }
  const transfer = TRANSFER_FROM.exec(primary);
  if (transfer !== null && shape(types, "TokenPermissions") === TOKEN_PERMISSIONS) {
    const permitted = (transfer[3] === undefined ? [message.permitted] : message.permitted) as Struct[];
    return {
      standard: `Permit2 ${primaryType}`,
      approvals: permitted.map((p) => approve(p.token, p.amount, 256, message.spender)),
      deadline: when(message.deadline),
    };
  }
  // The token of an ERC-2612 or DAI permit is the contract that checks it.
  const token = domain.verifyingContract;
  if (token === undefined) return undefined;
  if (primary === "Permit(address holder,address spender,uint256 nonce,uint256 expiry,bool allowed)")
    return {
      standard: "DAI Permit",
      owner: getAddress(String(message.holder)),
      approvals: [approve(token, message.allowed === true ? maxUint256 : 0n, 256, message.spender)],
      deadline: BigInt(message.expiry as string) === 0n ? "never" : when(message.expiry),
    };
  if (primary === "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)")
    return {
      standard: "ERC-2612 Permit",
      owner: getAddress(String(message.owner)),
      approvals: [approve(token, message.value, 256, message.spender)],
      deadline: when(message.deadline),
    };
  return undefined;
}
