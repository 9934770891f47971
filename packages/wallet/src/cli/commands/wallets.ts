import type { SchemeName } from "@keyshard/mpc";
/** Wallets: create, list and join key generations; new shares (refresh, reshare); the hybrid backup; addresses. */
import { WalletError } from "../../errors.js";
import { keyChangeText, partiesText } from "./display.js";
import {
  type Command,
  type CommandContext,
  chainOf,
  integer,
  need,
  networkOf,
  open,
  quorumOf,
  readJson,
  totpOf,
} from "./options.js";
import { watchedAddress } from "./watch.js";

const BACKUP_HELP = `The provider's share of a hybrid wallet, after its delay: then this device signs alone, without
the provider or its policy. request starts the delay (the account is mailed; --totp where the
account has one), status shows it, cancel stops it, download takes the share once ready.
example: keyshard backup request --wallet savings`;

/** One backup step: the four share their help, as they are one flow. */
function backupStep(
  step: string,
  summary: string,
  run: (ctx: CommandContext) => Promise<{ human: string; data: unknown }>,
): Command {
  return {
    usage: `backup ${step} --wallet N${step === "request" ? " [--totp CODE]" : ""}`,
    summary,
    help: BACKUP_HELP,
    run,
  };
}

export const WALLETS: Record<string, Command> = {
  "wallet create": {
    usage:
      "wallet create --name N [--scheme S] [--policy FILE | --policy-template ID]\nwallet create --name N --with DEVICE… [--quorum T/N] [--provider-party yes|no] [--scheme S] [--policy FILE | --policy-template ID]",
    summary: "a new wallet: its key is generated jointly, never whole",
    help: `Generates a new wallet's key jointly with its other parties. Without --with it is hybrid: this
device and the provider, 2-of-2, scheme ecdsa2p. --with DEVICE (once per other device) makes a
t-of-n wallet over this device and the DEVICEs, scheme dkls23 unless --scheme says frost-ed25519
(Solana) or frost-taproot; the other devices take part with keyshard wallet join.
The provider is a party (it holds a share and co-signs only what its policy allows) unless
--provider-party no: then it only relays, and no policy of its applies. N in --quorum T/N counts
every party: this device, each --with, and the provider when it is one; T is how many sign
(default 2). The output says which parties the key has. --policy FILE is the provider's JSON list
of rules for it, amounts in coins (see keyshard policy set --help); --policy-template ID gives
it a copy of one of the provider's policy templates instead (keyshard policy templates lists
them); with neither, the provider's default.
schemes: ecdsa2p, dkls23 (Ethereum, Bitcoin), frost-ed25519 (Solana), frost-taproot (Bitcoin Taproot)
examples: keyshard wallet create --name savings
          keyshard wallet create --name team --with LAPTOP_ID --with TABLET_ID --quorum 2/4
          keyshard wallet create --name family --with LAPTOP_ID --quorum 2/2 --provider-party no
          keyshard wallet create --name daily --policy-template standard`,
    async run(ctx) {
      const { SCHEME_NAMES } = await import("@keyshard/mpc");
      const schemeName = ctx.values.scheme as string | undefined;
      if (schemeName !== undefined && !SCHEME_NAMES.includes(schemeName as SchemeName))
        throw new WalletError("usage", `--scheme is one of ${SCHEME_NAMES.join(", ")}`);
      const providerParty = ctx.values["provider-party"];
      if (providerParty !== undefined && providerParty !== "yes" && providerParty !== "no")
        throw new WalletError("usage", "--provider-party is yes or no");
      const quorum = quorumOf(ctx);
      const policy = typeof ctx.values.policy === "string" ? readJson(ctx.values.policy, "policy file") : undefined;
      if (policy !== undefined && !Array.isArray(policy))
        throw new WalletError("usage", "a policy file is a JSON list of rules");
      const wallet = await open(ctx);
      const created = await wallet.createWallet({
        name: need(ctx, "name", "NAME"),
        ...(schemeName !== undefined && { scheme: schemeName as SchemeName }),
        ...(quorum && { threshold: quorum.t, n: quorum.n }),
        ...(Array.isArray(ctx.values.with) && { devices: ctx.values.with }),
        ...(providerParty !== undefined && { providerParty: providerParty === "yes" }),
        ...(policy !== undefined && { policy: policy as unknown[] }),
        ...(typeof ctx.values["policy-template"] === "string" && { policyTemplate: ctx.values["policy-template"] }),
      });
      return {
        human: `wallet ${created.name} made: ${created.id}\n${partiesText(created)}`,
        data: { ...created, providerParty: created.members === null || created.members.some((m) => m.provider) },
      };
    },
  },

  "wallet delete": {
    usage: "wallet delete --name N",
    summary: "give up a wallet whose key generation never finished",
    help: `Deletes a wallet whose key generation was interrupted, timed out or failed, so that its name can
be used again; devices still waiting in its key generation stop. Any device of the account may.
A wallet whose key was made is never deleted: it may hold funds.
example: keyshard wallet delete --name team`,
    async run(ctx) {
      const deleted = await (await open(ctx)).deleteWallet(need(ctx, "name", "NAME"));
      return {
        human: `wallet ${deleted.name} is deleted: nothing was made, and the name is free again`,
        data: deleted,
      };
    },
  },

  "wallet list": {
    usage: "wallet list",
    summary: "this device's wallets",
    help: `Lists this device's wallets: name, scheme, quorum and state.
example: keyshard wallet list`,
    async run(ctx) {
      const wallets = await (await open(ctx)).wallets();
      return {
        human:
          wallets.length === 0
            ? "no wallets yet: keyshard wallet create --name N"
            : wallets
                .map(
                  (w) =>
                    `${w.name.padEnd(16)} ${w.scheme.padEnd(14)} ${w.members ? `${w.threshold}-of-${w.members.length}` : "hybrid"} ${w.state}`,
                )
                .join("\n"),
        data: { wallets },
      };
    },
  },

  "wallet join": {
    usage: "wallet join [--wait SECONDS]",
    summary: "join key generations and key changes waiting for this device",
    help: `Takes part in every key generation and key change (refresh, reshare) that another device of
the account started with this device as a member. --wait: when none waits yet, look again each
second for up to SECONDS, so that this device can be started first.
example: keyshard wallet join --wait 60`,
    async run(ctx) {
      const wallet = await open(ctx);
      const until = Date.now() + (integer(ctx, "wait") ?? 0) * 1000;
      const joinWaiting = async () => [...(await wallet.joinPendingWallets()), ...(await wallet.joinKeyChanges())];
      let joined = await joinWaiting();
      while (joined.length === 0 && Date.now() < until) {
        await new Promise((next) => setTimeout(next, 1000));
        joined = await joinWaiting();
      }
      return {
        human:
          joined.length === 0
            ? "no key generation or key change waits for this device"
            : joined.map((w) => `joined ${w.name}`).join("\n"),
        data: { joined },
      };
    },
  },

  refresh: {
    usage: "refresh --wallet N",
    summary: "new shares of the same key (addresses unchanged)",
    help: `Replaces every party's share of the wallet's key with a new one; the old shares no longer sign.
The key and the addresses stay the same. In a t-of-n wallet the other members take part with
keyshard wallet join.
example: keyshard refresh --wallet savings`,
    async run(ctx) {
      const changed = await (await open(ctx)).refresh(need(ctx, "wallet", "NAME"));
      return { human: keyChangeText(changed), data: changed };
    },
  },

  reshare: {
    usage: "reshare --wallet N [--add DEVICE…] [--remove DEVICE…] [--quorum T/N]",
    summary: "move a t-of-n wallet's key to other devices (addresses unchanged)",
    help: `Moves a t-of-n wallet's key to a new set of members or a new quorum: --add and --remove devices
(repeatable), --quorum T/N. The key and the addresses stay the same; removed devices' shares
no longer sign. The members take part with keyshard wallet join.
example: keyshard reshare --wallet team --remove 3f2a… --add 9c1d…`,
    async run(ctx) {
      const quorum = quorumOf(ctx);
      const list = (name: string) => (Array.isArray(ctx.values[name]) ? (ctx.values[name] as string[]) : []);
      if (list("add").length === 0 && list("remove").length === 0 && quorum === undefined)
        throw new WalletError("usage", "say what changes: --add DEVICE, --remove DEVICE and/or --quorum T/N");
      const changed = await (await open(ctx)).reshare(need(ctx, "wallet", "NAME"), {
        add: list("add"),
        remove: list("remove"),
        ...(quorum && { threshold: quorum.t, n: quorum.n }),
      });
      return { human: keyChangeText(changed), data: changed };
    },
  },

  "backup request": backupStep("request", "ask for the provider's share of a hybrid wallet", async (ctx) => {
    const reply = await (await open(ctx)).backupRequest(need(ctx, "wallet", "NAME"), totpOf(ctx));
    return {
      human: `backup requested; the provider releases its share on ${String(reply.readyAt)} unless a device cancels it (the account was mailed). Then: keyshard backup download --wallet ${String(ctx.values.wallet)}`,
      data: reply,
    };
  }),

  "backup status": backupStep("status", "where a backup request stands", async (ctx) => {
    const reply = await (await open(ctx)).backupStatus(need(ctx, "wallet", "NAME"));
    return { human: `backup ${String(reply.status)}; ready on ${String(reply.readyAt)}`, data: reply };
  }),

  "backup cancel": backupStep("cancel", "stop a backup request: the provider keeps its share", async (ctx) => {
    const reply = await (await open(ctx)).backupCancel(need(ctx, "wallet", "NAME"));
    return { human: `backup ${String(reply.status)}; the provider keeps its share`, data: reply };
  }),

  "backup download": backupStep("download", "take the provider's share: then you sign alone", async (ctx) => {
    const wallet = await (await open(ctx)).backupDownload(need(ctx, "wallet", "NAME"));
    return {
      human: `wallet ${wallet.name} is self-custodied: this device now signs alone, without the provider or its policy`,
      data: { ...wallet, custody: "self" },
    };
  }),

  address: {
    usage:
      "address --wallet N --chain ethereum|bitcoin|solana [--path m/0/i] [--network mainnet|testnet|regtest]\naddress --xpub KEY --chain ethereum|bitcoin [--path 0/i] [--algorithm ecdsa|bip340] [--type p2wpkh|p2tr] [--network N]",
    summary: "the wallet's address on a chain",
    help: `Prints the wallet's address on a chain, derived from its public key (no signing, no network).
--path derives a child address; --network picks Bitcoin's network. Solana needs a wallet made
with --scheme frost-ed25519; Ethereum and Bitcoin a secp256k1 one (ecdsa2p, dkls23,
frost-taproot for Bitcoin Taproot).
With --xpub (from keyshard xpub) instead of --wallet: watch-only, no device or passphrase needed.
--path is then below that key ("0/5"; "m/0/5" only for a root key), and --algorithm says how
the key's wallet signs (keyshard xpub --json gives it): ecdsa for ecdsa2p and dkls23 wallets,
bip340 for frost-taproot ones, which have no Ethereum address. Bitcoin takes --type instead:
p2wpkh for ecdsa, p2tr for bip340.
examples: keyshard address --wallet savings --chain ethereum
          keyshard address --xpub xpub6… --chain ethereum --path 0/5 --algorithm ecdsa
          keyshard address --xpub xpub6… --chain bitcoin --path 0/5 --type p2wpkh`,
    async run(ctx) {
      if (typeof ctx.values.xpub === "string") return watchedAddress(ctx, ctx.values.xpub);
      const network = networkOf(ctx);
      const address = (await open(ctx)).address(need(ctx, "wallet", "NAME"), chainOf(ctx), {
        ...(typeof ctx.values.path === "string" && { path: ctx.values.path }),
        ...(network && { network }),
      });
      return { human: address, data: { address } };
    },
  },
};
