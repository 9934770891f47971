/**
 * The `keyshard` commands: each reads its options, calls the `Wallet` SDK, and returns what to
 * print for a person and for `--json`. Nothing here talks to the network or the disk by itself.
 */
import { readFileSync } from "node:fs";
import { describeChallenge } from "@keyshard/biometric";
import type { BitcoinNetwork, TransactionDescription } from "@keyshard/chains";
import { SCHEME_NAMES, type SchemeName } from "@keyshard/transport";
import { Cosigner, type CosignerLogEntry, parseRules } from "../cosigner.js";
import { WalletError } from "../errors.js";
import { plainJson } from "../requests.js";
import type { StoredWallet } from "../state.js";
import { type Chain, cancelAccountChangeWithToken, type SignOutcome, Wallet } from "../wallet.js";
import { askLine, askYesNo } from "./prompt.js";

export interface CommandContext {
  home: string;
  values: Record<string, string | boolean | string[] | undefined>;
  args: string[];
  json: boolean;
  passphrase(): Promise<string>;
  progress(text: string): void;
  /** A person at a terminal who can be asked. */
  interactive: boolean;
}

export interface CommandResult {
  human: string;
  data: unknown;
}

type Command = (ctx: CommandContext) => Promise<CommandResult>;

export const USAGE = `usage: keyshard <command> [options]   (--home DIR, --json, --yes everywhere)

  init [--name NAME]                              new device identity and encrypted keystore
  register --provider URL --email EMAIL           register this device with a provider
  register --resend                               a new code for this registered, not yet verified device
                                                  (at most one per 10 minutes until a code is used)
  verify CODE                                     the code mailed to EMAIL
  devices                                         the account's devices
  devices approve DEVICE [--totp CODE]            let another device of the account in (active after the delay)
  devices revoke DEVICE [--strand-wallets]        shut a lost or retired device of the account out (--strand-wallets:
                                                  even when a t-of-n wallet is left without enough signers)
  wallet create --name N [--scheme S] [--quorum T/N --with DEVICE…] [--policy FILE]
  wallet list | wallet join                       list wallets; join key generations and key changes waiting for this device
  refresh --wallet N                              new shares of the same key (addresses unchanged)
  reshare --wallet N [--add DEVICE…] [--remove DEVICE…] [--quorum T/N]
                                                  move a t-of-n wallet's key to other devices (addresses unchanged)
  backup request|status|cancel|download --wallet N [--totp CODE]
                                                  the provider's share of a hybrid wallet, after its delay: then you sign alone
  address --wallet N --chain ethereum|bitcoin|solana [--path m/0/i] [--network mainnet|testnet|regtest]
  send --wallet N --chain ethereum|bitcoin|solana --to ADDRESS --amount X [--rpc URL] [--totp CODE]
       [--chain-id ID --nonce N] [--blockhash HASH] [--path m/0/i] [--wait SECONDS for cosigners]
       bitcoin: [--network N] [--coins FILE of {txid, vout, hex}, else found by --rpc (Bitcoin Core)] [--fee-rate SAT/VB]
  sign-message --wallet N (--message TEXT | --typed-data FILE) [--totp CODE]
               [--chain bitcoin [--network N]: BIP322, for the wallet's Bitcoin address]
  requests [--status S] | approve ID | deny ID | cancel ID | resume ID
  policy show --wallet N | policy set FILE --wallet N --totp CODE
  totp enroll [--totp CURRENT] | totp confirm CODE
                                                  a new TOTP counts once its delay has passed (replacing one needs its code)
  changes | changes cancel ID | changes cancel --token TOKEN --provider URL
                                                  security changes waiting out their delay; cancel one (the token is in the mail)
  cosigner run [--rules FILE] [--once]
  audit verify
  enroll-face (--image FILE… | --frames DIR) [--totp CODE]
                                                  let your face recover your hybrid wallets on a new device (after the delay)
  recover --provider URL --email E (--image FILE | --frames DIR) [--code CODE]
                                                  on a new device: email code, liveness challenge, face; then refresh
  recovery list | recovery confirm ID | recovery reject ID
                                                  on an old device: lift a recovery's transfer hold, or revoke the recovered device
  heir add --email E (--image FILE… | --frames DIR) [--after-days N] [--totp CODE] | heir list | heir veto ID

exit codes: 0 done, 1 failed, 2 usage, 3 held by the provider's policy
`;

/** The account's TOTP code, for the changes that need it where the account has a TOTP. */
function totpOf(ctx: CommandContext): string | undefined {
  return typeof ctx.values.totp === "string" ? ctx.values.totp : undefined;
}

function need(ctx: CommandContext, name: string, what: string): string {
  const value = ctx.values[name];
  if (typeof value !== "string" || value.length === 0) throw new WalletError("usage", `missing --${name} ${what}`);
  return value;
}

function arg(ctx: CommandContext, index: number, what: string): string {
  const value = ctx.args[index];
  if (value === undefined) throw new WalletError("usage", `missing ${what}`);
  return value;
}

function integer(ctx: CommandContext, name: string): number | undefined {
  const value = ctx.values[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^\d{1,15}$/.test(value))
    throw new WalletError("usage", `--${name} must be a whole number`);
  return Number(value);
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new WalletError("usage", `cannot read ${what} ${path}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new WalletError("usage", `${what} ${path} is not JSON`);
  }
}

const CHAINS: readonly Chain[] = ["ethereum", "bitcoin", "solana"];

function chainOf(ctx: CommandContext): Chain {
  const chain = need(ctx, "chain", "ethereum|bitcoin|solana");
  if (!CHAINS.includes(chain as Chain)) throw new WalletError("usage", `--chain is one of ${CHAINS.join(", ")}`);
  return chain as Chain;
}

function networkOf(ctx: CommandContext): BitcoinNetwork | undefined {
  const network = ctx.values.network;
  if (network !== undefined && !["mainnet", "testnet", "regtest"].includes(network as string))
    throw new WalletError("usage", "--network is mainnet, testnet or regtest");
  return network as BitcoinNetwork | undefined;
}

function quorumOf(ctx: CommandContext): { t: number; n: number } | undefined {
  const quorum = ctx.values.quorum;
  if (quorum === undefined) return undefined;
  const match = typeof quorum === "string" ? /^(\d{1,2})\/(\d{1,2})$/.exec(quorum) : null;
  if (match === null) throw new WalletError("usage", "--quorum is T/N, e.g. 2/3");
  return { t: Number(match[1]), n: Number(match[2]) };
}

/** A stored wallet as it may be printed: no share. */
const shown = ({ share: _share, next, providerShare: _provider, ...w }: StoredWallet) => ({
  ...w,
  ...(next && { pendingEpoch: next.epoch }),
});

function keyChangeText(wallet: StoredWallet): string {
  const parties = wallet.members ? `${wallet.threshold}-of-${wallet.members.length}` : "hybrid 2-of-2";
  return wallet.next
    ? `new shares of ${wallet.name} made (epoch ${wallet.next.epoch}); they take over once every member has reported theirs`
    : `wallet ${wallet.name} is at epoch ${wallet.epoch ?? 0}, ${parties}; same key, same addresses`;
}

/** The pictures a face command reads: `--image` files, or every picture in `--frames DIR`. */
function picturesOf(ctx: CommandContext): string[] {
  const images = ctx.values.image as string[] | undefined;
  const frames = ctx.values.frames as string | undefined;
  if ((images === undefined) === (frames === undefined))
    throw new WalletError("usage", "give the face as --image FILE (repeatable) or --frames DIR, not both");
  return images ?? [frames as string];
}

const open = async (ctx: CommandContext) => Wallet.open(ctx.home, await ctx.passphrase(), { progress: ctx.progress });

export function describeForPeople(d: TransactionDescription): string {
  const lines = [`${d.action} on ${d.network}`];
  for (const t of d.transfers) lines.push(`  send ${t.text} to ${t.to}`);
  for (const a of d.approvals) lines.push(`  allow ${a.spender} to take ${a.unlimited ? "EVERYTHING" : a.text}`);
  for (const c of d.calls) lines.push(`  call ${c.name ?? c.selector} on ${c.contract}`);
  lines.push(`  fee at most ${d.fee.text}`);
  for (const w of d.warnings) lines.push(`  ! ${w}`);
  return lines.join("\n");
}

function outcomeText(outcome: SignOutcome): string {
  const lines = [];
  if (outcome.transactionId) lines.push(`transaction ${outcome.transactionId}`);
  if (outcome.receiptStatus !== undefined) lines.push(`receipt status ${outcome.receiptStatus}`);
  if (!outcome.transactionId) lines.push(`signed: ${outcome.signed}`);
  return lines.join("\n");
}

async function confirmOrStop(ctx: CommandContext, text: string): Promise<boolean> {
  process.stderr.write(`${text}\n`);
  return ctx.interactive ? askYesNo("sign this?") : true;
}

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

export const COMMANDS: Record<string, Command> = {
  async "enroll-face"(ctx) {
    const reply = await (await open(ctx)).enrollFace(picturesOf(ctx), totpOf(ctx));
    return {
      human: `face enrolled (${reply.enrollmentId}); from ${reply.effectiveAt}, unless cancelled, ${reply.wallets} hybrid wallet(s) can be recovered with it. No picture or embedding was stored.`,
      data: reply,
    };
  },

  async recover(ctx) {
    const pictures = picturesOf(ctx);
    const url = need(ctx, "provider", "URL");
    const email = need(ctx, "email", "EMAIL");
    const passphrase = await ctx.passphrase();
    const name = typeof ctx.values.name === "string" ? ctx.values.name : "recovered device";
    const wallet = await Wallet.open(ctx.home, passphrase, { progress: ctx.progress }).catch((e) => {
      if ((e as { code?: string }).code !== "missing") throw e;
      return Wallet.init(ctx.home, passphrase, { name, progress: ctx.progress });
    });
    if (wallet.providerUrl === undefined) {
      await wallet.register(url, email);
      const code = typeof ctx.values.code === "string" ? ctx.values.code : await askLine(`code mailed to ${email}: `);
      await wallet.verify(code);
    }
    const recovered = await wallet.recover(pictures, async (challenge) => {
      process.stderr.write(`liveness challenge: ${describeChallenge(challenge)} ${JSON.stringify(challenge)}\n`);
      if (ctx.values.yes !== true) await askLine("capture the frames now, then press Enter: ");
    });
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
      data: { ...recovered, wallets: recovered.wallets.map(shown) },
    };
  },

  async "recovery list"(ctx) {
    const { recoveries } = await (await open(ctx)).recoveries();
    return {
      human:
        recoveries
          .map((r) => `${r.id} ${r.status} device ${r.device} at ${r.at}, hold until ${r.holdUntil}`)
          .join("\n") || "no face recoveries",
      data: recoveries,
    };
  },

  async "recovery confirm"(ctx) {
    const reply = await (await open(ctx)).decideRecovery(arg(ctx, 0, "the recovery id"), "confirm");
    return { human: `recovery ${String(reply.id)} confirmed: transfers are no longer held`, data: reply };
  },

  async "recovery reject"(ctx) {
    const reply = await (await open(ctx)).decideRecovery(arg(ctx, 0, "the recovery id"), "reject");
    return {
      human: `recovery ${String(reply.id)} rejected: device ${String(reply.device)} is revoked. Refresh your wallets from this device.`,
      data: reply,
    };
  },

  async "heir add"(ctx) {
    const days = integer(ctx, "after-days");
    // The owner is reminded 30, 7 and 1 day before: a shorter threshold would skip reminders.
    if (days !== undefined && (days < 30 || days > 3660))
      throw new WalletError("usage", "--after-days is 30 to 3660 days of inactivity");
    const reply = await (await open(ctx)).addHeir(need(ctx, "email", "EMAIL"), picturesOf(ctx), days, totpOf(ctx));
    return {
      human: `heir ${String(ctx.values.email)} enrolled (${reply.enrollmentId}), in effect from ${reply.effectiveAt}; they can recover ${reply.wallets} wallet(s) after your inactivity, after reminders to you. Veto with: keyshard heir veto ${reply.enrollmentId}`,
      data: reply,
    };
  },

  async "heir list"(ctx) {
    const heirs = await (await open(ctx)).heirs();
    return {
      human:
        heirs.map((h) => `${h.id} ${h.heirEmail} after ${h.inactivityDays} days of inactivity`).join("\n") ||
        "no heirs",
      data: heirs,
    };
  },

  async "heir veto"(ctx) {
    const reply = await (await open(ctx)).vetoHeir(arg(ctx, 0, "the heir's enrollment id"));
    return {
      human: `heir ${String(reply.heirEmail)} vetoed: they can never recover with this enrollment`,
      data: reply,
    };
  },

  async init(ctx) {
    const name = typeof ctx.values.name === "string" ? ctx.values.name : "device";
    const wallet = await Wallet.init(ctx.home, await ctx.passphrase(), { name });
    return {
      human: `device ${wallet.deviceId} created in ${ctx.home}; next: keyshard register --provider URL --email E`,
      data: { deviceId: wallet.deviceId, home: ctx.home },
    };
  },

  async register(ctx) {
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

  async verify(ctx) {
    const reply = await (await open(ctx)).verify(arg(ctx, 0, "the CODE from the mail"));
    const next =
      reply.state === "active" ? "" : "; an active device of the account must approve it: keyshard devices approve ID";
    return { human: `device ${reply.deviceId} is ${reply.state}${next}`, data: reply };
  },

  async devices(ctx) {
    const account = await (await open(ctx)).account();
    return {
      human: account.devices.map((d) => `${d.id}  ${d.state.padEnd(18)} ${d.name}`).join("\n"),
      data: account,
    };
  },

  async "devices approve"(ctx) {
    const reply = await (await open(ctx)).approveDevice(arg(ctx, 0, "the DEVICE id to approve"), totpOf(ctx));
    return {
      human: `device ${reply.deviceId} is ${reply.state}; it becomes active on ${reply.effectiveAt} unless a device of the account cancels it`,
      data: reply,
    };
  },

  async changes(ctx) {
    const { changes } = await (await open(ctx)).accountChanges();
    return {
      human:
        changes.map((c) => `${String(c.id)} ${String(c.summary)}, from ${String(c.effectiveAt)}`).join("\n") ||
        "no security change is waiting",
      data: changes,
    };
  },

  async "changes cancel"(ctx) {
    const token = ctx.values.token;
    const reply =
      typeof token === "string"
        ? await cancelAccountChangeWithToken(need(ctx, "provider", "URL"), token)
        : await (await open(ctx)).cancelAccountChange(arg(ctx, 0, "the change ID (or --token TOKEN --provider URL)"));
    return { human: `cancelled: ${String(reply.summary)}`, data: reply };
  },

  async "devices revoke"(ctx) {
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

  async "wallet create"(ctx) {
    const schemeName = (ctx.values.scheme as string | undefined) ?? "ecdsa2p";
    if (!SCHEME_NAMES.includes(schemeName as SchemeName))
      throw new WalletError("usage", `--scheme is one of ${SCHEME_NAMES.join(", ")}`);
    const quorum = quorumOf(ctx);
    const policy = typeof ctx.values.policy === "string" ? readJson(ctx.values.policy, "policy file") : undefined;
    if (policy !== undefined && !Array.isArray(policy))
      throw new WalletError("usage", "a policy file is a JSON list of rules");
    const wallet = await open(ctx);
    const created = await wallet.createWallet({
      name: need(ctx, "name", "NAME"),
      scheme: schemeName as SchemeName,
      ...(quorum && { threshold: quorum.t, n: quorum.n }),
      ...(Array.isArray(ctx.values.with) && { devices: ctx.values.with }),
      ...(policy !== undefined && { policy: policy as unknown[] }),
    });
    return { human: `wallet ${created.name} (${created.scheme}) made: ${created.id}`, data: shown(created) };
  },

  async "wallet list"(ctx) {
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

  async "wallet join"(ctx) {
    const wallet = await open(ctx);
    const joined = [...(await wallet.joinPendingWallets()), ...(await wallet.joinKeyChanges())];
    return {
      human:
        joined.length === 0
          ? "no key generation or key change waits for this device"
          : joined.map((w) => `joined ${w.name}`).join("\n"),
      data: { joined: joined.map(shown) },
    };
  },

  async refresh(ctx) {
    const changed = await (await open(ctx)).refresh(need(ctx, "wallet", "NAME"));
    return { human: keyChangeText(changed), data: shown(changed) };
  },

  async reshare(ctx) {
    const quorum = quorumOf(ctx);
    const list = (name: string) => (Array.isArray(ctx.values[name]) ? (ctx.values[name] as string[]) : []);
    if (list("add").length === 0 && list("remove").length === 0 && quorum === undefined)
      throw new WalletError("usage", "say what changes: --add DEVICE, --remove DEVICE and/or --quorum T/N");
    const changed = await (await open(ctx)).reshare(need(ctx, "wallet", "NAME"), {
      add: list("add"),
      remove: list("remove"),
      ...(quorum && { threshold: quorum.t, n: quorum.n }),
    });
    return { human: keyChangeText(changed), data: shown(changed) };
  },

  async "backup request"(ctx) {
    const reply = await (await open(ctx)).backupRequest(need(ctx, "wallet", "NAME"), totpOf(ctx));
    return {
      human: `backup requested; the provider releases its share on ${String(reply.readyAt)} unless a device cancels it (the account was mailed). Then: keyshard backup download --wallet ${String(ctx.values.wallet)}`,
      data: reply,
    };
  },

  async "backup status"(ctx) {
    const reply = await (await open(ctx)).backupStatus(need(ctx, "wallet", "NAME"));
    return { human: `backup ${String(reply.status)}; ready on ${String(reply.readyAt)}`, data: reply };
  },

  async "backup cancel"(ctx) {
    const reply = await (await open(ctx)).backupCancel(need(ctx, "wallet", "NAME"));
    return { human: `backup ${String(reply.status)}; the provider keeps its share`, data: reply };
  },

  async "backup download"(ctx) {
    const wallet = await (await open(ctx)).backupDownload(need(ctx, "wallet", "NAME"));
    return {
      human: `wallet ${wallet.name} is self-custodied: this device now signs alone, without the provider or its policy`,
      data: { ...shown(wallet), custody: "self" },
    };
  },

  async address(ctx) {
    const network = networkOf(ctx);
    const address = (await open(ctx)).address(need(ctx, "wallet", "NAME"), chainOf(ctx), {
      ...(typeof ctx.values.path === "string" && { path: ctx.values.path }),
      ...(network && { network }),
    });
    return { human: address, data: { address } };
  },

  async send(ctx) {
    const wallet = await open(ctx);
    const chain = chainOf(ctx);
    const outcome = await wallet.send({
      wallet: need(ctx, "wallet", "NAME"),
      chain,
      to: need(ctx, "to", "ADDRESS"),
      amount: need(ctx, "amount", "AMOUNT"),
      ...(typeof ctx.values.rpc === "string" && { rpc: ctx.values.rpc }),
      ...(typeof ctx.values.totp === "string" && { totp: ctx.values.totp }),
      ...(typeof ctx.values.path === "string" && { path: ctx.values.path }),
      ...(typeof ctx.values.blockhash === "string" && { blockhash: ctx.values.blockhash }),
      ...(integer(ctx, "chain-id") !== undefined && { chainId: integer(ctx, "chain-id") }),
      ...(integer(ctx, "nonce") !== undefined && { nonce: integer(ctx, "nonce") }),
      ...(integer(ctx, "wait") !== undefined && { waitMs: (integer(ctx, "wait") as number) * 1000 }),
      ...(networkOf(ctx) && { network: networkOf(ctx) }),
      ...(integer(ctx, "fee-rate") !== undefined && { feeRate: integer(ctx, "fee-rate") }),
      ...(typeof ctx.values.coins === "string" && { coins: readJson(ctx.values.coins, "coins file") }),
      confirm: (description) => confirmOrStop(ctx, describeForPeople(description)),
    });
    return { human: outcomeText(outcome), data: outcome };
  },

  async "sign-message"(ctx) {
    const typedDataFile = ctx.values["typed-data"];
    const message = ctx.values.message;
    if ((typedDataFile === undefined) === (message === undefined))
      throw new WalletError("usage", "give either --message TEXT or --typed-data FILE");
    const chain = ctx.values.chain === undefined ? "ethereum" : chainOf(ctx);
    if (chain === "solana") throw new WalletError("usage", "sign-message signs Ethereum and Bitcoin messages");
    const network = networkOf(ctx);
    const outcome = await (await open(ctx)).signMessage(need(ctx, "wallet", "NAME"), {
      chain,
      ...(network && { network }),
      ...(typeof message === "string" && { message: new TextEncoder().encode(message) }),
      ...(typeof typedDataFile === "string" && {
        typedData: readJson(typedDataFile, "typed data file") as Record<string, unknown>,
      }),
      ...(typeof ctx.values.totp === "string" && { totp: ctx.values.totp }),
      ...(typeof ctx.values.path === "string" && { path: ctx.values.path }),
    });
    return { human: outcome.address ? `${outcome.address}\n${outcome.signed}` : outcome.signed, data: outcome };
  },

  async requests(ctx) {
    const { requests } = await (await open(ctx)).requests(ctx.values.status as string | undefined);
    return {
      human:
        requests.length === 0
          ? "no sign requests"
          : requests
              .map(
                (r) =>
                  `${r.requestId}  ${String(r.status).padEnd(9)} ${r.chain} ${r.rule ?? ""} ${r.waitingFor ? JSON.stringify(r.waitingFor) : ""}`,
              )
              .join("\n"),
      data: plainJson({ requests }),
    };
  },

  async approve(ctx) {
    const reply = await (await open(ctx)).approve(arg(ctx, 0, "the request ID"), async (detail) =>
      confirmOrStop(
        ctx,
        detail.description
          ? describeForPeople(detail.description as TransactionDescription)
          : `request ${String(detail.kind)}`,
      ),
    );
    return { human: `approved; the request is ${String(reply.status)}`, data: plainJson(reply) };
  },

  async deny(ctx) {
    const reply = await (await open(ctx)).cancel(arg(ctx, 0, "the request ID"));
    return { human: `denied; the request is ${String(reply.status)}`, data: reply };
  },

  async cancel(ctx) {
    const reply = await (await open(ctx)).cancel(arg(ctx, 0, "the request ID"));
    return { human: `the request is ${String(reply.status)}`, data: reply };
  },

  async resume(ctx) {
    const outcome = await (await open(ctx)).resume(arg(ctx, 0, "the request ID"));
    return { human: outcomeText(outcome), data: outcome };
  },

  async "policy show"(ctx) {
    const policy = await (await open(ctx)).policy(need(ctx, "wallet", "NAME"));
    return { human: JSON.stringify(policy, null, 2), data: policy };
  },

  async "policy set"(ctx) {
    const rules = readJson(arg(ctx, 0, "the policy FILE"), "policy file");
    if (!Array.isArray(rules)) throw new WalletError("usage", "a policy file is a JSON list of rules");
    const reply = await (await open(ctx)).setPolicy(need(ctx, "wallet", "NAME"), rules, need(ctx, "totp", "CODE"));
    return {
      human: `policy change ${String(reply.changeId)} takes effect at ${new Date(Number(reply.effectiveMs)).toISOString()} unless a device cancels it`,
      data: reply,
    };
  },

  async "totp enroll"(ctx) {
    const reply = await (await open(ctx)).totpEnroll(totpOf(ctx));
    return {
      human: `add this to your authenticator: ${reply.uri}\nthen confirm: keyshard totp confirm CODE (it counts once its delay has passed)`,
      data: reply,
    };
  },

  async "totp confirm"(ctx) {
    const reply = await (await open(ctx)).totpConfirm(arg(ctx, 0, "the CODE from the authenticator"));
    return {
      human: `TOTP confirmed; it counts from ${new Date(Number(reply.effectiveMs)).toISOString()} unless a device of the account cancels it`,
      data: reply,
    };
  },

  async "cosigner run"(ctx) {
    const wallet = await open(ctx);
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
      warn: (message: string) => ctx.progress(message),
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

  async "audit verify"(ctx) {
    const reply = await (await open(ctx)).auditVerify();
    if (reply.ok !== true)
      throw new WalletError("audit-broken", `the account's audit chain is broken: ${JSON.stringify(reply)}`, reply);
    return { human: `the audit chain holds: ${String(reply.length)} entries, head ${String(reply.head)}`, data: reply };
  },
};
