/**
 * "Security": the account's one-time codes (TOTP) — where they stand, a new authenticator shown as
 * a QR code and as its secret to type, confirmed with a first code, and when it takes effect —,
 * the account's audit chain as this device checked it and then as the provider reports its own
 * check, its latest entries, and the policies of the account's wallets (a hybrid wallet of another
 * device's included: any device of the account may cancel a change).
 */
import { type FormEvent, useEffect, useRef, useState } from "react";
import { ErrorMessage } from "../components/error-message.js";
import { Progress } from "../components/progress.js";
import { QrCode } from "../components/qr-code.js";
import { Screen } from "../components/screen.js";
import { TotpField } from "../components/totp-field.js";
import type { PolicyWallet } from "../engine/calls/policies.js";
import type { AuditCheck, AuditEntry, DeviceAuditCheck, TotpSecret, TotpStanding } from "../engine/calls/security.js";
import type { Engine } from "../engine/client.js";
import { TOTP_CODE } from "../engine/readers.js";
import { useAction } from "../use-action.js";
import { useProblems } from "../use-problems.js";
import { useQuery } from "../use-query.js";

const CODE_PROBLEM = "Give the six digits your authenticator app shows.";

function standingText(standing: TotpStanding): string {
  const inForce =
    standing.inForce === null
      ? "Whether a TOTP is in force shows once the account has a wallet."
      : standing.inForce
        ? "A TOTP is in force: policy changes and backups ask for its codes, and so do the rules that say so."
        : "No TOTP is in force yet: set one up to change policies, and so that a stolen device alone cannot.";
  return standing.pendingEffectiveMs === null
    ? inForce
    : `${inForce} A new TOTP takes effect at ${new Date(standing.pendingEffectiveMs).toLocaleString()}; until then the one in force, if any, is the one that counts.`;
}

/** What this device found, recomputing the chain itself: the verdict that does not rest on the provider's word. */
function deviceAuditText(check: DeviceAuditCheck): string {
  switch (check.status) {
    case "intact":
      if (check.entries === 0) return "Checked on this device: the audit log has no entries yet.";
      return check.extendsSeen === null
        ? `Checked on this device: the audit log's ${check.entries} entries all link together. This device had not checked it before; from now on the log must keep these entries as they are.`
        : `Checked on this device: the audit log's ${check.entries} entries all link together, and it extends what this device saw last (entry ${check.extendsSeen}, unchanged).`;
    case "broken":
      return `Broken at entry ${check.at} of ${check.entries}, checked on this device: it does not link to the entry before it, so the log was changed from there on. Tell the provider's operator.`;
    case "diverged":
      return `Rewritten, checked on this device: entry ${check.at}, which this device checked before, is ${check.at > check.entries ? "gone" : "no longer the same"}, though every link was made to hold. The log before it was rewritten or cut. Tell the provider's operator.`;
  }
}

/** What the provider says of its own check, which also holds the log to the last entry it recorded. */
function auditText(check: AuditCheck): string {
  if (check.intact)
    return `Intact, the provider reports: the audit log's ${check.entries} entries all hold together, none removed or changed.`;
  return `Broken at entry ${check.firstBroken ?? "?"} of ${check.entries}, the provider reports: the log was changed from there on. Tell the provider's operator.`;
}

export function Security({ engine, onPolicy }: { engine: Engine; onPolicy(wallet: PolicyWallet): void }) {
  const standing = useQuery(() => engine.call("totpStanding", {}), [engine]);
  const wallets = useQuery(() => engine.call("policyWallets", {}), [engine]);
  const [current, setCurrent] = useState("");
  const [code, setCode] = useState("");
  const [enrolling, setEnrolling] = useState<TotpSecret | null>(null);
  const [confirmedMs, setConfirmedMs] = useState<number | null>(null);
  const [audit, setAudit] = useState<{ device: DeviceAuditCheck; provider: AuditCheck } | null>(null);
  const [entries, setEntries] = useState<{ total: number; entries: AuditEntry[] } | null>(null);
  const start = useProblems<"current">();
  const confirm = useProblems<"code">();
  const action = useAction();
  /** Replacing a TOTP in force needs its code; the first one does not. */
  const replacing = standing.value?.inForce !== false;
  // The button pressed gives way to the new TOTP: the keyboard and screen reader go on from its heading.
  const newTotpHeading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (enrolling !== null) newTotpHeading.current?.focus();
  }, [enrolling]);

  function begin(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const given = current.trim();
    const problem = given !== "" && !TOTP_CODE.test(given) ? CODE_PROBLEM : undefined;
    if (start.show(problem === undefined ? {} : { current: problem })) {
      action.clearError();
      return;
    }
    void action.run("Asking the provider for a new TOTP…", async () => {
      setConfirmedMs(null);
      setEnrolling(await engine.call("totpEnroll", { current: given === "" ? null : given }));
      setCurrent("");
    });
  }

  function finish(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const given = code.trim();
    if (confirm.show(TOTP_CODE.test(given) ? {} : { code: CODE_PROBLEM })) {
      action.clearError();
      return;
    }
    void action.run("Confirming the new TOTP…", async () => {
      const { effectiveMs } = await engine.call("totpConfirm", { code: given });
      setEnrolling(null);
      setCode("");
      setConfirmedMs(effectiveMs);
      standing.reload();
    });
  }

  function check() {
    void action.run("Checking the audit log…", async () => {
      setAudit(null);
      const [device, provider] = await Promise.all([engine.call("auditCheck", {}), engine.call("auditVerify", {})]);
      setAudit({ device, provider });
    });
  }

  function showEntries() {
    void action.run("Reading the audit log…", async () => {
      setEntries(await engine.call("auditEntries", {}));
    });
  }

  return (
    <Screen title="Security">
      <section aria-labelledby="totp-heading">
        <h2 id="totp-heading">One-time codes (TOTP)</h2>
        <p role="status">
          {standing.value === undefined
            ? standing.error === undefined && "Reading where the account's TOTP stands…"
            : standingText(standing.value)}
        </p>
        {confirmedMs !== null && (
          <p role="status" className="notice">
            Confirmed: the new TOTP takes effect at {new Date(confirmedMs).toLocaleString()}, unless a device of the
            account cancels it before then.
          </p>
        )}
        {enrolling === null ? (
          <form onSubmit={begin} noValidate ref={start.form}>
            {replacing && (
              <TotpField
                label="Code of the TOTP in force"
                hint="Only to replace a TOTP in force: the six digits its authenticator app shows now."
                value={current}
                onValue={setCurrent}
                invalid={start.problems.current}
              />
            )}
            <button type="submit" aria-disabled={action.busy !== null}>
              {standing.value?.inForce === true ? "Replace the TOTP" : "Set up a TOTP"}
            </button>
          </form>
        ) : (
          <>
            <h3 ref={newTotpHeading} tabIndex={-1}>
              The new TOTP
            </h3>
            <p>
              Scan this code with an authenticator app, or type the secret below into it. It is shown only now: it is
              kept by the provider, not in this browser.
            </p>
            <QrCode value={enrolling.uri} label="QR code of the new TOTP" />
            <p>
              Secret: <code className="secret">{enrolling.secret}</code>
            </p>
            <form onSubmit={finish} noValidate ref={confirm.form}>
              <TotpField
                label="Code from the app"
                hint="The six digits the app now shows for this new TOTP."
                value={code}
                onValue={setCode}
                invalid={confirm.problems.code}
              />
              <button type="submit" aria-disabled={action.busy !== null}>
                Confirm the TOTP
              </button>
            </form>
          </>
        )}
      </section>

      <section aria-labelledby="audit-heading">
        <h2 id="audit-heading">Audit log</h2>
        <p>
          The provider records every change of the account in a chain of entries, each bound to the one before. This
          device recomputes every link itself and remembers the last entry it checked, so the provider cannot rewrite or
          cut what this device has seen without it showing here. The provider's own report follows: it also holds the
          log to the last entry the provider recorded, but it is only as honest as the provider.
        </p>
        <button type="button" className="secondary" onClick={check} aria-disabled={action.busy !== null}>
          Check the audit log
        </button>
        {audit !== null && (
          <div role="status">
            <p>{deviceAuditText(audit.device)}</p>
            <p>{auditText(audit.provider)}</p>
          </div>
        )}
        <button type="button" className="secondary" onClick={showEntries} aria-disabled={action.busy !== null}>
          Show the latest entries
        </button>
        {entries !== null && (
          <section aria-labelledby="audit-entries-heading">
            <h3 id="audit-entries-heading">
              Latest {entries.entries.length} of {entries.total} entries, newest first
            </h3>
            <ol className="rules">
              {entries.entries.map((e) => (
                <li key={e.seq}>
                  {e.seq}. {new Date(e.atMs).toLocaleString()}: {e.action}, by {e.actor}
                </li>
              ))}
            </ol>
          </section>
        )}
      </section>

      <section aria-labelledby="policies-heading">
        <h2 id="policies-heading">Wallet policies</h2>
        <p>What each wallet of the account may sign, whichever device holds it; any device may cancel a change.</p>
        {wallets.value !== undefined &&
          (wallets.value.length === 0 ? (
            <p>The account has no wallets yet.</p>
          ) : (
            <ul className="wallets">
              {wallets.value.map((w) => (
                <li key={w.id}>
                  <button type="button" className="link" onClick={() => onPolicy(w)}>
                    Policy of {w.name}
                  </button>
                  <span className="hint">
                    {w.hybrid ? "a device and the provider" : "shared by devices"} · {w.state}
                  </span>
                </li>
              ))}
            </ul>
          ))}
      </section>

      <Progress label="Working" status={action.busy} />
      <ErrorMessage error={action.error ?? standing.error ?? wallets.error} ref={action.alert} />
    </Screen>
  );
}
