/**
 * The provider's own reading of a sign request, by the same chain adapters the devices read it
 * with (`@keyshard/chains`): what the bytes are, and the exact messages its party will sign — one
 * per signature, computed from the bytes and never taken from the client. What is the provider's
 * own stays here: its quota on Bitcoin inputs, what its audit log and policies are given, and how
 * a refusal is told to the client.
 */
import {
  adapterOf,
  type BitcoinKeys,
  ChainError,
  checkAccepted,
  parseSigningRequest,
  type RequestDescription,
  type SigningKey,
  type SigningRequest,
  type ToSign,
} from "@keyshard/chains";
import { bitcoinKeys, parsePath, type SchemeName, type Share, scheme } from "@keyshard/mpc";
import { hexToBytes } from "@noble/hashes/utils.js";
import { invalid, ProviderError, quotaExceeded } from "../errors.js";
import type { RequestFacts } from "../policy/policy.js";
import { MAX_BITCOIN_INPUTS } from "../quotas.js";

export interface ReadRequest {
  facts: RequestFacts;
  /** What the audit log, the devices and the client are shown. */
  summary: Record<string, unknown>;
  /** The bytes the request is about, kept with it. */
  payload: Uint8Array;
  toSign: ToSign[];
}

/** The client's mistakes are told as such; what is wrong with the bytes, as `transaction-<code>`. */
function chainFailure(e: unknown): unknown {
  if (!(e instanceof ChainError)) return e;
  if (e.code === "invalid-request") return invalid(e.message);
  if (e.code === "too-large") return quotaExceeded(e.message);
  return new ProviderError("invalid", `transaction-${e.code}`, e.message, { cause: e });
}

/**
 * The request part of a client's sign request, through the parser the devices read requests with,
 * so the two cannot differ on what a request is; a malformed field is the client's mistake.
 */
export function parseSignRequest(value: unknown): SigningRequest {
  try {
    return parseSigningRequest(value);
  } catch (e) {
    throw chainFailure(e);
  }
}

function checkPath(schemeName: SchemeName, path: string | undefined): void {
  if (path === undefined) return;
  if (!scheme(schemeName).derivesPaths) throw invalid("Ed25519 wallets have no derivation paths");
  try {
    parsePath(path);
  } catch (e) {
    throw invalid(e instanceof Error ? e.message : "bad path");
  }
}

/** The wallet's key at the request's path, each form derived once and only if the chain asks for it. */
function signingKey(schemeName: SchemeName, share: Share, path: string | undefined): SigningKey {
  const entry = scheme(schemeName);
  let publicKey: Uint8Array | undefined;
  let bitcoin: BitcoinKeys | undefined;
  return {
    algorithm: entry.algorithm,
    get publicKey() {
      publicKey ??= entry.publicKey(share, path);
      return publicKey;
    },
    get bitcoin() {
      bitcoin ??= bitcoinKeys(schemeName, share, path);
      return bitcoin;
    },
  };
}

/** What the audit log, the devices and the client see of each kind. */
function summaryOf(request: SigningRequest, description: RequestDescription): Record<string, unknown> {
  switch (description.kind) {
    case "transaction":
      return { ...description.transaction };
    case "message":
      return {
        ...description.message,
        ...(description.address !== undefined && { address: description.address }),
        bytes: request.payload,
      };
    case "typed-data":
      return { ...description.typedData, chain: request.chain };
    case "raw-hash":
      return { kind: description.kind, chain: request.chain, hash: request.payload };
  }
}

/** Transactions carry their description to the policy; messages, typed data and hashes never move value. */
const factsOf = (request: SigningRequest, description: RequestDescription): RequestFacts =>
  description.kind === "transaction"
    ? { kind: "transaction", chain: request.chain, description: description.transaction }
    : { kind: description.kind, chain: request.chain };

export function readSignRequest(schemeName: SchemeName, share: Share, request: SigningRequest): ReadRequest {
  checkPath(schemeName, request.path);
  try {
    const adapter = adapterOf(request.chain);
    const key = signingKey(schemeName, share, request.path);
    checkAccepted(adapter, request, key.algorithm);
    const description = adapter.describe(request, key);
    const toSign = adapter.digests(request, key, { maxInputs: MAX_BITCOIN_INPUTS });
    return {
      facts: factsOf(request, description),
      summary: summaryOf(request, description),
      payload:
        description.kind === "typed-data"
          ? new TextEncoder().encode(JSON.stringify(request.typedData))
          : hexToBytes(request.payload as string),
      toSign,
    };
  } catch (e) {
    throw chainFailure(e);
  }
}
