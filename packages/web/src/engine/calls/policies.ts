/**
 * The engine's calls of a wallet's controls at the provider: its policy (in force and pending,
 * each rule in words), a new policy made of the common rules, cancelling a pending change, and
 * the backup of a hybrid wallet's provider share (request, status, cancel, download).
 */
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
  shortText,
  text,
  totpCode,
  uuid,
} from "../readers.js";

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

/** Where a wallet's backup (the provider's share, released to this device) stands. */
export interface BackupStanding {
  /** "none" when no backup was asked for. */
  status: "none" | "waiting" | "cancelled" | "released";
  /** When the share can be downloaded (ms since the epoch); null with "none". */
  readyMs: number | null;
}

export interface PolicyMethods {
  policyWallets: { args: Record<string, never>; result: PolicyWallet[] };
  policy: { args: { id: string }; result: PolicyView };
  /** The rules `setPolicy` would ask for, in words, for the person to read before giving the code. */
  policyInWords: { args: { rules: CommonRules }; result: { rules: string[] } };
  setPolicy: {
    args: { id: string; rules: CommonRules; totp: string };
    result: { changeId: string; effectiveMs: number };
  };
  cancelPolicyChange: { args: { changeId: string }; result: { cancelled: boolean } };
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

export const POLICY_METHODS: MethodReaders<PolicyMethods> = {
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
  backupStatus: { args: record({ name }), result: backupStanding },
  backupRequest: { args: record({ name, totp: orNull(totpCode) }), result: backupStanding },
  backupCancel: { args: record({ name }), result: backupStanding },
  backupDownload: { args: record({ name }), result: backupStanding },
};

/** Whether `value` is a backup's status the page shows, for the engine reading the provider's. */
export const isBackupStatus = (value: string): value is Exclude<BackupStanding["status"], "none"> =>
  value === "waiting" || value === "cancelled" || value === "released";
