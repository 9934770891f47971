/** PSBTs made elsewhere: `psbt sign` reads one from a file or stdin, shows it, signs it and writes it back. */
import { readFileSync, writeFileSync } from "node:fs";
import { WalletError } from "../../errors.js";
import type { PsbtOutcome } from "../../flows/psbt.js";
import { confirmOrStop, describeForPeople } from "./display.js";
import { arg, type Command, type CommandContext, integer, need, networkOf, open, totpOf } from "./options.js";

/**
 * The PSBT a file (or stdin, "-") holds: its bytes as they are when they open with the PSBT magic,
 * or else its text (base64 or hex) without the line break around it.
 */
async function readPsbtFile(ctx: CommandContext, file: string): Promise<string | Uint8Array> {
  // The question before signing is asked on stdin, which the PSBT would have used up.
  if (file === "-" && ctx.values.yes !== true)
    throw new WalletError("usage", "a PSBT read from stdin leaves no stdin to confirm on: give --yes too");
  let content: Buffer;
  try {
    content = readFileSync(file === "-" ? 0 : file);
  } catch (e) {
    throw new WalletError("usage", `cannot read the PSBT file ${file}`, {}, { cause: e });
  }
  // Loaded here, as the command runs: the command line loads no chain's code until one is needed.
  const { hasPsbtMagic } = await import("@keyshard/chains");
  if (hasPsbtMagic(content)) return new Uint8Array(content);
  return content.toString("utf8").trim();
}

function writeOut(file: string, outcome: PsbtOutcome): void {
  try {
    writeFileSync(file, `${outcome.psbt.base64}\n`);
  } catch (e) {
    throw new WalletError("usage", `cannot write the PSBT to ${file}`, {}, { cause: e });
  }
}

function outcomeLines(outcome: PsbtOutcome, out: string | undefined): string {
  const inputs = outcome.signedInputs.join(", ");
  const lines = [
    outcome.finalized
      ? `signed input(s) ${inputs} and finalized: transaction ${outcome.transactionId}, not broadcast`
      : `signed input(s) ${inputs}; not finalized: pass the PSBT on to the other signers`,
  ];
  if (outcome.transaction !== undefined) lines.push(`transaction: ${outcome.transaction}`);
  lines.push(out === undefined ? `psbt: ${outcome.psbt.base64}` : `psbt written to ${out} (base64)`);
  return lines.join("\n");
}

export const PSBT: Record<string, Command> = {
  "psbt sign": {
    usage: `psbt sign FILE --wallet N [--network N] [--partial] [--out FILE] [--totp CODE] [--path m/0/i]
          [--wait SECONDS for cosigners]`,
    summary: "sign a PSBT made elsewhere: shown, confirmed, co-signed",
    help: `Signs the inputs of a PSBT (BIP174) that the wallet owns: FILE holds it in base64, hex or binary
(- reads it from stdin, which then needs --yes). --network says which network its addresses are
on (a PSBT does not say; mainnet by default). Shows what it does and asks before signing (--yes
skips the question), then signs with the wallet's other parties under the provider's policy.
Other wallets' inputs, and fields keyshard does not know (unknown and proprietary ones), are left
as they are. By default every input is finalized and the transaction printed, not broadcast: the
other wallets' inputs must be final already. --partial adds the wallet's signatures only
(partial_sigs, or tap_key_sig for Taproot) and does not finalize, for the other signers or a
coordinator to finish. The PSBT is printed, or written to --out FILE, in base64.
An input P2WPKH (segwit v0) of the wallet needs its whole previous transaction in the PSBT
(nonWitnessUtxo): its signature commits to its own amount only, so the fee could be hidden.
example: keyshard psbt sign payjoin.psbt --wallet savings --network testnet --partial --out signed.psbt`,
    async run(ctx) {
      const psbt = await readPsbtFile(ctx, arg(ctx, 0, "the PSBT FILE (- for stdin)"));
      const totp = totpOf(ctx);
      const network = networkOf(ctx);
      const wait = integer(ctx, "wait");
      const outcome = await (await open(ctx)).signPsbt(need(ctx, "wallet", "NAME"), {
        psbt,
        finalize: ctx.values.partial !== true,
        ...(network && { network }),
        ...(totp !== undefined && { totp }),
        ...(typeof ctx.values.path === "string" && { path: ctx.values.path }),
        ...(wait !== undefined && { waitMs: wait * 1000 }),
        confirm: (description) => confirmOrStop(ctx, describeForPeople(description)),
      });
      const out = typeof ctx.values.out === "string" ? ctx.values.out : undefined;
      if (out !== undefined) writeOut(out, outcome);
      return { human: outcomeLines(outcome, out), data: { ...outcome, ...(out !== undefined && { out }) } };
    },
  },
};
