/** The device and its account: create, register, verify, the account's devices, TOTP, and the security changes waiting out their delay. */
import { WalletError } from "../../errors.js";
import { arg, type Command, need, open, sdk, totpOf } from "./options.js";

/**
 * The provider's refusal to mail another code as a message that says what to do and when to try
 * again; other failures unchanged. `now` is when the code was asked for.
 */
export function codeNotResent(e: unknown, now: Date): unknown {
  if (!(e instanceof WalletError) || e.details.providerError !== "code-recently-sent") return e;
  const by = new Date(now.getTime() + 10 * 60_000);
  return new WalletError(
    "provider-refused",
    `a code was mailed less than 10 minutes ago and is not used yet: enter it with keyshard verify CODE, or ask again with keyshard register --resend at ${by.toISOString()} at the latest (the provider mails at most one code per 10 minutes)`,
    { ...e.details, retryBy: by.toISOString() },
  );
}

/**
 * When a device registered, as the device listing prints it: in UTC to the millisecond. A time the
 * provider gave that no date carries is said to be unknown, not turned into a crash of the listing.
 */
export function registeredText(createdMs: unknown): string {
  const date = typeof createdMs === "number" && Number.isSafeInteger(createdMs) ? new Date(createdMs) : undefined;
  return date === undefined || Number.isNaN(date.getTime())
    ? "registered at an unknown time"
    : `registered ${date.toISOString()}`;
}

export const ACCOUNT: Record<string, Command> = {
  init: {
    usage: "init [--name NAME]",
    summary: "new device identity and encrypted keystore",
    help: `Makes this device's identity keys and its keystore in --home (default ~/.keyshard), encrypted
with the passphrase (KEYSHARD_PASSPHRASE, else asked twice at the terminal). --name is how the
account's other devices see it.
example: keyshard init --name laptop`,
    async run(ctx) {
      const { Wallet } = await sdk();
      const name = typeof ctx.values.name === "string" ? ctx.values.name : "device";
      const wallet = await Wallet.init(ctx.home, await ctx.newPassphrase(), { name });
      return {
        human: `device ${wallet.deviceId} created in ${ctx.home}; next: keyshard register --provider URL --email E`,
        data: { deviceId: wallet.deviceId, home: ctx.home },
      };
    },
  },

  register: {
    usage: "register --provider URL --email EMAIL\nregister --resend",
    summary: "register this device with a provider, or ask for a new code",
    help: `Registers this device with the provider at URL under EMAIL; the provider mails a code (a
provider without SMTP writes it to its log) to enter with keyshard verify. --resend asks for a
new code for this registered, not yet verified device: at most one per 10 minutes until a code
is used.
example: keyshard register --provider http://localhost:8080 --email me@example.com`,
    async run(ctx) {
      const wallet = await open(ctx);
      if (ctx.values.resend === true) {
        const reply = await wallet.resendCode().catch((e) => {
          throw codeNotResent(e, new Date());
        });
        return {
          human: `a new code was mailed to the account's address (a provider without SMTP writes it to its log); enter it within 10 minutes: keyshard verify CODE`,
          data: reply,
        };
      }
      const reply = await wallet.register(need(ctx, "provider", "URL"), need(ctx, "email", "EMAIL"));
      return {
        human: `registered as ${reply.deviceId}; enter the code mailed to you (a provider without SMTP writes it to its log): keyshard verify CODE; a new one: keyshard register --resend`,
        data: reply,
      };
    },
  },

  verify: {
    usage: "verify CODE",
    summary: "the code mailed to EMAIL",
    help: `Proves the email with the code the provider mailed. The account's first device is then active;
a later device waits for an active device to approve it (keyshard devices approve).
example: keyshard verify 123456`,
    async run(ctx) {
      const reply = await (await open(ctx)).verify(arg(ctx, 0, "the CODE from the mail"));
      const next =
        reply.state === "active"
          ? ""
          : "; an active device of the account must approve it: keyshard devices approve ID";
      return { human: `device ${reply.deviceId} is ${reply.state}${next}`, data: reply };
    },
  },

  devices: {
    usage: "devices",
    summary: "the account's devices",
    help: `Lists the account's devices: id, state, when it registered (UTC) and name.
example: keyshard devices`,
    async run(ctx) {
      const account = await (await open(ctx)).account();
      return {
        human: account.devices
          .map((d) => `${d.id}  ${d.state.padEnd(18)} ${registeredText(d.createdMs)}  ${d.name}`)
          .join("\n"),
        data: account,
      };
    },
  },

  "devices approve": {
    usage: "devices approve DEVICE [--totp CODE]",
    summary: "let another device of the account in (active after the delay)",
    help: `Approves a verified device of the account. It becomes active after the account's delay, unless a
device of the account cancels it (keyshard changes cancel). Where the account has a TOTP, give
its current --totp CODE.
example: keyshard devices approve 3f2a…`,
    async run(ctx) {
      const reply = await (await open(ctx)).approveDevice(arg(ctx, 0, "the DEVICE id to approve"), totpOf(ctx));
      return {
        human: `device ${reply.deviceId} is ${reply.state}; it becomes active on ${reply.effectiveAt} unless a device of the account cancels it`,
        data: reply,
      };
    },
  },

  "devices revoke": {
    usage: "devices revoke DEVICE [--strand-wallets]",
    summary: "shut a lost or retired device of the account out",
    help: `Revokes a device: the provider no longer answers it. Then take its shares out of use: reshare
the t-of-n wallets it was a member of, and recover hybrid wallets it held on a new device.
--strand-wallets revokes it even when a t-of-n wallet is left without enough signers.
example: keyshard devices revoke 3f2a…`,
    async run(ctx) {
      const reply = await (await open(ctx)).revokeDevice(arg(ctx, 0, "the DEVICE id to revoke"), {
        strandWallets: ctx.values["strand-wallets"] === true,
      });
      const wallets = reply.wallets.map((w) =>
        w.signersLeft >= w.threshold
          ? `\n  wallet ${w.name}: ${w.signersLeft} members can still sign (${w.threshold} needed): keyshard reshare --wallet ${w.name} --remove ${reply.deviceId}`
          : `\n  wallet ${w.name}: ${w.signersLeft} members can still sign, ${w.threshold} are needed: it can no longer sign`,
      );
      return {
        human: `device ${reply.deviceId} is revoked: the provider no longer answers it. Take its shares out of use${wallets.length > 0 ? `:${wallets.join("")}\n  and` : ":"} \`keyshard recover\` on a new device for hybrid wallets it held`,
        data: reply,
      };
    },
  },

  changes: {
    usage: "changes",
    summary: "security changes waiting out their delay",
    help: `Lists the account's security changes (devices, TOTP, faces, heirs…) that wait out their delay
and can still be cancelled.
example: keyshard changes`,
    async run(ctx) {
      const { changes } = await (await open(ctx)).accountChanges();
      return {
        human:
          changes.map((c) => `${String(c.id)} ${String(c.summary)}, from ${String(c.effectiveAt)}`).join("\n") ||
          "no security change is waiting",
        data: changes,
      };
    },
  },

  "changes cancel": {
    usage: "changes cancel ID\nchanges cancel --token TOKEN --provider URL",
    summary: "cancel a waiting security change (the token is in the mail)",
    help: `Cancels a waiting security change, from a device of the account by its ID, or from anywhere
with the TOKEN the provider mailed about it (no device needed).
example: keyshard changes cancel --token abc… --provider http://localhost:8080`,
    async run(ctx) {
      const token = ctx.values.token;
      const reply =
        typeof token === "string"
          ? await (await sdk()).Wallet.cancelAccountChangeWithToken(need(ctx, "provider", "URL"), token)
          : await (await open(ctx)).cancelAccountChange(arg(ctx, 0, "the change ID (or --token TOKEN --provider URL)"));
      return { human: `cancelled: ${String(reply.summary)}`, data: reply };
    },
  },

  "totp enroll": {
    usage: "totp enroll [--totp CURRENT]",
    summary: "a TOTP for the account (replacing one needs its code)",
    help: `Starts a TOTP for the account: prints the otpauth URI for your authenticator; confirm it with
keyshard totp confirm. Replacing an existing TOTP needs its current code as --totp.
example: keyshard totp enroll`,
    async run(ctx) {
      const reply = await (await open(ctx)).totpEnroll(totpOf(ctx));
      return {
        human: `add this to your authenticator: ${reply.uri}\nthen confirm: keyshard totp confirm CODE (it counts once its delay has passed)`,
        data: reply,
      };
    },
  },

  "totp confirm": {
    usage: "totp confirm CODE",
    summary: "confirm a new TOTP; it counts once its delay has passed",
    help: `Confirms the TOTP just enrolled with a code from the authenticator. It counts once the
account's delay has passed, unless a device of the account cancels it.
example: keyshard totp confirm 123456`,
    async run(ctx) {
      const reply = await (await open(ctx)).totpConfirm(arg(ctx, 0, "the CODE from the authenticator"));
      return {
        human: `TOTP confirmed; it counts from ${new Date(Number(reply.effectiveMs)).toISOString()} unless a device of the account cancels it`,
        data: reply,
      };
    },
  },
};
