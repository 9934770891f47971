/**
 * The account's audit chain, checked on this device: every link recomputed here and held against
 * the last head this device saw (`Wallet.auditCheck`), then the provider's own check, which alone
 * sees entries cut from the end that this device never saw. Either failing fails the command.
 */
import { WalletError } from "../../errors.js";
import { type Command, open } from "./options.js";

export const AUDIT: Record<string, Command> = {
  "audit verify": {
    usage: "audit verify",
    summary: "check that the account's audit chain is unbroken",
    help: `Fetches the account's audit log from the provider and checks its hash chain on this device: no entry
removed, changed or reordered, and the entries this device saw at its last check still there as they
were (history rewritten with every later link recomputed shows). Then asks the provider for its own
check too.
example: keyshard audit verify`,
    async run(ctx) {
      const wallet = await open(ctx);
      const device = await wallet.auditCheck();
      if (device.status !== "intact")
        throw new WalletError(
          "audit-broken",
          device.status === "broken"
            ? `the account's audit chain is broken at entry ${device.at}, checked on this device`
            : `the account's audit chain was rewritten or cut: entry ${device.at}, which this device saw before, is missing or changed`,
          { ...device },
        );
      const provider = await wallet.auditVerify();
      if (provider.ok !== true)
        throw new WalletError(
          "audit-broken",
          `the provider finds the account's audit chain broken: ${JSON.stringify(provider)}`,
          {
            ...provider,
          },
        );
      const seen = device.extendsSeen === null ? "" : `, extends entry ${device.extendsSeen} this device saw before`;
      return {
        human: `the audit chain holds on this device: ${device.entries} entries${seen}; the provider agrees (head ${String(provider.head)})`,
        data: { ...provider, device },
      };
    },
  },
};
