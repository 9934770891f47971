/**
 * PSBTs made elsewhere (another wallet, a coordinator, a multi-party payjoin), signed with a
 * wallet's quorum: read strictly from base64, hex or bytes, shown, signed for the inputs the wallet
 * owns — other wallets' inputs and every key-value pair keyshard does not know are left as they
 * are — and handed back either finalized with its transaction, or only with this wallet's
 * signatures added, for the other signers or a coordinator to finish.
 */
import {
  type BitcoinNetwork,
  bitcoinSigningDigests,
  ChainError,
  decodePsbt,
  encodePsbt,
  finalizePsbt,
  ownedOutputs,
  type PsbtText,
  parseSigningRequest,
  readPsbt,
  type SigningKey,
  type SigningRequest,
  signedPsbtOf,
  type TransactionDescription,
} from "@keyshard/chains";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { Device } from "../device/device.js";
import { WalletError } from "../errors.js";
import { describeRequest } from "../requests.js";
import { sign } from "./sign.js";

export interface PsbtSignInput {
  /** The PSBT: its bytes, or base64 (BIP174's text form) or hex of them. */
  psbt: string | Uint8Array;
  /** The network its addresses are on (a PSBT does not say); mainnet when absent. */
  network?: BitcoinNetwork;
  /**
   * true (the default): finalize every input and extract the transaction, which needs every
   * input not the wallet's to be final already. false: add this wallet's signatures only.
   */
  finalize?: boolean;
  /** The non-hardened path below the wallet's key whose inputs are signed; the wallet's key when absent. */
  path?: string;
  /** A code from the account's authenticator, for a policy that holds the request for one. */
  totp?: string;
  /** How long a run waits for the other devices (cosigners) to take part. */
  waitMs?: number;
  /** Sees what the PSBT does before anything is signed; returning false stops. */
  confirm?: (description: TransactionDescription) => boolean | Promise<boolean>;
}

export interface PsbtOutcome {
  requestId?: string;
  /** The PSBT with the wallet's signatures, finalized when `finalized`. */
  psbt: PsbtText;
  finalized: boolean;
  /** The inputs the wallet signed, by index. */
  signedInputs: number[];
  /** When finalized: the network transaction (hex) and its id, not broadcast. */
  transaction?: string;
  transactionId?: string;
}

/** What `read` returns; a ChainError from it is the caller's mistake (a bad PSBT, network or path). */
function asUsage<T>(read: () => T, details: Record<string, unknown> = {}): T {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof ChainError)) throw e;
    throw new WalletError("usage", e.message, details, { cause: e });
  }
}

/** The PSBT's bytes; a string that is not one is the caller's mistake. */
const psbtBytes = (psbt: string | Uint8Array) => asUsage(() => decodePsbt(psbt), { parameter: "psbt" });

/** The request through the one parser that checks requests. */
const requestOf = (body: SigningRequest) => asUsage(() => parseSigningRequest(body));

/** The inputs the wallet will sign; refuses, before anything is signed, a finalization that cannot happen. */
function inputsToSign(bytes: Uint8Array, network: BitcoinNetwork, key: SigningKey, finalize: boolean): number[] {
  const view = readPsbt(bytes, network, ownedOutputs(key.bitcoin, network));
  if (finalize) {
    const open = view.inputs.findIndex((input, i) => {
      const final = view.tx.getInput(i);
      return input.owner === undefined && final.finalScriptWitness === undefined && final.finalScriptSig === undefined;
    });
    if (open >= 0)
      throw new WalletError(
        "usage",
        `input ${open} belongs to another wallet and is not final, so the transaction cannot be finished here: sign without finalizing (\`finalize\`) and pass the PSBT on`,
        { parameter: "finalize", input: open },
      );
  }
  return bitcoinSigningDigests(view).map((d) => d.index);
}

/** Describes, signs and returns a PSBT; nothing is broadcast. */
export async function signPsbt(device: Device, name: string, input: PsbtSignInput): Promise<PsbtOutcome> {
  const wallet = device.find(name);
  const bytes = psbtBytes(input.psbt);
  const network = input.network ?? "mainnet";
  const finalize = input.finalize ?? true;
  if (typeof finalize !== "boolean")
    throw new WalletError("usage", "`finalize` is true or false", { parameter: "finalize" });
  const body = requestOf({
    chain: "bitcoin",
    payload: bytesToHex(bytes),
    network,
    ...(input.path !== undefined && { path: input.path }),
  });
  const key = device.keyOf(wallet, input.path);
  const description = describeRequest(body, key) as TransactionDescription;
  const signedInputs = inputsToSign(bytes, network, key, finalize);
  if (input.confirm && !(await input.confirm(description)))
    throw new WalletError("usage", "stopped before signing: nothing was signed");
  const signed = await sign(device, wallet.name, body, {
    ...(input.totp && { totp: input.totp }),
    ...(input.waitMs !== undefined && { waitMs: input.waitMs }),
    ...(!finalize && { partialPsbt: true }),
  });
  const psbt = await signedPsbtOf(body, signed.signatures, key);
  const requestId = signed.requestId === undefined ? {} : { requestId: signed.requestId };
  if (!finalize) return { ...requestId, psbt: encodePsbt(psbt), finalized: false, signedInputs };
  const final = finalizePsbt(psbt);
  return {
    ...requestId,
    psbt: encodePsbt(final.psbt),
    finalized: true,
    signedInputs,
    transaction: bytesToHex(final.transaction),
    transactionId: final.txid,
  };
}
