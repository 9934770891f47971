/**
 * A send of this device that the wallet's policy holds, followed live: the provider is asked
 * every few seconds what it still waits for (approvals, and from whom; the account's one-time
 * code; the end of its time lock), the person can cancel it, and once it waits for nothing this
 * device finishes it ("Finish sending": the SDK signs the bytes this device built and broadcasts
 * them) and shows the receipt as a direct send does. Denied or cancelled shows as such.
 */
import { type FormEvent, Fragment, type ReactNode, useEffect, useState } from "react";
import { ErrorMessage } from "../components/error-message.js";
import { Progress } from "../components/progress.js";
import { Screen } from "../components/screen.js";
import { TotpField } from "../components/totp-field.js";
import { DeviceName, SentReceipt, waitingText } from "../components/transaction.js";
import type { Sent } from "../engine/calls/core.js";
import type { RequestEntry } from "../engine/calls/requests.js";
import type { Engine } from "../engine/client.js";
import { TOTP_CODE } from "../engine/readers.js";
import type { WaitingFor } from "../engine/review.js";
import { useAction } from "../use-action.js";
import { useProblems } from "../use-problems.js";

/** How often a held request is asked about while it is shown. */
export const POLL_MS = 3000;

/** Whether a held request waits for nothing but, at most, the one-time code given as it is finished. */
const finishable = (waiting: WaitingFor) => waiting.approvals === null && waiting.releaseMs === null;

/**
 * Asks the engine for `read()` now and every `POLL_MS` while `active`, until the screen is gone or
 * an answer is `final` (nothing more can change).
 */
export function usePolling<T>(
  read: () => Promise<T>,
  active: boolean,
  deps: readonly unknown[],
  final: (value: T) => boolean = () => false,
) {
  const [answer, setAnswer] = useState<{ value?: T; error?: unknown }>({});
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller lists what `read` reads.
  useEffect(() => {
    if (!active) return;
    let shown = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = async () => {
      let again = true;
      try {
        const value = await read();
        again = !final(value);
        if (shown) setAnswer({ value });
      } catch (error) {
        if (shown) setAnswer((last) => ({ value: last.value, error }));
      }
      if (shown && again) timer = setTimeout(ask, POLL_MS);
    };
    void ask();
    return () => {
      shown = false;
      clearTimeout(timer);
    };
  }, [active, ...deps]);
  return answer;
}

export function HeldRequest({
  engine,
  requestId,
  rule,
  waiting,
  back,
}: {
  engine: Engine;
  requestId: string;
  /** The rule that holds it, as the send was told. */
  rule: string;
  /** What it waited for when it was held, shown until the provider is first asked. */
  waiting: WaitingFor;
  back: ReactNode;
}) {
  const [ended, setEnded] = useState<{ kind: "sent"; outcome: Sent } | { kind: "cancelled"; request: RequestEntry }>();
  const [code, setCode] = useState("");
  const { form, problems, show } = useProblems<"code">();
  const action = useAction();
  const polled = usePolling(
    () => engine.call("request", { requestId }),
    ended === undefined,
    [engine, requestId],
    (r) => r.status !== "held",
  );
  const request = ended?.kind === "cancelled" ? ended.request : polled.value;
  const status = request?.status ?? "held";
  const waitsFor = request?.waitingFor ?? waiting;

  if (ended?.kind === "sent")
    return (
      <Screen key="sent" title="Sent">
        <SentReceipt outcome={ended.outcome} />
        {back}
      </Screen>
    );

  function finish(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const given = code.trim();
    if (
      waitsFor.totp &&
      show(TOTP_CODE.test(given) ? {} : { code: "Give the six digits your authenticator app shows." })
    ) {
      action.clearError();
      return;
    }
    void action.run("Signing with the provider, then sending the transaction…", async (progress) => {
      const outcome = await engine.call("finishRequest", { requestId, totp: waitsFor.totp ? given : null }, progress);
      if (outcome.kind === "sent") setEnded({ kind: "sent", outcome });
    });
  }

  function cancel() {
    void action.run("Cancelling the request…", async () => {
      setEnded({ kind: "cancelled", request: await engine.call("cancelRequest", { requestId }) });
    });
  }

  const error = action.error ?? polled.error;
  const alert = <ErrorMessage error={error} ref={action.alert} />;

  if (status === "cancelled" || status === "denied" || status === "failed") {
    const title =
      status === "denied"
        ? "Denied"
        : status === "failed"
          ? "Signing failed"
          : ended
            ? "Cancelled"
            : "Cancelled or rejected";
    const text =
      status === "denied"
        ? `The wallet's policy (${request?.rule ?? rule}) denied this send when it was to be released: nothing was signed.`
        : status === "failed"
          ? "Signing this request failed: nothing was sent. Make the send again."
          : ended
            ? "This send was cancelled: nothing was signed."
            : "A device of the account cancelled or rejected this request: nothing was signed.";
    return (
      <Screen key={status} title={title}>
        <p role="status">{text}</p>
        <p>
          Request <code>{requestId}</code>
        </p>
        {back}
      </Screen>
    );
  }

  if (status !== "held")
    return (
      <Screen key="signing" title="Being signed">
        <p>This request is no longer held: its signing has started. Nothing more is needed here.</p>
        <p>
          Request <code>{requestId}</code>
        </p>
        {back}
      </Screen>
    );

  const waits = waitingText(waitsFor);
  const approvedBy = request?.approvedBy ?? [];
  return (
    <Screen key="held" title="Waiting">
      <p role="status">
        The wallet's policy ({request?.rule ?? rule}) holds this send.{" "}
        {finishable(waitsFor)
          ? waitsFor.totp
            ? "It waits only for the account's one-time code (TOTP): give it to finish sending."
            : "It waits for nothing more: finish sending it."
          : `It waits for ${waits.join(", and ")}; nothing is signed before.`}
      </p>
      {approvedBy.length > 0 && (
        <p>
          Approved by{" "}
          {approvedBy.map((device, i) => (
            <Fragment key={device.id}>
              {i > 0 && ", "}
              <DeviceName device={device} />
            </Fragment>
          ))}
          .
        </p>
      )}
      <p>
        Request <code>{requestId}</code>
      </p>
      {finishable(waitsFor) && (
        <form onSubmit={finish} noValidate ref={form}>
          {waitsFor.totp && (
            <TotpField
              label="One-time code (TOTP)"
              hint="The six digits your authenticator app shows for this account."
              value={code}
              onValue={setCode}
              invalid={problems.code}
            />
          )}
          <button type="submit" aria-disabled={action.busy !== null}>
            Finish sending
          </button>
        </form>
      )}
      <button type="button" className="secondary" aria-disabled={action.busy !== null} onClick={cancel}>
        Cancel this send
      </button>
      <Progress label="Working on the request" status={action.busy} />
      {alert}
      {back}
    </Screen>
  );
}
