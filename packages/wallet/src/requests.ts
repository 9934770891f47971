/**
 * A sign request from the device's side, read by the same chain adapters the provider reads it
 * with (`@keyshard/chains`): what exactly gets signed (computed from the bytes, never taken from
 * anyone's summary), what the bytes do (for the screen and the cosigner's rules), and the signed
 * result once the parties are done — each signature checked against the wallet's key first.
 * What is the device's own: filling in what a held request's detail leaves out, and its errors.
 */
import {
  adapterOf,
  type BitcoinNetwork,
  ChainError,
  decodePsbt,
  type MessageDescription,
  type OwnedOutput,
  ownedOutputs,
  parseEthereumTransaction,
  type RequestDescription,
  type SignedResult,
  type SigningKey,
  type SigningRequest,
  type TransactionDescription,
  type TypedDataDescription,
} from "@keyshard/chains";
import { bitcoinKeys, type SchemeName, type Share, scheme } from "@keyshard/mpc";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { WalletError } from "./errors.js";

export function requestKey(schemeName: SchemeName, share: Share, path: string | undefined): SigningKey {
  const entry = scheme(schemeName);
  return {
    algorithm: entry.algorithm,
    publicKey: entry.publicKey(share, path),
    bitcoin: bitcoinKeys(schemeName, share, path),
  };
}

/** The wallet's Bitcoin output (P2WPKH or P2TR) on `network`: what it spends, pays change to and signs messages for. */
export function bitcoinOutput(key: SigningKey, network: BitcoinNetwork): OwnedOutput {
  const [owner] = ownedOutputs(key.bitcoin, network);
  if (owner === undefined) throw new WalletError("usage", "this wallet's key has no Bitcoin address");
  return owner;
}

/** A request the adapter finds incomplete or unfit for the key is a usage mistake on the device. */
const usageOf = (e: unknown): unknown =>
  e instanceof ChainError && e.code === "invalid-request" ? new WalletError("usage", e.message, {}, { cause: e }) : e;

function asUsage<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    throw usageOf(e);
  }
}

/**
 * A Bitcoin transaction's PSBT as the provider and the parties read it, lower-case hex, when the
 * caller gave it in another of its forms: base64 (BIP174's text form) or upper-case hex.
 */
export function withHexPsbt(body: SigningRequest): SigningRequest {
  if (body.chain !== "bitcoin" || (body.kind ?? "transaction") !== "transaction" || body.payload === undefined)
    return body;
  try {
    return { ...body, payload: bytesToHex(decodePsbt(body.payload)) };
  } catch (e) {
    if (!(e instanceof ChainError)) throw e;
    throw new WalletError("usage", e.message, { parameter: "payload" }, { cause: e });
  }
}

/** Typed data as a held request carries it: the JSON the provider keeps and approvals sign. */
function typedDataInPayload(payload: string): Record<string, unknown> {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(hexToBytes(payload)));
  } catch (e) {
    throw new WalletError("usage", "the request's typed data is not JSON", {}, { cause: e });
  }
}

/**
 * The request as the adapters read it. A held request's detail carries typed data as its payload
 * and no network; a request the device makes names mainnet unless told otherwise.
 */
function signable(body: SigningRequest): SigningRequest {
  if (body.kind === "typed-data" && body.typedData === undefined && body.payload !== undefined)
    return { ...body, typedData: typedDataInPayload(body.payload) };
  if (body.chain === "bitcoin" && body.network === undefined) return { ...body, network: "mainnet" };
  return body;
}

const describe = (body: SigningRequest, key?: SigningKey): RequestDescription =>
  asUsage(() => adapterOf(body.chain).describe(signable(body), key));

/** The messages the parties sign, in the order the provider numbers them. */
export function messagesToSign(body: SigningRequest, key: SigningKey): Uint8Array[] {
  return asUsage(() => adapterOf(body.chain).digests(signable(body), key)).map((d) => d.message);
}

/**
 * What a transaction does, read from its bytes; undefined for messages. Without the wallet's key
 * a PSBT's change cannot be told from a payment, so every output shows as a payment. An Ethereum
 * transaction the request names no chain for is described for the chain its bytes name.
 */
export function describeRequest(body: SigningRequest, key?: SigningKey): TransactionDescription | undefined {
  if ((body.kind ?? "transaction") !== "transaction") return undefined;
  const chainId =
    body.chain === "ethereum" && body.chainId === undefined && body.payload !== undefined
      ? parseEthereumTransaction(hexToBytes(body.payload)).chainId
      : body.chainId;
  const description = describe(chainId === undefined ? body : { ...body, chainId }, key);
  return description.kind === "transaction" ? description.transaction : undefined;
}

export type MessageRequestDescription = MessageDescription | TypedDataDescription;

/** What a message or typed data says, decoded here for the screen before signing; undefined for transactions. */
export function describeMessageRequest(body: SigningRequest): MessageRequestDescription | undefined {
  const kind = body.kind ?? "transaction";
  if (kind !== "message" && kind !== "typed-data") return undefined;
  const description = describe(body);
  if (description.kind === "message") return description.message;
  return description.kind === "typed-data" ? description.typedData : undefined;
}

/** A JSON-safe copy of a description or reply: bigints (amounts in base units) as decimal strings. */
export const plainJson = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));

/** The signed result, every signature verified under the wallet's key before it is used. */
export async function finishRequest(
  body: SigningRequest,
  signatures: readonly Uint8Array[],
  key: SigningKey,
): Promise<SignedResult> {
  if (signatures.length === 0) throw new WalletError("signing-failed", "no signature came back");
  try {
    return await adapterOf(body.chain).attach(signable(body), signatures, key);
  } catch (e) {
    throw usageOf(e);
  }
}
