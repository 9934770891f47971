/**
 * An account's audit chain: the operator picks the account, sees its newest entries, and has the
 * provider recompute the chain ("Verify chain"): intact, or broken at the first entry whose link
 * does not hold. What is on screen is always the chosen account's: a list or a verdict that
 * arrives for another account (chosen before, answered late) is not shown.
 */
import { useId, useRef, useState } from "react";
import { useAction } from "../use-action.js";
import { useQuery } from "../use-query.js";
import { type AuditVerdict, consoleApi } from "./api.js";
import { CapNote, ConsoleAlert, longShown, shown, Table, when } from "./show.js";

function verdictWords(verdict: AuditVerdict): string {
  if (verdict.ok)
    return `Chain intact: ${verdict.length} entries${verdict.head === undefined ? "" : `, head ${shown(verdict.head)}`}.`;
  const at = verdict.firstBroken ?? verdict.length + 1;
  return at > verdict.length
    ? `Chain broken: entries were cut from its end (it has ${verdict.length}, its head names more).`
    : `Chain broken at entry ${at} of ${verdict.length}: that entry or the one before it was changed, removed or moved.`;
}

export function AuditView({ token }: { token: string }) {
  const accounts = useQuery(() => consoleApi.accounts(token), [token]);
  const [accountId, setAccountId] = useState("");
  const audit = useQuery(
    () => (accountId === "" ? Promise.resolve(undefined) : consoleApi.audit(token, accountId)),
    [token, accountId],
  );
  // The query keeps its last answer while the next loads: another account's, after a change of choice.
  const entries = audit.value?.accountId === accountId ? audit.value : undefined;
  const [verdict, setVerdict] = useState<AuditVerdict>();
  const verify = useAction();
  /** The account chosen now, for a verification that fails after the choice changed. */
  const chosen = useRef(accountId);
  const selectId = useId();
  const error = verify.error ?? audit.error ?? accounts.error;

  const choose = (id: string) => {
    chosen.current = id;
    setAccountId(id);
    setVerdict(undefined);
    verify.clearError();
  };
  const runVerify = () => {
    const verifying = accountId;
    return verify.run("Verifying the chain…", async () => {
      setVerdict(undefined);
      try {
        setVerdict(await consoleApi.verifyAudit(token, verifying));
      } catch (e) {
        // Another account's failure is not the chosen one's.
        if (chosen.current === verifying) throw e;
      }
    });
  };

  return (
    <>
      <ConsoleAlert error={error} ref={verify.alert} />
      <div className="field">
        <label htmlFor={selectId}>Account</label>
        <select id={selectId} value={accountId} onChange={(event) => choose(event.target.value)}>
          <option value="">Choose an account</option>
          {accounts.value?.accounts.map((a) => (
            <option key={a.id} value={a.id}>
              {`${shown(a.email)} (${shown(a.id)})`}
            </option>
          ))}
        </select>
      </div>
      {accountId !== "" && (
        <>
          <div className="row">
            <button type="button" onClick={runVerify} aria-disabled={verify.busy !== null}>
              Verify chain
            </button>
          </div>
          <p role="status" className="status verdict">
            {verify.busy ?? (verdict?.accountId === accountId ? verdictWords(verdict) : "")}
          </p>
          {entries && (
            <>
              <CapNote list={entries} shownCount={entries.entries.length} noun="entries" />
              <Table
                caption="Audit entries, in chain order"
                head={["#", "When", "Actor", "Action", "Details"]}
                rows={entries.entries.map((e) => [
                  e.seq,
                  when(e.atMs),
                  shown(e.actor),
                  shown(e.action),
                  longShown(e.details, e.detailsLength),
                ])}
              />
            </>
          )}
        </>
      )}
    </>
  );
}
