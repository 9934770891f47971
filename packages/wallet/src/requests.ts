/**
 * A sign request from the device's side: what exactly gets signed (computed here from the bytes,
 * never taken from anyone's summary), what the bytes do (for the screen and the cosigner's
 * rules), and the signed result once the parties are done — each signature checked against the
 * wallet's key by the chain adapter before it is attached.
 */
import {
  attachEthereumSignature,
  attachSolanaSignatures,
  type BitcoinKeys,
  type BitcoinNetwork,
  bip322Digest,
  bip322EcdsaSignature,
  bip322TaprootSignature,
  bitcoinSigningDigests,
  describeBitcoin,
  describeEthereum,
  describeMessage,
  describeSolana,
  describeTypedData,
  ethereumSigningDigest,
  finalizePsbt,
  type MessageDescription,
  type OwnedOutput,
  ownedOutputs,
  parseEthereumTransaction,
  personalMessageDigest,
  type RecoverableSignature,
  readPsbt,
  serializeEthereumSignature,
  signPsbt,
  solanaAddress,
  type TransactionDescription,
  type TypedDataDescription,
  typedDataDigest,
} from "@keyshard/chains";
import { bitcoinKeys, type SchemeName, type Share, scheme } from "@keyshard/transport";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { WalletError } from "./errors.js";
import type { SignBody } from "./state.js";

/** The wallet's key at a request's path, in the forms the chains need. */
export interface RequestKey {
  /** 33-byte compressed (ECDSA) or 32-byte (Ed25519, Taproot output key) public key. */
  publicKey: Uint8Array;
  /** Which Bitcoin outputs the key owns: they decide the inputs it signs and what is change. */
  bitcoin: BitcoinKeys;
}

export const requestKey = (schemeName: SchemeName, share: Share, path: string | undefined): RequestKey => ({
  publicKey: scheme(schemeName).publicKey(share, path),
  bitcoin: bitcoinKeys(schemeName, share, path),
});

const payloadOf = (body: SignBody) => {
  if (body.payload === undefined) throw new WalletError("usage", "the request carries no bytes to sign");
  return hexToBytes(body.payload);
};

const networkOf = (body: SignBody) => body.network ?? "mainnet";

/** The wallet's Bitcoin output (P2WPKH or P2TR) on `network`: what it spends, pays change to and signs messages for. */
export function bitcoinOutput(key: RequestKey, network: BitcoinNetwork): OwnedOutput {
  const [owner] = ownedOutputs(key.bitcoin, network);
  if (owner === undefined) throw new WalletError("usage", "this wallet's key has no Bitcoin address");
  return owner;
}

const messageOwner = (body: SignBody, key: RequestKey) => bitcoinOutput(key, networkOf(body));

/** Which inputs of the PSBT the wallet signs, with their sighashes, in the provider's order. */
function psbtDigests(body: SignBody, key: RequestKey) {
  const digests = bitcoinSigningDigests(
    readPsbt(payloadOf(body), networkOf(body), ownedOutputs(key.bitcoin, networkOf(body))),
  );
  if (digests.length === 0) throw new WalletError("usage", "the wallet owns none of this transaction's inputs");
  return digests;
}

/** The messages the parties sign, in the order the provider numbers them. */
export function messagesToSign(body: SignBody, key: RequestKey): Uint8Array[] {
  const kind = body.kind ?? "transaction";
  if (body.chain === "ethereum") {
    if (kind === "transaction") return [ethereumSigningDigest(payloadOf(body))];
    if (kind === "message") return [personalMessageDigest({ raw: payloadOf(body) })];
    if (kind === "typed-data") return [typedDataDigest(typedDataOf(body) as Parameters<typeof typedDataDigest>[0])];
  }
  if (body.chain === "solana" && kind === "transaction") return [payloadOf(body)];
  if (body.chain === "bitcoin" && kind === "transaction") return psbtDigests(body, key).map((d) => d.digest);
  if (body.chain === "bitcoin" && kind === "message") return [bip322Digest(payloadOf(body), messageOwner(body, key))];
  throw new WalletError("usage", `this device does not sign ${kind} requests on ${body.chain} yet`);
}

/**
 * What a transaction does, read from its bytes; undefined for messages. Without the wallet's key
 * a PSBT's change cannot be told from a payment, so every output shows as a payment.
 */
export function describeRequest(body: SignBody, key?: RequestKey): TransactionDescription | undefined {
  if ((body.kind ?? "transaction") !== "transaction") return undefined;
  if (body.chain === "ethereum") {
    const bytes = payloadOf(body);
    return describeEthereum(bytes, { chainId: body.chainId ?? parseEthereumTransaction(bytes).chainId });
  }
  if (body.chain === "solana")
    return describeSolana(payloadOf(body), key === undefined ? {} : { signer: solanaAddress(key.publicKey) });
  return describeBitcoin(payloadOf(body), { network: networkOf(body), keys: key?.bitcoin ?? {} });
}

/** Typed data as sent, or as a held request carries it: the JSON the provider keeps and approvals sign. */
function typedDataOf(body: SignBody): unknown {
  if (body.typedData !== undefined) return body.typedData;
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payloadOf(body)));
  } catch {
    throw new WalletError("usage", "the request's typed data is not JSON");
  }
}

/** What a message or typed data says, decoded here for the screen before signing; undefined for transactions. */
export function describeMessageRequest(body: SignBody): MessageRequestDescription | undefined {
  const kind = body.kind ?? "transaction";
  if (kind === "message") return describeMessage(body.chain === "bitcoin" ? "bitcoin" : "ethereum", payloadOf(body));
  if (kind === "typed-data")
    return describeTypedData(typedDataOf(body), body.chainId === undefined ? {} : { chainId: body.chainId });
  return undefined;
}

export type MessageRequestDescription = MessageDescription | TypedDataDescription;

/** A JSON-safe copy of a description or reply: bigints (amounts in base units) as decimal strings. */
export const plainJson = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));

export const recoverable = (signature: Uint8Array): RecoverableSignature => ({
  r: BigInt(`0x${bytesToHex(signature.subarray(0, 32))}`),
  s: BigInt(`0x${bytesToHex(signature.subarray(32, 64))}`),
  recovery: signature[64] as number,
});

export interface FinishedRequest {
  /** The signed transaction (hex for Ethereum and Bitcoin, base64 wire bytes for Solana) or signature. */
  signed: string;
  /** Known before any broadcast for Bitcoin: the finalized transaction's id. */
  transactionId?: string;
  /** The address a Bitcoin message was signed for. */
  address?: string;
}

/** The signed result, every signature verified under the wallet's key before it is used. */
export async function finishRequest(
  body: SignBody,
  signatures: readonly Uint8Array[],
  key: RequestKey,
): Promise<FinishedRequest> {
  const [signature] = signatures;
  if (signature === undefined) throw new WalletError("signing-failed", "no signature came back");
  const kind = body.kind ?? "transaction";
  if (body.chain === "ethereum" && kind === "transaction")
    return {
      signed: `0x${bytesToHex(attachEthereumSignature(payloadOf(body), recoverable(signature), key.publicKey))}`,
    };
  if (body.chain === "ethereum") {
    const [digest] = messagesToSign(body, key);
    return { signed: serializeEthereumSignature(digest as Uint8Array, recoverable(signature), key.publicKey) };
  }
  if (body.chain === "solana")
    return {
      signed: Buffer.from(
        attachSolanaSignatures(payloadOf(body), new Map([[solanaAddress(key.publicKey), signature]])),
      ).toString("base64"),
    };
  if (kind === "message") {
    const owner = messageOwner(body, key);
    const signed =
      owner.type === "p2wpkh"
        ? bip322EcdsaSignature(payloadOf(body), owner, recoverable(signature))
        : bip322TaprootSignature(payloadOf(body), owner, signature);
    return { signed, address: owner.address };
  }
  return finishPsbt(body, signatures, key);
}

/** Puts each input's signature where `signPsbt` asks for that input's digest, then finalizes. */
async function finishPsbt(body: SignBody, signatures: readonly Uint8Array[], key: RequestKey) {
  const byDigest = new Map(psbtDigests(body, key).map((d, i) => [bytesToHex(d.digest), signatures[i]]));
  const signatureFor = (digest: Uint8Array) => {
    const found = byDigest.get(bytesToHex(digest));
    if (found === undefined) throw new WalletError("signing-failed", "a signature for an input is missing");
    return found;
  };
  const { psbt } = await signPsbt(payloadOf(body), networkOf(body), {
    ecdsa: (key.bitcoin.ecdsa ?? []).map((publicKey) => ({
      publicKey,
      signDigest: async (digest) => recoverable(signatureFor(digest)),
    })),
    taproot: (key.bitcoin.taproot ?? []).map((internalKey) => ({
      internalKey,
      signSchnorr: async (digest) => signatureFor(digest),
    })),
  });
  const { transaction, txid } = finalizePsbt(psbt);
  return { signed: bytesToHex(transaction), transactionId: txid };
}
