/**
 * Ethereum (and every EVM chain, told apart by chain id) as the registry sees it: EIP-1559,
 * EIP-2930 and EIP-155 transactions, EIP-191 messages and EIP-712 typed data, all signed with ECDSA. Typed data
 * bound to another chain than the request's is refused wherever it is read, before it is hashed.
 */
import { bytesToHex } from "@noble/hashes/utils.js";
import type { TypedDataDefinition } from "viem";
import {
  type ChainAdapter,
  checkAccepted,
  onlySignature,
  type RequestDescription,
  rawHash,
  recoverableSignature,
  refusedRequest,
  type SigningKey,
  succeeds,
  type ToSign,
} from "../adapter.js";
import { describeMessage } from "../message-description.js";
import { kindOf, payloadOf, type SigningRequest } from "../request.js";
import { ethereumAddress, parseEthereumAddress } from "./address.js";
import { describeEthereum } from "./describe.js";
import { personalMessageDigest, serializeEthereumSignature, typedDataDigest } from "./message.js";
import { attachEthereumSignature, ethereumSigningDigest } from "./transaction.js";
import { describeTypedData, type TypedDataDescription } from "./typed-data.js";

function typedDataOf(request: SigningRequest): TypedDataDefinition {
  if (request.typedData === undefined) throw refusedRequest("typedData is required");
  return request.typedData as TypedDataDefinition;
}

/** Checks the typed data as it will be signed and that its domain is for the request's chain, if it names one. */
const describeTyped = (request: SigningRequest): TypedDataDescription =>
  describeTypedData(typedDataOf(request), request.chainId === undefined ? {} : { chainId: request.chainId });

function describe(request: SigningRequest): RequestDescription {
  const kind = kindOf(request);
  if (kind === "transaction") {
    if (request.chainId === undefined) throw refusedRequest("an Ethereum request needs chainId");
    return { kind, transaction: describeEthereum(payloadOf(request), { chainId: request.chainId }) };
  }
  if (kind === "message") return { kind, message: describeMessage("ethereum", payloadOf(request)) };
  if (kind === "typed-data") return { kind, typedData: describeTyped(request) };
  return rawHash.describe(request);
}

function digests(request: SigningRequest, key: SigningKey): ToSign[] {
  checkAccepted(ethereum, request, key.algorithm);
  const kind = kindOf(request);
  if (kind === "transaction") return [{ message: ethereumSigningDigest(payloadOf(request)) }];
  if (kind === "message") return [{ message: personalMessageDigest({ raw: payloadOf(request) }) }];
  if (kind === "typed-data") {
    describeTyped(request);
    return [{ message: typedDataDigest(typedDataOf(request)) }];
  }
  return rawHash.digests(request, key);
}

export const ethereum: ChainAdapter = {
  name: "ethereum",
  networks: { requestNames: [], pattern: /^eip155:[1-9][0-9]*$/ },
  kinds: {
    transaction: ["ecdsa"],
    message: ["ecdsa"],
    "typed-data": ["ecdsa"],
    "raw-hash": ["ecdsa", "bip340", "ed25519"],
  },
  normalizeAddress: (address) => address.toLowerCase(),
  isAddress: (address) => succeeds(() => parseEthereumAddress(address)),
  address: (key) => ethereumAddress(key.publicKey),
  describe,
  digests,
  async attach(request, signatures, key) {
    const kind = kindOf(request);
    if (kind === "raw-hash") return rawHash.attach(request, signatures, key);
    const signature = recoverableSignature(onlySignature(signatures));
    if (kind === "transaction")
      return { signed: `0x${bytesToHex(attachEthereumSignature(payloadOf(request), signature, key.publicKey))}` };
    const [digest] = digests(request, key) as [ToSign];
    return { signed: serializeEthereumSignature(digest.message, signature, key.publicKey) };
  },
};
