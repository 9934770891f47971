/** How the commands show wallets, transactions and outcomes to a person, and ask before signing. */
import type { TransactionDescription } from "@keyshard/chains";
import type { SignOutcome, WalletInfo } from "../../types.js";
import { askToSign } from "../prompt.js";
import type { CommandContext } from "./options.js";

/** Which parties a new wallet's key has, and what that means for the provider's policy. */
export function partiesText(wallet: WalletInfo): string {
  if (wallet.members === null)
    return `${wallet.scheme}, hybrid 2-of-2: this device and the provider, which co-signs only what its policy allows`;
  const others = wallet.members.filter((m) => !m.provider).length - 1;
  const devices = `this device and ${others} other device${others === 1 ? "" : "s"}`;
  const quorum = `${wallet.scheme}, ${wallet.threshold}-of-${wallet.members.length}`;
  return wallet.members.some((m) => m.provider)
    ? `${quorum}: ${devices}, and the provider as a party, which co-signs only what its policy allows`
    : `${quorum}: ${devices}; the provider is not a party: it only relays, and no policy of its applies`;
}

export function keyChangeText(wallet: WalletInfo): string {
  const parties = wallet.members ? `${wallet.threshold}-of-${wallet.members.length}` : "hybrid 2-of-2";
  return wallet.pendingEpoch !== undefined
    ? `new shares of ${wallet.name} made (epoch ${wallet.pendingEpoch}); they take over once every member has reported theirs`
    : `wallet ${wallet.name} is at epoch ${wallet.epoch ?? 0}, ${parties}; same key, same addresses`;
}

export function describeForPeople(d: TransactionDescription): string {
  const lines = [`${d.action} on ${d.network}`];
  for (const t of d.transfers) lines.push(`  send ${t.text} to ${t.to}`);
  for (const a of d.approvals) lines.push(`  allow ${a.spender} to take ${a.unlimited ? "EVERYTHING" : a.text}`);
  for (const c of d.calls) lines.push(`  call ${c.name ?? c.selector} on ${c.contract}`);
  lines.push(`  fee at most ${d.fee.text}`);
  for (const w of d.warnings) lines.push(`  ! ${w}`);
  return lines.join("\n");
}

export function outcomeText(outcome: SignOutcome): string {
  const lines = [];
  if (outcome.sentBefore) lines.push("this send was signed before: its transaction, not a new one");
  if (outcome.transactionId) lines.push(`transaction ${outcome.transactionId}`);
  if (outcome.receiptStatus !== undefined) lines.push(`receipt status ${outcome.receiptStatus}`);
  if (outcome.broadcast === false) lines.push("signed, not broadcast (no --rpc): broadcast it yourself");
  if (outcome.finalized === false) lines.push("signed this wallet's inputs, not finalized: pass the PSBT on");
  if (!outcome.transactionId) lines.push(`signed: ${outcome.signed}`);
  return lines.join("\n");
}

/** Shows what is about to be signed, then asks on stdin unless --yes said yes beforehand. */
export async function confirmOrStop(ctx: CommandContext, text: string): Promise<boolean> {
  process.stderr.write(`${text}\n`);
  return ctx.values.yes === true || askToSign();
}
