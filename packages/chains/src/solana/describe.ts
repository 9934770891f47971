/**
 * What a Solana message does, from its bytes alone: SOL transfers of the system program,
 * priority fees of the compute-budget program, and every other instruction reported as a program
 * call. The fee is the base fee per required signature plus the priority fee.
 */
import { type Address, decompileTransactionMessage, type Instruction } from "@solana/kit";
import {
  COMPUTE_BUDGET_PROGRAM_ADDRESS,
  ComputeBudgetInstruction,
  identifyComputeBudgetInstruction,
  parseSetComputeUnitLimitInstruction,
  parseSetComputeUnitPriceInstruction,
} from "@solana-program/compute-budget";
import {
  identifySystemInstruction,
  parseTransferSolInstruction,
  SYSTEM_PROGRAM_ADDRESS,
  SystemInstruction,
} from "@solana-program/system";
import { type Asset, amount, newDescription, type TransactionDescription } from "../describe.js";
import { ChainError } from "../errors.js";
import { CHAIN_COINS } from "../units.js";
import { parseSolanaAddress, parseSolanaMessage, requiredSigners } from "./transfer.js";

const SOL: Asset = { symbol: CHAIN_COINS.solana.symbol, decimals: CHAIN_COINS.solana.decimals, known: true };
const LAMPORTS_PER_SIGNATURE = 5000n;
/**
 * Compute units a transaction is given when it sets no limit: 3 000 per instruction of a builtin
 * program (system, compute budget; SIMD-0170) and 200 000 per other instruction, up to 1.4 M.
 * The priority fee is charged on this limit, not on what the transaction uses.
 */
const BUILTIN_UNITS = 3_000n;
const PROGRAM_UNITS = 200_000n;
const MAX_UNITS = 1_400_000n;

export interface SolanaDescribeOptions {
  /** The wallet's address; the message must need its signature. */
  signer?: string;
}

export function describeSolana(messageBytes: Uint8Array, options: SolanaDescribeOptions = {}): TransactionDescription {
  const compiled = parseSolanaMessage(messageBytes);
  const signers = requiredSigners(compiled);
  const own = options.signer === undefined ? undefined : parseSolanaAddress(options.signer);
  if (own !== undefined && !signers.includes(own))
    throw new ChainError("inconsistent", `the message does not need the signature of ${own}`);
  let instructions: readonly Instruction[];
  try {
    instructions = decompileTransactionMessage(
      compiled as Parameters<typeof decompileTransactionMessage>[0],
    ).instructions;
  } catch (e) {
    throw new ChainError("malformed", `message does not decompile: ${e instanceof Error ? e.message : e}`);
  }

  const description = newDescription("solana", "solana", amount(SOL, 0n));
  let unitLimit: bigint | undefined;
  let unitPrice = 0n;
  let defaultUnits = 0n;
  let signatures = BigInt(signers.length);
  const budgetSeen = new Set<ComputeBudgetInstruction>();
  for (const instruction of instructions) {
    const data = instruction.data ?? new Uint8Array();
    const program = instruction.programAddress;
    const known = decodeKnown(instruction);
    defaultUnits += known === undefined ? PROGRAM_UNITS : BUILTIN_UNITS;
    if (known?.kind === "budget") {
      // The runtime refuses a repeated compute-budget instruction; so does keyshard.
      if (budgetSeen.has(known.type)) throw new ChainError("unsupported", "compute-budget instruction repeated");
      budgetSeen.add(known.type);
      if (known.units !== undefined) unitLimit = known.units;
      if (known.microLamports !== undefined) unitPrice = known.microLamports;
      continue;
    }
    if (known?.kind === "transfer") {
      description.transfers.push({
        ...amount(SOL, known.lamports),
        to: known.to,
        ...(known.from !== own && { from: known.from }),
      });
      continue;
    }
    // Signature-verification precompiles charge the base fee per signature they check.
    if (PRECOMPILES.has(program)) signatures += BigInt(data[0] ?? 0);
    description.action = "contract-call";
    description.calls.push({
      contract: program,
      selector: program,
      dataLength: data.length,
      ...(known && { name: known.name }),
    });
    description.warnings.push(
      `runs program ${program}${known ? ` (${known.name})` : ""}, which keyshard does not decode`,
    );
  }
  const units = unitLimit ?? (defaultUnits > MAX_UNITS ? MAX_UNITS : defaultUnits);
  const priority = (unitPrice * units + 999_999n) / 1_000_000n;
  description.fee = amount(SOL, LAMPORTS_PER_SIGNATURE * signatures + priority);
  return description;
}

const PRECOMPILES = new Set<string>([
  "Ed25519SigVerify111111111111111111111111111",
  "KeccakSecp256k11111111111111111111111111111",
  "Secp256r1SigVerify1111111111111111111111111",
]);

/** Data length of each compute-budget instruction; the runtime ignores extra bytes, keyshard refuses them. */
const BUDGET_DATA_LENGTH: Partial<Record<ComputeBudgetInstruction, number>> = {
  [ComputeBudgetInstruction.RequestHeapFrame]: 5,
  [ComputeBudgetInstruction.SetComputeUnitLimit]: 5,
  [ComputeBudgetInstruction.SetComputeUnitPrice]: 9,
  [ComputeBudgetInstruction.SetLoadedAccountsDataSizeLimit]: 5,
};

type Known =
  | { kind: "transfer"; from: Address; to: Address; lamports: bigint }
  | { kind: "budget"; type: ComputeBudgetInstruction; units?: bigint; microLamports?: bigint }
  | { kind: "other"; name: string };

/**
 * The standard instruction this is, or undefined for a program keyshard does not know. A transfer
 * or compute-budget instruction in any but its exact standard form is refused: the runtime reads
 * such forms leniently (extra data, extra accounts), so a stricter reading here would disagree.
 */
function decodeKnown(instruction: Instruction): Known | undefined {
  const { programAddress } = instruction;
  const full = instruction as Parameters<typeof parseTransferSolInstruction>[0];
  const length = full.data?.length ?? 0;
  if (programAddress === SYSTEM_PROGRAM_ADDRESS) {
    let type: SystemInstruction;
    try {
      type = identifySystemInstruction(full);
    } catch {
      return { kind: "other", name: "system: undecodable instruction" };
    }
    if (type !== SystemInstruction.TransferSol) return { kind: "other", name: `system: ${SystemInstruction[type]}` };
    if (length !== 12 || full.accounts?.length !== 2)
      throw new ChainError("unsupported", "system transfer with extra data or accounts");
    const parsed = parseTransferSolInstruction(full);
    return {
      kind: "transfer",
      from: parsed.accounts.source.address,
      to: parsed.accounts.destination.address,
      lamports: parsed.data.amount,
    };
  }
  if (programAddress === COMPUTE_BUDGET_PROGRAM_ADDRESS) {
    let type: ComputeBudgetInstruction;
    try {
      type = identifyComputeBudgetInstruction(full);
    } catch {
      throw new ChainError("unsupported", "undecodable compute-budget instruction");
    }
    if (BUDGET_DATA_LENGTH[type] !== length || (full.accounts?.length ?? 0) !== 0)
      throw new ChainError("unsupported", `non-standard compute-budget instruction ${ComputeBudgetInstruction[type]}`);
    if (type === ComputeBudgetInstruction.SetComputeUnitLimit)
      return { kind: "budget", type, units: BigInt(parseSetComputeUnitLimitInstruction(full).data.units) };
    if (type === ComputeBudgetInstruction.SetComputeUnitPrice)
      return {
        kind: "budget",
        type,
        microLamports: BigInt(parseSetComputeUnitPriceInstruction(full).data.microLamports),
      };
    return { kind: "budget", type };
  }
  return undefined;
}
