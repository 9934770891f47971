/**
 * The engine's handlers of a wallet's controls at the provider: its policy told in words, a new
 * policy made of the common rules, cancelling a pending change, its allow-list (each entry read
 * strictly, an address added only where its chain would take it), and the backup of a hybrid
 * wallet's provider share. The SDK and the provider decide what a policy may be; this only
 * composes the form's rules and describes the provider's.
 */
import { adapterOf, type ChainName } from "@keyshard/chains";
import { type AllowListEntry, type BackupStatus, WalletError } from "@keyshard/wallet/browser";
import { chain as chainName } from "../calls/core.js";
import {
  type BackupStanding,
  CONTROL_ORDER,
  CONTROL_WORDS,
  type CommonRules,
  ethWei,
  isBackupStatus,
  LABEL_MAX,
  type PolicyMethods,
  TRUSTED_SHOWN,
  type TrustedAddress,
} from "../calls/policies.js";
import { count, ProtocolError, SHORT_TEXT_MAX, showable, text } from "../readers.js";
import { fitShort, policyInWords } from "../rule-words.js";
import { accountDevices } from "./devices.js";
import { type Handlers, unlocked } from "./engine-state.js";
import { firstOf, readEach } from "./listing.js";

const DAY_SECONDS = 86_400;

/** An amount the engine's reader took, in wei. */
function weiOf(amount: string): bigint {
  const wei = ethWei(amount);
  if (wei === undefined) throw new WalletError("invalid-amount", `"${amount}" is not an amount of ETH`);
  return wei;
}

/** The rule that asks for `control`. */
function controlRule(common: CommonRules, control: (typeof CONTROL_ORDER)[number]) {
  switch (control) {
    case "totpAbove":
      return { name: "one-time code", decision: "require-totp" };
    case "timeLockAbove":
      return { name: "time lock", decision: "delay", delaySeconds: (common.timeLockAbove?.hours ?? 0) * 3600 };
    case "approvalsAbove":
      return { name: "approvals", decision: "require-approvals", approvals: common.approvalsAbove?.approvals };
  }
}

/**
 * The ordered rules of `common`: ETH transfers on Ethereum, allowed up to the first control's
 * amount, each control from its amount up to the next one's (or the cap); beyond the cap or the
 * day's limit no rule matches, so nothing is signed. The provider's rules are tried in order and
 * each asks for one control, so a larger transfer can only be made to ask for a stronger one:
 * the controls' amounts must rise in `CONTROL_ORDER`, below the cap. Amounts stay in ETH, said
 * so: the SDK converts them.
 */
export function rulesOf(common: CommonRules): unknown[] {
  const steps = CONTROL_ORDER.flatMap((control) => {
    const step = common[control];
    if (step === null) return [];
    return [{ control, amount: typeof step === "string" ? step : step.amount }];
  });
  for (const [i, step] of steps.entries()) {
    const below = steps[i - 1];
    if (below !== undefined && weiOf(step.amount) <= weiOf(below.amount))
      throw new WalletError(
        "usage",
        `${CONTROL_WORDS[step.control]} must start above ${CONTROL_WORDS[below.control]}: a rule asks for one control, so a larger transfer must ask for a stronger one (one-time code, then time lock, then approvals)`,
      );
  }
  const last = steps.at(-1);
  if (last !== undefined && common.perTransaction !== null && weiOf(last.amount) >= weiOf(common.perTransaction))
    throw new WalletError("usage", `${CONTROL_WORDS[last.control]} must start below the most per transaction`);
  const ends = [...steps.map((s) => s.amount), ...(common.perTransaction === null ? [] : [common.perTransaction])];
  const when = (upTo: string | undefined) => ({
    chain: ["ethereum"],
    action: ["transfer"],
    asset: ["ETH"],
    ...(upTo !== undefined && { maxAmount: `${upTo} ETH` }),
    ...(common.daily !== null && { window: { seconds: DAY_SECONDS, maxTotal: `${common.daily} ETH` } }),
  });
  return [{ name: "ETH transfers", decision: "allow" }, ...steps.map((s) => controlRule(common, s.control))].map(
    (tier, i) => ({ ...tier, when: when(ends[i]) }),
  );
}

/**
 * An address as `chain` takes it, in its normal form; refused before anything is sent, so that no
 * address the chain would refuse reaches the allow-list (the protocol's reader bounds its length).
 */
function addressOn(chain: ChainName, address: string): string {
  const adapter = adapterOf(chain);
  if (!adapter.isAddress(address))
    throw new WalletError(
      "invalid-address",
      `this is no ${chain} address (a character wrong, its checksum not holding, or another chain's address): nothing was added. Check it against where it came from, character by character`,
      { parameter: "address" },
    );
  return adapter.normalizeAddress(address);
}

/**
 * An allow-list entry as the provider lists it, read strictly and copied field by field: a chain
 * this app knows, an address its chain takes, in its normal form (letters and digits, whatever the
 * chain); the label and rule names made showable. One it cannot read throws a `ProtocolError`.
 */
function trustedOf(entry: AllowListEntry): TrustedAddress {
  const chain = chainName(entry.chain, "a listed address's chain");
  const adapter = adapterOf(chain);
  if (!adapter.isAddress(entry.address))
    throw new ProtocolError("the provider lists an address its chain would refuse");
  const label = text({ max: LABEL_MAX })(entry.label, "a listed address's label");
  if (!Array.isArray(entry.countsFrom)) throw new ProtocolError("the rules a listed address counts for are no list");
  return {
    chain,
    address: adapter.normalizeAddress(entry.address),
    label: showable(label, LABEL_MAX) || null,
    addedMs: count(entry.addedMs, "when a listed address was added"),
    countsFrom: entry.countsFrom.map((c) => ({
      rule: typeof c.rule === "string" ? fitShort(c.rule) : "unnamed",
      atMs: count(c.atMs, "when a listed address counts"),
    })),
  };
}

/** The provider's backup as the page shows it. */
function standingOf(backup: BackupStatus): BackupStanding {
  if (!isBackupStatus(backup.status))
    throw new WalletError("provider-refused", "the provider gave an unknown backup status");
  return { status: backup.status, readyMs: backup.readyAt === undefined ? null : Date.parse(backup.readyAt) };
}

/** The provider answers "not found" for a wallet whose backup was never asked for. */
const isNoBackup = (e: unknown) =>
  e instanceof WalletError && e.code === "provider-refused" && e.details.status === 404;

async function backupOf(name: string): Promise<BackupStanding> {
  try {
    return standingOf(await unlocked().backupStatus(name));
  } catch (e) {
    if (isNoBackup(e)) return { status: "none", readyMs: null };
    throw e;
  }
}

export const policyHandlers: Handlers<PolicyMethods> = {
  // The provider operator's words: made showable and cut, a template with no name named by its id.
  policyTemplates: async () =>
    (await unlocked().policyTemplates()).map((t) => ({
      id: t.id,
      name: showable(t.name, SHORT_TEXT_MAX) || t.id,
      description: showable(t.description, SHORT_TEXT_MAX),
      rules: policyInWords(t.rules),
    })),

  policyWallets: async () =>
    (await unlocked().policyWallets()).map((w) => ({
      id: w.id,
      name: fitShort(w.name),
      state: fitShort(w.state),
      hybrid: w.hybrid,
      localName: w.localName,
      ethereum: w.ethereum,
    })),

  policy: async ({ id }) => {
    const opened = unlocked();
    const { policy, pending, totpEnrolled } = await opened.policy(id);
    // The device that asked for a change, by the name the account knows it by.
    const { names } = pending.length === 0 ? { names: new Map<string, string>() } : await accountDevices(opened);
    return {
      rules: policyInWords(policy),
      pending: pending.map((p) => ({
        changeId: p.changeId,
        rules: policyInWords(p.policy),
        requestedBy:
          p.requestedBy === opened.deviceId ? "this device" : (names.get(p.requestedBy) ?? fitShort(p.requestedBy)),
        effectiveMs: p.effectiveMs,
      })),
      totpEnrolled,
    };
  },

  policyInWords: async ({ rules }) => ({ rules: policyInWords(rulesOf(rules)) }),

  setPolicy: async ({ id, rules, totp }) => {
    const { changeId, effectiveMs } = await unlocked().setPolicy(id, rulesOf(rules), totp);
    return { changeId, effectiveMs };
  },

  cancelPolicyChange: async ({ changeId }) => unlocked().cancelPolicyChange(changeId),

  allowList: async ({ id }) => {
    const { read, unreadable } = readEach(await unlocked().allowList(id), trustedOf);
    const { shown, notShown } = firstOf(read, TRUSTED_SHOWN, (a, b) => a.addedMs - b.addedMs);
    return { entries: shown, notShown, unreadable };
  },

  allowListAdd: async ({ id, chain, address, label }) => {
    const normal = addressOn(chain, address);
    return trustedOf(await unlocked().allowListAdd(id, { chain, address: normal, ...(label !== null && { label }) }));
  },

  allowListRemove: async ({ id, chain, address }) => unlocked().allowListRemove(id, { chain, address }),

  backupStatus: async ({ name }) => backupOf(name),

  backupRequest: async ({ name, totp }) => standingOf(await unlocked().backupRequest(name, totp ?? undefined)),

  backupCancel: async ({ name }) => standingOf(await unlocked().backupCancel(name)),

  backupDownload: async ({ name }) => {
    await unlocked().backupDownload(name);
    return backupOf(name);
  },
};
