/**
 * Solana as the registry sees it: compiled transaction messages, which Ed25519 signs as they are
 * (no digest), with the wallet as one of the message's signers.
 */
import { base64 } from "@scure/base";
import {
  type ChainAdapter,
  checkAccepted,
  onlySignature,
  type RequestDescription,
  rawHash,
  refusedRequest,
  succeeds,
  type ToSign,
} from "../adapter.js";
import { kindOf, payloadOf } from "../request.js";
import { describeSolana } from "./describe.js";
import { attachSolanaSignatures, parseSolanaAddress, solanaAddress } from "./transfer.js";

export const solana: ChainAdapter = {
  name: "solana",
  networks: { requestNames: [], pattern: /^solana$/ },
  kinds: { transaction: ["ed25519"], "raw-hash": ["ecdsa", "bip340", "ed25519"] },
  /** Base58 is case-sensitive: an address is compared as written. */
  normalizeAddress: (address) => address,
  isAddress: (address) => succeeds(() => parseSolanaAddress(address)),
  address: (key) => solanaAddress(key.publicKey),
  describe(request, key): RequestDescription {
    const kind = kindOf(request);
    if (kind === "transaction") {
      const options = key === undefined ? {} : { signer: solanaAddress(key.publicKey) };
      return { kind, transaction: describeSolana(payloadOf(request), options) };
    }
    if (kind === "raw-hash") return rawHash.describe(request);
    throw refusedRequest(`${kind} signing is not offered on solana`);
  },
  digests(request, key): ToSign[] {
    checkAccepted(solana, request, key.algorithm);
    return kindOf(request) === "transaction" ? [{ message: payloadOf(request) }] : rawHash.digests(request, key);
  },
  async attach(request, signatures, key) {
    if (kindOf(request) === "raw-hash") return rawHash.attach(request, signatures, key);
    const wire = attachSolanaSignatures(
      payloadOf(request),
      new Map([[solanaAddress(key.publicKey), onlySignature(signatures)]]),
    );
    return { signed: base64.encode(wire) };
  },
};
