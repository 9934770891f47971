/**
 * A wallet of this device for dApps on Ethereum: a viem account (`keyshardAccount`) and an
 * EIP-1193 provider (`keyshardProvider`, for ethers' BrowserProvider or wagmi's `injected`
 * connector), both built in `@keyshard/chains` over one signer. That signer turns what viem asks
 * to sign into the SDK's own sign request (the same body `send` and `signMessage` make), signed
 * by the wallet's quorum under its policy; the chains code then checks each signature against
 * the wallet's key before it attaches it.
 */
import {
  type EcdsaSigner,
  EIP1193_ERROR_CODES,
  Eip1193Error,
  type Eip1193Provider,
  keyshardAccount,
  keyshardProvider,
  parseEthereumTransaction,
  recoverableSignature,
  type SigningContext,
  type SigningKey,
  type SigningRequest,
} from "@keyshard/chains";
import { bytesToHex } from "@noble/hashes/utils.js";
import { BaseError, type EIP1193Provider, type LocalAccount } from "viem";
import type { Device } from "../device/device.js";
import { WalletError } from "../errors.js";
import { address } from "../flows/wallets.js";
import { describeMessageRequest, describeRequest, type MessageRequestDescription, plainJson } from "../requests.js";
import { type HeldOptions, MAX_HELD_WAIT_MS, signWaiting } from "./held.js";

export interface DappAccountOptions extends HeldOptions {
  /** A non-hardened derivation path (as `address` takes it); the wallet's own key without it. */
  path?: string;
  /**
   * Sees what each transaction, message or typed data does, decoded here, before anything is
   * asked of the quorum; returning false stops with `usage` (nothing is signed).
   */
  confirm?: (
    description: NonNullable<ReturnType<typeof describeRequest>> | MessageRequestDescription,
  ) => boolean | Promise<boolean>;
}

export interface Eip1193Options extends DappAccountOptions {
  /** The chain's JSON-RPC node: reads, nonces, gas and fees, and where transactions are sent. */
  rpc: string;
  chainId: number;
}

/**
 * A viem `LocalAccount` signing with wallet `name`'s quorum. Its messages and typed data throw the
 * SDK's `WalletError` as it is. viem's `sendTransaction` reads the `details` of an error its
 * account throws as text (to match it against nodes' errors) and fails on a `WalletError`, whose
 * details are data: a transaction's `WalletError` goes to viem as the cause of a viem error with
 * the same message, so viem's own error says the reason and `walk()` finds the `WalletError`.
 */
export function viemAccount(device: Device, name: string, options: DappAccountOptions = {}): LocalAccount {
  checkAccountOptions(options);
  const account = keyshardAccount(walletSigner(device, name, options));
  return {
    ...account,
    signTransaction: (transaction, signing) =>
      account.signTransaction(transaction, signing).catch((e: unknown) => {
        throw e instanceof WalletError ? new BaseError(e.message, { cause: e }) : e;
      }),
  };
}

/**
 * An EIP-1193 provider for wallet `name` on one chain. A request the policy denies, one still
 * held when waiting stops, or one `confirm` declines reaches the dApp as "user rejected" (4001)
 * with the SDK's message, which names the rule. Typed as viem's provider, whose methods and
 * answers it serves, so that viem's `custom`, wagmi's `injected` and ethers' `BrowserProvider`
 * take it without a cast.
 */
export function eip1193(device: Device, name: string, options: Eip1193Options): EIP1193Provider {
  if (typeof options?.rpc !== "string" || options.rpc === "")
    throw new WalletError("usage", "`rpc` is required: the chain's JSON-RPC node", { parameter: "rpc" });
  if (!Number.isSafeInteger(options.chainId) || options.chainId <= 0)
    throw new WalletError("usage", "`chainId` must be a positive integer", { parameter: "chainId" });
  checkAccountOptions(options);
  const signer = walletSigner(device, name, options);
  const provider: Eip1193Provider = keyshardProvider({
    chainId: options.chainId,
    rpcUrl: options.rpc,
    signer: {
      publicKey: signer.publicKey,
      async signDigest(digest, context) {
        try {
          return await signer.signDigest(digest, context);
        } catch (e) {
          if (!(e instanceof WalletError)) throw e;
          // Not a WalletError itself: viem, which the provider sends through, reads `details` as text.
          const rejected = REJECTIONS.has(e.code) || e.details.declined === true;
          const code = rejected ? EIP1193_ERROR_CODES.userRejected : EIP1193_ERROR_CODES.internal;
          throw new Eip1193Error(code, e.message, { cause: e });
        }
      },
    },
  });
  return provider as unknown as EIP1193Provider;
}

/**
 * The account's options, each refused as `usage` (named in `details.parameter`) before anything is
 * asked: a wait that is no whole number of milliseconds would poll without pause (NaN), never end
 * (Infinity) or end at once (negative), and a callback that is no function would fail only once
 * a request is made and held.
 */
function checkAccountOptions(options: DappAccountOptions): void {
  if (typeof options !== "object" || options === null)
    throw new WalletError("usage", "the options must be an object", { parameter: "options" });
  const { heldWaitMs, signal } = options;
  for (const parameter of ["confirm", "onHeld", "totp"] as const)
    if (options[parameter] !== undefined && typeof options[parameter] !== "function")
      throw new WalletError("usage", `\`${parameter}\` must be a function`, { parameter });
  if (
    heldWaitMs !== undefined &&
    (!Number.isSafeInteger(heldWaitMs) || heldWaitMs < 0 || heldWaitMs > MAX_HELD_WAIT_MS)
  )
    throw new WalletError(
      "usage",
      `\`heldWaitMs\` must be a whole number of milliseconds from 0 to ${MAX_HELD_WAIT_MS} (a day)`,
      { parameter: "heldWaitMs" },
    );
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new WalletError("usage", "`signal` must be an AbortSignal", { parameter: "signal" });
}

/** What a dApp hears as the person's (or their policy's) refusal, besides `confirm` declining. */
const REJECTIONS = new Set(["denied", "held"]);

/** The wallet's key at `options.path`, signing each request through the SDK's `sign`. */
function walletSigner(device: Device, name: string, options: DappAccountOptions): EcdsaSigner {
  const { publicKey } = keyAt(device, name, options.path);
  return {
    publicKey,
    async signDigest(_digest, context) {
      // The digest is not sent: the quorum computes it from the request, and the signature that
      // comes back is checked against the digest here (in @keyshard/chains) before it is used.
      const body = requestOf(context);
      if (options.path !== undefined) body.path = options.path;
      if (options.confirm !== undefined) {
        const description = describeRequest(body) ?? describeMessageRequest(body);
        if (description === undefined || !(await options.confirm(description)))
          throw new WalletError("usage", "stopped before signing: nothing was signed", { declined: true });
      }
      // An Ethereum request is one digest, so one signature.
      const [signature] = await signWaiting(device, name, body, options);
      return recoverableSignature(signature as Uint8Array);
    },
  };
}

/** The wallet's key at `path`, refused as `usage` unless the wallet has an Ethereum key there. */
function keyAt(device: Device, name: string, path: string | undefined): SigningKey {
  try {
    address(device, name, "ethereum", path === undefined ? {} : { path });
    return device.keyOf(device.find(name), path);
  } catch (e) {
    if (e instanceof WalletError) throw e;
    throw new WalletError("usage", `\`path\` ${path}: ${(e as Error).message}`, { parameter: "path" }, { cause: e });
  }
}

/** The SDK's sign request for what viem asks to sign, as `send` and `signMessage` build it. */
function requestOf(context: SigningContext): SigningRequest {
  switch (context.kind) {
    case "ethereum-transaction":
      return {
        chain: "ethereum",
        payload: bytesToHex(context.transaction),
        chainId: parseEthereumTransaction(context.transaction).chainId,
      };
    case "ethereum-message":
      return { chain: "ethereum", kind: "message", payload: bytesToHex(context.message) };
    case "ethereum-typed-data":
      // The request travels as JSON: integers as decimal strings, which EIP-712 hashes alike.
      return {
        chain: "ethereum",
        kind: "typed-data",
        typedData: plainJson(context.typedData) as Record<string, unknown>,
      };
    default:
      throw new WalletError("usage", `a ${context.kind} request is not an Ethereum account's to sign`);
  }
}
