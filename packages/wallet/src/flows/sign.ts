/**
 * Signing with a wallet's quorum: sends and messages are built and described here from bytes
 * this device made, then signed with the provider (which applies the wallet's policy, and may
 * hold the request), among the devices alone, or — a wallet whose backup was downloaded — on
 * this device alone. A held request is resumed from the bytes this device kept, re-checked.
 */
import { endpoints } from "@keyshard/api";
import {
  type BitcoinNetwork,
  type ChainName,
  encodePsbt,
  type SigningKey,
  type SigningRequest,
  signedPsbtOf,
} from "@keyshard/chains";
import { runLocal, type SignResultOf, scheme } from "@keyshard/mpc";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { buildBitcoinTransfer } from "../chains/bitcoin.js";
import { buildTokenTransfer, describeTokenTransfer, sendToken } from "../chains/erc20.js";
import { buildEthereumTransfer } from "../chains/ethereum.js";
import { sendIntent } from "../chains/sent.js";
import { buildSolanaTransfer } from "../chains/solana.js";
import type { Device } from "../device/device.js";
import { WalletError } from "../errors.js";
import { ruleLabel } from "../policy-units.js";
import {
  bitcoinOutput,
  describeMessageRequest,
  describeRequest,
  type MessageRequestDescription,
  messagesToSign,
  withHexPsbt,
} from "../requests.js";
import { openingsOf, openSessions, runAmongDevices, runWithProvider } from "../runs/signing.js";
import type { PendingRequest, SendIntent, StoredWallet } from "../state.js";
import type { SignOutcome } from "../types.js";
import { finish, RECEIPT_WAIT_MS, sendAgain } from "./delivery.js";
import { current } from "./key-change.js";
import { address } from "./wallets.js";

export interface SignOptions {
  totp?: string;
  rpc?: string;
  /** How long a run waits for the other devices (cosigners) to take part. */
  waitMs?: number;
  intent?: SendIntent;
  /** Kept with the request if it is held, for `resume` (`PendingRequest.partialPsbt`). */
  partialPsbt?: true;
}

/** Signs `body` with `wallet`'s quorum; returns the signatures or throws `held` / `denied`. */
export async function sign(
  device: Device,
  name: string,
  body: SigningRequest,
  options: SignOptions,
): Promise<{ requestId?: string; signatures: Uint8Array[] }> {
  body = withHexPsbt(body);
  const stored = device.find(name);
  if (stored.providerShare !== undefined)
    return {
      signatures: messagesToSign(body, device.keyOf(stored, body.path)).map((m) =>
        signAlone(device, stored, m, body.path),
      ),
    };
  const wallet = await current(device, name);
  const ctx = device.runContext(wallet);
  const messages = messagesToSign(body, device.keyOf(wallet, body.path));
  const withProvider = wallet.members === null || wallet.members.some((m) => m.provider);
  if (!withProvider) {
    // One proposal and run per signature: a PSBT needs one for each input the wallet spends.
    const signatures: Uint8Array[] = [];
    for (const [index, message] of messages.entries())
      signatures.push(await runAmongDevices(ctx, body, { index, message }, options.waitMs));
    return { signatures };
  }
  const signers =
    wallet.members === null
      ? undefined
      : [
          device.deviceId,
          ...wallet.members
            .filter((m) => !m.provider && m.index !== wallet.index)
            .slice(0, Math.max(0, wallet.threshold - 2))
            .map((m) => m.deviceId),
        ];
  const opened = wallet.members === null ? await openSessions(ctx, messages, body.path) : undefined;
  const reply = await device.client.request(endpoints.createSignRequest, {
    params: { id: wallet.id },
    body: {
      ...body,
      ...(options.totp !== undefined && { totp: options.totp }),
      ...(signers !== undefined && { signers }),
      ...(opened !== undefined && { sessions: openingsOf(opened) }),
      epoch: wallet.epoch ?? 0,
    },
  });
  if (reply.status === "denied")
    throw new WalletError(
      "denied",
      `the provider's policy denies this (${reply.rule === null ? "no rule matched" : ruleLabel(reply.ruleNumber, reply.rule)})`,
      { requestId: reply.requestId, rule: reply.rule, ruleNumber: reply.ruleNumber },
    );
  if (reply.status === "held") {
    // A held request is finished later by its id: a reply naming one this device holds already
    // would have that other request's bytes signed, and forgotten, when this one is resumed.
    if (device.state.pending.some((p) => p.requestId === reply.requestId))
      throw new WalletError(
        "provider-refused",
        `the provider answered this request with the id of another one this device holds (${reply.requestId}): nothing was signed`,
        { requestId: reply.requestId },
      );
    const pending: PendingRequest = {
      requestId: reply.requestId,
      walletId: wallet.id,
      body,
      ...(options.rpc && { rpc: options.rpc }),
      ...(options.intent && { intent: options.intent }),
      ...(options.partialPsbt && { partialPsbt: true }),
    };
    await device.save((s) => void s.pending.push(pending));
    throw new WalletError(
      "held",
      `held by the provider's policy (${ruleLabel(reply.ruleNumber, reply.rule)}); waiting for ${Object.keys(reply.waitingFor ?? {}).join(", ")}. Request ${reply.requestId}: approve it from another device or give the code`,
      { requestId: reply.requestId, waitingFor: reply.waitingFor, rule: reply.rule, ruleNumber: reply.ruleNumber },
      { next: { step: "resume", requestId: reply.requestId } },
    );
  }
  return {
    requestId: reply.requestId,
    signatures: await runWithProvider(ctx, reply, messages, body.path, options.waitMs, opened),
  };
}

/**
 * Finishes a request a policy held, once it waits for nothing: the bytes this device built,
 * re-checked. `totp` gives the code a request held for one waits for. A PSBT signed with
 * `finalize: false` comes back as it was asked for: with the wallet's signatures only.
 */
export async function resume(device: Device, requestId: string, options: { totp?: string }): Promise<SignOutcome> {
  const { pending, wallet, key, signatures } = await resumeSigning(device, requestId, options);
  if (pending.partialPsbt) {
    const psbt = await signedPsbtOf(pending.body, signatures, key);
    return { requestId, signed: encodePsbt(psbt).base64, finalized: false };
  }
  return finish(device, wallet, pending.body, { requestId, signatures }, pending.rpc, pending.intent);
}

/** `resume` up to the signatures: for a caller that attaches them itself (a dApp's account). */
export async function resumeSigning(
  device: Device,
  requestId: string,
  options: { totp?: string },
): Promise<{ pending: PendingRequest; wallet: StoredWallet; key: SigningKey; signatures: Uint8Array[] }> {
  const pending = device.state.pending.find((p) => p.requestId === requestId);
  if (pending === undefined)
    throw new WalletError(
      "usage",
      `this device made no held request ${requestId}`,
      {},
      { next: { step: "list-requests" } },
    );
  const wallet = await current(device, pending.walletId);
  if (options.totp !== undefined)
    await device.client.request(endpoints.giveSignRequestTotp, {
      params: { id: requestId },
      body: { code: options.totp },
    });
  const stored = await device.client.request(endpoints.signRequest, { params: { id: requestId } });
  if (pending.body.payload !== undefined && stored.payload !== pending.body.payload)
    throw new WalletError("signing-failed", "the provider holds other bytes under this request than this device sent");
  const started = await device.client.request(endpoints.startSigning, { params: { id: requestId } });
  const key = device.keyOf(wallet, pending.body.path);
  const signatures = await runWithProvider(
    device.runContext(wallet),
    started,
    messagesToSign(pending.body, key),
    pending.body.path,
  );
  await device.save((s) => void (s.pending = s.pending.filter((p) => p.requestId !== requestId)));
  return { pending, wallet, key, signatures };
}

/** A transfer of the chain's coin or of an ERC-20 token: what to pay, where, and how to reach the chain. */
export interface SendOptions {
  wallet: string;
  chain: ChainName;
  to: string;
  /** In coins, or in the token's units with `token` (its decimals, read from the contract). */
  amount: string;
  /**
   * Ethereum: the ERC-20 contract whose tokens to send. Needs `rpc`: the token's `decimals()`
   * (and `symbol()`, for `confirm`) and the token balance are read through the node, and the gas
   * is estimated as for a native send; the ETH balance pays the fee.
   */
  token?: string;
  rpc?: string;
  totp?: string;
  path?: string;
  chainId?: number;
  nonce?: number;
  blockhash?: string;
  /**
   * Ethereum: the gas limit. With `rpc` the node's estimate is used, plus 20 % unless it is a plain
   * transfer's 21 000, and a `gas` below the estimate is refused; without `rpc`, 21 000 when absent.
   */
  gas?: number;
  /** Bitcoin: the network, the fee rate (sat/vB) and the coins to spend (a coins file's JSON). */
  network?: BitcoinNetwork;
  feeRate?: number;
  coins?: unknown;
  waitMs?: number;
  /** Ethereum: how long to wait for the receipt (default 30 s). */
  receiptWaitMs?: number;
  /** Sees what the bytes do before anything is signed; returning false stops. */
  confirm?: (description: NonNullable<ReturnType<typeof describeRequest>>) => boolean | Promise<boolean>;
}

/** Describes, signs and (given an RPC) broadcasts a transfer of the chain's coin or of an ERC-20 token. */
export async function send(device: Device, options: SendOptions): Promise<SignOutcome> {
  const wallet = device.find(options.wallet);
  const network = options.network ?? "mainnet";
  const token = options.token === undefined ? undefined : await sendToken({ ...options, token: options.token });
  const intent = sendIntent(options.chain, options, token);
  const receiptWaitMs = options.receiptWaitMs ?? RECEIPT_WAIT_MS;
  if (options.rpc !== undefined) {
    const again = await sendAgain(device, wallet, options.chain, intent, options.rpc, receiptWaitMs);
    if (again !== undefined) return again;
  }
  const from = address(device, wallet.name, options.chain, { ...(options.path && { path: options.path }), network });
  const key = device.keyOf(wallet, options.path);
  let body: SigningRequest;
  if (options.chain === "ethereum") {
    const input = {
      from,
      to: options.to,
      amount: options.amount,
      ...(options.rpc && { rpc: options.rpc }),
      ...(options.chainId !== undefined && { chainId: options.chainId }),
      ...(options.nonce !== undefined && { nonce: options.nonce }),
      ...(options.gas !== undefined && { gas: options.gas }),
    };
    const { bytes, chainId } =
      token === undefined ? await buildEthereumTransfer(input) : await buildTokenTransfer(token, input);
    body = { chain: "ethereum", payload: bytesToHex(bytes), chainId };
  } else if (options.chain === "solana") {
    const bytes = await buildSolanaTransfer({
      from,
      to: options.to,
      amount: options.amount,
      ...(options.rpc && { rpc: options.rpc }),
      ...(options.blockhash && { blockhash: options.blockhash }),
    });
    body = { chain: "solana", payload: bytesToHex(bytes) };
  } else {
    const { psbt } = await buildBitcoinTransfer({
      owner: bitcoinOutput(key, network),
      network,
      to: options.to,
      amount: options.amount,
      ...(options.feeRate !== undefined && { feeRate: options.feeRate }),
      ...(options.rpc && { rpc: options.rpc }),
      ...(options.coins !== undefined && { coins: options.coins }),
    });
    body = { chain: "bitcoin", payload: bytesToHex(psbt), network };
  }
  if (options.path !== undefined) body.path = options.path;
  const description =
    token === undefined ? describeRequest(body, key) : describeTokenTransfer(hexToBytes(body.payload as string), token);
  if (description && options.confirm && !(await options.confirm(description)))
    throw new WalletError("usage", "stopped before signing: nothing was sent");
  const signed = await sign(device, wallet.name, body, {
    ...(options.totp && { totp: options.totp }),
    ...(options.rpc && { rpc: options.rpc }),
    ...(options.waitMs !== undefined && { waitMs: options.waitMs }),
    intent,
  });
  return finish(device, wallet, body, signed, options.rpc, intent, receiptWaitMs);
}

/** A message to sign: EIP-191 bytes or EIP-712 typed data (Ethereum), or BIP322 bytes (Bitcoin). */
export interface MessageInput {
  chain?: "ethereum" | "bitcoin";
  network?: BitcoinNetwork;
  message?: Uint8Array;
  typedData?: Record<string, unknown>;
  path?: string;
  totp?: string;
  /** Sees what the message says, decoded here; nothing is signed unless it returns true. */
  confirm: (description: MessageRequestDescription) => boolean | Promise<boolean>;
}

/**
 * EIP-191 personal message or EIP-712 typed data (Ethereum, an ECDSA wallet), or a BIP322
 * simple signature of a message by the wallet's Bitcoin address (ECDSA: P2WPKH; FROST: P2TR).
 * A signature on unseen bytes can be a token approval: `confirm` sees them first.
 */
export async function signMessage(device: Device, name: string, input: MessageInput): Promise<SignOutcome> {
  const wallet = device.find(name);
  const chain = input.chain ?? "ethereum";
  let body: SigningRequest;
  if (chain === "bitcoin") {
    if (scheme(wallet.scheme).algorithm === "ed25519")
      throw new WalletError("usage", `wallet ${wallet.name} is ${wallet.scheme}, which has no Bitcoin address`);
    if (input.typedData !== undefined) throw new WalletError("usage", "typed data is Ethereum's (EIP-712)");
    body = {
      chain,
      kind: "message",
      payload: bytesToHex(input.message ?? new Uint8Array()),
      network: input.network ?? "mainnet",
    };
  } else {
    if (scheme(wallet.scheme).algorithm !== "ecdsa")
      throw new WalletError("usage", "Ethereum messages (EIP-191, EIP-712) need an ECDSA wallet");
    body =
      input.typedData !== undefined
        ? { chain, kind: "typed-data", typedData: input.typedData }
        : { chain, kind: "message", payload: bytesToHex(input.message ?? new Uint8Array()) };
  }
  if (input.path !== undefined) body.path = input.path;
  if (!(await input.confirm(describeMessageRequest(body) as MessageRequestDescription)))
    throw new WalletError("usage", "stopped before signing: nothing was signed");
  const signed = await sign(device, wallet.name, body, input.totp ? { totp: input.totp } : {});
  return finish(device, wallet, body, signed, undefined);
}

/** Both shares of a self-custodied wallet, on this device: no provider, no policy. */
export function signAlone(
  device: Device,
  wallet: StoredWallet,
  message: Uint8Array,
  path: string | undefined,
): Uint8Array {
  const engine = scheme(wallet.scheme);
  const providerShare = engine.decodeShare(hexToBytes(wallet.providerShare as string));
  const sid = crypto.getRandomValues(new Uint8Array(32));
  const options = { sid, message, ...(path !== undefined && { path }) };
  const [result] = runLocal([engine.sign(device.share(wallet), options), engine.sign(providerShare, options)]);
  return engine.signatureBytes(result as SignResultOf);
}
