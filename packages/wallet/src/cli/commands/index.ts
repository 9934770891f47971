/**
 * Every `keyshard` command by name ("wallet create" for a two-word one), merged from one file per
 * area, and the texts `--help` prints: the command list, and one command's synopsis and help.
 */
import { ACCOUNT } from "./account.js";
import { AUDIT } from "./audit.js";
import { CONTROLS } from "./controls.js";
import { COSIGNER } from "./cosigner.js";
import { FACE } from "./face.js";
import type { Command } from "./options.js";
import { POLICY } from "./policy.js";
import { PSBT } from "./psbt.js";
import { TRANSACTIONS } from "./transactions.js";
import { WALLETS } from "./wallets.js";
import { WATCH } from "./watch.js";

export type { Command, CommandContext, CommandResult } from "./options.js";

/** In the order the command list shows them: a device's life from its first command on. */
export const COMMANDS: Record<string, Command> = {
  ...ACCOUNT,
  ...WALLETS,
  ...WATCH,
  ...TRANSACTIONS,
  ...PSBT,
  ...POLICY,
  ...CONTROLS,
  ...COSIGNER,
  ...AUDIT,
  ...FACE,
};

const SUMMARY_COLUMN = 50;

/** A command's synopsis lines with its summary beside the last one, or under it when that is too long. */
function listed(command: Command): string {
  const lines = command.usage.split("\n").map((line) => `  ${line}`);
  const last = lines.length - 1;
  if ((lines[last] as string).length < SUMMARY_COLUMN - 1)
    lines[last] = `${(lines[last] as string).padEnd(SUMMARY_COLUMN)}${command.summary}`;
  else lines.push(`${" ".repeat(SUMMARY_COLUMN)}${command.summary}`);
  return lines.join("\n");
}

const EXIT_CODES = "exit codes: 0 done, 1 failed, 2 usage, 3 held by the provider's policy";

export const USAGE = `usage: keyshard <command> [options]   (--home DIR, --json, --yes everywhere)

${Object.values(COMMANDS).map(listed).join("\n")}

keyshard <command> --help (or keyshard help <command>): what it does, its options, an example
keyshard --version: this keyshard's version
${EXIT_CODES}
`;

/** The commands a first word begins ("wallet": wallet create, wallet list…), listed; undefined when none does. */
export function groupOf(first: string): string | undefined {
  const group = Object.entries(COMMANDS).filter(([name]) => name.startsWith(`${first} `));
  if (group.length === 0) return undefined;
  return `keyshard ${first} is one of:\n\n${group.map(([, command]) => listed(command)).join("\n")}\n\nkeyshard ${first} <command> --help: what it does, its options, an example\n`;
}

/** What `keyshard <command> --help` prints. */
export function helpOf(command: Command): string {
  // A line that starts indented continues the one above; any other is another form of the command.
  const synopsis = command.usage
    .split("\n")
    .map((line, i) => `${i === 0 ? "usage: " : "       "}${line.startsWith(" ") ? "         " : "keyshard "}${line}`)
    .join("\n");
  return `${synopsis}\n\n${command.help}\n\n(--home DIR, --json, --yes as for every command)\n${EXIT_CODES}\n`;
}
