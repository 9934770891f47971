/**
 * Recovery by face: enroll a face, recover on a new device, let an old device confirm or reject a
 * recovery, and heirs. The face models load only when one of these commands runs.
 */
import { WalletError } from "../../errors.js";
import { askLine } from "../prompt.js";
import {
  arg,
  type Command,
  type CommandContext,
  integer,
  need,
  open,
  picturesOf,
  reporting,
  sdk,
  totpOf,
} from "./options.js";

const RECOVERY_HELP = `On an old device of the account: list face recoveries; confirm one to lift its hold on outgoing
transfers, or reject it to revoke the recovered device (then refresh your wallets from here).
example: keyshard recovery reject 5b7e…`;

const HEIR_HELP = `An heir can recover your wallets with their face after you have been inactive for --after-days
(30 to 3660) days, after reminders to you 30, 7 and 1 day before. add enrolls one (by email and
their pictures; --totp where the account has one), list shows them, veto ID ends one for good.
example: keyshard heir add --email heir@example.com --frames ./heir-frames --after-days 365`;

const OPERATORS_HELP = `The face's key is shared among the provider's recovery operators: this device pins their list
the first time and trusts that no threshold of them work together. If the provider later names
others, nothing is done until you accept them with --operators URL#KEY,… (in the provider's order).`;

/** The recovery operators given to accept, if any. */
const operatorsOf = (ctx: CommandContext) =>
  typeof ctx.values.operators === "string" ? ctx.values.operators : undefined;

export const FACE: Record<string, Command> = {
  "enroll-face": {
    usage: "enroll-face (--image FILE… | --frames DIR) [--totp CODE] [--operators URL#KEY,…]",
    summary: "let your face recover your hybrid wallets on a new device (after the delay)",
    help: `Enrolls your face from pictures (--image, repeatable) or a folder of frames: the recovery
secret of your hybrid wallets is sealed so that only your face regenerates it. No picture or
embedding is stored. In effect after the account's delay, unless a device cancels it.
${OPERATORS_HELP}
example: keyshard enroll-face --frames ./my-frames`,
    async run(ctx) {
      const reply = await (await open(ctx)).enrollFace(picturesOf(ctx), totpOf(ctx), operatorsOf(ctx));
      return {
        human: `face enrolled (${reply.enrollmentId}); from ${reply.effectiveAt}, unless cancelled, ${reply.wallets} hybrid wallet(s) can be recovered with it. No picture or embedding was stored.`,
        data: reply,
      };
    },
  },

  recover: {
    usage: "recover --provider URL --email E (--image FILE | --frames DIR) [--code CODE] [--operators URL#KEY,…]",
    summary: "on a new device: email code, liveness challenge, face; then refresh",
    help: `On a new device: registers it (the emailed code as --code, else asked), answers a liveness
challenge with your frames, regenerates the recovery secret from your face and takes over your
hybrid wallets with fresh shares; the lost device's shares no longer sign. Outgoing transfers
are held for a while unless an old device confirms (keyshard recovery confirm). The face is
checked by the provider's recovery operators: each counts and mails the attempt.
${OPERATORS_HELP}
example: keyshard recover --provider http://localhost:8080 --email me@example.com --frames ./frames`,
    async run(ctx) {
      const pictures = picturesOf(ctx);
      const url = need(ctx, "provider", "URL");
      const email = need(ctx, "email", "EMAIL");
      const passphrase = await ctx.passphrase();
      const name = typeof ctx.values.name === "string" ? ctx.values.name : "recovered device";
      const { Wallet } = await sdk();
      const wallet = await Wallet.open(ctx.home, passphrase, reporting(ctx)).catch((e) => {
        if ((e as { code?: string }).code !== "missing") throw e;
        return Wallet.init(ctx.home, passphrase, { name, ...reporting(ctx) });
      });
      if (wallet.providerUrl === undefined) await wallet.register(url, email);
      // A recover stopped at the code prompt left the device registered and unverified: resume there.
      if ((await wallet.deviceState()).state === "unverified") {
        const code = typeof ctx.values.code === "string" ? ctx.values.code : await askLine(`code mailed to ${email}: `);
        await wallet.verify(code);
      }
      const { describeChallenge } = await import("@keyshard/biometric");
      const recovered = await wallet.recover(
        pictures,
        async (challenge) => {
          process.stderr.write(`liveness challenge: ${describeChallenge(challenge)} ${JSON.stringify(challenge)}\n`);
          if (ctx.values.yes !== true) await askLine("capture the frames now, then press Enter: ");
        },
        operatorsOf(ctx),
      );
      const names = recovered.wallets.map((w) => w.name).join(", ");
      return {
        human: [
          `recovered ${recovered.wallets.length} wallet(s) as ${recovered.kind}: ${names}; their shares are refreshed, the lost device's no longer sign`,
          ...(recovered.holdUntil
            ? [
                `outgoing transfers are held until ${recovered.holdUntil} unless your old device confirms: keyshard recovery confirm ${recovered.recoveryId}`,
              ]
            : []),
        ].join("\n"),
        data: recovered,
      };
    },
  },

  "recovery list": {
    usage: "recovery list",
    summary: "the account's face recoveries",
    help: RECOVERY_HELP,
    async run(ctx) {
      const { recoveries } = await (await open(ctx)).recoveries();
      return {
        human:
          recoveries
            .map((r) => `${r.id} ${r.status} device ${r.device} at ${r.at}, hold until ${r.holdUntil}`)
            .join("\n") || "no face recoveries",
        data: recoveries,
      };
    },
  },

  "recovery confirm": {
    usage: "recovery confirm ID",
    summary: "it was you: lift the recovery's transfer hold",
    help: RECOVERY_HELP,
    async run(ctx) {
      const reply = await (await open(ctx)).decideRecovery(arg(ctx, 0, "the recovery id"), "confirm");
      return { human: `recovery ${String(reply.id)} confirmed: transfers are no longer held`, data: reply };
    },
  },

  "recovery reject": {
    usage: "recovery reject ID",
    summary: "it was not you: revoke the recovered device",
    help: RECOVERY_HELP,
    async run(ctx) {
      const reply = await (await open(ctx)).decideRecovery(arg(ctx, 0, "the recovery id"), "reject");
      return {
        human: `recovery ${String(reply.id)} rejected: device ${String(reply.device)} is revoked. Refresh your wallets from this device.`,
        data: reply,
      };
    },
  },

  "heir add": {
    usage: "heir add --email E (--image FILE… | --frames DIR) [--after-days N] [--totp CODE] [--operators URL#KEY,…]",
    summary: "someone who may recover your wallets after your inactivity",
    help: HEIR_HELP,
    async run(ctx) {
      const days = integer(ctx, "after-days");
      // The owner is reminded 30, 7 and 1 day before: a shorter threshold would skip reminders.
      if (days !== undefined && (days < 30 || days > 3660))
        throw new WalletError("usage", "--after-days is 30 to 3660 days of inactivity");
      const reply = await (await open(ctx)).addHeir(
        need(ctx, "email", "EMAIL"),
        picturesOf(ctx),
        days,
        totpOf(ctx),
        operatorsOf(ctx),
      );
      return {
        human: `heir ${String(ctx.values.email)} enrolled (${reply.enrollmentId}), in effect from ${reply.effectiveAt}; they can recover ${reply.wallets} wallet(s) after your inactivity, after reminders to you. Veto with: keyshard heir veto ${reply.enrollmentId}`,
        data: reply,
      };
    },
  },

  "heir list": {
    usage: "heir list",
    summary: "the account's heirs",
    help: HEIR_HELP,
    async run(ctx) {
      const heirs = await (await open(ctx)).heirs();
      return {
        human:
          heirs.map((h) => `${h.id} ${h.heirEmail} after ${h.inactivityDays} days of inactivity`).join("\n") ||
          "no heirs",
        data: heirs,
      };
    },
  },

  "heir veto": {
    usage: "heir veto ID",
    summary: "end an heir's enrollment for good",
    help: HEIR_HELP,
    async run(ctx) {
      const reply = await (await open(ctx)).vetoHeir(arg(ctx, 0, "the heir's enrollment id"));
      return {
        human: `heir ${String(reply.heirEmail)} vetoed: they can never recover with this enrollment`,
        data: reply,
      };
    },
  },
};
