/** The confirmation device: a device that approves other devices' requests by hand or by its rules. */
import type { TransactionDescription } from "@keyshard/chains";
import type { CosignerLogEntry } from "../../cosigner.js";
import { inOptions } from "../parameters.js";
import { confirmOrStop, describeForPeople } from "./display.js";
import { type Command, open, readJson } from "./options.js";

export const COSIGNER: Record<string, Command> = {
  "cosigner run": {
    usage: "cosigner run [--rules FILE] [--once]",
    summary: "approve other devices' requests, by hand or by rules",
    help: `Runs this device as a confirmation device: each request of a wallet it is a member of is
decoded and shown, then approved or refused by the JSON rules in --rules FILE, or asked at the
terminal. Every decision is written to the cosigner log. --once handles what waits now and
stops; otherwise it runs until Ctrl-C, waiting on the provider's push channel (idle, a few
requests a minute), and stops with exit code 1 once the provider has revoked this device.
example: keyshard cosigner run --rules cosigner-rules.json`,
    async run(ctx) {
      const wallet = await open(ctx);
      const { Cosigner, parseRules } = await import("../../cosigner.js");
      const rules =
        typeof ctx.values.rules === "string" ? parseRules(readJson(ctx.values.rules, "rules file")) : undefined;
      const report = (e: CosignerLogEntry) =>
        process.stdout.write(
          ctx.json ? `${JSON.stringify(e)}\n` : `${e.at} ${e.decision} ${e.chain} for ${e.wallet}: ${e.reason}\n`,
        );
      const cosigner = new Cosigner(wallet, ctx.home, {
        ...(rules && { rules }),
        ...(ctx.interactive && {
          ask: (d: TransactionDescription) => confirmOrStop(ctx, describeForPeople(d)),
        }),
        report,
        warn: (message: string) => ctx.progress(inOptions(message)),
      });
      if (ctx.values.once === true) {
        await cosigner.poll();
        return { human: "done", data: { done: true } };
      }
      ctx.progress(`cosigner ${wallet.deviceId} waiting for proposals (Ctrl-C stops)`);
      const stop = new AbortController();
      process.once("SIGINT", () => stop.abort());
      process.once("SIGTERM", () => stop.abort());
      await cosigner.run(stop.signal);
      return { human: "stopped", data: { stopped: true } };
    },
  },
};
