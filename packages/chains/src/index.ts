/**
 * @keyshard/chains — Bitcoin, Ethereum and Solana for keys that are never whole: addresses from
 * a (derived) public key, unsigned transactions, the exact digest to sign, attaching a verified
 * signature, and `describe*`: what the bytes really do, for a device's screen and a policy.
 * Sign requests are read through one registry of chain adapters (`adapterOf`), by the device and
 * the provider alike. Everything public is exported from here; the only other entry point,
 * `@keyshard/chains/names`, holds the lists of chain, network and kind names without any chain's code.
 */
export {
  type ChainAdapter,
  type ChainNetworks,
  checkAccepted,
  type ReadLimits,
  type RequestDescription,
  recoverableSignature,
  type SignatureAlgorithm,
  type SignedResult,
  type SigningKey,
  type ToSign,
} from "./adapter.js";
export { signedPsbtOf } from "./bitcoin/adapter.js";
export {
  anyNetworkAddressScript,
  bitcoinAddressScript,
  type OwnedOutput,
  p2trOutput,
  p2wpkhOutput,
  taprootOutputKey,
} from "./bitcoin/address.js";
export { type BitcoinDescribeOptions, describeBitcoin } from "./bitcoin/describe.js";
export {
  bip322Digest,
  bip322EcdsaSignature,
  bip322MessageHash,
  bip322TaprootSignature,
  signBitcoinMessage,
  verifyBitcoinMessage,
} from "./bitcoin/message.js";
export {
  type BitcoinKeys,
  type BitcoinSigners,
  bitcoinSigningDigests,
  buildPsbt,
  finalizePsbt,
  ownedOutputs,
  type PsbtRequest,
  previousOutput,
  readPsbt,
  type SpendableOutput,
  signPsbt,
} from "./bitcoin/psbt.js";
export { decodePsbt, encodePsbt, hasPsbtMagic, type PsbtText } from "./bitcoin/psbt-text.js";
export {
  type Action,
  type Amount,
  type Asset,
  type ContractCall,
  type Movement,
  type Outflow,
  outflows,
  type TokenApproval,
  type TransactionDescription,
} from "./describe.js";
export { ChainError, type ChainErrorCode } from "./errors.js";
export { keyshardAccount } from "./ethereum/account.js";
export { ethereumAddress, parseEthereumAddress } from "./ethereum/address.js";
export { describeEthereum, type EthereumDescribeOptions } from "./ethereum/describe.js";
export {
  personalMessageDigest,
  serializeEthereumSignature,
  signPersonalMessage,
  signTypedData,
  typedDataDigest,
} from "./ethereum/message.js";
export { NATIVE_COINS, nativeCoin } from "./ethereum/native.js";
export {
  EIP1193_ERROR_CODES,
  Eip1193Error,
  type Eip1193EventMap,
  type Eip1193EventName,
  type Eip1193Provider,
  type KeyshardProviderOptions,
  keyshardProvider,
  type ProviderRpcError,
} from "./ethereum/provider.js";
export { MAINNET_TOKENS, type TokenInfo } from "./ethereum/tokens.js";
export {
  attachEthereumSignature,
  buildEthereumTransaction,
  type EthereumTransaction,
  erc20ApproveData,
  erc20TransferData,
  ethereumSigningDigest,
  parseEthereumTransaction,
  signEthereumTransaction,
} from "./ethereum/transaction.js";
export {
  describeTypedData,
  type TypedDataApproval,
  type TypedDataDescription,
  type TypedDataOptions,
  type TypedField,
} from "./ethereum/typed-data.js";
export {
  type ExtendedKeyNetwork,
  type ExtendedPublicKey,
  encodeExtendedPublicKey,
  parseExtendedPublicKey,
} from "./extended-key.js";
export { describeMessage, type MessageDescription } from "./message-description.js";
export {
  BITCOIN_NETWORKS,
  type BitcoinNetwork,
  CHAIN_NAMES,
  type ChainName,
  REQUEST_KINDS,
  type RequestKind,
} from "./names.js";
export { adapterOf, destinationKey } from "./registry.js";
export {
  MAX_PAYLOAD_HEX,
  MAX_TYPED_DATA_PROPERTIES,
  PATH_PATTERN,
  PAYLOAD_PATTERN,
  parseSigningRequest,
  REQUEST_PAYLOAD_PATTERN,
  type SigningRequest,
} from "./request.js";
export type {
  EcdsaSigner,
  Ed25519Signer,
  RecoverableSignature,
  SigningContext,
  TaprootSigner,
} from "./signer.js";
export { describeSolana, type SolanaDescribeOptions } from "./solana/describe.js";
export {
  attachSolanaSignatures,
  buildSolTransfer,
  parseSolanaAddress,
  parseSolanaMessage,
  type SolTransferRequest,
  signSolanaTransaction,
  solanaAddress,
} from "./solana/transfer.js";
export { CHAIN_COINS, type CoinUnit, TOKEN_BASE_UNIT, unitOfNetwork, unitOfSymbol } from "./units.js";
export {
  BITCOIN_ADDRESS_TYPES,
  type BitcoinAddressType,
  WATCHED_ALGORITHMS,
  type WatchAddressOptions,
  type WatchedAddresses,
  type WatchedAlgorithm,
  type WatchOnly,
  watchedAddresses,
  watchOnly,
} from "./watch-only.js";
