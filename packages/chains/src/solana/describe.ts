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
import { type Asset, amount, type TransactionDescription } from "../describe.js";
import { ChainError } from "../errors.js";
import { parseSolanaAddress, parseSolanaMessage, requiredSigners } from "./transfer.js";

const SOL: Asset = { symbol: "SOL", decimals: 9, known: true };
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

  const description: TransactionDescription = {
    chain: "solana",
    network: "solana",
    action: "transfer",
    transfers: [],
    change: [],
    approvals: [],
    calls: [],
    fee: amount(SOL, 0n),
    warnings: [],
  };
  let unitLimit: bigint | undefined;
  let unitPrice = 0n;
  let defaultUnits = 0n;
  for (const instruction of instructions) {
    const data = instruction.data ?? new Uint8Array();
    const program = instruction.programAddress;
    const known = decodeKnown(instruction);
    switch (known?.kind) {
      case "transfer":
        description.transfers.push({
          ...amount(SOL, known.lamports),
          to: known.to,
          ...(known.from !== own && { from: known.from }),
        });
        defaultUnits += BUILTIN_UNITS;
        break;
      case "unit-limit":
        unitLimit = known.units;
        defaultUnits += BUILTIN_UNITS;
        break;
      case "unit-price":
        unitPrice = known.microLamports;
        defaultUnits += BUILTIN_UNITS;
        break;
      default:
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
        defaultUnits += known === undefined ? PROGRAM_UNITS : BUILTIN_UNITS;
    }
  }
  const units = unitLimit ?? (defaultUnits > MAX_UNITS ? MAX_UNITS : defaultUnits);
  const priority = (unitPrice * units + 999_999n) / 1_000_000n;
  description.fee = amount(SOL, LAMPORTS_PER_SIGNATURE * BigInt(signers.length) + priority);
  return description;
}

type Known =
  | { kind: "transfer"; from: Address; to: Address; lamports: bigint }
  | { kind: "unit-limit"; units: bigint }
  | { kind: "unit-price"; microLamports: bigint }
  | { kind: "other"; name: string };

/** The standard instruction this is, or undefined for a program keyshard does not know. */
function decodeKnown(instruction: Instruction): Known | undefined {
  const { programAddress } = instruction;
  const full = instruction as Parameters<typeof parseTransferSolInstruction>[0];
  try {
    if (programAddress === SYSTEM_PROGRAM_ADDRESS) {
      const type = identifySystemInstruction(full);
      if (type !== SystemInstruction.TransferSol) return { kind: "other", name: `system: ${SystemInstruction[type]}` };
      const parsed = parseTransferSolInstruction(full);
      if ((full.data?.length ?? 0) !== 12 || full.accounts?.length !== 2)
        return { kind: "other", name: "system: TransferSol (non-standard)" };
      return {
        kind: "transfer",
        from: parsed.accounts.source.address,
        to: parsed.accounts.destination.address,
        lamports: parsed.data.amount,
      };
    }
    if (programAddress === COMPUTE_BUDGET_PROGRAM_ADDRESS) {
      const type = identifyComputeBudgetInstruction(full);
      if (type === ComputeBudgetInstruction.SetComputeUnitLimit && full.data?.length === 5)
        return { kind: "unit-limit", units: BigInt(parseSetComputeUnitLimitInstruction(full).data.units) };
      if (type === ComputeBudgetInstruction.SetComputeUnitPrice && full.data?.length === 9)
        return {
          kind: "unit-price",
          microLamports: BigInt(parseSetComputeUnitPriceInstruction(full).data.microLamports),
        };
      return { kind: "other", name: `compute budget: ${ComputeBudgetInstruction[type]}` };
    }
  } catch {
    return { kind: "other", name: "undecodable instruction of a standard program" };
  }
  return undefined;
}
