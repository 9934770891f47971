/**
 * A sign request from the device's side: what exactly gets signed (computed here from the bytes,
 * never taken from anyone's summary), what the bytes do (for the screen and the cosigner's
 * rules), and the signed result once the parties are done — each signature checked against the
 * wallet's key by the chain adapter before it is attached.
 */
import {
  attachEthereumSignature,
  attachSolanaSignatures,
  describeEthereum,
  describeSolana,
  ethereumSigningDigest,
  parseEthereumTransaction,
  personalMessageDigest,
  type RecoverableSignature,
  serializeEthereumSignature,
  solanaAddress,
  type TransactionDescription,
  typedDataDigest,
} from "@keyshard/chains";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { WalletError } from "./errors.js";
import type { SignBody } from "./state.js";

const payloadOf = (body: SignBody) => {
  if (body.payload === undefined) throw new WalletError("usage", "the request carries no bytes to sign");
  return hexToBytes(body.payload);
};

/** The messages the parties sign, in the order the provider numbers them. */
export function messagesToSign(body: SignBody): Uint8Array[] {
  const kind = body.kind ?? "transaction";
  if (body.chain === "ethereum") {
    if (kind === "transaction") return [ethereumSigningDigest(payloadOf(body))];
    if (kind === "message") return [personalMessageDigest({ raw: payloadOf(body) })];
    if (kind === "typed-data" && body.typedData !== undefined)
      return [typedDataDigest(body.typedData as Parameters<typeof typedDataDigest>[0])];
  }
  if (body.chain === "solana" && kind === "transaction") return [payloadOf(body)];
  throw new WalletError("usage", `this device does not sign ${kind} requests on ${body.chain} yet`);
}

/** What a transaction does, read from its bytes; undefined for messages. */
export function describeRequest(body: SignBody, signer?: Uint8Array): TransactionDescription | undefined {
  if ((body.kind ?? "transaction") !== "transaction") return undefined;
  if (body.chain === "ethereum") {
    const bytes = payloadOf(body);
    return describeEthereum(bytes, { chainId: body.chainId ?? parseEthereumTransaction(bytes).chainId });
  }
  if (body.chain === "solana")
    return describeSolana(payloadOf(body), signer === undefined ? {} : { signer: solanaAddress(signer) });
  return undefined;
}

/** A JSON-safe copy of a description or reply: bigints (amounts in base units) as decimal strings. */
export const plainJson = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));

export const recoverable = (signature: Uint8Array): RecoverableSignature => ({
  r: BigInt(`0x${bytesToHex(signature.subarray(0, 32))}`),
  s: BigInt(`0x${bytesToHex(signature.subarray(32, 64))}`),
  recovery: signature[64] as number,
});

/** The signed transaction (hex for Ethereum, base64 wire bytes for Solana) or signature. */
export function finishRequest(body: SignBody, signatures: readonly Uint8Array[], publicKey: Uint8Array): string {
  const [signature] = signatures;
  if (signature === undefined) throw new WalletError("signing-failed", "no signature came back");
  const kind = body.kind ?? "transaction";
  if (body.chain === "ethereum" && kind === "transaction")
    return `0x${bytesToHex(attachEthereumSignature(payloadOf(body), recoverable(signature), publicKey))}`;
  if (body.chain === "ethereum") {
    const [digest] = messagesToSign(body);
    return serializeEthereumSignature(digest as Uint8Array, recoverable(signature), publicKey);
  }
  if (body.chain === "solana")
    return Buffer.from(
      attachSolanaSignatures(payloadOf(body), new Map([[solanaAddress(publicKey), signature]])),
    ).toString("base64");
  throw new WalletError("usage", `this device does not finish ${body.chain} requests yet`);
}
