/**
 * A sign request: what a device asks to have signed, as the provider's API accepts it and as the
 * device keeps it until it is done. It is described once, here, with the one parser that checks
 * it, so the device, the provider and the API's schema cannot disagree about what a request is.
 */
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { decodePsbt, isBase64Psbt, PSBT_BASE64_PATTERN } from "./bitcoin/psbt-text.js";
import { ChainError } from "./errors.js";
import {
  BITCOIN_NETWORKS,
  type BitcoinNetwork,
  CHAIN_NAMES,
  type ChainName,
  REQUEST_KINDS,
  type RequestKind,
} from "./names.js";

export interface SigningRequest {
  /** Absent: a transaction. */
  kind?: RequestKind;
  chain: ChainName;
  /**
   * Lower-case hex: the unsigned transaction (Ethereum), message (Solana), PSBT (Bitcoin), message
   * or hash. A Bitcoin transaction's PSBT may be given as base64 (BIP174's text form): the parser
   * turns it into hex, so a parsed request always holds hex.
   */
  payload?: string;
  /** EIP-712 typed data (kind "typed-data"). */
  typedData?: Record<string, unknown>;
  /** Ethereum: the chain the wallet signs for; bytes and typed data bound to another are refused. */
  chainId?: number;
  /** Bitcoin: the network the PSBT or message is for (a PSBT does not say it). */
  network?: BitcoinNetwork;
  /** The derivation path of the key that signs, e.g. "m/0/1". */
  path?: string;
}

/** Longest payload, in hex characters (128 KiB of bytes). */
export const MAX_PAYLOAD_HEX = 262_144;
/** Most top-level properties typed data may have (types, primaryType, domain, message and room to spare). */
export const MAX_TYPED_DATA_PROPERTIES = 8;
/** Whole bytes in lower-case hex. */
export const PAYLOAD_PATTERN = "^([0-9a-f]{2})+$";
/** A pattern's body, without the anchors that make it match whole strings. */
const unanchored = (pattern: string) => pattern.replace(/^\^|\$$/g, "");
/** What the API takes as a payload: whole bytes in lower-case hex, or a PSBT in base64. */
export const REQUEST_PAYLOAD_PATTERN = `^(?:${unanchored(PAYLOAD_PATTERN)}|${unanchored(PSBT_BASE64_PATTERN)})$`;
/** Up to eight unhardened path segments of at most ten digits each. */
export const PATH_PATTERN = "^m(/[0-9]{1,10}){0,8}$";

const PAYLOAD = new RegExp(PAYLOAD_PATTERN);
const PATH = new RegExp(PATH_PATTERN);
const FIELDS = new Set(["kind", "chain", "payload", "typedData", "chainId", "network", "path"]);

const refused = (message: string) => new ChainError("invalid-request", message);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value))
    throw refused(`${field} is one of ${allowed.join(", ")}`);
  return value as T;
}

function matching(value: unknown, pattern: RegExp, field: string, what: string, maxLength = Infinity): string {
  if (typeof value !== "string" || value.length > maxLength || !pattern.test(value))
    throw refused(`${field} must be ${what}`);
  return value;
}

/**
 * A request from anyone, checked field by field: every field of the right type and form, `chain`
 * present, nothing else. Whether the fields suit the kind and chain is the chain adapter's to say.
 * Throws `ChainError("invalid-request")` naming the field.
 */
export function parseSigningRequest(value: unknown): SigningRequest {
  if (!isPlainObject(value)) throw refused("a sign request is an object");
  for (const field of Object.keys(value))
    if (!FIELDS.has(field)) throw refused(`unknown field ${JSON.stringify(field)}`);
  const request: SigningRequest = { chain: oneOf(value.chain, CHAIN_NAMES, "chain") };
  if (value.kind !== undefined) request.kind = oneOf(value.kind, REQUEST_KINDS, "kind");
  if (value.payload !== undefined) request.payload = payloadHex(value.payload, request);
  if (value.typedData !== undefined) {
    if (!isPlainObject(value.typedData) || Object.keys(value.typedData).length > MAX_TYPED_DATA_PROPERTIES)
      throw refused(`typedData must be an object of at most ${MAX_TYPED_DATA_PROPERTIES} properties`);
    request.typedData = value.typedData;
  }
  if (value.chainId !== undefined) {
    if (!Number.isSafeInteger(value.chainId) || (value.chainId as number) < 1)
      throw refused("chainId must be a positive whole number");
    request.chainId = value.chainId as number;
  }
  if (value.network !== undefined) request.network = oneOf(value.network, BITCOIN_NETWORKS, "network");
  if (value.path !== undefined) request.path = matching(value.path, PATH, "path", "a derivation path like m/0/1");
  return request;
}

/**
 * The payload as lower-case hex. Base64 is taken for a Bitcoin transaction's PSBT only, decoded
 * strictly (canonical base64, the PSBT magic), and held to the same 128 KiB as hex.
 */
function payloadHex(value: unknown, request: SigningRequest): string {
  if (typeof value !== "string" || !isBase64Psbt(value))
    return matching(value, PAYLOAD, "payload", "whole bytes in lower-case hex", MAX_PAYLOAD_HEX);
  if (request.chain !== "bitcoin" || kindOf(request) !== "transaction")
    throw refused("payload in base64 is a PSBT, for Bitcoin transactions only; others are lower-case hex");
  // Four letters of base64 hold three bytes: a longer string is refused before it is decoded.
  const tooLong = refused(`payload must be at most ${MAX_PAYLOAD_HEX / 2} bytes`);
  if (value.length > Math.ceil(MAX_PAYLOAD_HEX / 2 / 3) * 4) throw tooLong;
  let bytes: Uint8Array;
  try {
    bytes = decodePsbt(value);
  } catch (e) {
    throw new ChainError("invalid-request", `payload: ${(e as Error).message}`, { cause: e });
  }
  if (bytes.length > MAX_PAYLOAD_HEX / 2) throw tooLong;
  return bytesToHex(bytes);
}

/** The request's kind, a transaction when it names none. */
export const kindOf = (request: SigningRequest): RequestKind => request.kind ?? "transaction";

/** The bytes the request is about; a kind that signs bytes cannot go without them. */
export function payloadOf(request: SigningRequest): Uint8Array {
  if (request.payload === undefined) throw refused("payload is required");
  return hexToBytes(request.payload);
}
