/**
 * What to do about an SDK error, said in the web wallet's terms: the SDK gives the next step as
 * data (`NextStep`) so that each program names its own way to take it. Steps this app has no
 * screen for yet give no advice rather than a wrong one.
 */
import type { WalletError } from "@keyshard/wallet/browser";

type NextStep = NonNullable<WalletError["next"]>;

export function describeNextStep(next: NextStep | undefined): string | null {
  switch (next?.step) {
    case "init":
      return "Set up this device again.";
    case "register":
    case "register-and-verify":
      return "Set up this device with the provider again, then enter the code it mails.";
    case "list-wallets":
      return "Go back to the wallets and pick one of them.";
    case "join-or-delete-wallet":
    case "delete-wallet":
      return `The key of ${next.wallet} was not finished: create the wallet under another name.`;
    default:
      return null;
  }
}
