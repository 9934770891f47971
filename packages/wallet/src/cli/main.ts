/**
 * `keyshard`: the wallet device and the confirmation device on the command line. Every command
 * takes `--home DIR` (or KEYSHARD_HOME) for the device's folder and `--json` for one JSON object
 * on stdout; progress goes to stderr. Exit codes: 0 done, 1 failed, 2 usage, 3 held by a policy.
 * Errors say what went wrong and what to do; no stack trace reaches the user.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { WalletError } from "../errors.js";
import { COMMANDS, type CommandContext, groupOf, helpOf, USAGE } from "./commands/index.js";
import { messageInCliWords } from "./next-steps.js";
import { optionOf } from "./parameters.js";
import { readNewPassphrase, readPassphrase } from "./prompt.js";

/** This package's version, written in by the bundle's build (build.mjs); absent from the compiled modules. */
declare const KEYSHARD_VERSION: string | undefined;

/** The version: the bundle's, or the manifest's, two folders above this module in `dist/cli/` as in `src/cli/`. */
function version(): string {
  if (typeof KEYSHARD_VERSION === "string") return KEYSHARD_VERSION;
  return JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version;
}

const OPTIONS = {
  home: { type: "string" },
  json: { type: "boolean" },
  yes: { type: "boolean", short: "y" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
  name: { type: "string" },
  provider: { type: "string" },
  email: { type: "string" },
  resend: { type: "boolean" },
  scheme: { type: "string" },
  quorum: { type: "string" },
  with: { type: "string", multiple: true },
  add: { type: "string", multiple: true },
  remove: { type: "string", multiple: true },
  policy: { type: "string" },
  wallet: { type: "string" },
  chain: { type: "string" },
  path: { type: "string" },
  network: { type: "string" },
  to: { type: "string" },
  amount: { type: "string" },
  rpc: { type: "string" },
  totp: { type: "string" },
  token: { type: "string" },
  "chain-id": { type: "string" },
  nonce: { type: "string" },
  gas: { type: "string" },
  blockhash: { type: "string" },
  coins: { type: "string" },
  "fee-rate": { type: "string" },
  message: { type: "string" },
  "typed-data": { type: "string" },
  status: { type: "string" },
  rules: { type: "string" },
  once: { type: "boolean" },
  "strand-wallets": { type: "boolean" },
  wait: { type: "string" },
  "wait-receipt": { type: "string" },
  image: { type: "string", multiple: true },
  frames: { type: "string" },
  code: { type: "string" },
  "after-days": { type: "string" },
  operators: { type: "string" },
  address: { type: "string" },
  xpub: { type: "string" },
  type: { type: "string" },
  algorithm: { type: "string" },
  label: { type: "string" },
  "provider-party": { type: "string" },
  "policy-template": { type: "string" },
  partial: { type: "boolean" },
  out: { type: "string" },
} as const;

export const EXIT = { done: 0, failed: 1, usage: 2, held: 3 } as const;

function exitCodeOf(e: unknown): number {
  if (e instanceof WalletError) return e.code === "usage" ? EXIT.usage : e.code === "held" ? EXIT.held : EXIT.failed;
  return EXIT.failed;
}

/** The error as a code and a sentence; the modules that define the other errors are loaded by then. */
async function messageOf(e: unknown): Promise<{ error: string; message: string }> {
  if (e instanceof WalletError) return { error: e.code, message: messageInCliWords(e) };
  const [{ KeystoreError }, { ChainError }] = await Promise.all([import("../keystore.js"), import("@keyshard/chains")]);
  if (e instanceof KeystoreError) return { error: `keystore-${e.code}`, message: messageInCliWords(e) };
  if (e instanceof ChainError) return { error: `chain-${e.code}`, message: e.message };
  if (e instanceof RangeError) return { error: "invalid", message: e.message };
  return { error: "internal", message: `something unexpected failed: ${e instanceof Error ? e.message : String(e)}` };
}

/** An error's details, with the option that gives the parameter at fault when they name one. */
function withOption(details: Record<string, unknown>): Record<string, unknown> {
  const option = typeof details.parameter === "string" ? optionOf(details.parameter) : undefined;
  return option === undefined ? details : { ...details, option };
}

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; args: string[] }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const json = values.json === true;
  if (values.version) {
    process.stdout.write(`keyshard ${version()}\n`);
    return EXIT.done;
  }
  // `keyshard help send` is `keyshard send --help`.
  const asksHelp = values.help === true || positionals[0] === "help";
  const words = positionals[0] === "help" ? positionals.slice(1) : positionals;
  const [first, second] = words;
  if (first === undefined) {
    if (asksHelp) process.stdout.write(USAGE);
    else process.stderr.write(USAGE);
    return asksHelp ? EXIT.done : EXIT.usage;
  }
  const key = second !== undefined && `${first} ${second}` in COMMANDS ? `${first} ${second}` : first;
  const command = COMMANDS[key];
  const group = groupOf(first);
  if (command === undefined && group !== undefined && second === undefined) {
    if (asksHelp) process.stdout.write(group);
    else process.stderr.write(group);
    return asksHelp ? EXIT.done : EXIT.usage;
  }
  if (command === undefined) {
    const named = group !== undefined ? `${first} ${second}` : first;
    process.stderr.write(`keyshard: unknown command ${named}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (asksHelp) {
    process.stdout.write(helpOf(command));
    return EXIT.done;
  }
  const args = words.slice(key.split(" ").length);
  const ctx: CommandContext = {
    home: values.home ?? process.env.KEYSHARD_HOME ?? join(homedir(), ".keyshard"),
    values,
    args,
    json,
    passphrase: () => readPassphrase(),
    newPassphrase: () => readNewPassphrase(),
    progress: (text) => process.stderr.write(`… ${text}\n`),
    interactive: process.stdin.isTTY === true && values.yes !== true && !json,
  };
  try {
    const { human, data } = await command.run(ctx);
    process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${human}\n`);
    return EXIT.done;
  } catch (e) {
    const { error, message } = await messageOf(e);
    const details = e instanceof WalletError ? withOption(e.details) : {};
    // The code a program switches on comes last: no detail may stand in for it.
    if (json) process.stdout.write(`${JSON.stringify({ ...details, error, message })}\n`);
    else process.stderr.write(`keyshard: ${message}\n`);
    return exitCodeOf(e);
  }
}

// Exit even if a socket or timer is still open: the command is over.
process.exit(await main(process.argv.slice(2)));
