/** The provider's policy for a wallet: see it, change it (after a delay the account's devices can cancel). */
import { WalletError } from "../../errors.js";
import { pendingChangesText } from "./controls.js";
import { arg, type Command, need, open, readJson } from "./options.js";

interface ShownRule {
  name: string;
  when?: unknown;
  decision: string;
  approvals?: number;
  delaySeconds?: number;
}

/** The rules one a line, numbered from 1 as held and denied requests name them. */
async function shownRules(rules: ShownRule[]): Promise<string> {
  // Imported here, not at the top, as it brings the chains: `--help` has no use for them.
  const { ruleLabel } = await import("../../policy-units.js");
  const lines = rules.map((r, i) => {
    const extra =
      r.approvals !== undefined ? ` ${r.approvals}` : r.delaySeconds !== undefined ? ` ${r.delaySeconds} s` : "";
    return `  ${ruleLabel(i + 1, r.name)}: ${r.decision}${extra} when ${JSON.stringify(r.when ?? {})}`;
  });
  return `rules (the first that matches decides; no match: denied):\n${lines.join("\n")}`;
}

export const POLICY: Record<string, Command> = {
  "policy show": {
    usage: "policy show --wallet N",
    summary: "the provider's rules for a wallet",
    help: `Prints the policy the provider applies before it co-signs for the wallet: its rules numbered
from 1 (as held and denied requests name them), first match wins, amounts in coins; then the
changes still waiting out their delay. With --json, its "policy" can be edited and given to
policy set as it is.
example: keyshard policy show --wallet savings`,
    async run(ctx) {
      const policy = await (await open(ctx)).policy(need(ctx, "wallet", "NAME"));
      return { human: `${await shownRules(policy.policy as ShownRule[])}${pendingChangesText(policy)}`, data: policy };
    },
  },

  "policy templates": {
    usage: "policy templates",
    summary: "the policies the provider offers a new wallet",
    help: `Lists the provider's policy templates, its default first: each one's id (what wallet create
--policy-template takes), name, description and rules, amounts in coins. A wallet made from one
gets a copy of its rules, which later changes of the template leave alone.
example: keyshard policy templates`,
    async run(ctx) {
      const templates = await (await open(ctx)).policyTemplates();
      // The provider's operator wrote the name and description: quoted as JSON, no character of theirs reaches the terminal raw.
      const shown = await Promise.all(
        templates.map(
          async (t) =>
            `${t.id}: ${JSON.stringify(t.name)} ${JSON.stringify(t.description)}\n${await shownRules(t.rules as ShownRule[])}`,
        ),
      );
      return { human: shown.join("\n\n"), data: { templates } };
    },
  },

  "policy set": {
    usage: "policy set FILE --wallet N --totp CODE",
    summary: "new rules for a wallet, in effect after a delay",
    help: `Replaces the wallet's policy with the JSON list of rules in FILE. It needs the account's TOTP
code and takes effect after the delay, unless a device of the account cancels it. Amounts
(maxAmount, window maxTotal, maxFee) are in coins of the rule's asset ("0.5", "0.5 ETH"), or in
base units said so ("21000 wei", "1500 sat", "5000 lamports", "10 base units").
example: keyshard policy set rules.json --wallet savings --totp 123456`,
    async run(ctx) {
      const rules = readJson(arg(ctx, 0, "the policy FILE"), "policy file");
      if (!Array.isArray(rules)) throw new WalletError("usage", "a policy file is a JSON list of rules");
      const reply = await (await open(ctx)).setPolicy(need(ctx, "wallet", "NAME"), rules, need(ctx, "totp", "CODE"));
      return {
        human: `policy change ${String(reply.changeId)} takes effect at ${new Date(Number(reply.effectiveMs)).toISOString()} unless a device cancels it`,
        data: reply,
      };
    },
  },
};
