/**
 * "Policy of <wallet>": what the wallet may sign — the policy in force, each rule in words, in
 * the order the provider tries them —, the changes waiting out the account's delay (when each
 * takes effect, and a Cancel any device of the account may press), and a form for the common rules
 * of an ETH policy: amount ranges, each asking for one control. The new policy is shown in words
 * before the account's one-time code is asked for. Below, the wallet's trusted addresses (its
 * allow-list): each in full, with when it counts for the rules that read the list — a new one only
 * once its cooling-off has passed, removable by any device meanwhile —, a form to add one (the
 * engine takes only an address its chain would) and a Remove behind a confirmation. The screen
 * asks the provider again every few seconds, so that a change another device made shows here too.
 */
import { CHAIN_NAMES, type ChainName } from "@keyshard/chains/names";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { flushSync } from "react-dom";
import { BackLink } from "../components/back-link.js";
import { ErrorMessage } from "../components/error-message.js";
import { Field } from "../components/field.js";
import { Progress } from "../components/progress.js";
import { Screen } from "../components/screen.js";
import { TotpField } from "../components/totp-field.js";
import {
  ADDRESS_MAX,
  APPROVALS_MAX,
  CONTROL_ORDER,
  CONTROL_WORDS,
  type CommonRules,
  ETH_AMOUNT_MAX,
  ethWei,
  LABEL_MAX,
  type PendingPolicy,
  type PolicyWallet,
  policyFormRefusal,
  TIME_LOCK_HOURS_MAX,
  type TrustedAddress,
  trustedStanding,
} from "../engine/calls/policies.js";
import { type Engine, EngineCallError } from "../engine/client.js";
import { TOTP_CODE } from "../engine/readers.js";
import { useAction } from "../use-action.js";
import { useProblems } from "../use-problems.js";
import { usePolling } from "./held-request.js";
import { CHAIN_TITLES } from "./wallet.js";

type FieldName = "perTransaction" | "daily" | "totpAbove" | "timeLockAbove" | "hours" | "approvalsAbove" | "approvals";

const AMOUNT_PROBLEM = 'Give an amount of ETH above zero, e.g. "0.5", or leave it empty.';

/** A whole number from `min` to `max`, or undefined. */
function wholeNumber(text: string, min: number, max: number): number | undefined {
  if (!/^[0-9]{1,6}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

interface Form {
  perTransaction: string;
  daily: string;
  totpAbove: string;
  timeLockAbove: string;
  hours: string;
  approvalsAbove: string;
  approvals: string;
}

const EMPTY: Form = {
  perTransaction: "",
  daily: "",
  totpAbove: "",
  timeLockAbove: "",
  hours: "",
  approvalsAbove: "",
  approvals: "",
};

/** The form's rules, or what is wrong with each field. */
function read(form: Form): { rules: CommonRules } | { problems: Partial<Record<FieldName, string>> } {
  const problems: Partial<Record<FieldName, string>> = {};
  const amount = (field: FieldName, text: string): string | null => {
    const value = text.trim();
    if (value === "") return null;
    if (value.length > ETH_AMOUNT_MAX || (ethWei(value) ?? 0n) === 0n) problems[field] = AMOUNT_PROBLEM;
    return value;
  };
  const perTransaction = amount("perTransaction", form.perTransaction);
  const daily = amount("daily", form.daily);
  const totpAbove = amount("totpAbove", form.totpAbove);
  const timeLockAbove = amount("timeLockAbove", form.timeLockAbove);
  const approvalsAbove = amount("approvalsAbove", form.approvalsAbove);
  const hours = wholeNumber(form.hours.trim(), 1, TIME_LOCK_HOURS_MAX);
  if (timeLockAbove !== null && hours === undefined)
    problems.hours = `Give how many hours a transfer is held: 1 to ${TIME_LOCK_HOURS_MAX}.`;
  if (timeLockAbove === null && form.hours.trim() !== "")
    problems.timeLockAbove = "Give the amount above which transfers are held.";
  const approvals = wholeNumber(form.approvals.trim(), 1, APPROVALS_MAX);
  if (approvalsAbove !== null && approvals === undefined)
    problems.approvals = `Give how many of the account's other devices must approve: 1 to ${APPROVALS_MAX}.`;
  if (approvalsAbove === null && form.approvals.trim() !== "")
    problems.approvalsAbove = "Give the amount above which approvals are needed.";

  // A rule asks for one control: each range up must ask for a stronger one, and all start below the cap.
  const starts = { totpAbove, timeLockAbove, approvalsAbove };
  const cap = perTransaction === null ? undefined : ethWei(perTransaction);
  let below: { field: (typeof CONTROL_ORDER)[number]; at: bigint } | undefined;
  for (const field of CONTROL_ORDER) {
    const start = starts[field];
    const at = start === null ? undefined : ethWei(start);
    if (at === undefined || problems[field] !== undefined) continue;
    if (cap !== undefined && at >= cap) problems[field] = "Give an amount below the most per transaction.";
    else if (below !== undefined && at <= below.at)
      problems[field] =
        `Give an amount above ${CONTROL_WORDS[below.field]}'s: a larger transfer cannot ask for a weaker control.`;
    below = { field, at };
  }
  if (Object.keys(problems).length > 0) return { problems };
  return {
    rules: {
      perTransaction,
      daily,
      totpAbove,
      timeLockAbove: timeLockAbove === null ? null : { amount: timeLockAbove, hours: hours as number },
      approvalsAbove: approvalsAbove === null ? null : { amount: approvalsAbove, approvals: approvals as number },
    },
  };
}

function Pending({ change, onCancel }: { change: PendingPolicy; onCancel(): void }) {
  const headingId = `change-${change.changeId}`;
  return (
    <section aria-labelledby={headingId} className="pending-change">
      <h3 id={headingId}>Takes effect at {new Date(change.effectiveMs).toLocaleString()}</h3>
      <p className="hint">Asked for by {change.requestedBy}. Until then the policy above stays in force.</p>
      <ul className="rules">
        {change.rules.map((rule) => (
          <li key={rule}>{rule}</li>
        ))}
      </ul>
      <button type="button" className="secondary" onClick={onCancel} aria-describedby={headingId}>
        Cancel this change
      </button>
    </section>
  );
}

const time = (ms: number) => new Date(ms).toLocaleString();
const keyOf = (entry: Pick<TrustedAddress, "chain" | "address">) => `${entry.chain}-${entry.address}`;

/** One trusted address: in full, its label, where it stands for each rule; its Remove, confirmed in place. */
function Trusted({
  entry,
  confirming,
  busy,
  onRemove,
  onConfirm,
  onKeep,
}: {
  entry: TrustedAddress;
  confirming: boolean;
  busy: boolean;
  onRemove(): void;
  onConfirm(): void;
  onKeep(): void;
}) {
  const about = `trusted-${keyOf(entry)}`;
  const question = useRef<HTMLHeadingElement>(null);
  // The Remove button gives way to the question: the keyboard goes on from it.
  useEffect(() => {
    if (confirming) question.current?.focus();
  }, [confirming]);
  return (
    <li>
      <p id={about}>
        <strong>{CHAIN_TITLES[entry.chain]}</strong>{" "}
        <code>
          <bdi>{entry.address}</bdi>
        </code>
        {entry.label !== null && (
          <>
            {" "}
            · <bdi>{entry.label}</bdi>
          </>
        )}
      </p>
      <p className="hint">Added {time(entry.addedMs)}.</p>
      {trustedStanding(entry, Date.now(), time).map((line) => (
        <p key={line}>{line}</p>
      ))}
      {confirming ? (
        <section className="notice" aria-labelledby={`${about}-remove`}>
          <h3 id={`${about}-remove`} ref={question} tabIndex={-1}>
            Remove this address?
          </h3>
          <p>
            It stops counting for every rule at once. Added again later, it would have to wait out its cooling-off anew.
          </p>
          <div className="row">
            <button type="button" aria-disabled={busy} aria-describedby={about} onClick={onConfirm}>
              Remove it
            </button>
            <button type="button" className="secondary" onClick={onKeep}>
              Keep it
            </button>
          </div>
        </section>
      ) : (
        <button type="button" id={`${about}-ask`} className="secondary" aria-describedby={about} onClick={onRemove}>
          Remove
        </button>
      )}
    </li>
  );
}

interface AddForm {
  chain: ChainName;
  address: string;
  label: string;
}

/**
 * The wallet's trusted addresses (its allow-list), each where it stands, adding and removing one.
 * The provider asks no code for either: an address added counts only after its rule's
 * cooling-off, and the account is mailed meanwhile; a removal only tightens, at once.
 */
function TrustedAddresses({ engine, id, round }: { engine: Engine; id: string; round: number }) {
  const [again, setAgain] = useState(0);
  const listing = usePolling(() => engine.call("allowList", { id }), true, [engine, id, round, again]);
  const [form, setForm] = useState<AddForm>({ chain: "ethereum", address: "", label: "" });
  const [removing, setRemoving] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const { form: formRef, problems, show } = useProblems<"address">();
  const action = useAction();
  const heading = useRef<HTMLHeadingElement>(null);
  const chainId = useId();
  const view = listing.value;

  function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const address = form.address.trim();
    const label = form.label.trim();
    if (show(address === "" ? { address: "Give the address." } : {})) {
      action.clearError();
      return;
    }
    void action.run(
      "Adding the address…",
      async () => {
        setDone(null);
        const entry = await engine.call("allowListAdd", {
          id,
          chain: form.chain,
          address,
          label: label === "" ? null : label,
        });
        setForm((f) => ({ ...f, address: "", label: "" }));
        setDone(
          `Added to the allow-list. ${trustedStanding(entry, Date.now(), time).join(" ")} The account is mailed about it.`,
        );
        setAgain((n) => n + 1);
      },
      // An address its chain would refuse: the field is at fault, the alert says why.
      (e) => e instanceof EngineCallError && e.code === "invalid-address" && show({ address: true }),
    );
  }

  function remove(entry: TrustedAddress) {
    void action.run("Removing the address…", async () => {
      setDone(null);
      await engine.call("allowListRemove", { id, chain: entry.chain, address: entry.address });
      setRemoving(null);
      setDone("Removed from the allow-list: it no longer counts for any rule.");
      setAgain((n) => n + 1);
      heading.current?.focus();
    });
  }

  function keep(entry: TrustedAddress) {
    // Rendered at once, so that the Remove button the question took the place of is back to take the focus.
    flushSync(() => setRemoving(null));
    document.getElementById(`trusted-${keyOf(entry)}-ask`)?.focus();
  }

  return (
    <section aria-labelledby="trusted-heading">
      <h2 id="trusted-heading" ref={heading} tabIndex={-1}>
        Trusted addresses
      </h2>
      <p>
        A rule of the policy may let through what goes to the wallet's allow-list only, and only to addresses on it for
        at least the rule's cooling-off: time for the account's mail about a new one to be read, and for any device of
        the account to remove it.
      </p>
      {view === undefined && listing.error === undefined && <p>Reading the wallet's allow-list…</p>}
      {view !== undefined &&
        (view.entries.length === 0 ? (
          <p>No address is on the allow-list.</p>
        ) : (
          <ul className="devices">
            {view.entries.map((entry) => (
              <Trusted
                key={keyOf(entry)}
                entry={entry}
                confirming={removing === keyOf(entry)}
                busy={action.busy !== null}
                onRemove={() => {
                  setDone(null);
                  action.clearError();
                  setRemoving(keyOf(entry));
                }}
                onConfirm={() => remove(entry)}
                onKeep={() => keep(entry)}
              />
            ))}
          </ul>
        ))}
      {view !== undefined && view.notShown + view.unreadable > 0 && (
        <p className="notice">
          {view.notShown > 0 && `${view.notShown} more addresses are on the list than are shown here. `}
          {view.unreadable > 0 &&
            `${view.unreadable} entries of the list could not be read (a chain this app does not know, or an address its chain refuses): they are not shown.`}
        </p>
      )}
      {done !== null && (
        <p role="status" className="notice">
          {done}
        </p>
      )}
      <form onSubmit={add} noValidate ref={formRef} aria-labelledby="trusted-add-heading">
        <h3 id="trusted-add-heading">Add a trusted address</h3>
        <div className="field">
          <label htmlFor={chainId}>Chain</label>
          <select
            id={chainId}
            value={form.chain}
            onChange={(event) => {
              const chain = CHAIN_NAMES.find((c) => c === event.target.value);
              if (chain !== undefined) setForm((f) => ({ ...f, chain }));
            }}
          >
            {CHAIN_NAMES.map((chain) => (
              <option key={chain} value={chain}>
                {CHAIN_TITLES[chain]}
              </option>
            ))}
          </select>
        </div>
        <Field
          label="Address"
          hint="In full, as the chain writes it: it is checked before anything is sent."
          autoComplete="off"
          spellCheck={false}
          autoCapitalize="off"
          maxLength={ADDRESS_MAX}
          value={form.address}
          onValue={(address) => setForm((f) => ({ ...f, address }))}
          invalid={problems.address}
        />
        <Field
          label="Label (optional)"
          hint="What the address is, for the account's devices to recognise it."
          autoComplete="off"
          maxLength={LABEL_MAX}
          value={form.label}
          onValue={(label) => setForm((f) => ({ ...f, label }))}
        />
        <button type="submit" aria-disabled={action.busy !== null}>
          Add to the allow-list
        </button>
      </form>
      <Progress label="Working" status={action.busy} />
      <ErrorMessage error={action.error ?? listing.error} ref={action.alert} />
    </section>
  );
}

export function Policy({
  engine,
  wallet,
  back,
}: {
  engine: Engine;
  wallet: PolicyWallet;
  /** Where the back link goes, and what it says. */
  back: { label: string; go(): void };
}) {
  const { id } = wallet;
  const [round, setRound] = useState(0);
  const policy = usePolling(() => engine.call("policy", { id }), true, [engine, id, round]);
  const [form, setForm] = useState<Form>(EMPTY);
  /** The rules the form makes, and those rules in words, once the person asked to review them. */
  const [review, setReview] = useState<{ rules: CommonRules; words: string[] } | null>(null);
  const [totp, setTotp] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const { form: formRef, problems, show } = useProblems<FieldName>();
  const confirm = useProblems<"totp">();
  const action = useAction();
  const reviewHeading = useRef<HTMLHeadingElement>(null);
  const set = (field: keyof Form) => (value: string) => setForm((f) => ({ ...f, [field]: value }));
  const view = policy.value;
  const enforced = wallet.state === "active";
  const withoutForm = view === undefined ? null : policyFormRefusal(wallet, view.totpEnrolled);

  // The form gives way to its rules in words: the keyboard and screen reader go on from their heading.
  useEffect(() => {
    if (review !== null) reviewHeading.current?.focus();
  }, [review]);

  function toReview(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const found = read(form);
    if ("problems" in found) {
      show(found.problems);
      action.clearError();
      return;
    }
    show({});
    void action.run("Putting the new policy into words…", async () => {
      setDone(null);
      const { rules } = await engine.call("policyInWords", { rules: found.rules });
      setReview({ rules: found.rules, words: rules });
    });
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (review === null) return;
    const code = totp.trim();
    if (confirm.show(TOTP_CODE.test(code) ? {} : { totp: "Give the six digits your authenticator app shows." })) {
      action.clearError();
      return;
    }
    void action.run("Asking for the new policy…", async () => {
      const { effectiveMs } = await engine.call("setPolicy", { id, rules: review.rules, totp: code });
      setForm(EMPTY);
      setReview(null);
      setTotp("");
      setDone(
        `Asked for: the new policy takes effect at ${new Date(effectiveMs).toLocaleString()}, unless a device of the account cancels it before then.`,
      );
      setRound((n) => n + 1);
    });
  }

  function cancel(changeId: string) {
    void action.run("Cancelling the change…", async () => {
      setDone(null);
      await engine.call("cancelPolicyChange", { changeId });
      setDone("Cancelled: the change will not take effect.");
      setRound((n) => n + 1);
    });
  }

  return (
    <Screen title={`Policy of ${wallet.name}`}>
      <BackLink label={back.label} onBack={() => back.go()} />
      {view === undefined && policy.error === undefined && <p>Reading the wallet's policy…</p>}
      {view !== undefined && (
        <>
          <section aria-labelledby="in-force-heading">
            <h2 id="in-force-heading">{enforced ? "In force" : "On record, not enforced"}</h2>
            {enforced ? (
              <p>The provider tries the rules in this order; the first that matches a request decides.</p>
            ) : (
              <p className="notice">
                This wallet is {wallet.state}: the provider co-signs nothing for it, so it enforces none of these rules.
              </p>
            )}
            <ul className="rules">
              {view.rules.map((rule) => (
                <li key={rule}>{rule}</li>
              ))}
            </ul>
          </section>
          <section aria-labelledby="pending-heading">
            <h2 id="pending-heading">Waiting to take effect</h2>
            {view.pending.length === 0 ? (
              <p>No change is waiting.</p>
            ) : (
              view.pending.map((change) => (
                <Pending key={change.changeId} change={change} onCancel={() => cancel(change.changeId)} />
              ))
            )}
          </section>
        </>
      )}
      {done !== null && (
        <p role="status" className="notice">
          {done}
        </p>
      )}
      {view !== undefined && <TrustedAddresses engine={engine} id={id} round={round} />}

      {view !== undefined && <h2>Change the policy</h2>}
      {view === undefined ? null : withoutForm !== null ? (
        <p className="notice">{withoutForm}</p>
      ) : review === null ? (
        <form onSubmit={toReview} noValidate ref={formRef}>
          <p>
            The new policy replaces the whole policy in force, and takes effect after the account's delay. It allows ETH
            transfers on Ethereum only: everything else — Bitcoin, Solana, tokens, messages, contract calls — is refused
            once it is in force. Amounts are in ETH and count the most the network fee can be; leave a field empty for
            no such rule.
          </p>
          <Field
            label="Most per transaction (ETH)"
            hint="Above this, nothing is signed (network fee included)."
            inputMode="decimal"
            autoComplete="off"
            maxLength={ETH_AMOUNT_MAX}
            value={form.perTransaction}
            onValue={set("perTransaction")}
            invalid={problems.perTransaction}
          />
          <Field
            label="Most per day (ETH)"
            hint="The wallet's total over the last 24 hours, network fees included; above it, nothing is signed."
            inputMode="decimal"
            autoComplete="off"
            maxLength={ETH_AMOUNT_MAX}
            value={form.daily}
            onValue={set("daily")}
            invalid={problems.daily}
          />
          <fieldset>
            <legend>Controls by amount</legend>
            <p className="hint">
              Up to the first amount given, transfers are signed with nothing more. Each control applies from its amount
              up to the next control's amount, or up to the most per transaction. A rule asks for one control only, so
              the amounts must rise in this order: one-time code, then time lock, then approvals.
            </p>
            <Field
              label="One-time code from above (ETH)"
              hint="From this amount up to the time lock's (or the approvals', or the most per transaction), the account's one-time code is asked for."
              inputMode="decimal"
              autoComplete="off"
              maxLength={ETH_AMOUNT_MAX}
              value={form.totpAbove}
              onValue={set("totpAbove")}
              invalid={problems.totpAbove}
            />
            <div className="row">
              <Field
                label="Time lock from above (ETH)"
                hint="From this amount up to the approvals' (or the most per transaction), a transfer is held, cancellable meanwhile."
                inputMode="decimal"
                autoComplete="off"
                maxLength={ETH_AMOUNT_MAX}
                value={form.timeLockAbove}
                onValue={set("timeLockAbove")}
                invalid={problems.timeLockAbove}
              />
              <Field
                label="Hold for (hours)"
                inputMode="numeric"
                autoComplete="off"
                maxLength={4}
                value={form.hours}
                onValue={set("hours")}
                invalid={problems.hours}
              />
            </div>
            <div className="row">
              <Field
                label="Approvals from above (ETH)"
                hint="From this amount up to the most per transaction, other devices of the account must approve."
                inputMode="decimal"
                autoComplete="off"
                maxLength={ETH_AMOUNT_MAX}
                value={form.approvalsAbove}
                onValue={set("approvalsAbove")}
                invalid={problems.approvalsAbove}
              />
              <Field
                label="Approvals needed"
                inputMode="numeric"
                autoComplete="off"
                maxLength={2}
                value={form.approvals}
                onValue={set("approvals")}
                invalid={problems.approvals}
              />
            </div>
          </fieldset>
          <button type="submit" aria-disabled={action.busy !== null}>
            Review the new policy
          </button>
        </form>
      ) : (
        <form onSubmit={submit} noValidate ref={confirm.form} aria-labelledby="review-heading">
          <h3 id="review-heading" ref={reviewHeading} tabIndex={-1}>
            The new policy, in words
          </h3>
          <ul className="rules">
            {review.words.map((rule) => (
              <li key={rule}>{rule}</li>
            ))}
          </ul>
          <TotpField
            label="One-time code (TOTP)"
            hint="The six digits your authenticator app shows now, to ask for this policy."
            value={totp}
            onValue={setTotp}
            invalid={confirm.problems.totp}
          />
          <div className="row">
            <button type="submit" aria-disabled={action.busy !== null}>
              Ask for this policy
            </button>
            <button type="button" className="secondary" onClick={() => setReview(null)}>
              Change the form
            </button>
          </div>
        </form>
      )}
      <Progress label="Working" status={action.busy} />
      <ErrorMessage error={action.error ?? policy.error} ref={action.alert} />
    </Screen>
  );
}
