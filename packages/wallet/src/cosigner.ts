/**
 * A confirmation device (`keyshard cosigner run`): a phone, a watch or a server that holds a share
 * of t-of-n wallets and co-signs for the other devices. It joins key generations it is invited
 * to, and for each proposal it decodes the bytes itself (never the proposer's summary), applies
 * its own rules — e.g. "only ETH transfers under 0.05 to these addresses" — or asks, answers, and
 * takes part only if it said yes. Every decision goes to its log with what the bytes do.
 *
 * A rule's amount bounds everything the request takes out of the wallet, counted as the
 * provider's policy counts it (`outflows` of `@keyshard/chains`): the transfers plus the network
 * fee the bytes allow, since a fee is paid from the wallet as surely as a transfer is. A rule's
 * coin is the chain's own — Ether, bitcoin, SOL — and every outflow must be of it: the same
 * Ethereum-format bytes spend RBTC or BNB on other chain ids, and a coin keyshard does not know
 * is never taken for Ether.
 *
 * The runs come from the provider's list of relay sessions, sid included, so the list is not
 * trusted to be new: a run whose sid this device's share has used is refused (and logged), also
 * after a restart, when the list still shows the sessions it took part in. How one session is
 * read, judged and joined is `flows/cosign.ts`, which an app uses for the one its person opens.
 *
 * It waits on the relay's push channel: the provider notices it of each session it is invited to,
 * and only then does it read the list. A notice lost (a dropped socket, a provider restart) costs
 * time, not work: it looks again after each reconnection and once a minute anyway. A device the
 * provider revoked stops, since nothing it asks would ever be answered again.
 */

import { appendFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Asset,
  CHAIN_COINS,
  CHAIN_NAMES,
  type ChainName,
  destinationKey,
  outflows,
  type SigningRequest,
  type TransactionDescription,
} from "@keyshard/chains";
import { REVOKED_CLOSE_CODE, RelayError, type RelayWatch } from "@keyshard/transport";
import { readAmount, showAmount } from "./amount.js";
import { type Device, deviceOf } from "./device/device.js";
import { isRevoked, WalletError } from "./errors.js";
import {
  answerProposal,
  askingJudge,
  type CosignOutcome,
  cosignSessionOf,
  type Judge,
  joinRequestSignature,
  RequestVerdicts,
} from "./flows/cosign.js";
import { joinKeyChanges, settleAll } from "./flows/key-change.js";
import { joinPendingWallets } from "./flows/keygen.js";
import { relaySessions, watchRelaySessions } from "./flows/wallets.js";
import type { Wallet } from "./wallet.js";

/**
 * One permission: a transfer of the chain's coin on `chain`, at most `maxAmount` in all, fee
 * included, only to `to` when given.
 */
export interface CosignerRule {
  chain: ChainName;
  /** In the chain's coin ("0.05" ETH, BTC or SOL) or explicit base units ("21000 wei"): transfers plus the fee. */
  maxAmount?: string;
  to?: string[];
}

/** Reads a rules file's JSON (`{ "rules": [...] }`), refusing anything it does not understand. */
export function parseRules(value: unknown): CosignerRule[] {
  const rules = (value as { rules?: unknown })?.rules;
  if (!Array.isArray(rules))
    throw new WalletError("usage", 'a rules file is JSON: { "rules": [ { "chain": …, "maxAmount": …, "to": […] } ] }');
  return rules.map((rule, i) => {
    const r = rule as Record<string, unknown>;
    const extra = Object.keys(r ?? {}).filter((k) => !["chain", "maxAmount", "to"].includes(k));
    if (typeof r !== "object" || r === null || extra.length > 0)
      throw new WalletError("usage", `rule ${i + 1}: only chain, maxAmount and to are understood`);
    const chain = CHAIN_NAMES.find((name) => name === r.chain);
    if (chain === undefined)
      throw new WalletError(
        "usage",
        `rule ${i + 1}: chain is ${CHAIN_NAMES.slice(0, -1).join(", ")} or ${CHAIN_NAMES.at(-1)}`,
      );
    if (r.maxAmount !== undefined) {
      if (typeof r.maxAmount !== "string")
        throw new WalletError("usage", `rule ${i + 1}: maxAmount is a string, like "0.05" or "21000 wei"`);
      readAmount(r.maxAmount, CHAIN_COINS[chain], `rule ${i + 1}: maxAmount`);
    }
    if (r.to !== undefined && (!Array.isArray(r.to) || r.to.some((a) => typeof a !== "string")))
      throw new WalletError("usage", `rule ${i + 1}: to is a list of addresses`);
    return r as unknown as CosignerRule;
  });
}

/** Whether two addresses are one destination, as the provider's policies compare them. */
const sameAddress = (chain: ChainName, a: string, b: string) => destinationKey(chain, a) === destinationKey(chain, b);

/** The chain's own coin as its description names it: a known native asset with the rule's symbol. */
const isCoin = (chain: CosignerRule["chain"], asset: Asset) =>
  asset.known && asset.contract === undefined && asset.symbol === CHAIN_COINS[chain].symbol;

/** Whether one rule lets the described transaction through; the reason either way. */
export function decide(rules: readonly CosignerRule[], d: TransactionDescription): { accept: boolean; reason: string } {
  if (d.action !== "transfer" || d.approvals.length > 0 || d.calls.length > 0 || d.transfers.length === 0)
    return { accept: false, reason: `a ${d.action}, and this device co-signs plain transfers only` };
  if (d.transfers.some((t) => t.asset.contract !== undefined))
    return { accept: false, reason: "a token transfer, and this device's rules cover the native coin only" };
  const flows = outflows(d);
  // Every rule on a chain is in that chain's one coin, so another coin is refused before any rule.
  const foreign = flows.find((f) => !isCoin(d.chain, f.asset));
  if (foreign !== undefined)
    return {
      accept: false,
      reason: `pays in ${foreign.asset.symbol} on ${d.network}, and this device's rules are in ${CHAIN_COINS[d.chain].symbol}`,
    };
  const total = flows.reduce((sum, f) => sum + f.value, 0n);
  const reasons: string[] = [];
  for (const [i, rule] of rules.entries()) {
    if (rule.chain !== d.chain) continue;
    const limit = rule.maxAmount === undefined ? undefined : readAmount(rule.maxAmount, CHAIN_COINS[rule.chain]);
    if (limit !== undefined && total > limit) {
      reasons.push(`rule ${i + 1}: over ${showAmount(limit, CHAIN_COINS[rule.chain])} with the fee`);
      continue;
    }
    const stranger = d.transfers.find((t) => rule.to && !rule.to.some((a) => sameAddress(rule.chain, a, t.to)));
    if (stranger !== undefined) {
      reasons.push(`rule ${i + 1}: ${stranger.to} is not in its list`);
      continue;
    }
    return { accept: true, reason: `rule ${i + 1}` };
  }
  return { accept: false, reason: reasons.length > 0 ? reasons.join("; ") : `no rule covers ${d.chain}` };
}

/** A decision of the cosigner's, as its log keeps it: a co-signing's outcome, a failure, or a key change it took part in. */
export interface CosignerLogEntry extends Omit<CosignOutcome, "decision"> {
  at: string;
  decision: CosignOutcome["decision"] | "failed" | "key-change";
}

export interface CosignerOptions {
  rules?: CosignerRule[];
  /** Asked when no rule decides (an interactive terminal); absent: refuse. */
  ask?: (description: TransactionDescription, body: SigningRequest) => Promise<boolean>;
  /** Where each decision is also reported (the terminal). */
  report?: (entry: CosignerLogEntry) => void;
  /** Told when a look at the provider failed (it is down, say); the cosigner keeps trying. */
  warn?: (message: string) => void;
  /** How often it looks at the provider unprompted (default a minute): the push channel's safety net. */
  safetyPollMs?: number;
}

const SAFETY_POLL_MS = 60_000;
/** Waits between attempts to reopen the push channel: doubled after each failure, up to the most. */
const RECONNECT_FIRST_MS = 1_000;
const RECONNECT_MOST_MS = 60_000;

const revoked = () =>
  new WalletError(
    "device-revoked",
    "this device was revoked at the provider, so its cosigner stops: the account's other devices no longer count on it",
  );

/** Resolves after `ms`, or at once when `signal` aborts. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });

export class Cosigner {
  private readonly handled = new Set<string>();
  /** Each request is judged once, however many signatures (runs) it needs. */
  private readonly verdicts = new RequestVerdicts((description, body) => this.judge(description, body));

  /** The device behind `wallet`: its runs need the identity key and the decoded shares. */
  readonly #device: Device;

  constructor(
    wallet: Wallet,
    private readonly home: string,
    private readonly options: CosignerOptions = {},
  ) {
    this.#device = deviceOf(wallet);
  }

  private log(entry: CosignerLogEntry): void {
    appendFileSync(join(this.home, "cosigner.log"), `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    this.options.report?.(entry);
  }

  /**
   * One look at the provider: joins waiting key generations, refreshes and reshares, swaps in
   * new shares whose epoch was committed, and answers open proposals. Throws `device-revoked`
   * once the provider has revoked this device.
   */
  async poll(): Promise<void> {
    try {
      await this.look();
    } catch (e) {
      throw isRevoked(e) ? revoked() : e;
    }
  }

  private async look(): Promise<void> {
    await joinPendingWallets(this.#device);
    for (const changed of await joinKeyChanges(this.#device))
      this.log({
        at: new Date().toISOString(),
        relayId: "",
        wallet: changed.name,
        proposer: "",
        chain: "-",
        decision: "key-change",
        reason: `took part in a key change of ${changed.name}: epoch ${changed.next?.epoch ?? changed.epoch ?? 0}`,
      });
    await settleAll(this.#device);
    const { sessions } = await relaySessions(this.#device);
    const joins: Promise<void>[] = [];
    for (const session of sessions) {
      const read = this.handled.has(session.relayId) ? undefined : cosignSessionOf(this.#device, session);
      if (read === undefined) continue;
      this.handled.add(session.relayId);
      // A request's runs, one per signature, go on side by side: the requester takes them in its
      // own order and would wait forever for a device that took them in another.
      const run =
        read.kind === "proposal"
          ? answerProposal(this.#device, read.walletId, session, this.judge)
          : joinRequestSignature(this.#device, read, this.verdicts);
      const logged = run.then(
        (outcome) => outcome && this.log({ at: new Date().toISOString(), ...outcome }),
        (e) =>
          this.log({
            at: new Date().toISOString(),
            relayId: session.relayId,
            wallet: this.nameOf(read.kind === "proposal" ? read.walletId : undefined),
            proposer: session.createdBy,
            chain: "?",
            decision: "failed",
            reason: e instanceof Error ? e.message : String(e),
          }),
      );
      if (read.kind === "proposal") await logged;
      else joins.push(logged);
    }
    await Promise.all(joins);
  }

  /** A wallet's name for the log, when this device holds it. */
  private nameOf(walletId: string | undefined): string {
    try {
      return walletId === undefined ? "?" : this.#device.find(walletId).name;
    } catch {
      return "?";
    }
  }

  /**
   * Looks at the provider whenever the push channel says there is something to see, and every
   * `safetyPollMs` anyway, until `signal` aborts. Throws `device-revoked` once the provider has
   * revoked this device.
   */
  async run(signal: AbortSignal): Promise<void> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    const wakeUp = new Wake();
    let stoppedBy: WalletError | undefined;
    const push = this.listen(stop.signal, wakeUp, () => {
      stoppedBy = revoked();
      stop.abort();
    });
    try {
      while (!stop.signal.aborted) {
        if (await wakeUp.wait(this.options.safetyPollMs ?? SAFETY_POLL_MS, stop.signal)) continue;
        await this.poll().catch((e) => {
          if (!(e instanceof WalletError && e.code === "device-revoked"))
            return this.options.warn?.(e instanceof Error ? e.message : String(e));
          stoppedBy = e;
          stop.abort();
        });
      }
    } finally {
      stop.abort();
      signal.removeEventListener("abort", onAbort);
      await push;
    }
    if (stoppedBy !== undefined) throw stoppedBy;
  }

  /**
   * Keeps the push channel open until `signal` aborts, waking `wakeUp` at each notice, after each
   * (re)connection (notices sent while it was closed are lost) and after the first failed attempt
   * (so the cosigner starts with a look even when the channel cannot open).
   */
  private async listen(signal: AbortSignal, wakeUp: Wake, onRevoked: () => void): Promise<void> {
    let wait = RECONNECT_FIRST_MS;
    for (let attempt = 0; !signal.aborted; attempt++) {
      let watch: RelayWatch;
      try {
        watch = await watchRelaySessions(this.#device, () => wakeUp.set());
      } catch (e) {
        // A device revoked while it was away is told so at its authentication.
        if (e instanceof RelayError && e.closeCode === REVOKED_CLOSE_CODE) return onRevoked();
        if (attempt === 0) wakeUp.set();
        this.options.warn?.(
          `no push channel from the provider (${e instanceof Error ? e.message : String(e)}): trying again in ${wait / 1000} s`,
        );
        await sleep(wait, signal);
        wait = Math.min(2 * wait, RECONNECT_MOST_MS);
        continue;
      }
      wait = RECONNECT_FIRST_MS;
      wakeUp.set();
      const close = () => watch.close();
      signal.addEventListener("abort", close, { once: true });
      const { code } = await watch.closed;
      signal.removeEventListener("abort", close);
      if (code === REVOKED_CLOSE_CODE) return onRevoked();
      if (!signal.aborted) await sleep(wait, signal);
    }
  }

  /** Whether this device's rules (or its person) let `description` through. */
  private readonly judge: Judge = async (description, body) => {
    if (this.options.rules !== undefined) return decide(this.options.rules, description);
    if (this.options.ask === undefined) return { accept: false, reason: "no rules given and nobody to ask" };
    return askingJudge(this.options.ask)(description, body);
  };
}

/** A flag the push channel sets and the polling loop waits for. */
class Wake {
  private raised = false;
  private woken: (() => void) | undefined;

  set(): void {
    this.raised = true;
    this.woken?.();
  }

  /** Waits until set (and clears it), `ms` pass or `signal` aborts; true in the last case. */
  wait(ms: number, signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.woken = undefined;
        this.raised = false;
        resolve(signal.aborted);
      };
      const timer = setTimeout(done, this.raised || signal.aborted ? 0 : ms);
      this.woken = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
