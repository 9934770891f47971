/**
 * The engine's calls of a wallet's controls at the provider: its policy (in force and pending,
 * each rule in words), a new policy made of the common rules, cancelling a pending change, its
 * allow-list of trusted addresses (each with when it counts for the rules that read the list,
 * adding one, removing one), and the backup of a hybrid wallet's provider share (request, status,
 * cancel, download), and the provider's policy templates a new wallet picks from.
 */
import type { ChainName } from "@keyshard/chains/names";
import {
  boolean,
  count,
  list,
  type MethodReaders,
  messageText,
  name,
  none,
  orNull,
  ProtocolError,
  type Reader,
  record,
  SHORT_TEXT_MAX,
  shortText,
  text,
  totpCode,
  uuid,
} from "../readers.js";
import { chain, policyTemplateId } from "./core.js";

/** One of the account's wallets whose policy this device may read and change, here or not. */
export interface PolicyWallet {
  /** What the policy calls name it by: two devices' wallets may share a name. */
  id: string;
  /** Made showable; an inherited wallet's name says so, past the length of a wallet's own name. */
  name: string;
  /** "active" where the provider enforces its policy; "self-custodied", "creating", … where it does not. */
  state: string;
  hybrid: boolean;
  /** Its name on this device, or null where this device holds no share of it. */
  localName: string | null;
  /** Whether it has an Ethereum address, which the form's policy is about. */
  ethereum: boolean;
}

/** A policy change waiting out the account's delay, which any device of the account may cancel. */
export interface PendingPolicy {
  changeId: string;
  /** Each rule in words, in the order they are tried. */
  rules: string[];
  /** The device that asked for it. */
  requestedBy: string;
  effectiveMs: number;
}

export interface PolicyView {
  /** The policy in force, each rule in words, in the order they are tried. */
  rules: string[];
  pending: PendingPolicy[];
  /** Whether the account has a TOTP in force, which a policy change needs. */
  totpEnrolled: boolean;
}

/**
 * The common rules of an ETH policy, amounts in ETH (network fee included): the form's, from
 * which the engine makes the ordered rules. A rule of the policy language asks for one control,
 * so the controls come in a fixed order of strength (`CONTROL_ORDER`), each from its amount up to
 * the next one's, or the cap; beyond the cap, or the day's limit, nothing is signed.
 */
export interface CommonRules {
  /** The most one transaction may move; null for no cap. */
  perTransaction: string | null;
  /** The most the wallet may move in 24 hours; null for no limit. */
  daily: string | null;
  /** Above this amount the account's TOTP code is asked for. */
  totpAbove: string | null;
  /** Above this amount a transfer is held this many hours, cancellable meanwhile. */
  timeLockAbove: { amount: string; hours: number } | null;
  approvalsAbove: { amount: string; approvals: number } | null;
}

/**
 * The controls from the weakest to the strongest, the order their amounts must rise in: a code
 * the device's holder may well have too; a time lock, which gives the account's other devices
 * and its mail time to cancel; approvals, which need another device to act.
 */
export const CONTROL_ORDER = ["totpAbove", "timeLockAbove", "approvalsAbove"] as const;
export const CONTROL_WORDS: Record<(typeof CONTROL_ORDER)[number], string> = {
  totpAbove: "the one-time code",
  timeLockAbove: "the time lock",
  approvalsAbove: "approvals",
};

/**
 * Why the Policy form is not offered for `wallet`, or null when it is: the provider enforces a
 * policy only while it co-signs (an active wallet), and the form's rules are about ETH.
 */
export function policyFormRefusal(wallet: PolicyWallet, totpEnrolled: boolean): string | null {
  if (wallet.state !== "active")
    return `This wallet is ${wallet.state}: the provider co-signs nothing for it, so no policy of its is enforced and there is nothing to change.`;
  if (!wallet.ethereum)
    return "This wallet's key has no Ethereum address (it signs for Solana or Bitcoin Taproot): this form writes rules for ETH only, so it is not offered. The command line's keyshard policy set writes any policy.";
  if (!totpEnrolled)
    return "A new policy needs the account's one-time code: set up a TOTP under Security first, and change the policy once it is in force.";
  return null;
}

/**
 * An address on a wallet's allow-list. A rule of the policy may let through what goes to listed
 * addresses only, and then only to those listed at least its cooling-off ago: time for the
 * account's mail to be read and a wrongly added address removed.
 */
export interface TrustedAddress {
  chain: ChainName;
  /** In its chain's normal form, as the provider keeps and compares it (an Ethereum address in lower case). */
  address: string;
  /** The account's name for it, made showable; null for none. */
  label: string | null;
  addedMs: number;
  /**
   * Each rule of the policy in force that reads the allow-list, and from when this address counts
   * for it; none where no rule does, and the entry changes nothing.
   */
  countsFrom: { rule: string; atMs: number }[];
}

export interface TrustedAddresses {
  /** Oldest first, as they were added. */
  entries: TrustedAddress[];
  /** Entries beyond what one answer carries. */
  notShown: number;
  /** Entries the provider listed that could not be read (a chain this app does not know, an address its chain refuses): left out, counted. */
  unreadable: number;
}

/** The longest address and label the provider takes for the allow-list. */
export const ADDRESS_MAX = 128;
export const LABEL_MAX = 64;
/** The most entries one answer carries. */
export const TRUSTED_SHOWN = 200;
/**
 * An address as the engine passes on the provider's: every chain's addresses are letters and
 * digits, so nothing else — no space, no invisible or direction-changing character — can make one
 * look like another on the screen.
 */
export const LISTED_ADDRESS = /^[0-9A-Za-z]+$/;
export const listedAddress = text({ min: 1, max: ADDRESS_MAX, pattern: LISTED_ADDRESS });

/**
 * Where `entry` stands for each rule that reads the allow-list, in words, at `nowMs`: counting
 * already, or from when (cooling off, removable meanwhile). `time` writes a time for people.
 */
export function trustedStanding(entry: TrustedAddress, nowMs: number, time: (ms: number) => string): string[] {
  if (entry.countsFrom.length === 0)
    return ["No rule of the policy in force reads the allow-list: being on it changes nothing for now."];
  return entry.countsFrom.map(({ rule, atMs }) =>
    atMs <= nowMs
      ? `In force for rule "${rule}" since ${time(atMs)}.`
      : `Cooling off: counts for rule "${rule}" from ${time(atMs)}. Until then any device of the account can remove it.`,
  );
}

/** Where a wallet's backup (the provider's share, released to this device) stands. */
export interface BackupStanding {
  /** "none" when no backup was asked for. */
  status: "none" | "waiting" | "cancelled" | "released";
  /** When the share can be downloaded (ms since the epoch); null with "none". */
  readyMs: number | null;
}

/** A policy the provider offers a new wallet: its rules in words, its name and description made showable. */
export interface PolicyTemplateChoice {
  /** What `createWallet` and `createSharedWallet` take. */
  id: string;
  name: string;
  /** One line of the provider operator's; empty when they wrote none. */
  description: string;
  /** Each rule in words, in the order they are tried, and what happens to a request none matches. */
  rules: string[];
}

/** The most templates a provider offers (the provider's bound). */
export const POLICY_TEMPLATES_MAX = 32;

export interface PolicyMethods {
  /** The provider's policy templates, its default first. */
  policyTemplates: { args: Record<string, never>; result: PolicyTemplateChoice[] };
  policyWallets: { args: Record<string, never>; result: PolicyWallet[] };
  policy: { args: { id: string }; result: PolicyView };
  /** The rules `setPolicy` would ask for, in words, for the person to read before giving the code. */
  policyInWords: { args: { rules: CommonRules }; result: { rules: string[] } };
  setPolicy: {
    args: { id: string; rules: CommonRules; totp: string };
    result: { changeId: string; effectiveMs: number };
  };
  cancelPolicyChange: { args: { changeId: string }; result: { cancelled: boolean } };
  allowList: { args: { id: string }; result: TrustedAddresses };
  /** `address` as typed: the engine takes it only where its chain would. */
  allowListAdd: {
    args: { id: string; chain: ChainName; address: string; label: string | null };
    result: TrustedAddress;
  };
  allowListRemove: { args: { id: string; chain: ChainName; address: string }; result: { removed: boolean } };
  backupStatus: { args: { name: string }; result: BackupStanding };
  /** `totp`: the account's code, where it has a TOTP in force. */
  backupRequest: { args: { name: string; totp: string | null }; result: BackupStanding };
  backupCancel: { args: { name: string }; result: BackupStanding };
  backupDownload: { args: { name: string }; result: BackupStanding };
}

/**
 * An amount of ETH as the form takes it: digits, at most 18 decimals, no unit, and a whole part
 * of at most 12 digits (a million times the ETH there is).
 */
export const ETH_AMOUNT = /^(0|[1-9][0-9]{0,11})(\.[0-9]{1,18})?$/;
export const ETH_AMOUNT_MAX = 31;
/** The approvals a rule may ask for (the provider's bounds). */
export const APPROVALS_MAX = 16;
/** The longest time lock the form offers: the policy language's year. */
export const TIME_LOCK_HOURS_MAX = 366 * 24;

/** An amount as the form takes it in wei, or undefined when it is none. */
export function ethWei(amount: string): bigint | undefined {
  if (!ETH_AMOUNT.test(amount)) return undefined;
  const [whole = "0", fraction = ""] = amount.split(".");
  return BigInt(whole) * 10n ** 18n + BigInt(fraction.padEnd(18, "0"));
}

/** An amount above zero: a cap or a limit of zero would refuse everything, a step at zero is no step. */
const ethAmount: Reader<string> = (value, what) => {
  const amount = text({ min: 1, max: ETH_AMOUNT_MAX, pattern: ETH_AMOUNT })(value, what);
  if (ethWei(amount) === 0n) throw new ProtocolError(`${what} is zero`);
  return amount;
};

const between =
  (min: number, max: number): Reader<number> =>
  (value, what) => {
    const n = count(value, what);
    if (n < min || n > max) throw new ProtocolError(`${what} is not from ${min} to ${max}`);
    return n;
  };

const commonRules = record<CommonRules>({
  perTransaction: orNull(ethAmount),
  daily: orNull(ethAmount),
  totpAbove: orNull(ethAmount),
  timeLockAbove: orNull(record({ amount: ethAmount, hours: between(1, TIME_LOCK_HOURS_MAX) })),
  approvalsAbove: orNull(record({ amount: ethAmount, approvals: between(1, APPROVALS_MAX) })),
});

/** The most rules a policy has (the provider's bound). */
export const RULES_MAX = 100;
/** Each rule in words, and what happens to a request none matches. */
const ruleWords = list(messageText, RULES_MAX + 1);

const backupStanding: Reader<BackupStanding> = (value, what) => {
  const standing = record<BackupStanding>({
    status: (v, w) => {
      if (v !== "none" && v !== "waiting" && v !== "cancelled" && v !== "released")
        throw new ProtocolError(`${w} is no backup status`);
      return v;
    },
    readyMs: orNull(count),
  })(value, what);
  if ((standing.status === "none") !== (standing.readyMs === null))
    throw new ProtocolError(`${what} has a time with no backup, or a backup with no time`);
  return standing;
};

const trustedAddress = record<TrustedAddress>({
  chain,
  address: listedAddress,
  label: orNull(text({ min: 1, max: LABEL_MAX })),
  addedMs: count,
  countsFrom: list(record({ rule: shortText, atMs: count }), RULES_MAX),
});

export const POLICY_METHODS: MethodReaders<PolicyMethods> = {
  policyTemplates: {
    args: none,
    result: list(
      record<PolicyTemplateChoice>({
        id: policyTemplateId,
        name: shortText,
        description: text({ max: SHORT_TEXT_MAX }),
        rules: ruleWords,
      }),
      POLICY_TEMPLATES_MAX,
    ),
  },
  policyWallets: {
    args: none,
    result: list(
      record<PolicyWallet>({
        id: uuid,
        name: shortText,
        state: shortText,
        hybrid: boolean,
        localName: orNull(name),
        ethereum: boolean,
      }),
    ),
  },
  policy: {
    args: record({ id: uuid }),
    result: record<PolicyView>({
      rules: ruleWords,
      pending: list(
        record<PendingPolicy>({ changeId: uuid, rules: ruleWords, requestedBy: shortText, effectiveMs: count }),
        RULES_MAX,
      ),
      totpEnrolled: boolean,
    }),
  },
  policyInWords: { args: record({ rules: commonRules }), result: record({ rules: ruleWords }) },
  setPolicy: {
    args: record({ id: uuid, rules: commonRules, totp: totpCode }),
    result: record({ changeId: uuid, effectiveMs: count }),
  },
  cancelPolicyChange: { args: record({ changeId: uuid }), result: record({ cancelled: boolean }) },
  allowList: {
    args: record({ id: uuid }),
    result: record<TrustedAddresses>({
      entries: list(trustedAddress, TRUSTED_SHOWN),
      notShown: count,
      unreadable: count,
    }),
  },
  allowListAdd: {
    args: record({
      id: uuid,
      chain,
      address: text({ min: 1, max: ADDRESS_MAX }),
      label: orNull(text({ min: 1, max: LABEL_MAX })),
    }),
    result: trustedAddress,
  },
  allowListRemove: {
    args: record({ id: uuid, chain, address: listedAddress }),
    result: record({ removed: boolean }),
  },
  backupStatus: { args: record({ name }), result: backupStanding },
  backupRequest: { args: record({ name, totp: orNull(totpCode) }), result: backupStanding },
  backupCancel: { args: record({ name }), result: backupStanding },
  backupDownload: { args: record({ name }), result: backupStanding },
};

/** Whether `value` is a backup's status the page shows, for the engine reading the provider's. */
export const isBackupStatus = (value: string): value is Exclude<BackupStanding["status"], "none"> =>
  value === "waiting" || value === "cancelled" || value === "released";
