/** The account's audit chain, checked on this device. */
import { WalletError } from "../../errors.js";
import { type Command, open } from "./options.js";

export const AUDIT: Record<string, Command> = {
  "audit verify": {
    usage: "audit verify",
    summary: "check that the account's audit chain is unbroken",
    help: `Fetches the account's audit log from the provider and checks its hash chain: no entry removed,
changed or reordered.
example: keyshard audit verify`,
    async run(ctx) {
      const reply = await (await open(ctx)).auditVerify();
      if (reply.ok !== true)
        throw new WalletError("audit-broken", `the account's audit chain is broken: ${JSON.stringify(reply)}`, {
          ...reply,
        });
      return {
        human: `the audit chain holds: ${String(reply.length)} entries, head ${String(reply.head)}`,
        data: reply,
      };
    },
  },
};
