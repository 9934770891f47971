/**
 * What every command is made of: the context `main` hands it, the shape of a command, and the
 * readers of its options and arguments, which turn a bad value into a usage error that names it.
 * The SDK is imported only when a command opens the device, so `--help` and `--version` stay fast.
 */

import { readFileSync } from "node:fs";
import type { ChainName } from "@keyshard/chains";
import { BITCOIN_NETWORKS, type BitcoinNetwork, CHAIN_NAMES } from "@keyshard/chains/names";
import { WalletError } from "../../errors.js";

import type { Wallet } from "../../wallet.js";

export interface CommandContext {
  home: string;
  values: Record<string, string | boolean | string[] | undefined>;
  args: string[];
  json: boolean;
  passphrase(): Promise<string>;
  /** The passphrase of a keystore about to be made: at a terminal, asked twice. */
  newPassphrase(): Promise<string>;
  progress(text: string): void;
  /** A person at a terminal who can be asked. */
  interactive: boolean;
}

export interface CommandResult {
  human: string;
  data: unknown;
}

export interface Command {
  /** The synopsis, one or more lines, as the command list shows it. */
  usage: string;
  /** One line for the command list. */
  summary: string;
  /** What `keyshard <command> --help` adds to the synopsis: what it does, its options, an example. */
  help: string;
  run(ctx: CommandContext): Promise<CommandResult>;
}

/** The account's TOTP code, for the changes that need it where the account has a TOTP. */
export function totpOf(ctx: CommandContext): string | undefined {
  return typeof ctx.values.totp === "string" ? ctx.values.totp : undefined;
}

export function need(ctx: CommandContext, name: string, what: string): string {
  const value = ctx.values[name];
  if (typeof value !== "string" || value.length === 0) throw new WalletError("usage", `missing --${name} ${what}`);
  return value;
}

export function arg(ctx: CommandContext, index: number, what: string): string {
  const value = ctx.args[index];
  if (value === undefined) throw new WalletError("usage", `missing ${what}`);
  return value;
}

export function integer(ctx: CommandContext, name: string): number | undefined {
  const value = ctx.values[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^\d{1,15}$/.test(value))
    throw new WalletError("usage", `--${name} must be a whole number`);
  return Number(value);
}

export function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new WalletError("usage", `cannot read ${what} ${path}`, {}, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new WalletError("usage", `${what} ${path} is not JSON`, {}, { cause: e });
  }
}

const CHAINS: readonly ChainName[] = CHAIN_NAMES;

export function chainOf(ctx: CommandContext): ChainName {
  const chain = need(ctx, "chain", "ethereum|bitcoin|solana");
  if (!CHAINS.includes(chain as ChainName)) throw new WalletError("usage", `--chain is one of ${CHAINS.join(", ")}`);
  return chain as ChainName;
}

export function networkOf(ctx: CommandContext): BitcoinNetwork | undefined {
  const network = ctx.values.network;
  if (network !== undefined && !(BITCOIN_NETWORKS as readonly unknown[]).includes(network))
    throw new WalletError("usage", "--network is mainnet, testnet or regtest");
  return network as BitcoinNetwork | undefined;
}

export function quorumOf(ctx: CommandContext): { t: number; n: number } | undefined {
  const quorum = ctx.values.quorum;
  if (quorum === undefined) return undefined;
  const match = typeof quorum === "string" ? /^(\d{1,2})\/(\d{1,2})$/.exec(quorum) : null;
  if (match === null) throw new WalletError("usage", "--quorum is T/N, e.g. 2/3");
  return { t: Number(match[1]), n: Number(match[2]) };
}

/** The pictures a face command reads: `--image` files, or every picture in `--frames DIR`. */
export function picturesOf(ctx: CommandContext): string[] {
  const images = ctx.values.image as string[] | undefined;
  const frames = ctx.values.frames as string | undefined;
  if ((images === undefined) === (frames === undefined))
    throw new WalletError("usage", "give the face as --image FILE (repeatable) or --frames DIR, not both");
  return images ?? [frames as string];
}

/** The SDK, loaded on first use: it brings the protocol engines and the chains with it. */
export const sdk = () => import("../../wallet.js");

/** How the SDK reports to the person: progress, and a warning line on stderr for a provider in trial mode. */
export const reporting = (ctx: CommandContext) => ({
  progress: ctx.progress,
  warn: (text: string) => void process.stderr.write(`keyshard: ${text}\n`),
});

/** This device, unlocked with the passphrase. */
export async function open(ctx: CommandContext): Promise<Wallet> {
  const { Wallet } = await sdk();
  return Wallet.open(ctx.home, await ctx.passphrase(), reporting(ctx));
}
