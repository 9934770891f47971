/**
 * Bitcoin addresses keyshard keys can own: P2WPKH (BIP141, ECDSA) and P2TR key-path (BIP341,
 * BIP86: the internal key tweaked with an empty script tree), on mainnet, testnet and regtest.
 */
import { Address, NETWORK, OutScript, p2tr, p2wpkh, TEST_NETWORK } from "@scure/btc-signer";
import { ChainError } from "../errors.js";
import type { BitcoinNetwork } from "../names.js";

type NetworkParams = typeof NETWORK;

const NETWORKS: Record<BitcoinNetwork, NetworkParams> = {
  mainnet: NETWORK,
  testnet: TEST_NETWORK,
  regtest: { ...TEST_NETWORK, bech32: "bcrt" },
};

export function networkParams(network: BitcoinNetwork): NetworkParams {
  const params = NETWORKS[network];
  if (params === undefined) throw new ChainError("invalid", "network must be mainnet, testnet or regtest");
  return params;
}

/** A key a wallet owns on Bitcoin, with the output script that pays it. */
export interface OwnedOutput {
  type: "p2wpkh" | "p2tr";
  /** The compressed ECDSA key (P2WPKH) or the x-only internal key (P2TR). */
  key: Uint8Array;
  script: Uint8Array;
  address: string;
}

export function p2wpkhOutput(publicKey: Uint8Array, network: BitcoinNetwork): OwnedOutput {
  const params = networkParams(network);
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 33)
    throw new ChainError("invalid", "P2WPKH needs a 33-byte compressed public key");
  const payment = guard(() => p2wpkh(publicKey, params));
  return { type: "p2wpkh", key: publicKey, script: payment.script, address: payment.address as string };
}

export function p2trOutput(internalKey: Uint8Array, network: BitcoinNetwork): OwnedOutput {
  const params = networkParams(network);
  if (!(internalKey instanceof Uint8Array) || internalKey.length !== 32)
    throw new ChainError("invalid", "P2TR needs a 32-byte x-only internal key");
  const payment = guard(() => p2tr(internalKey, undefined, params));
  return { type: "p2tr", key: internalKey, script: payment.script, address: payment.address as string };
}

/** The BIP86 output key of an internal key: what P2TR key-path signatures verify under. */
export function taprootOutputKey(internalKey: Uint8Array): Uint8Array {
  return p2trOutput(internalKey, "mainnet").script.subarray(2);
}

/**
 * The output script an address pays, refusing addresses of another network (a testnet address
 * typed into a mainnet wallet) and anything that is not a valid address.
 */
export function bitcoinAddressScript(address: string, network: BitcoinNetwork): Uint8Array {
  const params = networkParams(network);
  if (typeof address !== "string") throw new ChainError("invalid", "address must be a string");
  try {
    return OutScript.encode(Address(params).decode(address));
  } catch {
    throw new ChainError("invalid", `${address} is not a valid Bitcoin ${network} address`);
  }
}

/**
 * The output script an address of any network pays, or null when it is no Bitcoin address. The
 * networks spell one script differently (bc1…, tb1…, bcrt1…), and a PSBT does not say which it is
 * for: what is compared across requests whose network is only the client's word is the script.
 */
export function anyNetworkAddressScript(address: string): Uint8Array | null {
  if (typeof address !== "string") return null;
  for (const params of Object.values(NETWORKS))
    try {
      return OutScript.encode(Address(params).decode(address));
    } catch {}
  return null;
}

/** The address an output script pays on `network`, or null when the script has none (OP_RETURN, bare scripts). */
export function scriptAddress(script: Uint8Array, network: BitcoinNetwork): string | null {
  try {
    return Address(networkParams(network)).encode(OutScript.decode(script));
  } catch {
    return null;
  }
}

function guard<T>(make: () => T): T {
  try {
    return make();
  } catch {
    throw new ChainError("invalid", "public key is not a valid secp256k1 point");
  }
}
