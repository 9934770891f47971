/**
 * @keyshard/mpc — threshold-signature protocols as pure state machines.
 * Everything public is exported from here; nothing else is an entry point.
 */
export { bigintToBytes, bytesToBigint, CURVE_ORDER, Reader, Writer } from "./codec/codec.js";
export type { DklsKeygenOptions, DklsSignOptions } from "./dkls23/index.js";
export { DklsShare, dkls23 } from "./dkls23/index.js";
export { compactSignature, type Signature, verifySignature } from "./ecdsa/signature.js";
export type {
  KeygenOptions,
  PrecomputationKey,
  RefreshOptions,
  SignOptions,
  SignPrecomputationParts,
} from "./ecdsa2p/index.js";
export { Ecdsa2pShare, ecdsa2p, PrecomputationTables, PreParams, SignPrecomputation } from "./ecdsa2p/index.js";
export type { FrostKeygenOptions, FrostSignOptions, ReshareMember, ReshareOptions } from "./frost/index.js";
export { FrostShare, frost } from "./frost/index.js";
export { DerivationError, derive, parsePath } from "./hd/derive.js";
export type { HdNode } from "./hd/node.js";
export { bitcoinKeys, isSchemeName, keyNode, reshareMembers, SCHEME_NAMES, scheme } from "./schemes/registry.js";
export {
  PROVIDER,
  type Quorum,
  type Scheme,
  type SchemeName,
  type SchemeOf,
  type SchemeTypes,
  type Share,
  type ShareOf,
  type SignatureAlgorithm,
  type SignResultOf,
  type SignRunOptions,
  WALLET_DEVICE,
} from "./schemes/scheme.js";
export { type Msg, type Party, ProtocolAbort } from "./session/party.js";
export { type SavedRun, savedRun } from "./session/round-party.js";
export { type RunLocalOptions, runLocal } from "./session/run-local.js";
