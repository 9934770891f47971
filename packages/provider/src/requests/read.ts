/**
 * The provider's own reading of a sign request: what the bytes are (a transaction described by
 * `@keyshard/chains`, a message, typed data or a bare hash), and the exact messages its party
 * will sign — one per signature, computed here from the bytes and never taken from the client.
 */
import {
  type BitcoinNetwork,
  bip322Digest,
  bitcoinSigningDigests,
  ChainError,
  type ChainName,
  describeBitcoin,
  describeEthereum,
  describeMessage,
  describeSolana,
  describeTypedData,
  ethereumSigningDigest,
  ownedOutputs,
  personalMessageDigest,
  readPsbt,
  solanaAddress,
  typedDataDigest,
} from "@keyshard/chains";
import { parsePath } from "@keyshard/mpc";
import { bitcoinKeys, isEcdsa, type SchemeName, type Share, scheme } from "@keyshard/transport";
import { hexToBytes } from "@noble/hashes/utils.js";
import { badRequest, HttpError } from "../api/errors.js";
import { MAX_BITCOIN_INPUTS, quotaExceeded } from "../api/quotas.js";
import type { RequestFacts, RequestKind } from "../policy/policy.js";

/** A sign request as the client sends it (already schema-checked). */
export interface SignRequestBody {
  kind?: RequestKind;
  chain: ChainName;
  /** Hex: the unsigned transaction (Ethereum), message (Solana), PSBT (Bitcoin), message or hash. */
  payload?: string;
  typedData?: Record<string, unknown>;
  chainId?: number;
  network?: BitcoinNetwork;
  path?: string;
}

export interface ToSign {
  message: Uint8Array;
  /** The PSBT input this signature is for (Bitcoin). */
  input?: number;
}

export interface ReadRequest {
  facts: RequestFacts;
  /** What the audit log, the devices and the client are shown. */
  summary: Record<string, unknown>;
  /** The bytes the request is about, kept with it. */
  payload: Uint8Array;
  toSign: ToSign[];
}

const chainFailure = (e: unknown) =>
  e instanceof ChainError ? new HttpError(400, `transaction-${e.code}`, e.message) : e;

function payloadBytes(body: SignRequestBody): Uint8Array {
  if (body.payload === undefined) throw badRequest("payload is required");
  return hexToBytes(body.payload);
}

function checkPath(schemeName: SchemeName, path: string | undefined): void {
  if (path === undefined) return;
  if (schemeName === "frost-ed25519") throw badRequest("Ed25519 wallets have no derivation paths");
  try {
    parsePath(path);
  } catch (e) {
    throw badRequest(e instanceof Error ? e.message : "bad path");
  }
}

function readTransaction(schemeName: SchemeName, share: Share, body: SignRequestBody): ReadRequest {
  const payload = payloadBytes(body);
  const facts = (description: ReadRequest["facts"]["description"] & object) => ({
    kind: "transaction" as const,
    chain: body.chain,
    description,
  });
  if (body.chain === "ethereum" && isEcdsa(schemeName)) {
    if (body.chainId === undefined) throw badRequest("an Ethereum request needs chainId");
    const description = describeEthereum(payload, { chainId: body.chainId });
    return {
      facts: facts(description),
      summary: { ...description },
      payload,
      toSign: [{ message: ethereumSigningDigest(payload) }],
    };
  }
  if (body.chain === "solana" && schemeName === "frost-ed25519") {
    const signer = solanaAddress(scheme(schemeName).publicKey(share));
    const description = describeSolana(payload, { signer });
    return { facts: facts(description), summary: { ...description }, payload, toSign: [{ message: payload }] };
  }
  if (body.chain === "bitcoin" && (isEcdsa(schemeName) || schemeName === "frost-taproot")) {
    if (body.network === undefined) throw badRequest("a Bitcoin request needs network");
    const keys = bitcoinKeys(schemeName, share, body.path);
    const view = readPsbt(payload, body.network, ownedOutputs(keys, body.network));
    // Each input is read, described and possibly signed in a run of its own: past the quota, a
    // larger consolidation is split into several requests.
    if (view.inputs.length > MAX_BITCOIN_INPUTS)
      throw quotaExceeded(
        `a Bitcoin request spends at most ${MAX_BITCOIN_INPUTS} inputs; this one has ${view.inputs.length}: split it`,
      );
    const description = describeBitcoin(payload, { network: body.network, keys });
    const digests = bitcoinSigningDigests(view);
    if (digests.length === 0)
      throw new HttpError(400, "transaction-unsupported", "the wallet signs none of the inputs");
    return {
      facts: facts(description),
      summary: { ...description },
      payload,
      toSign: digests.map((d) => ({ message: d.digest, input: d.index })),
    };
  }
  throw badRequest(`a ${schemeName} wallet does not sign ${body.chain} transactions`);
}

/** Messages, typed data and hashes: never a transfer, so only rules naming their kind allow them. */
function readOther(schemeName: SchemeName, share: Share, body: SignRequestBody & { kind: RequestKind }): ReadRequest {
  const facts = { kind: body.kind, chain: body.chain };
  if (body.kind === "raw-hash") {
    const payload = payloadBytes(body);
    if (schemeName !== "frost-ed25519" && payload.length !== 32) throw badRequest("a raw hash is 32 bytes");
    return {
      facts,
      summary: { kind: body.kind, chain: body.chain, hash: body.payload },
      payload,
      toSign: [{ message: payload }],
    };
  }
  if (body.chain === "bitcoin" && body.kind === "message") {
    const payload = payloadBytes(body);
    const [owner] = ownedOutputs(bitcoinKeys(schemeName, share, body.path), body.network ?? "mainnet");
    if (owner === undefined) throw badRequest(`a ${schemeName} wallet has no Bitcoin address to sign for`);
    return {
      facts,
      summary: { ...describeMessage("bitcoin", payload), address: owner.address, bytes: body.payload },
      payload,
      toSign: [{ message: bip322Digest(payload, owner) }],
    };
  }
  if (body.chain !== "ethereum" || !isEcdsa(schemeName))
    throw badRequest(`${body.kind} signing is for Ethereum (ECDSA) wallets`);
  if (body.kind === "message") {
    const payload = payloadBytes(body);
    return {
      facts,
      summary: { ...describeMessage("ethereum", payload), bytes: body.payload },
      payload,
      toSign: [{ message: personalMessageDigest({ raw: payload }) }],
    };
  }
  if (body.typedData === undefined) throw badRequest("typedData is required");
  const typedData = body.typedData as Parameters<typeof typedDataDigest>[0];
  const description = describeTypedData(typedData, body.chainId === undefined ? {} : { chainId: body.chainId });
  const message = typedDataDigest(typedData);
  return {
    facts,
    summary: { ...description, chain: body.chain },
    payload: new TextEncoder().encode(JSON.stringify(body.typedData)),
    toSign: [{ message }],
  };
}

export function readSignRequest(schemeName: SchemeName, share: Share, body: SignRequestBody): ReadRequest {
  checkPath(schemeName, body.path);
  try {
    const kind = body.kind ?? "transaction";
    return kind === "transaction"
      ? readTransaction(schemeName, share, body)
      : readOther(schemeName, share, { ...body, kind });
  } catch (e) {
    throw chainFailure(e);
  }
}
