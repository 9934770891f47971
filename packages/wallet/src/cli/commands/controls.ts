/**
 * The provider's controls that take something back or let a destination in: cancelling a policy
 * change still waiting out its delay, and the wallet's allow-list, whose new entries count only
 * after their rule's cooling-off.
 */
import type { AllowListEntry, WalletPolicy } from "../../types.js";
import { arg, type Command, chainOf, need, open } from "./options.js";

const at = (ms: number) => new Date(ms).toISOString();

/** The lines `policy show` adds for changes still waiting: each with its id, its time and how to stop it. */
export function pendingChangesText(policy: Pick<WalletPolicy, "pending">): string {
  const pending = policy.pending ?? [];
  if (pending.length === 0) return "";
  const lines = pending.map(
    (p) =>
      `  ${p.changeId}: asked by device ${p.requestedBy}, takes effect at ${at(p.effectiveMs)}\n    not yours? keyshard policy cancel ${p.changeId}`,
  );
  return `\npending policy changes:\n${lines.join("\n")}`;
}

function entryText(e: AllowListEntry): string {
  const label = e.label ? ` (${e.label})` : "";
  const counts =
    e.countsFrom.length === 0
      ? "no rule of the policy matches allow-listed destinations yet"
      : e.countsFrom.map((c) => `counts for rule "${c.rule}" from ${at(c.atMs)}`).join("; ");
  return `${e.chain} ${e.address}${label}: ${counts}`;
}

const ALLOW_LIST_HELP = `The wallet's allow-list: destinations that a policy rule with "allowListed" lets through. A new
entry counts for such a rule only once the rule's cooling-off (coolingOffSeconds) has passed since
it was added; the account is mailed at once, and any device can remove it before then. Removing
takes effect at once.
example: keyshard allow-list add --wallet savings --chain ethereum --address 0xAbC… --label rent`;

/** An allow-list step: the three share their help, as they are one list. */
function allowListStep(step: string, usage: string, summary: string, run: Command["run"]): Command {
  return { usage: `allow-list ${step} --wallet N${usage}`, summary, help: ALLOW_LIST_HELP, run };
}

export const CONTROLS: Record<string, Command> = {
  "policy cancel": {
    usage: "policy cancel CHANGE_ID",
    summary: "stop a policy change before it takes effect",
    help: `Cancels a change of a wallet's policy that is still waiting out its delay. Any device of the
account may, without a code: the mail about the change names its id, and so does
keyshard policy show.
example: keyshard policy cancel 3f0c2a1e-…`,
    async run(ctx) {
      const id = arg(ctx, 0, "the CHANGE_ID (see the mail, or keyshard policy show --wallet N)");
      const reply = await (await open(ctx)).cancelPolicyChange(id);
      return { human: `policy change ${id} is cancelled: the policy stays as it is`, data: { changeId: id, ...reply } };
    },
  },

  "allow-list show": allowListStep("show", "", "a wallet's allow-listed destinations", async (ctx) => {
    const entries = await (await open(ctx)).allowList(need(ctx, "wallet", "NAME"));
    return {
      human: entries.length === 0 ? "the allow-list is empty" : entries.map(entryText).join("\n"),
      data: { allowList: entries },
    };
  }),

  "allow-list add": allowListStep(
    "add",
    " --chain C --address A [--label L]",
    "let a destination in, after its rule's cooling-off",
    async (ctx) => {
      const entry = await (await open(ctx)).allowListAdd(need(ctx, "wallet", "NAME"), {
        chain: chainOf(ctx),
        address: need(ctx, "address", "ADDRESS"),
        ...(typeof ctx.values.label === "string" && { label: ctx.values.label }),
      });
      return {
        human: `added ${entryText(entry)}\nthe account is mailed about it; before it counts, any device can take it back: keyshard allow-list remove --wallet ${String(ctx.values.wallet)} --chain ${entry.chain} --address ${entry.address}`,
        data: entry,
      };
    },
  ),

  "allow-list remove": allowListStep(
    "remove",
    " --chain C --address A",
    "take a destination off the allow-list, at once",
    async (ctx) => {
      const chain = chainOf(ctx);
      const address = need(ctx, "address", "ADDRESS");
      const reply = await (await open(ctx)).allowListRemove(need(ctx, "wallet", "NAME"), { chain, address });
      return { human: `${chain} ${address} is off the allow-list`, data: { chain, address, ...reply } };
    },
  ),
};
