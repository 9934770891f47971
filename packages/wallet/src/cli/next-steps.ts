/**
 * The command line's words for an SDK error: the SDK says what went wrong and names the next step
 * as data, and only here does that step become a `keyshard` command to run; the parameters the
 * message names become the options that give them (`parameters.ts`).
 */
import type { NextStep } from "../errors.js";
import { inOptions } from "./parameters.js";

/** Where each kind of id is listed. */
const LISTED_BY: Record<Extract<NextStep, { step: "list" }>["of"], string> = {
  device: "keyshard devices",
  request: "keyshard requests",
  change: "keyshard changes",
  heir: "keyshard heir list",
  recovery: "keyshard recovery list",
  "policy change": "keyshard policy show",
};

/** The words that follow the SDK's message for `next`. */
function nextStepText(next: NextStep): string {
  switch (next.step) {
    case "init":
      return ": run `keyshard init` first";
    case "register":
      return ": run `keyshard register --provider URL --email E`";
    case "register-and-verify":
      return ": run `keyshard register` and `keyshard verify`";
    case "list-wallets":
      return ": see `keyshard wallet list`";
    case "join-or-delete-wallet":
      return `: run \`keyshard wallet join\` on the other devices while one of them runs it, or free the name with \`keyshard wallet delete --name ${next.wallet}\``;
    case "delete-wallet":
      return `; free the name with \`keyshard wallet delete --name ${next.wallet}\``;
    case "resume":
      return `, then run \`keyshard resume ${next.requestId}\``;
    case "list-requests":
      return ": see `keyshard requests`";
    case "transaction-status":
      return `: follow it with \`keyshard tx status --wallet ${next.wallet} --chain ${next.chain} ${next.transactionId}\``;
    case "refresh":
      return ": `keyshard refresh` renews its shares";
    case "refresh-wallet":
      return ` (\`keyshard refresh --wallet ${next.wallet}\`; its key and addresses stay) and sign again`;
    case "run-cosigner":
      return " while this device runs `keyshard cosigner run`";
    case "list":
      return ` (see \`${LISTED_BY[next.of]}\`)`;
  }
}

/**
 * An SDK error's message (a `WalletError`'s or a `KeystoreError`'s) as the command line shows it:
 * the parameters it names said as options, then the command that takes the next step.
 */
export const messageInCliWords = (e: { message: string; next: NextStep | undefined }): string =>
  `${inOptions(e.message)}${e.next === undefined ? "" : nextStepText(e.next)}`;
