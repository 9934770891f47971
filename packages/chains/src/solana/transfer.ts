/**
 * Solana addresses and SOL transfers. The compiled message bytes are the unit of work: they are
 * what `describeSolana` reads and exactly what the Ed25519 key signs; the wire transaction is
 * the message with its signatures in front.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  type Address,
  address,
  appendTransactionMessageInstructions,
  blockhash,
  type CompiledTransactionMessage,
  compileTransaction,
  createNoopSigner,
  createTransactionMessage,
  getAddressDecoder,
  getAddressEncoder,
  getCompiledTransactionMessageDecoder,
  getCompiledTransactionMessageEncoder,
  getTransactionEncoder,
  pipe,
  type SignatureBytes,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
  type TransactionMessageBytes,
} from "@solana/kit";
import { getSetComputeUnitPriceInstruction } from "@solana-program/compute-budget";
import { getTransferSolInstruction } from "@solana-program/system";
import { ChainError } from "../errors.js";
import type { Ed25519Signer } from "../signer.js";

/** Largest amount a u64 holds (lamports, micro-lamports per unit). */
const MAX_U64 = (1n << 64n) - 1n;

export function solanaAddress(publicKey: Uint8Array): Address {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32)
    throw new ChainError("invalid", "a Solana address is a 32-byte Ed25519 public key");
  return getAddressDecoder().decode(publicKey);
}

/** Reads a base58 address typed by a person or sent by a client. */
export function parseSolanaAddress(text: string): Address {
  try {
    return address(text);
  } catch {
    throw new ChainError("invalid", `${String(text)} is not a Solana address (base58 of 32 bytes)`);
  }
}

export interface SolTransferRequest {
  from: string;
  to: string;
  lamports: bigint;
  /** A recent blockhash from the cluster (base58). */
  recentBlockhash: string;
  /** Priority fee in micro-lamports per compute unit; none unless given. */
  computeUnitPrice?: bigint;
}

/** The compiled (legacy) message of a SOL transfer: the bytes to describe and to sign. */
export function buildSolTransfer(request: SolTransferRequest): Uint8Array {
  const from = parseSolanaAddress(request.from);
  const to = parseSolanaAddress(request.to);
  if (typeof request.lamports !== "bigint" || request.lamports <= 0n || request.lamports > MAX_U64)
    throw new ChainError("invalid", "lamports must be a positive 64-bit amount");
  const price = request.computeUnitPrice;
  if (price !== undefined && (typeof price !== "bigint" || price < 0n || price > MAX_U64))
    throw new ChainError("invalid", "computeUnitPrice must be a 64-bit amount of micro-lamports");
  let lifetime: ReturnType<typeof blockhash>;
  try {
    lifetime = blockhash(request.recentBlockhash);
  } catch {
    throw new ChainError("invalid", "recentBlockhash is not a base58 blockhash");
  }
  const instructions = [
    ...(price === undefined ? [] : [getSetComputeUnitPriceInstruction({ microLamports: price })]),
    getTransferSolInstruction({ source: createNoopSigner(from), destination: to, amount: request.lamports }),
  ];
  const message = pipe(
    createTransactionMessage({ version: "legacy" }),
    (m) => setTransactionMessageFeePayer(from, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash({ blockhash: lifetime, lastValidBlockHeight: 0n }, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  return new Uint8Array(compileTransaction(message).messageBytes);
}

/**
 * Decodes message bytes strictly: the whole input is one canonical message, legacy or v0 without
 * address lookup tables (whose accounts cannot be known from the bytes alone).
 */
export function parseSolanaMessage(bytes: Uint8Array): CompiledTransactionMessage {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0)
    throw new ChainError("malformed", "message bytes are empty");
  let message: CompiledTransactionMessage;
  let end: number;
  try {
    [message, end] = getCompiledTransactionMessageDecoder().read(bytes, 0);
  } catch (e) {
    throw new ChainError("malformed", `message does not decode: ${e instanceof Error ? e.message : e}`);
  }
  if (end !== bytes.length) throw new ChainError("malformed", "message has trailing bytes");
  if (message.version !== "legacy" && message.version !== 0)
    throw new ChainError("unsupported", `transaction message version ${message.version} is not signed by keyshard`);
  if ("addressTableLookups" in message && (message.addressTableLookups?.length ?? 0) > 0)
    throw new ChainError("unsupported", "message uses address lookup tables; their accounts are not in the bytes");
  checkStructure(message);
  const again = getCompiledTransactionMessageEncoder().encode(message);
  if (again.length !== bytes.length || again.some((b, i) => b !== bytes[i]))
    throw new ChainError("malformed", "message is not canonically encoded");
  return message;
}

/** The runtime's sanitization rules: a message breaking them is never executed, so never described. */
function checkStructure(message: Extract<CompiledTransactionMessage, { version: "legacy" | 0 }>): void {
  const { header, staticAccounts, instructions } = message;
  const count = staticAccounts.length;
  if (
    header.numSignerAccounts < 1 ||
    header.numSignerAccounts > count ||
    header.numReadonlySignerAccounts >= header.numSignerAccounts ||
    header.numReadonlyNonSignerAccounts > count - header.numSignerAccounts
  )
    throw new ChainError("malformed", "message header does not fit its accounts");
  if (new Set(staticAccounts).size !== count) throw new ChainError("malformed", "message lists an account twice");
  for (const instruction of instructions ?? []) {
    const indices = [instruction.programAddressIndex, ...(instruction.accountIndices ?? [])];
    if (instruction.programAddressIndex === 0 || indices.some((i) => i >= count))
      throw new ChainError("malformed", "instruction refers to an account the message does not list");
  }
}

/** The signers the message requires, in the order their signatures go on the wire. */
export function requiredSigners(message: CompiledTransactionMessage): Address[] {
  return message.staticAccounts.slice(0, message.header.numSignerAccounts);
}

/**
 * The wire transaction with `signatures` (address → 64-byte signature) attached; each one must
 * verify on the message under its address. Signers that have not signed yet stay empty.
 */
export function attachSolanaSignatures(
  messageBytes: Uint8Array,
  signatures: ReadonlyMap<string, Uint8Array>,
): Uint8Array {
  const message = parseSolanaMessage(messageBytes);
  const slots: Record<string, SignatureBytes | null> = {};
  const signers = requiredSigners(message);
  for (const signer of signers) {
    const signature = signatures.get(signer) ?? null;
    if (signature !== null && !verifies(signature, messageBytes, signer))
      throw new ChainError("bad-signature", `signature of ${signer} does not verify on the message`);
    slots[signer] = signature as SignatureBytes | null;
  }
  for (const signer of signatures.keys())
    if (!signers.includes(signer as Address))
      throw new ChainError("invalid", `${signer} is not a signer of the message`);
  return new Uint8Array(
    getTransactionEncoder().encode({
      messageBytes: messageBytes as unknown as TransactionMessageBytes,
      signatures: slots,
    }),
  );
}

/** Signs the message with the signer's key and returns the wire transaction. */
export async function signSolanaTransaction(messageBytes: Uint8Array, signer: Ed25519Signer): Promise<Uint8Array> {
  parseSolanaMessage(messageBytes);
  const signature = await signer.signEd25519(messageBytes, { kind: "solana-message", message: messageBytes });
  return attachSolanaSignatures(messageBytes, new Map([[solanaAddress(signer.publicKey), signature]]));
}

function verifies(signature: Uint8Array, message: Uint8Array, signer: Address): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
  try {
    return ed25519.verify(signature, message, new Uint8Array(getAddressEncoder().encode(signer)), { zip215: false });
  } catch {
    return false;
  }
}
