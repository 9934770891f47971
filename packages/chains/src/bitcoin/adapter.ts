/**
 * Bitcoin as the registry sees it: PSBTs whose inputs the wallet owns (P2WPKH with ECDSA, P2TR
 * with BIP340), one signature per owned input numbered as the provider numbers them, and BIP322
 * messages for the wallet's first address on the request's network.
 */
import { bytesToHex } from "@noble/hashes/utils.js";
import {
  type ChainAdapter,
  checkAccepted,
  onlySignature,
  type ReadLimits,
  type RequestDescription,
  rawHash,
  recoverableSignature,
  refusedRequest,
  type SigningKey,
  type ToSign,
} from "../adapter.js";
import { ChainError } from "../errors.js";
import { describeMessage } from "../message-description.js";
import { BITCOIN_NETWORKS, type BitcoinNetwork } from "../names.js";
import { kindOf, payloadOf, type SigningRequest } from "../request.js";
import { anyNetworkAddressScript, type OwnedOutput } from "./address.js";
import { describeBitcoin } from "./describe.js";
import { bip322Digest, bip322EcdsaSignature, bip322TaprootSignature } from "./message.js";
import { bitcoinSigningDigests, finalizePsbt, ownedOutputs, readPsbt, signPsbt } from "./psbt.js";

/** A PSBT does not say its network, so a transaction request must. */
function transactionNetwork(request: SigningRequest): BitcoinNetwork {
  if (request.network === undefined) throw refusedRequest("a Bitcoin request needs network");
  return request.network;
}

/** The output a message is signed for: the key's first, on the request's network (mainnet unless said). */
function messageOwner(request: SigningRequest, key: SigningKey): OwnedOutput {
  const [owner] = ownedOutputs(key.bitcoin, request.network ?? "mainnet");
  if (owner === undefined) throw refusedRequest("the key has no Bitcoin address to sign for");
  return owner;
}

function psbtDigests(request: SigningRequest, key: SigningKey, limits: ReadLimits = {}) {
  const network = transactionNetwork(request);
  const view = readPsbt(payloadOf(request), network, ownedOutputs(key.bitcoin, network));
  // Each input is read, described and possibly signed in a run of its own: past a co-signer's
  // limit, a larger consolidation is split into several requests.
  if (limits.maxInputs !== undefined && view.inputs.length > limits.maxInputs)
    throw new ChainError(
      "too-large",
      `a Bitcoin request spends at most ${limits.maxInputs} inputs; this one has ${view.inputs.length}: split it`,
    );
  const digests = bitcoinSigningDigests(view);
  if (digests.length === 0) throw new ChainError("unsupported", "the wallet signs none of the inputs");
  return digests;
}

function describe(request: SigningRequest, key?: SigningKey): RequestDescription {
  const kind = kindOf(request);
  if (kind === "transaction") {
    const network = transactionNetwork(request);
    return { kind, transaction: describeBitcoin(payloadOf(request), { network, keys: key?.bitcoin ?? {} }) };
  }
  if (kind === "message") {
    const message = describeMessage("bitcoin", payloadOf(request));
    return key === undefined ? { kind, message } : { kind, message, address: messageOwner(request, key).address };
  }
  if (kind === "raw-hash") return rawHash.describe(request);
  throw refusedRequest(`${kind} signing is not offered on bitcoin`);
}

/**
 * The request's PSBT with each input's signature where `signPsbt` asks for that input's digest
 * (partial_sigs, or tap_key_sig for Taproot), not finalized: what a PSBT with other signers' inputs
 * is passed on as. Every other key-value pair stays as the request has it.
 */
export async function signedPsbtOf(
  request: SigningRequest,
  signatures: readonly Uint8Array[],
  key: SigningKey,
): Promise<Uint8Array> {
  const byDigest = new Map(psbtDigests(request, key).map((d, i) => [bytesToHex(d.digest), signatures[i]]));
  const signatureFor = (digest: Uint8Array) => {
    const found = byDigest.get(bytesToHex(digest));
    if (found === undefined) throw new ChainError("bad-signature", "a signature for an input is missing");
    return found;
  };
  const { psbt } = await signPsbt(payloadOf(request), transactionNetwork(request), {
    ecdsa: (key.bitcoin.ecdsa ?? []).map((publicKey) => ({
      publicKey,
      signDigest: async (digest) => recoverableSignature(signatureFor(digest)),
    })),
    taproot: (key.bitcoin.taproot ?? []).map((internalKey) => ({
      internalKey,
      signSchnorr: async (digest) => signatureFor(digest),
    })),
  });
  return psbt;
}

/** The signed PSBT finalized: the transaction, ready to broadcast. */
async function attachToPsbt(request: SigningRequest, signatures: readonly Uint8Array[], key: SigningKey) {
  const { transaction, txid } = finalizePsbt(await signedPsbtOf(request, signatures, key));
  return { signed: bytesToHex(transaction), transactionId: txid };
}

export const bitcoin: ChainAdapter = {
  name: "bitcoin",
  networks: { requestNames: BITCOIN_NETWORKS, pattern: /^bitcoin:(mainnet|testnet|regtest)$/ },
  kinds: { transaction: ["ecdsa", "bip340"], message: ["ecdsa", "bip340"], "raw-hash": ["ecdsa", "bip340", "ed25519"] },
  /** Bech32 addresses ignore case; base58 (legacy) ones do not. */
  normalizeAddress: (address) => (/^(bc|tb|bcrt)1/i.test(address) ? address.toLowerCase() : address),
  isAddress: (address) => anyNetworkAddressScript(address) !== null,
  address(key, network = "mainnet") {
    if (!(BITCOIN_NETWORKS as readonly string[]).includes(network))
      throw refusedRequest(`network is one of ${BITCOIN_NETWORKS.join(", ")}`);
    return messageOwner({ chain: "bitcoin", network: network as BitcoinNetwork }, key).address;
  },
  describe,
  digests(request, key, limits): ToSign[] {
    checkAccepted(bitcoin, request, key.algorithm);
    const kind = kindOf(request);
    if (kind === "transaction")
      return psbtDigests(request, key, limits).map((d) => ({ message: d.digest, input: d.index }));
    if (kind === "message") return [{ message: bip322Digest(payloadOf(request), messageOwner(request, key)) }];
    return rawHash.digests(request, key);
  },
  async attach(request, signatures, key) {
    const kind = kindOf(request);
    if (kind === "transaction") return attachToPsbt(request, signatures, key);
    if (kind === "raw-hash") return rawHash.attach(request, signatures, key);
    const owner = messageOwner(request, key);
    const signature = onlySignature(signatures);
    const message = payloadOf(request);
    const signed =
      owner.type === "p2wpkh"
        ? bip322EcdsaSignature(message, owner, recoverableSignature(signature))
        : bip322TaprootSignature(message, owner, signature);
    return { signed, address: owner.address };
  },
};
